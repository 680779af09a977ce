import { OAuth2Client, OAuth2Error } from "@effect-oauth2/core"
import { BrowserOAuth2 } from "@effect-oauth2/platform-browser"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { clients, closedPortUrl, countingFetch, noCorsUrl, servers } from "./utils/Browser.js"

const options = (overrides: Partial<BrowserOAuth2.Options> = {}): BrowserOAuth2.Options => ({
  tokenUrl: servers.tokenEndpoint,
  ...clients.basic,
  scopes: ["api:read"],
  retry: false,
  ...overrides
})

interface Hello {
  readonly status: number
  readonly clientId: unknown
}

const hello: Effect.Effect<Hello, HttpClientError.HttpClientError, HttpClient.HttpClient> = Effect.gen(function*() {
  const client = yield* HttpClient.HttpClient
  const response = yield* client.get(`${servers.apiUrl}/hello`)
  const body = (yield* response.json) as { readonly client_id?: unknown }
  return { status: response.status, clientId: body.client_id }
})

/** The layer with a counting fetch beside it. */
const withCounting = <E>(layer: Layer.Layer<HttpClient.HttpClient | OAuth2Client.OAuth2Client, E>) => {
  const fetch = countingFetch()
  return { fetch, layer: Layer.merge(layer, fetch.layer) }
}

