import { OAuth2Error } from "@effect-oauth2/core"
import * as HttpClientError from "@effect/platform/HttpClientError"
import { assert, describe, it } from "@effect/vitest"
import { strictEqual } from "@effect/vitest/utils"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { failureOf, run, tokenUrl } from "./utils/Grant.js"
import * as TestHttp from "./utils/TestHttp.js"

const errors = {
  ErrorResponse: new OAuth2Error.ErrorResponse({
    tokenEndpoint: tokenUrl,
    status: 401,
    error: "invalid_client",
    errorDescription: "Client authentication failed"
  }),
  InvalidResponse: new OAuth2Error.InvalidResponse({
    tokenEndpoint: tokenUrl,
    reason: "Content-Type was \"text/html\", expected \"application/json\"",
    status: 502,
    contentType: "text/html",
    bodyExcerpt: "<html>Bad gateway</html>"
  }),
  TransportError: new OAuth2Error.TransportError({ tokenEndpoint: tokenUrl, description: "connection refused" }),
  TimeoutError: new OAuth2Error.TimeoutError({ tokenEndpoint: tokenUrl, stage: "attempt", timeoutMillis: 30_000 }),
  ConfigurationError: new OAuth2Error.ConfigurationError({ reason: "tokenUrl must use https" })
} as const

const guards = {
  ErrorResponse: OAuth2Error.isErrorResponse,
  InvalidResponse: OAuth2Error.isInvalidResponse,
  TransportError: OAuth2Error.isTransportError,
  TimeoutError: OAuth2Error.isTimeoutError,
  ConfigurationError: OAuth2Error.isConfigurationError
} as const

