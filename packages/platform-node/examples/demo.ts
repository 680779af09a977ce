/**
 * The README's first command: `npm run demo`.
 *
 * Starts an embedded OpenID Connect server (oidc-provider) and a protected API on 127.0.0.1, then runs an Effect
 * program that gets an authenticated `HttpClient` from one line, `NodeOAuth2.layer(...)`, and shows what the
 * layer does: one token request for many concurrent calls, the cached token serving every call, and the next
 * token fetched in the background before the current one leaves service, while no call waits.
 *
 * `DEMO_AUTH` chooses how the client authenticates to the embedded server: `client_secret_basic` (the default),
 * `client_secret_jwt`, or `private_key_jwt`, which makes an ES256 key pair for the run (the private key a
 * non-extractable WebCrypto key), registers its public JWK with the server, and finds the token endpoint from the
 * server's issuer (RFC 8414 discovery).
 *
 * With `OAUTH2_TOKEN_URL` or `OAUTH2_ISSUER` set (and `OAUTH2_CLIENT_ID`, `OAUTH2_CLIENT_SECRET`, `OAUTH2_SCOPES`,
 * ... as in `NodeOAuth2.layerFromEnv`, plus `DEMO_API_URL`, the URL to GET), it runs against that server instead.
 *
 * Tokens, secrets and keys are never printed.
 */
import { AccessToken, ClientAuth, OAuth2Client } from "@effect-oauth2/core"
import type { OAuth2Error } from "@effect-oauth2/core"
import { NodeOAuth2 } from "@effect-oauth2/platform-node"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as HttpClient from "@effect/platform/HttpClient"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Console from "effect/Console"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as MetricState from "effect/MetricState"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"

/** Where the demo runs: the layer to use, the URLs to call, and how token requests are counted. */
interface Setup {
  readonly header: ReadonlyArray<string>
  readonly layer: Layer.Layer<
    NodeOAuth2.Services,
    OAuth2Error.ConfigurationError | OAuth2Error.DiscoveryError | ConfigError.ConfigError
  >
  readonly urls: ReadonlyArray<string>
  readonly tokenRequests: Effect.Effect<number>
}

/** The sum of the core's counter `name` over its tags (the library's metrics, as any exporter would see them). */
const counter = (name: string): Effect.Effect<number> =>
  Effect.map(Metric.snapshot, (pairs) =>
    pairs.reduce(
      (sum, pair) =>
        pair.metricKey.name === name && MetricState.isCounterState(pair.metricState)
          ? sum + Number(pair.metricState.count)
          : sum,
      0
    ))

const tokenTtlSeconds = 30

/** How the demo client authenticates to the embedded server (`DEMO_AUTH`). */
const demoAuth = Config.literal("client_secret_basic", "client_secret_jwt", "private_key_jwt")("DEMO_AUTH").pipe(
  Config.withDefault("client_secret_basic" as const)
)

/** The id of the client the demo registers for private_key_jwt, with the public key it makes. */
const keyClientId = "demo-key-client"

/** An ES256 key pair for this run: the private key cannot leave WebCrypto; the server gets the public JWK. */
const demoKeyPair = Effect.promise(async () => {
  const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"])
  const publicJwk = await crypto.subtle.exportKey("jwk", pair.publicKey)
  return { privateKey: pair.privateKey, publicJwk: { ...publicJwk, kid: "demo-es256", use: "sig" } }
})

