import { ClientCredentials, OAuth2Client, OAuth2Error, OAuth2HttpClient } from "@effect-oauth2/core"
import { HttpClient, HttpClientError, HttpClientRequest } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import {
  Config,
  ConfigProvider,
  Deferred,
  Effect,
  Fiber,
  Layer,
  Logger,
  Metric,
  Redacted,
  Stream,
  TestClock
} from "effect"
import * as metrics from "../src/internal/metrics.js"
import { scaled } from "./utils/scale.js"
import * as TestHttp from "./utils/TestHttp.js"

const tokenUrl = "https://as.example/token"
const api = "https://api.example"

interface ApiBehaviour {
  /** Answer for the n-th API request (0-based), given the Authorization header it carried. */
  readonly answer?: (auth: string | undefined, n: number) => TestHttp.Reply | Effect.Effect<TestHttp.Reply>
}

const setup = (
  behaviour: ApiBehaviour = {},
  tokenReply?: (n: number) => TestHttp.Reply | Effect.Effect<TestHttp.Reply>
) => {
  let tokens = 0
  let apiCalls = 0
  const http = TestHttp.make((request) => {
    if (request.url.pathname === "/token") {
      tokens++
      return tokenReply !== undefined ? tokenReply(tokens) : TestHttp.token(`tok-${tokens}`, 3600)
    }
    const n = apiCalls++
    const auth = request.headers["authorization"]
    return behaviour.answer !== undefined ? behaviour.answer(auth, n) : { json: { auth: auth ?? null } }
  })
  return { http, tokens: () => tokens, apiCalls: () => apiCalls }
}

const options: OAuth2Client.Options = {
  tokenUrl,
  clientId: "svc",
  clientSecret: Redacted.make("the-client-secret"),
  scopes: ["api:read"],
  origins: [api],
  retry: false
}

const withLayer = <A, E>(
  s: ReturnType<typeof setup>,
  effect: Effect.Effect<A, E, HttpClient.HttpClient | OAuth2Client.OAuth2Client>,
  opts: Partial<OAuth2Client.Options> = {}
) => effect.pipe(Effect.provide(OAuth2HttpClient.layer({ ...options, ...opts }).pipe(Layer.provide(s.http.layer))))

const getJson = (url: string) =>
  Effect.flatMap(HttpClient.HttpClient, (client) => Effect.flatMap(client.get(url), (r) => r.json))

const invalidToken = {
  status: 401,
  json: { message: "no" },
  headers: { "www-authenticate": "Bearer realm=\"api\", error=\"invalid_token\", error_description=\"expired\"" }
}