describe("OAuth2Error", () => {
  it("every error has the TypeId, its tag, and is an Error", () => {
    for (const [tag, error] of Object.entries(errors)) {
      strictEqual(error[OAuth2Error.TypeId], OAuth2Error.TypeId)
      strictEqual(error._tag, tag)
      assert.instanceOf(error, Error)
      assert.isTrue(OAuth2Error.isOAuth2Error(error), tag)
    }
  })

  it("the guards tell the errors apart", () => {
    for (const [guardTag, guard] of Object.entries(guards)) {
      for (const [tag, error] of Object.entries(errors)) {
        strictEqual(guard(error), guardTag === tag, `${guardTag}(${tag})`)
      }
    }
  })

  it("the guards reject everything else", () => {
    const others = [
      null,
      undefined,
      "ErrorResponse",
      42,
      {},
      { _tag: "ErrorResponse" },
      new Error("x"),
      new HttpClientError.RequestError({ request: undefined as never, reason: "Transport" })
    ]
    for (const value of others) {
      assert.isFalse(OAuth2Error.isOAuth2Error(value))
      for (const guard of Object.values(guards)) assert.isFalse(guard(value))
    }
  })

  describe("messages", () => {
    it("ErrorResponse names the status, the error code, the description, the endpoint and a hint", () => {
      const message = errors.ErrorResponse.message
      assert.include(message, "HTTP 401")
      assert.include(message, "\"invalid_client\"")
      assert.include(message, "Client authentication failed")
      assert.include(message, tokenUrl)
      assert.include(message, "client secret")
      const withUri = new OAuth2Error.ErrorResponse({
        tokenEndpoint: tokenUrl,
        status: 400,
        error: "custom_error",
        errorUri: "https://as.example.com/errors/custom"
      })
      assert.include(withUri.message, "https://as.example.com/errors/custom")
      assert.include(withUri.message, "\"custom_error\"")
      assert.notMatch(withUri.message, /\s$/)
    })

    it("InvalidResponse names the status, the content type, the reason and the body", () => {
      const message = errors.InvalidResponse.message
      assert.include(message, "HTTP 502")
      assert.include(message, "content type text/html")
      assert.include(message, "expected \"application/json\"")
      assert.include(message, "Bad gateway")
      assert.include(message, tokenUrl)
    })

    it("TransportError, TimeoutError and ConfigurationError", () => {
      assert.include(errors.TransportError.message, "connection refused")
      assert.include(errors.TransportError.message, tokenUrl)
      assert.include(errors.TimeoutError.message, "30s")
      assert.include(errors.TimeoutError.message, "timed out")
      const budget = new OAuth2Error.TimeoutError({ tokenEndpoint: tokenUrl, stage: "budget", timeoutMillis: 60_000 })
      assert.include(budget.message, "retries")
      assert.include(budget.message, "1m")
      assert.include(errors.ConfigurationError.message, "tokenUrl must use https")
    })

    it("String(error) gives the tag and the message", () => {
      for (const [tag, error] of Object.entries(errors)) {
        assert.include(String(error), tag)
        assert.include(String(error), error.message)
      }
    })
  })

  describe("isRetryable", () => {
    it("retries transient failures only", () => {
      const response = (status: number, error: string) =>
        new OAuth2Error.ErrorResponse({ tokenEndpoint: tokenUrl, status, error })
      const invalid = (status: number) =>
        new OAuth2Error.InvalidResponse({ tokenEndpoint: tokenUrl, reason: "r", status, bodyExcerpt: "" })
      assert.isTrue(OAuth2Error.isRetryable(errors.TransportError))
      assert.isTrue(OAuth2Error.isRetryable(errors.TimeoutError))
      assert.isFalse(
        OAuth2Error.isRetryable(
          new OAuth2Error.TimeoutError({ tokenEndpoint: tokenUrl, stage: "budget", timeoutMillis: 1 })
        )
      )
      assert.isFalse(OAuth2Error.isRetryable(errors.ConfigurationError))
      assert.isTrue(OAuth2Error.isRetryable(response(400, "temporarily_unavailable")))
      assert.isTrue(OAuth2Error.isRetryable(response(503, "server_error")))
      assert.isTrue(OAuth2Error.isRetryable(response(429, "slow_down")))
      for (const code of ["invalid_client", "invalid_scope", "invalid_request", "unauthorized_client"]) {
        assert.isFalse(OAuth2Error.isRetryable(response(400, code)), code)
        assert.isFalse(OAuth2Error.isRetryable(response(503, code)), `${code} on 503`)
      }
      for (const status of [408, 429, 500, 502, 503, 504]) assert.isTrue(OAuth2Error.isRetryable(invalid(status)))
      for (const status of [200, 201, 302, 400, 401, 403, 404, 501]) {
        assert.isFalse(OAuth2Error.isRetryable(invalid(status)), String(status))
      }
    })
  })

  describe("TransportError from the grant", () => {
    it.effect("a transport failure is a TransportError whose cause holds no request body or headers", () =>
      Effect.gen(function*() {
        const { exit, requests } = yield* run(() => TestHttp.transportError("connect ECONNREFUSED 10.0.0.1:443"), {
          clientSecret: Redacted.make("TRANSPORT-SECRET"),
          scopes: ["scope-a"],
          params: { audience: "aud-value" }
        })
        strictEqual(requests.length, 1)
        assert.include(requests[0].headers["authorization"], "Basic ")
        const error = failureOf(exit, "TransportError")
        assert.include(error.message, "ECONNREFUSED")
        assert.include(error.message, tokenUrl)
        const cause = error.cause
        assert.isTrue(HttpClientError.isHttpClientError(cause))
        const request = (cause as HttpClientError.RequestError).request
        strictEqual(request.body._tag, "Empty")
        strictEqual(Object.keys(request.headers).length, 0)
        strictEqual(request.url, tokenUrl)
        const dump = JSON.stringify(error)
        for (const value of ["TRANSPORT-SECRET", "grant_type", "scope-a", "aud-value", "Basic"]) {
          assert.notInclude(dump, value)
        }
      }))
  })
})