/** The embedded servers, closed when the program ends. */
const embedded: Effect.Effect<Setup, ConfigError.ConfigError, Scope.Scope> = Effect.gen(function*() {
  const method = yield* demoAuth
  const testing = yield* Effect.promise(() => import("@effect-oauth2/testing"))
  const key = method === "private_key_jwt" ? yield* demoKeyPair : undefined
  const auth = yield* Effect.acquireRelease(
    Effect.promise(() =>
      testing.startAuthServer({
        accessTokenTTL: tokenTtlSeconds,
        ...(key !== undefined
          ? {
            extraClients: [{
              client_id: keyClientId,
              grant_types: ["client_credentials"],
              redirect_uris: [],
              response_types: [],
              scope: testing.clientScope,
              token_endpoint_auth_method: "private_key_jwt",
              jwks: { keys: [key.publicJwk] }
            }]
          }
          : {})
      })
    ),
    (server) => Effect.promise(() => server.close())
  )
  const api = yield* Effect.acquireRelease(
    Effect.promise(() => testing.startResourceServer({ issuer: auth.issuer, jwksUri: auth.jwksUri })),
    (server) => Effect.promise(() => server.close())
  )
  const common = { scopes: ["api:read"], origins: [api.url] }
  const client = key !== undefined
    ? {
      line: `${keyClientId}, private_key_jwt (an ES256 key made for this run, kid ${key.publicJwk.kid}; the ` +
        `server holds its public JWK)`,
      layer: NodeOAuth2.layer({
        ...common,
        issuer: auth.issuer,
        clientId: keyClientId,
        auth: ClientAuth.privateKeyJwt({ key: key.privateKey, kid: key.publicJwk.kid })
      })
    }
    : method === "client_secret_jwt"
    ? {
      line: `${testing.clients.secretJwt.id}, client_secret_jwt (an HS256 assertion; the secret is not sent)`,
      layer: NodeOAuth2.layer({
        ...common,
        tokenUrl: auth.tokenEndpoint,
        clientId: testing.clients.secretJwt.id,
        clientSecret: Redacted.make(testing.clients.secretJwt.secret),
        auth: ClientAuth.clientSecretJwt()
      })
    }
    : {
      line: `${testing.clients.basic.id}, client_secret_basic`,
      layer: NodeOAuth2.layer({
        ...common,
        tokenUrl: auth.tokenEndpoint,
        clientId: testing.clients.basic.id,
        clientSecret: Redacted.make(testing.clients.basic.secret)
      })
    }
  return {
    header: [
      key !== undefined
        ? `authorization server  ${auth.issuer} (embedded oidc-provider; token endpoint discovered from the issuer, ` +
          `tokens live ${tokenTtlSeconds} s)`
        : `authorization server  ${auth.tokenEndpoint} (embedded oidc-provider, tokens live ${tokenTtlSeconds} s)`,
      `protected API         ${api.url} (checks each JWT access token)`,
      `client                ${client.line}, asking for scope api:read`
    ],
    layer: client.layer,
    urls: [`${api.url}/hello`, `${api.url}/api/reports`, `${api.url}/api/status`],
    tokenRequests: Effect.sync(() => auth.tokenRequests())
  }
})

/** Another server, from OAUTH2_* and DEMO_API_URL. */
const fromEnv: Effect.Effect<Setup, ConfigError.ConfigError> = Effect.gen(function*() {
  const options = yield* NodeOAuth2.config()
  const apiUrl = yield* Config.string("DEMO_API_URL")
  const server = options.tokenUrl !== undefined
    ? `${String(options.tokenUrl)} (from OAUTH2_TOKEN_URL)`
    : `${String(options.issuer)} (from OAUTH2_ISSUER; the token endpoint is discovered)`
  const method = options.auth?.method ??
    (options.clientSecret !== undefined ? "client_secret_basic (or what discovery finds)" : "none")
  return {
    header: [
      `authorization server  ${server}`,
      `API                   ${apiUrl} (from DEMO_API_URL)`,
      `client                ${options.clientId ?? "(none)"}, ${method}`
    ],
    layer: NodeOAuth2.layer(options),
    urls: [apiUrl],
    tokenRequests: counter("oauth2_token_requests")
  }
})

const line = (text = "") => Console.log(text)
const seconds = (millis: number) => `${(millis / 1000).toFixed(1)} s`