describe("OAuth2HttpClient.layer", () => {
  it.effect("a 401 to a request left without a token (origin not in origins) is explained once per origin", () =>
    Effect.gen(function*() {
      const logs: Array<string> = []
      const logger = Logger.make(({ message }) => logs.push(String(message)))
      const s = setup({ answer: (auth) => (auth === undefined ? { status: 401, json: {} } : { json: { auth } }) })
      const statuses = yield* withLayer(
        s,
        Effect.forEach(
          [`https://other.example/a`, `https://other.example/b`, `http://plain.example/c`, `${api}/d`],
          (url) => Effect.flatMap(HttpClient.HttpClient, (client) => Effect.map(client.get(url), (r) => r.status))
        )
      ).pipe(Effect.provide(Logger.replace(Logger.defaultLogger, logger)))
      assert.deepStrictEqual(statuses, [401, 401, 401, 200])
      // One line per refused origin (two requests to other.example, one line), none for the listed origin.
      assert.strictEqual(logs.length, 2, logs.join("\n"))
      assert.include(logs[0], "https://other.example answered 401 to a request sent without an access token")
      assert.include(logs[0], "not in the client's origins")
      assert.include(logs[1], "http://plain.example")
      assert.include(logs[1], "plain http off loopback")
      for (const line of logs) assert.notInclude(line, "tok-")
      assert.strictEqual(s.tokens(), 1) // only the listed origin's request asked for a token
    }))

  it.effect("requests carry the bearer token; 1,000 concurrent requests share one token request", () =>
    Effect.gen(function*() {
      const s = setup()
      const results = yield* withLayer(
        s,
        Effect.all(Array.from({ length: scaled(1000, 100) }, () => getJson(`${api}/x`)), { concurrency: "unbounded" })
      )
      assert.strictEqual(s.tokens(), 1)
      assert.isTrue(results.every((r) => (r as { auth: string }).auth === "Bearer tok-1"))
    }))

  it.effect("the token request itself is sent unauthenticated by the ambient client, with the client credentials", () =>
    Effect.gen(function*() {
      const s = setup()
      yield* withLayer(s, getJson(`${api}/x`))
      const tokenRequest = s.http.requests[0]!
      assert.strictEqual(tokenRequest.url.href, tokenUrl)
      assert.isTrue(tokenRequest.headers["authorization"]!.startsWith("Basic "))
      assert.strictEqual(tokenRequest.form.get("grant_type"), "client_credentials")
      assert.strictEqual(tokenRequest.form.get("scope"), "api:read")
    }))

  it.effect("origins: no Authorization header to another origin, nor over plain http", () =>
    Effect.gen(function*() {
      const s = setup()
      const [own, other, plain] = yield* withLayer(
        s,
        Effect.all([getJson(`${api}/x`), getJson("https://other.example/x"), getJson("http://api.example/x")])
      )
      assert.deepStrictEqual(own, { auth: "Bearer tok-1" })
      assert.deepStrictEqual(other, { auth: null })
      assert.deepStrictEqual(plain, { auth: null })
    }))

  it.effect("a listed origin over plain http (not loopback) gets no token unless allowInsecureHttp", () =>
    Effect.gen(function*() {
      const listed = "http://api.example.com"
      const s = setup()
      const [plain, https] = yield* withLayer(
        s,
        Effect.all([getJson(`${listed}/x`), getJson("https://api.example.com/x")]),
        { origins: [listed] }
      )
      assert.deepStrictEqual(plain, { auth: null })
      assert.deepStrictEqual(https, { auth: null }) // another origin: https is not the listed http origin
      assert.strictEqual(s.tokens(), 0) // no token was even fetched for it
      const allowed = setup()
      const insecure = yield* withLayer(allowed, getJson(`${listed}/x`), { origins: [listed], allowInsecureHttp: true })
      assert.deepStrictEqual(insecure, { auth: "Bearer tok-1" })
    }))

  it.effect("default origins: any https origin and loopback http, never plain http over a network", () =>
    Effect.gen(function*() {
      const s = setup()
      const [https, loopback, plain] = yield* withLayer(
        s,
        Effect.all([getJson("https://a.example/x"), getJson("http://127.0.0.1:8080/x"), getJson("http://a.example/x")]),
        { origins: undefined }
      )
      assert.deepStrictEqual(https, { auth: "Bearer tok-1" })
      assert.deepStrictEqual(loopback, { auth: "Bearer tok-1" })
      assert.deepStrictEqual(plain, { auth: null })
    }))

  it.effect("default origins: a network host whose name starts like a loopback address gets no token over http", () =>
    Effect.gen(function*() {
      const s = setup()
      const results = yield* withLayer(
        s,
        Effect.all([
          getJson("http://127.0.0.1.example.com/x"),
          getJson("http://localhost.example.com/x"),
          getJson("http://127.1.2.30:8080/x")
        ]),
        { origins: undefined }
      )
      // 127.1.2.30 is loopback (all of 127.0.0.0/8); the two names are network hosts
      assert.deepStrictEqual(results, [{ auth: null }, { auth: null }, { auth: "Bearer tok-1" }])
    }))

  it.effect("a token this client attached is removed when the request is re-sent to another origin (redirect)", () =>
    Effect.gen(function*() {
      const s = setup({
        answer: (auth, n) =>
          n === 0
            ? { status: 302, headers: { location: "https://evil.example/steal" } }
            : { json: { auth: auth ?? null } }
      })
      const result = yield* withLayer(
        s,
        Effect.flatMap(
          HttpClient.HttpClient,
          (client) => client.pipe(HttpClient.followRedirects(3)).get(`${api}/x`).pipe(Effect.flatMap((r) => r.json))
        )
      )
      assert.deepStrictEqual(result, { auth: null })
      const redirected = s.http.requests.find((r) => r.url.hostname === "evil.example")!
      assert.isUndefined(redirected.headers["authorization"])
    }))

  it.effect("default origins: a redirect to a new origin loses the token, a same-origin redirect keeps it", () =>
    Effect.gen(function*() {
      const s = setup({
        answer: (auth, n) =>
          n === 0
            ? { status: 302, headers: { location: "https://api.example/moved" } }
            : n === 2
            ? { status: 302, headers: { location: "https://elsewhere.example/steal" } }
            : { json: { auth: auth ?? null } }
      })
      const [same, other] = yield* withLayer(
        s,
        Effect.flatMap(HttpClient.HttpClient, (client) => {
          const follow = client.pipe(HttpClient.followRedirects(3))
          return Effect.all([
            Effect.flatMap(follow.get(`${api}/x`), (r) => r.json),
            Effect.flatMap(follow.get(`${api}/y`), (r) => r.json)
          ])
        }),
        { origins: undefined }
      )
      assert.deepStrictEqual(same, { auth: "Bearer tok-1" })
      assert.deepStrictEqual(other, { auth: null })
      const stolen = s.http.requests.find((r) => r.url.hostname === "elsewhere.example")!
      assert.isUndefined(stolen.headers["authorization"])
    }))

  it.effect("an ambient client that follows a token endpoint redirect to another origin: InvalidResponse", () =>
    Effect.gen(function*() {
      const http = TestHttp.make((request) =>
        request.url.hostname === "as.example"
          ? { status: 307, headers: { location: "https://evil.example/token" } }
          : TestHttp.token("stolen")
      )
      const error = yield* Effect.flip(
        ClientCredentials.grant({ tokenUrl, clientId: "svc", clientSecret: Redacted.make("s"), retry: false }).pipe(
          Effect.provide(Layer.succeed(HttpClient.HttpClient, http.client.pipe(HttpClient.followRedirects(2))))
        )
      )
      assert.isTrue(OAuth2Error.isInvalidResponse(error))
      assert.include(error.message, "followed a redirect")
    }))

  it.effect("a relative URL made absolute downstream (prependUrl after the layer) still gets the token", () =>
    Effect.gen(function*() {
      const s = setup()
      const result = yield* withLayer(
        s,
        Effect.flatMap(
          HttpClient.HttpClient,
          (client) =>
            client.pipe(HttpClient.mapRequest(HttpClientRequest.prependUrl(api))).get("/x").pipe(
              Effect.flatMap((r) => r.json)
            )
        )
      )
      assert.deepStrictEqual(result, { auth: "Bearer tok-1" })
    }))

  it.effect("401 invalid_token: one new token, one replay", () =>
    Effect.gen(function*() {
      const s = setup({
        answer: (auth, n) => (n === 0 ? invalidToken : { json: { auth: auth ?? null } })
      })
      const result = yield* withLayer(s, getJson(`${api}/x`))
      assert.deepStrictEqual(result, { auth: "Bearer tok-2" })
      assert.strictEqual(s.tokens(), 2)
      assert.strictEqual(s.apiCalls(), 2)
    }))

  it.effect("a second 401 is returned as it is: no loop", () =>
    Effect.gen(function*() {
      const s = setup({ answer: () => invalidToken })
      const status = yield* withLayer(
        s,
        Effect.flatMap(HttpClient.HttpClient, (client) => Effect.map(client.get(`${api}/x`), (r) => r.status))
      )
      assert.strictEqual(status, 401)
      assert.strictEqual(s.apiCalls(), 2)
      assert.strictEqual(s.tokens(), 2)
    }))

  it.effect("a 401 without an invalid_token challenge is not replayed by default; replayOn401 \"always\" does", () =>
    Effect.gen(function*() {
      const plain401 = { status: 401, json: {} }
      const s1 = setup({ answer: (auth, n) => (n === 0 ? plain401 : { json: { auth } }) })
      const status = yield* withLayer(
        s1,
        Effect.flatMap(HttpClient.HttpClient, (client) => Effect.map(client.get(`${api}/x`), (r) => r.status))
      )
      assert.strictEqual(status, 401)
      assert.strictEqual(s1.apiCalls(), 1)

      const s2 = setup({ answer: (auth, n) => (n === 0 ? plain401 : { json: { auth } }) })
      const result = yield* withLayer(s2, getJson(`${api}/x`), { replayOn401: "always" })
      assert.deepStrictEqual(result, { auth: "Bearer tok-2" })

      const s3 = setup({ answer: () => invalidToken })
      yield* withLayer(s3, Effect.flatMap(HttpClient.HttpClient, (client) => client.get(`${api}/x`)), {
        replayOn401: "never"
      })
      assert.strictEqual(s3.apiCalls(), 1)
      assert.strictEqual(s3.tokens(), 1)
    }))

  it.effect("a request with a stream body is not replayed (its body is spent)", () =>
    Effect.gen(function*() {
      const s = setup({ answer: () => invalidToken })
      yield* withLayer(
        s,
        Effect.flatMap(HttpClient.HttpClient, (client) =>
          client.execute(
            HttpClientRequest.post(`${api}/upload`).pipe(
              HttpClientRequest.bodyStream(Stream.make(new TextEncoder().encode("data")))
            )
          ))
      )
      assert.strictEqual(s.apiCalls(), 1)
    }))

  it.effect("a stale 401 does not throw away a newer token (compare-and-swap)", () =>
    Effect.gen(function*() {
      const s = setup()
      yield* withLayer(
        s,
        Effect.gen(function*() {
          const { token } = yield* OAuth2Client.OAuth2Client
          yield* getJson(`${api}/x`)
          yield* token.refresh // tok-2 replaces tok-1
          assert.isFalse(yield* token.invalidate("tok-1"))
          assert.deepStrictEqual(yield* getJson(`${api}/x`), { auth: "Bearer tok-2" })
        })
      )
      assert.strictEqual(s.tokens(), 2)
    }))

  it.effect("N concurrent 401s for an old token after a newer one arrived: the newer token survives", () =>
    Effect.gen(function*() {
      const n = 8
      const gate = yield* Deferred.make<void>()
      const s = setup({
        // requests with tok-1 wait at the gate, then all get a 401 invalid_token; any other token is accepted
        answer: (auth) =>
          auth === "Bearer tok-1"
            ? Effect.as(Deferred.await(gate), invalidToken)
            : { json: { auth: auth ?? null } }
      })
      const results = yield* withLayer(
        s,
        Effect.gen(function*() {
          const { token } = yield* OAuth2Client.OAuth2Client
          const requests = yield* Effect.fork(
            Effect.all(Array.from({ length: n }, () => getJson(`${api}/x`)), { concurrency: "unbounded" })
          )
          // all n requests are at the API with tok-1 before the newer token arrives
          while (s.apiCalls() < n) yield* Effect.yieldNow()
          assert.strictEqual(Redacted.value((yield* token.refresh).accessToken), "tok-2")
          yield* Deferred.succeed(gate, void 0)
          const results = yield* Fiber.join(requests)
          assert.strictEqual(Redacted.value((yield* token.get).accessToken), "tok-2")
          return results
        })
      )
      // tok-1, then tok-2 from the refresh: none of the n stale 401s fetched another token
      assert.strictEqual(s.tokens(), 2)
      assert.deepStrictEqual(results, Array.from({ length: n }, () => ({ auth: "Bearer tok-2" })))
      assert.strictEqual(s.apiCalls(), 2 * n)
    }))

  it.effect("N concurrent 401s for the same token, one after another: exactly one new token", () =>
    Effect.gen(function*() {
      const n = 8
      const gates = yield* Effect.all(Array.from({ length: n }, () => Deferred.make<void>()))
      let stale = 0
      const s = setup({
        answer: (auth) =>
          auth === "Bearer tok-1"
            ? Effect.as(Deferred.await(gates[stale++]!), invalidToken)
            : { json: { auth: auth ?? null } }
      })
      const results = yield* withLayer(
        s,
        Effect.gen(function*() {
          const requests = yield* Effect.fork(
            Effect.all(Array.from({ length: n }, () => getJson(`${api}/x`)), { concurrency: "unbounded" })
          )
          while (s.apiCalls() < n) yield* Effect.yieldNow()
          // the 401s come back one at a time: the first one replaces tok-1, the others find tok-2 already there
          for (const [i, gate] of gates.entries()) {
            yield* Deferred.succeed(gate, void 0)
            while (s.apiCalls() < n + i + 1) yield* Effect.yieldNow()
          }
          return yield* Fiber.join(requests)
        })
      )
      assert.strictEqual(s.tokens(), 2)
      assert.deepStrictEqual(results, Array.from({ length: n }, () => ({ auth: "Bearer tok-2" })))
    }))

  it.effect("failOnChallenge: a final 401 with a Bearer error fails as a ResponseError (the Dart Client behaviour)", () =>
    Effect.gen(function*() {
      const s = setup({ answer: () => invalidToken })
      const error = yield* withLayer(
        s,
        Effect.flip(Effect.flatMap(HttpClient.HttpClient, (client) => client.get(`${api}/x`))),
        { failOnChallenge: true }
      )
      assert.strictEqual(error._tag, "ResponseError")
      assert.include(error.message, "invalid_token")
    }))

  it.effect("a token failure reaches HttpClient users as a RequestError with the OAuth2Error as cause", () =>
    Effect.gen(function*() {
      const s = setup({}, () => ({ status: 401, json: { error: "invalid_client", error_description: "bad secret" } }))
      const error = yield* withLayer(s, Effect.flip(getJson(`${api}/x`)))
      assert.isTrue(HttpClientError.isHttpClientError(error))
      const requestError = error as HttpClientError.RequestError
      assert.strictEqual(requestError._tag, "RequestError")
      assert.strictEqual(requestError.reason, "Encode") // a definite refusal: not retried as transient
      assert.isTrue(OAuth2Error.isErrorResponse(requestError.cause))
      assert.include(requestError.message, "invalid_client")
      assert.notInclude(requestError.message, "the-client-secret")
      assert.strictEqual(s.apiCalls(), 0)

      const s2 = setup({}, () => ({ status: 503, text: "down" }))
      const transient = yield* withLayer(s2, Effect.flip(getJson(`${api}/x`)))
      assert.strictEqual((transient as HttpClientError.RequestError).reason, "Transport")
    }))

  it.effect("the OAuth2Client tag gives typed errors and the credentials", () =>
    Effect.gen(function*() {
      const s = setup({}, () => ({ status: 400, json: { error: "invalid_scope" } }))
      const error = yield* withLayer(
        s,
        Effect.flatMap(OAuth2Client.OAuth2Client, (c) => Effect.flip(c.typedHttpClient.get(`${api}/x`)))
      )
      assert.isTrue(OAuth2Error.isErrorResponse(error))
      assert.strictEqual((error as OAuth2Error.ErrorResponse).error, "invalid_scope")

      const ok = setup()
      const credentials = yield* withLayer(ok, Effect.flatMap(OAuth2Client.OAuth2Client, (c) => c.token.get))
      assert.deepStrictEqual(credentials.scopes, ["api:read"])
    }))

  it.effect("a bad token URL fails the layer at construction with a ConfigurationError", () =>
    Effect.gen(function*() {
      const s = setup()
      const error = yield* Effect.flip(withLayer(s, getJson(`${api}/x`), { tokenUrl: "http://as.example/token" }))
      assert.isTrue(OAuth2Error.isConfigurationError(error))
      assert.strictEqual(s.http.requests.length, 0)
      const bad = yield* Effect.flip(withLayer(s, getJson(`${api}/x`), { origins: ["not a url"] }))
      assert.isTrue(OAuth2Error.isConfigurationError(bad))
    }))

  it.effect("a negative lifecycle duration fails the layer with a ConfigurationError, not read as zero", () =>
    Effect.gen(function*() {
      const s = setup()
      const cases = [
        [{ refreshMargin: "-30 seconds" }, "refreshMargin must not be negative"],
        [{ refreshAhead: -1 }, "refreshAhead must not be negative"],
        [{ defaultLifetime: [-300, 0] }, "defaultLifetime must not be negative"],
        [{ backgroundBackoff: BigInt(-1) }, "backgroundBackoff must not be negative"],
        [{ leaseTtl: Number.NaN }, "leaseTtl is not a duration"]
      ] as const
      for (const [options, reason] of cases) {
        const error = yield* Effect.flip(withLayer(s, getJson(`${api}/x`), options))
        assert.isTrue(OAuth2Error.isConfigurationError(error), reason)
        assert.strictEqual((error as OAuth2Error.ConfigurationError).reason, reason)
      }
      assert.strictEqual(s.http.requests.length, 0)
      // Zero is a duration: no margin.
      assert.deepStrictEqual(yield* withLayer(s, getJson(`${api}/x`), { refreshMargin: 0 }), { auth: "Bearer tok-1" })
    }))

  it.effect("refresh-ahead through the layer: no request waits once the token nears expiry", () =>
    Effect.gen(function*() {
      const s = setup(
        {},
        (n) =>
          n === 1 ? TestHttp.token("tok-1", 300) : Effect.as(Effect.sleep("5 seconds"), TestHttp.token(`tok-${n}`, 300))
      )
      yield* withLayer(
        s,
        Effect.gen(function*() {
          assert.deepStrictEqual(yield* getJson(`${api}/x`), { auth: "Bearer tok-1" })
          // 300 s: expiresAt 290 s, usableUntil 270 s, refreshAfter 135 s
          yield* TestClock.adjust("136 seconds")
          assert.deepStrictEqual(yield* getJson(`${api}/x`), { auth: "Bearer tok-1" }) // served without waiting
          yield* TestClock.adjust("6 seconds")
          yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 20)))
          assert.deepStrictEqual(yield* getJson(`${api}/x`), { auth: "Bearer tok-2" })
        })
      )
      assert.strictEqual(s.tokens(), 2)
    }))

  it.effect("metrics count cache hits and joined waiters", () =>
    Effect.gen(function*() {
      const before = yield* Metric.value(metrics.cacheHits)
      const joinedBefore = yield* Metric.value(metrics.joinedWaiters)
      const s = setup()
      yield* withLayer(
        s,
        Effect.gen(function*() {
          // 10 callers on a cold cache: the first one fetches, the 9 others join its fetch
          yield* Effect.all(Array.from({ length: 10 }, () => getJson(`${api}/x`)), { concurrency: "unbounded" })
          // then 5 callers served from the cache
          for (let i = 0; i < 5; i++) yield* getJson(`${api}/x`)
        })
      )
      const after = yield* Metric.value(metrics.cacheHits)
      const joinedAfter = yield* Metric.value(metrics.joinedWaiters)
      assert.strictEqual(s.tokens(), 1)
      assert.strictEqual(joinedAfter.count - joinedBefore.count, 9)
      assert.strictEqual(after.count - before.count, 5)
    }))
})

