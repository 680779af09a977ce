/** The servers of the fault suites, each closed with the test's scope. */
import { listen, startFaultServer } from "@effect-oauth2/testing"
import { Effect } from "effect"
import * as http from "node:http"

/** The fault-injecting token endpoint of @effect-oauth2/testing. */
export const faultServer = Effect.acquireRelease(
  Effect.promise(() => startFaultServer()),
  (server) => Effect.promise(() => server.close())
)

/** A plain loopback server answering with `handler`; its `url` is `http://127.0.0.1:<port>`. */
export const loopback = (handler: http.RequestListener) =>
  Effect.acquireRelease(
    Effect.promise(() => listen(http.createServer(handler))),
    (server) => Effect.promise(() => server.close())
  )