const run = (setup: Setup) =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const { token } = yield* OAuth2Client.OAuth2Client
    const hits = counter("oauth2_token_cache_hits")
    const joined = counter("oauth2_token_joined_waiters")
    const call = (url: string) =>
      Effect.gen(function*() {
        const start = yield* Clock.currentTimeMillis
        const response = yield* client.get(url)
        const body = yield* response.text
        return {
          path: new URL(url).pathname,
          status: response.status,
          body,
          start,
          millis: (yield* Clock.currentTimeMillis) - start
        }
      })
    // Counts what `effect` caused: token requests, callers served from the cache, callers that joined a request.
    const measure = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
      Effect.gen(function*() {
        const before = yield* Effect.all([setup.tokenRequests, hits, joined])
        const value = yield* effect
        const after = yield* Effect.all([setup.tokenRequests, hits, joined])
        return { value, tokenRequests: after[0] - before[0], hits: after[1] - before[1], joined: after[2] - before[2] }
      })

    yield* line("effect-oauth2 demo: OAuth 2.0 client credentials on Node, with NodeOAuth2.layer")
    for (const text of setup.header) yield* line(`  ${text}`)
    const total = yield* setup.tokenRequests

    // 1. A cold start under load: every caller needs a token at once.
    const concurrent = 50
    yield* line()
    yield* line(`1. Cold start: ${concurrent} concurrent calls`)
    const burst = yield* measure(Effect.timed(Effect.forEach(
      Array.from({ length: concurrent }, (_, i) => setup.urls[i % setup.urls.length]),
      call,
      { concurrency: "unbounded" }
    )))
    const [elapsed, responses] = burst.value
    const statuses = [...new Set(responses.map((response) => response.status))].join(", ")
    yield* line(`   ${responses.length} answers (HTTP ${statuses}) in ${Math.round(Duration.toMillis(elapsed))} ms`)
    yield* line(
      `   token requests: ${burst.tokenRequests} (${burst.joined} of the callers joined the request in flight)`
    )

    // 2. Steady state: the cached token serves every call.
    yield* line()
    yield* line("2. The API's answers")
    const answers = yield* measure(Effect.forEach(setup.urls, call))
    for (const answer of answers.value) {
      yield* line(`   GET ${answer.path.padEnd(13)} -> ${answer.status} ${answer.body.slice(0, 120)}`)
    }
    yield* line(`   token requests: ${answers.tokenRequests} (the cached token served all ${answers.hits} calls)`)

    // 3. The token, described but never shown.
    const credentials = yield* token.get
    const issuedAt = credentials.issuedAt ?? (yield* Clock.currentTimeMillis)
    const timeline = AccessToken.timeline(credentials, issuedAt)
    const since = (at: number) => `+${seconds(at - issuedAt)}`
    yield* line()
    yield* line("3. The token (its value is never printed)")
    yield* line(
      `   type ${credentials.tokenType}, scopes ${credentials.scopes.join(" ") || "(none)"}, ` +
        `expires_in ${credentials.expiresIn ?? "(not sent)"} s`
    )
    const serverExpiry = credentials.expiresIn !== undefined
      ? `, a grace before the server's expiry at ${since(issuedAt + credentials.expiresIn * 1000)}`
      : ""
    yield* line(
      `   timeline: the next token is fetched in the background from ${since(timeline.refreshAfter)} (on use);`
    )
    yield* line(
      `   this one is handed out until ${since(timeline.usableUntil)} and retired at ` +
        `${since(timeline.expiresAt)}${serverExpiry}`
    )

    // 4. Refresh ahead: calls near the end of the token's service life do not wait for the next one.
    yield* line()
    const wait = timeline.refreshAfter - (yield* Clock.currentTimeMillis) + 100
    if (wait > 30_000) {
      yield* line(
        `4. Refresh ahead: the next token is fetched from ${since(timeline.refreshAfter)}; not waiting that long`
      )
    } else {
      yield* line(`4. Refresh ahead: letting ${seconds(Math.max(0, wait))} pass, then calling every 300 ms`)
      yield* Effect.sleep(Duration.millis(Math.max(0, wait)))
      const calls = 5
      const refresh = yield* measure(Effect.forEach(Array.from({ length: calls }), (_, i) =>
        Effect.gen(function*() {
          const { tokenRequests, value: answer } = yield* measure(
            Effect.zipLeft(call(setup.urls[i % setup.urls.length]), Effect.sleep(Duration.millis(300)))
          )
          const note = tokenRequests > 0 ? "  <- the next token was fetched in the background meanwhile" : ""
          yield* line(
            `   ${
              since(answer.start).padStart(7)
            }  GET ${answer.path} -> ${answer.status} in ${answer.millis} ms${note}`
          )
        })))
      const next = yield* token.current
      const renewed = Option.isSome(next) && next.value.issuedAt !== credentials.issuedAt
      yield* line(
        `   calls: ${calls}, served at once from the cache: ${refresh.hits}, waited for a token: ` +
          `${calls - refresh.hits}; ` +
          `token requests: ${refresh.tokenRequests}, in the background`
      )
      yield* line(
        renewed && Option.isSome(next)
          ? `   the next token is in use, issued ${since(next.value.issuedAt ?? issuedAt)}`
          : "   the next token has not arrived yet"
      )
    }

    yield* line()
    yield* line(`Done: ${(yield* setup.tokenRequests) - total} token requests in all.`)
  }).pipe(Effect.provide(setup.layer))

const main = Effect.gen(function*() {
  const tokenUrl = yield* Config.option(Config.string("OAUTH2_TOKEN_URL"))
  const issuer = yield* Config.option(Config.string("OAUTH2_ISSUER"))
  const setup = Option.isSome(tokenUrl) || Option.isSome(issuer) ? yield* fromEnv : yield* embedded
  yield* run(setup)
}).pipe(
  Effect.scoped,
  // One readable line instead of a cause per concurrent call. Error messages of the library carry no secret.
  Effect.catchAll((error) =>
    Effect.zipRight(
      Console.error(`The demo failed: ${ConfigError.isConfigError(error) ? String(error) : error.message}`),
      Effect.sync(() => {
        process.exitCode = 1
      })
    )
  )
)

NodeRuntime.runMain(main)