describe("BrowserOAuth2.layer in Chromium", () => {
  it.live("an authenticated GET to the protected API returns 200 for the client", () =>
    Effect.gen(function*() {
      const { fetch, layer } = withCounting(BrowserOAuth2.layer(options()))
      const result = yield* Effect.provide(hello, layer)
      assert.deepStrictEqual(result, { status: 200, clientId: "basic-client" })
      assert.strictEqual(fetch.tokenRequests().length, 1)
      assert.match(fetch.apiAuthorizations()[0] ?? "", /^Bearer [\w-]+\.[\w-]+\.[\w-]+$/)
    }))

  it.live("20 concurrent requests on a cold cache: all succeed with one token", () =>
    Effect.gen(function*() {
      const { fetch, layer } = withCounting(BrowserOAuth2.layer(options({ ...clients.post, scopes: ["api:write"] })))
      const results = yield* Effect.all(Array.from({ length: 20 }, () => hello), { concurrency: "unbounded" }).pipe(
        Effect.provide(layer)
      )
      assert.strictEqual(results.length, 20)
      for (const result of results) assert.deepStrictEqual(result, { status: 200, clientId: "post-client" })
      assert.strictEqual(fetch.tokenRequests().length, 1, "one token request")
      assert.strictEqual(fetch.apiRequests().length, 20)
      assert.strictEqual(new Set(fetch.apiAuthorizations()).size, 1, "one Authorization value")
    }))

  it.live("the token and the API calls stay in one layer lifetime: later calls reuse the token", () =>
    Effect.gen(function*() {
      const { fetch, layer } = withCounting(BrowserOAuth2.layer(options()))
      yield* Effect.gen(function*() {
        yield* hello
        yield* hello
        const client = yield* OAuth2Client.OAuth2Client
        const current = yield* client.token.current
        assert.isTrue(Option.isSome(current))
        const authorizations = fetch.apiAuthorizations()
        assert.deepStrictEqual(authorizations, [
          `Bearer ${Redacted.value(Option.getOrThrow(current).accessToken)}`,
          `Bearer ${Redacted.value(Option.getOrThrow(current).accessToken)}`
        ])
      }).pipe(Effect.provide(layer))
      assert.strictEqual(fetch.tokenRequests().length, 1)
    }))

  it.live("a refused token request reaches the caller as a RequestError whose cause is the typed ErrorResponse", () =>
    Effect.gen(function*() {
      const layer = BrowserOAuth2.layer(options({ clientSecret: Redacted.make("not-the-secret") }))
      const error = yield* Effect.flip(Effect.provide(hello, layer))
      assert.isTrue(HttpClientError.isHttpClientError(error))
      assert.strictEqual(error._tag, "RequestError")
      if (error._tag !== "RequestError") return
      assert.strictEqual(error.reason, "Encode") // a definite refusal: no transient retry repeats it
      assert.isTrue(OAuth2Error.isErrorResponse(error.cause))
      assert.strictEqual((error.cause as OAuth2Error.ErrorResponse).error, "invalid_client")
    }))

  it.live("OAuth2Client.typedHttpClient fails with the OAuth2Error itself", () =>
    Effect.gen(function*() {
      const layer = BrowserOAuth2.layer(options({ scopes: ["api:admin"] }))
      const error = yield* Effect.gen(function*() {
        const client = yield* OAuth2Client.OAuth2Client
        return yield* Effect.flip(client.typedHttpClient.get(`${servers.apiUrl}/hello`))
      }).pipe(Effect.provide(layer))
      assert.isTrue(OAuth2Error.isErrorResponse(error))
      if (!OAuth2Error.isErrorResponse(error)) return
      assert.strictEqual(error.error, "invalid_scope")
    }))

  it.live("a token endpoint the browser blocks for CORS: RequestError (Transport) with a TransportError cause", () =>
    Effect.gen(function*() {
      const { fetch, layer } = withCounting(BrowserOAuth2.layer(options({ tokenUrl: noCorsUrl() })))
      const error = yield* Effect.flip(Effect.provide(hello, layer))
      assert.strictEqual(error._tag, "RequestError")
      if (error._tag !== "RequestError") return
      assert.strictEqual(error.reason, "Transport")
      assert.isTrue(OAuth2Error.isTransportError(error.cause))
      assert.strictEqual(fetch.apiRequests().length, 0, "no API request without a token")
    }))

  it.live("a closed token port: the typed TransportError through OAuth2Client.token.get", () =>
    Effect.gen(function*() {
      const error = yield* Effect.gen(function*() {
        const client = yield* OAuth2Client.OAuth2Client
        return yield* Effect.flip(client.token.get)
      }).pipe(Effect.provide(BrowserOAuth2.layer(options({ tokenUrl: closedPortUrl }))))
      assert.strictEqual(error._tag, "TransportError")
    }))

  it.live("bad options fail the layer with a ConfigurationError, before any request", () =>
    Effect.gen(function*() {
      const { fetch, layer } = withCounting(BrowserOAuth2.layer(options({ tokenUrl: "http://auth.example.com/token" })))
      const error = yield* Effect.flip(Effect.provide(hello, layer))
      assert.isTrue(OAuth2Error.isConfigurationError(error))
      assert.strictEqual(fetch.requests.length, 0)
    }))

  describe("trace headers", () => {
    it.live("by default no traceparent/b3 go cross-origin (they would need the API's CORS to allow them)", () =>
      Effect.gen(function*() {
        const { fetch, layer } = withCounting(BrowserOAuth2.layer(options()))
        yield* Effect.provide(hello, layer)
        assert.strictEqual(fetch.apiRequests().length, 1)
        assert.isAbove(fetch.requests.length, fetch.apiRequests().length, "the token request too")
        for (const request of fetch.requests) {
          assert.isNull(request.headers.get("traceparent"), request.url)
          assert.isNull(request.headers.get("b3"), request.url)
        }
      }))

    it.live("\"all\" sends them, and an API whose CORS does not allow them fails as a transport error", () =>
      Effect.gen(function*() {
        const { fetch, layer } = withCounting(BrowserOAuth2.layer(options({ tracePropagation: "all" })))
        const error = yield* Effect.flip(Effect.provide(hello, layer))
        assert.strictEqual(error._tag, "RequestError")
        if (error._tag !== "RequestError") return
        assert.strictEqual(error.reason, "Transport")
        assert.strictEqual(fetch.apiRequests().length, 1, "the API request was sent (and refused by CORS)")
        // W3C trace context: version 00, a 16-byte trace id, an 8-byte parent id, the flags
        assert.match(fetch.apiRequests()[0]!.headers.get("traceparent") ?? "", /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/)
      }))
  })
})

describe("BrowserOAuth2.layerXhr in Chromium", () => {
  it.live("an authenticated GET over XMLHttpRequest returns 200 for the client", () =>
    Effect.gen(function*() {
      const result = yield* Effect.provide(hello, BrowserOAuth2.layerXhr(options({ ...clients.weird })))
      assert.deepStrictEqual(result, { status: 200, clientId: "weird:client id" })
    }))
})
