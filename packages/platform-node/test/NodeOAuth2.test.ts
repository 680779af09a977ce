import { ClientAuth, OAuth2Client, OAuth2Error } from "@effect-oauth2/core"
import { NodeOAuth2 } from "@effect-oauth2/platform-node"
import { clients, jwtResource } from "@effect-oauth2/testing"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import { assert, describe, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Inspectable from "effect/Inspectable"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { inject } from "vitest"
import { basicClient, bearer, secrets, servers } from "./utils/servers.js"

const tokenEndpoint = inject("tokenEndpoint")
const apiUrl = inject("apiUrl")

/** GET `url` through the ambient HttpClient: status and JSON body. */
const get = (url: string) =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const response = yield* client.get(url)
    return { status: response.status, body: (yield* response.json) as Record<string, unknown> }
  })

/** A test ConfigProvider over `env`, as a layer. */
const env = (variables: Record<string, string>) =>
  Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(variables))))

/** The typed failure of an exit (not a defect). */
const failure = <A, E>(exit: Exit.Exit<A, E>): E => {
  if (Exit.isSuccess(exit)) return assert.fail("expected a failure, got a success")
  const error = Cause.failureOption(exit.cause)
  if (Option.isNone(error)) return assert.fail(`expected a typed failure, got ${Cause.pretty(exit.cause)}`)
  return error.value
}

/** The ConfigError that building `layerFromEnv` over `variables` fails with. */
const configErrorOf = (variables: Record<string, string>, prefix?: string) =>
  Effect.gen(function*() {
    const exit = yield* Effect.exit(
      Layer.build(NodeOAuth2.layerFromEnv(prefix).pipe(Layer.provide(env(variables))))
    )
    const error = failure(exit)
    assert.isTrue(ConfigError.isConfigError(error), `expected a ConfigError, got ${String(error)}`)
    return String(error)
  })

