import { type AuthServer, type ResourceServer, startAuthServer, startResourceServer } from "@effect-oauth2/testing"
import { Effect } from "effect"

/** An embedded oidc-provider of the test's own (for an isolated token request counter), closed with the scope. */
export const authServer = (options?: Parameters<typeof startAuthServer>[0]) =>
  Effect.acquireRelease(
    Effect.promise(() => startAuthServer(options)),
    (server: AuthServer) => Effect.promise(() => server.close())
  )

/** The loopback protected API that verifies the JWT access tokens of `server`, closed with the scope. */
export const resourceServer = (server: AuthServer) =>
  Effect.acquireRelease(
    Effect.promise(() => startResourceServer({ issuer: server.issuer, jwksUri: server.jwksUri })),
    (rs: ResourceServer) => Effect.promise(() => rs.close())
  )