describe("OAuth2HttpClient.layerConfig and config", () => {
  const env = (map: Record<string, string>) =>
    Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(map))))

  it.effect("reads the options from OAUTH2_* variables", () =>
    Effect.gen(function*() {
      const read = yield* OAuth2HttpClient.config().pipe(
        Effect.provide(
          env({
            OAUTH2_TOKEN_URL: tokenUrl,
            OAUTH2_CLIENT_ID: "svc",
            OAUTH2_CLIENT_SECRET: "env-secret",
            OAUTH2_SCOPES: "a b,c",
            OAUTH2_AUDIENCE: "https://api.example",
            OAUTH2_RESOURCE: "https://r1.example https://r2.example",
            OAUTH2_AUTH_METHOD: "client_secret_post",
            OAUTH2_ORIGINS: api,
            OAUTH2_TIMEOUT: "10 seconds"
          })
        )
      )
      assert.strictEqual(read.tokenUrl, tokenUrl)
      assert.strictEqual(Redacted.value(read.clientSecret!), "env-secret")
      assert.deepStrictEqual(read.scopes, ["a", "b", "c"])
      assert.deepStrictEqual(read.params, {
        audience: "https://api.example",
        resource: ["https://r1.example", "https://r2.example"]
      })
      assert.strictEqual(read.auth?.method, "client_secret_post")
      assert.deepStrictEqual(read.origins, [api])
    }))

  it.effect("a missing or malformed variable is a ConfigError naming it", () =>
    Effect.gen(function*() {
      const missing = yield* Effect.flip(OAuth2HttpClient.config().pipe(Effect.provide(env({}))))
      assert.include(String(missing), "OAUTH2_TOKEN_URL")
      const malformed = yield* Effect.flip(
        OAuth2HttpClient.config().pipe(
          Effect.provide(env({ OAUTH2_TOKEN_URL: tokenUrl, OAUTH2_AUTH_METHOD: "magic" }))
        )
      )
      assert.include(String(malformed), "OAUTH2_AUTH_METHOD")
    }))

  it.effect("a malformed URL variable is named once, at its own path, and its value is not repeated", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        OAuth2HttpClient.config().pipe(
          Effect.provide(env({ OAUTH2_TOKEN_URL: "pasted-secret-Qx7", OAUTH2_CLIENT_ID: "a" }))
        )
      )
      assert.strictEqual(error._op, "InvalidData")
      if (error._op === "InvalidData") assert.deepStrictEqual(error.path, ["OAUTH2_TOKEN_URL"])
      assert.notInclude(String(error), "OAUTH2_TOKEN_URL.OAUTH2_TOKEN_URL")
      assert.notInclude(String(error), "pasted-secret-Qx7")
      const issuer = yield* Effect.flip(
        OAuth2HttpClient.config().pipe(Effect.provide(env({ OAUTH2_ISSUER: "as.example.com" })))
      )
      if (issuer._op === "InvalidData") assert.deepStrictEqual(issuer.path, ["OAUTH2_ISSUER"])
      else assert.fail(`expected InvalidData, got ${issuer._op}`)
    }))

  it.effect("layerConfig builds the layer from Config values", () =>
    Effect.gen(function*() {
      const s = setup()
      const layer = OAuth2HttpClient.layerConfig({
        tokenUrl: Config.string("TOKEN_URL"),
        clientId: Config.string("CLIENT_ID"),
        clientSecret: Config.redacted("CLIENT_SECRET"),
        origins: Config.succeed([api])
      }).pipe(
        Layer.provide(s.http.layer),
        Layer.provide(env({ TOKEN_URL: tokenUrl, CLIENT_ID: "svc", CLIENT_SECRET: "x" }))
      )
      const result = yield* getJson(`${api}/x`).pipe(Effect.provide(layer))
      assert.deepStrictEqual(result, { auth: "Bearer tok-1" })
      const fromEnv = OAuth2HttpClient.layerFromEnv().pipe(
        Layer.provide(s.http.layer),
        Layer.provide(env({ OAUTH2_TOKEN_URL: tokenUrl, OAUTH2_CLIENT_ID: "svc", OAUTH2_CLIENT_SECRET: "x" }))
      )
      const other = yield* getJson(`${api}/y`).pipe(Effect.provide(fromEnv))
      assert.deepStrictEqual(other, { auth: "Bearer tok-2" })
    }))
})