describe("NodeOAuth2.layer", () => {
  it.scopedLive("authenticates GETs to the resource server with a token from the embedded oidc-provider", () =>
    Effect.gen(function*() {
      const hello = yield* get(`${apiUrl}/hello`)
      assert.strictEqual(hello.status, 200)
      assert.deepStrictEqual(hello.body, {
        ok: true,
        path: "/hello",
        client_id: clients.basic.id,
        scope: "api:read",
        sub: clients.basic.id
      })
      const api = yield* get(`${apiUrl}/api/reports/42`)
      assert.strictEqual(api.status, 200)
      assert.strictEqual(api.body.path, "/api/reports/42")
    }).pipe(Effect.provide(NodeOAuth2.layer(basicClient(tokenEndpoint, { origins: [apiUrl] })))))

  it.scopedLive("provides OAuth2Client beside the HttpClient: credentials of the token in use", () =>
    Effect.gen(function*() {
      yield* get(`${apiUrl}/hello`)
      const { token } = yield* OAuth2Client.OAuth2Client
      const current = yield* token.current
      assert.isTrue(Option.isSome(current))
      const credentials = Option.getOrThrow(current)
      assert.strictEqual(credentials.tokenType.toLowerCase(), "bearer")
      assert.deepStrictEqual(credentials.scopes, ["api:read"])
      assert.strictEqual(credentials.tokenEndpoint, tokenEndpoint)
    }).pipe(Effect.provide(NodeOAuth2.layer(basicClient(tokenEndpoint)))))

  it.scopedLive("works with client_secret_post", () =>
    Effect.gen(function*() {
      const hello = yield* get(`${apiUrl}/hello`)
      assert.strictEqual(hello.status, 200)
      assert.strictEqual(hello.body.client_id, clients.post.id)
    }).pipe(Effect.provide(NodeOAuth2.layer({
      tokenUrl: tokenEndpoint,
      clientId: clients.post.id,
      clientSecret: Redacted.make(clients.post.secret),
      auth: ClientAuth.clientSecretPost,
      scopes: "api:read api:write"
    }))))

  it.scopedLive("20 concurrent requests on a cold start make one token request", () =>
    Effect.gen(function*() {
      const { api, auth } = yield* servers()
      const answers = yield* Effect.forEach(
        Array.from({ length: 20 }, (_, i) => `${api.url}/api/item/${i}`),
        get,
        { concurrency: "unbounded" }
      ).pipe(Effect.provide(NodeOAuth2.layer(basicClient(auth.tokenEndpoint))))
      assert.deepStrictEqual(answers.map((answer) => answer.status), Array.from({ length: 20 }, () => 200))
      assert.strictEqual(auth.tokenRequests(), 1)
      assert.strictEqual(api.requests(), 20)
      assert.strictEqual(new Set(api.seenTokens()).size, 1, "every request carried the same token")
    }))

  it.scopedLive("a wrong secret fails with a RequestError caused by invalid_client, and the secret stays hidden", () =>
    Effect.gen(function*() {
      const { api, auth } = yield* servers()
      const wrong = "wrong-secret-Pq7!"
      const exit = yield* get(`${api.url}/hello`).pipe(
        Effect.provide(NodeOAuth2.layer(basicClient(auth.tokenEndpoint, { clientSecret: Redacted.make(wrong) }))),
        Effect.exit
      )
      const error = failure(exit)
      assert.isTrue(HttpClientError.isHttpClientError(error))
      assert.strictEqual(error._tag, "RequestError")
      const cause = (error as HttpClientError.RequestError).cause
      assert.isTrue(OAuth2Error.isErrorResponse(cause), `cause: ${String(cause)}`)
      assert.strictEqual((cause as OAuth2Error.ErrorResponse).error, "invalid_client")
      assert.strictEqual((cause as OAuth2Error.ErrorResponse).status, 401)
      assert.strictEqual(auth.tokenRequests(), 1, "a definite refusal is not retried")
      assert.strictEqual(api.requests(), 0, "no API request without a token")
      const rendered = [
        error.message,
        String(error),
        Inspectable.format(error),
        JSON.stringify(error),
        Cause.pretty(Exit.isFailure(exit) ? exit.cause : Cause.empty)
      ]
      for (const text of rendered) {
        assert.notInclude(text, wrong)
        for (const secret of secrets) assert.notInclude(text, secret)
      }
      assert.include(error.message, "invalid_client")
    }))

  it.scopedLive("a 401 invalid_token (rejectNext) is replayed once with a fresh token", () =>
    Effect.gen(function*() {
      const { api, auth } = yield* servers()
      yield* Effect.gen(function*() {
        assert.strictEqual((yield* get(`${api.url}/hello`)).status, 200)
        api.rejectNext(1)
        assert.strictEqual((yield* get(`${api.url}/hello`)).status, 200)
        assert.strictEqual(auth.tokenRequests(), 2)
        const seen = api.seenTokens().map(bearer)
        assert.strictEqual(seen.length, 3)
        assert.strictEqual(seen[1], seen[0], "the rejected request carried the first token")
        assert.notStrictEqual(seen[2], seen[0], "the replay carried a new token")
        assert.strictEqual((yield* get(`${api.url}/hello`)).status, 200)
        assert.strictEqual(auth.tokenRequests(), 2, "the new token is cached")
        assert.strictEqual(bearer(api.seenTokens()[3]), seen[2])
      }).pipe(Effect.provide(NodeOAuth2.layer(basicClient(auth.tokenEndpoint))))
    }))

  it.scopedLive("a revoked token is replaced after one 401 and the replay succeeds", () =>
    Effect.gen(function*() {
      const { api, auth } = yield* servers()
      const layer = NodeOAuth2.layer(basicClient(auth.tokenEndpoint))
      yield* Effect.gen(function*() {
        assert.strictEqual((yield* get(`${api.url}/hello`)).status, 200)
        const revoked = bearer(api.seenTokens()[0])!
        api.revoke(revoked)
        const answer = yield* get(`${api.url}/api/after-revoke`)
        assert.strictEqual(answer.status, 200)
        assert.strictEqual(auth.tokenRequests(), 2)
        const seen = api.seenTokens().map(bearer)
        assert.deepStrictEqual(seen.slice(0, 2), [revoked, revoked])
        assert.notStrictEqual(seen[2], revoked)
      }).pipe(Effect.provide(layer))
    }))

  it.scopedLive("replays at most once: a second 401 is returned to the caller", () =>
    Effect.gen(function*() {
      const { api, auth } = yield* servers()
      yield* Effect.gen(function*() {
        api.rejectNext(2)
        const client = yield* HttpClient.HttpClient
        const response = yield* client.get(`${api.url}/hello`)
        assert.strictEqual(response.status, 401)
        assert.strictEqual(api.requests(), 2)
        assert.strictEqual(auth.tokenRequests(), 2)
      }).pipe(Effect.provide(NodeOAuth2.layer(basicClient(auth.tokenEndpoint))))
    }))

  it.effect("fails with a ConfigurationError for a plain-http token URL on a non-loopback host", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(Layer.build(NodeOAuth2.layer(basicClient("http://auth.example.com/token"))))
      const error = failure(exit)
      assert.isTrue(OAuth2Error.isConfigurationError(error))
      assert.include(error.message, "https")
    }).pipe(Effect.scoped))
})

