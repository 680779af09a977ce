import type { OAuth2Client } from "@effect-oauth2/core"
import type { AuthServer, AuthServerOptions, ResourceServer } from "@effect-oauth2/testing"
import { clients, startAuthServer, startResourceServer } from "@effect-oauth2/testing"
import * as Effect from "effect/Effect"
import * as Logger from "effect/Logger"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"

/**
 * A fresh authorization server and resource server for one test, so that their counters count that test only.
 * Both are closed with the scope.
 */
export const servers = (
  options: AuthServerOptions = {}
): Effect.Effect<{ readonly auth: AuthServer; readonly api: ResourceServer }, never, Scope.Scope> =>
  Effect.gen(function*() {
    const auth = yield* Effect.acquireRelease(
      Effect.promise(() => startAuthServer(options)),
      (server) => Effect.promise(() => server.close())
    )
    const api = yield* Effect.acquireRelease(
      Effect.promise(() => startResourceServer({ issuer: auth.issuer, jwksUri: auth.jwksUri })),
      (server) => Effect.promise(() => server.close())
    )
    return { auth, api }
  })

/** Options of the `basic` client (client_secret_basic) against `tokenUrl`. */
export const basicClient = (tokenUrl: string, overrides: Partial<OAuth2Client.Options> = {}): OAuth2Client.Options => ({
  tokenUrl,
  clientId: clients.basic.id,
  clientSecret: Redacted.make(clients.basic.secret),
  scopes: ["api:read"],
  ...overrides
})

/** Every secret of the registered clients, for "never in the output" checks. */
export const secrets: ReadonlyArray<string> = Object.values(clients).map((client) => client.secret)

/** A string that looks like a JWT (an access token of the embedded server). */
export const jwtPattern = /eyJ[\w-]+\.[\w-]+\.[\w-]+/

/** The bearer token of an `Authorization` header value. */
export const bearer = (header: string | undefined): string | undefined =>
  header === undefined ? undefined : header.replace(/^bearer +/i, "")

/**
 * Runs `effect` with its log lines captured (message and level), instead of printed.
 */
export const captureLogs = <A, E, R>(
  effect: Effect.Effect<A, E, R>
): Effect.Effect<{ readonly value: A; readonly logs: ReadonlyArray<string> }, E, R> =>
  Effect.suspend(() => {
    const logs: Array<string> = []
    const logger = Logger.make(({ logLevel, message }) => {
      logs.push(`${logLevel.label} ${Array.isArray(message) ? message.join(" ") : String(message)}`)
    })
    return effect.pipe(
      Effect.map((value) => ({ value, logs })),
      Effect.provide(Logger.replace(Logger.defaultLogger, logger))
    )
  })
