import { type RedisServer, startRedisServer } from "@effect-oauth2/testing"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"

/** Runs an effect with its log lines captured (`LEVEL message`) instead of printed: platform-node's helper. */
export { captureLogs } from "../../platform-node/test/utils/servers.js"

/** A redis-server of the test's own (random port, no persistence), stopped with the scope whatever happens. */
export const redisServer: Effect.Effect<RedisServer, never, Scope.Scope> = Effect.acquireRelease(
  Effect.promise(() => startRedisServer()),
  (server) => Effect.promise(() => server.close())
)