describe("NodeOAuth2.layerConfig", () => {
  it.scopedLive("reads the options from Config", () =>
    Effect.gen(function*() {
      const hello = yield* get(`${apiUrl}/hello`)
      assert.strictEqual(hello.status, 200)
      assert.strictEqual(hello.body.client_id, clients.weird.id)
    }).pipe(
      Effect.provide(
        NodeOAuth2.layerConfig({
          tokenUrl: Config.string("AUTH_URL"),
          clientId: Config.string("AUTH_ID"),
          clientSecret: Config.redacted("AUTH_SECRET"),
          scopes: Config.succeed(["api:read"])
        }).pipe(
          Layer.provide(env({ AUTH_URL: tokenEndpoint, AUTH_ID: clients.weird.id, AUTH_SECRET: clients.weird.secret }))
        )
      )
    ))

  it.effect("a missing variable is a ConfigError naming it", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(Layer.build(
        NodeOAuth2.layerConfig({ tokenUrl: Config.string("AUTH_URL") }).pipe(Layer.provide(env({})))
      ))
      const error = failure(exit)
      assert.isTrue(ConfigError.isConfigError(error))
      assert.include(String(error), "AUTH_URL")
    }).pipe(Effect.scoped))
})

describe("NodeOAuth2.layerFromEnv", () => {
  const full = {
    OAUTH2_TOKEN_URL: tokenEndpoint,
    OAUTH2_CLIENT_ID: clients.basic.id,
    OAUTH2_CLIENT_SECRET: clients.basic.secret,
    OAUTH2_SCOPES: "api:read,api:write",
    OAUTH2_RESOURCE: jwtResource,
    OAUTH2_AUTH_METHOD: "client_secret_basic",
    OAUTH2_ORIGINS: apiUrl,
    OAUTH2_TIMEOUT: "5 seconds"
  }

  it.scopedLive("reads every OAUTH2_ variable and calls the API", () =>
    Effect.gen(function*() {
      const hello = yield* get(`${apiUrl}/hello`)
      assert.strictEqual(hello.status, 200)
      assert.strictEqual(hello.body.client_id, clients.basic.id)
      assert.strictEqual(hello.body.scope, "api:read api:write")
    }).pipe(Effect.provide(NodeOAuth2.layerFromEnv().pipe(Layer.provide(env(full))))))

  it.scopedLive("reads another prefix", () =>
    Effect.gen(function*() {
      const hello = yield* get(`${apiUrl}/hello`)
      assert.strictEqual(hello.status, 200)
      assert.strictEqual(hello.body.client_id, clients.post.id)
    }).pipe(Effect.provide(
      NodeOAuth2.layerFromEnv("BILLING").pipe(Layer.provide(env({
        BILLING_TOKEN_URL: tokenEndpoint,
        BILLING_CLIENT_ID: clients.post.id,
        BILLING_CLIENT_SECRET: clients.post.secret,
        BILLING_AUTH_METHOD: "client_secret_post"
      })))
    )))

  it.effect("reads the secret as Redacted and the lists and durations as values", () =>
    Effect.gen(function*() {
      const options = yield* NodeOAuth2.config().pipe(Effect.provide(env({ ...full, OAUTH2_AUDIENCE: "aud-1" })))
      assert.isTrue(Redacted.isRedacted(options.clientSecret))
      assert.strictEqual(Redacted.value(options.clientSecret!), clients.basic.secret)
      assert.notInclude(JSON.stringify(options), clients.basic.secret)
      assert.deepStrictEqual(options.scopes, ["api:read", "api:write"])
      assert.deepStrictEqual(options.origins, [apiUrl])
      assert.deepStrictEqual(options.params, { audience: "aud-1", resource: [jwtResource] })
      assert.strictEqual(Duration.toMillis(options.timeout!), 5000)
    }))

  it.effect("merges overrides.params into the audience and resource read from the environment", () =>
    Effect.gen(function*() {
      const options = yield* NodeOAuth2.config("OAUTH2", { params: { tenant: "acme" }, refreshMargin: "5 seconds" })
        .pipe(Effect.provide(env({ ...full, OAUTH2_AUDIENCE: "aud-1" })))
      assert.deepStrictEqual(options.params, { audience: "aud-1", resource: [jwtResource], tenant: "acme" })
      assert.strictEqual(options.refreshMargin, "5 seconds")
    }))

  it.effect("a missing OAUTH2_TOKEN_URL is a ConfigError naming it", () =>
    Effect.gen(function*() {
      const { OAUTH2_TOKEN_URL: _, ...rest } = full
      const message = yield* configErrorOf(rest)
      assert.include(message, "OAUTH2_TOKEN_URL")
      assert.notInclude(message, clients.basic.secret)
    }).pipe(Effect.scoped))

  it.effect("a missing BILLING_TOKEN_URL is a ConfigError naming it", () =>
    Effect.gen(function*() {
      const message = yield* configErrorOf(full, "BILLING")
      assert.include(message, "BILLING_TOKEN_URL")
    }).pipe(Effect.scoped))

  it.effect("a malformed OAUTH2_TIMEOUT is a ConfigError naming it", () =>
    Effect.gen(function*() {
      const message = yield* configErrorOf({ ...full, OAUTH2_TIMEOUT: "soon" })
      assert.include(message, "OAUTH2_TIMEOUT")
      assert.include(message, "duration")
    }).pipe(Effect.scoped))

  it.effect("a malformed OAUTH2_AUTH_METHOD is a ConfigError naming it", () =>
    Effect.gen(function*() {
      const message = yield* configErrorOf({ ...full, OAUTH2_AUTH_METHOD: "basic" })
      assert.include(message, "OAUTH2_AUTH_METHOD")
      assert.include(message, "client_secret_basic")
    }).pipe(Effect.scoped))

  it.effect("a malformed OAUTH2_TOKEN_URL is a ConfigError naming it", () =>
    Effect.gen(function*() {
      const message = yield* configErrorOf({ ...full, OAUTH2_TOKEN_URL: "auth.example.com/token" })
      assert.include(message, "OAUTH2_TOKEN_URL")
      assert.include(message, "URL")
    }).pipe(Effect.scoped))

  it.effect("a malformed OAUTH2_ORIGINS entry is a ConfigError naming it", () =>
    Effect.gen(function*() {
      const message = yield* configErrorOf({ ...full, OAUTH2_ORIGINS: `${apiUrl} api.example.com` })
      assert.include(message, "OAUTH2_ORIGINS")
    }).pipe(Effect.scoped))

  it.effect("an insecure OAUTH2_TOKEN_URL fails the layer with a ConfigurationError", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(Layer.build(
        NodeOAuth2.layerFromEnv().pipe(Layer.provide(env({ ...full, OAUTH2_TOKEN_URL: "http://auth.example.com/t" })))
      ))
      const error = failure(exit)
      assert.isTrue(OAuth2Error.isConfigurationError(error), String(error))
      assert.notInclude(String(error), clients.basic.secret)
    }).pipe(Effect.scoped))
})
