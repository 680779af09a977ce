import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import * as failure from "../../src/internal/requestPath/failure.js"
import { bearer } from "../../src/internal/requestPath/scheme.js"
import * as OAuth2Error from "../../src/OAuth2Error.js"

const tokenEndpoint = "https://auth.example.com/token"
const request = HttpClientRequest.get("https://api.example.com/x")

const refusal = new OAuth2Error.ErrorResponse({ tokenEndpoint, status: 401, error: "invalid_client" })
const outage = new OAuth2Error.ErrorResponse({ tokenEndpoint, status: 503, error: "server_error" })
const budget = new OAuth2Error.TimeoutError({ tokenEndpoint, stage: "budget", timeoutMillis: 60_000 })
const dropped = new OAuth2Error.TransportError({ tokenEndpoint, description: "connection reset" })
const html = new OAuth2Error.InvalidResponse({ tokenEndpoint, reason: "not JSON", status: 200, bodyExcerpt: "<html>" })

describe("requestPath/failure", () => {
  it("transient token failures are Transport, which HttpClient.retryTransient repeats", () => {
    for (const error of [outage, budget, dropped]) {
      const mapped = failure.toRequestError(request, error)
      assert.strictEqual(mapped.reason, "Transport", error._tag)
      assert.strictEqual(mapped.cause, error)
      assert.strictEqual(mapped.request, request)
      assert.include(mapped.message, "request not sent: could not obtain an OAuth 2.0 access token")
      assert.include(mapped.message, "transient")
    }
  })

  it("definite failures are Encode, and the message says the request was not sent and why, not 'encoding'", () => {
    for (const error of [refusal, html]) {
      const mapped = failure.toRequestError(request, error)
      assert.strictEqual(mapped.reason, "Encode", error._tag)
      assert.include(mapped.message, "request not sent: it could not be authorized")
      assert.include(mapped.message, "repeating it will not help")
      assert.include(mapped.message, error.message)
      assert.notInclude(mapped.description ?? "", "encod")
    }
  })

  it.effect("retryTransient repeats a transient token failure and not a definite one", () =>
    Effect.gen(function*() {
      let calls = 0
      const failing = (error: OAuth2Error.OAuth2Error) =>
        HttpClient.make((r) => Effect.fail(failure.toRequestError(r, error))).pipe(
          HttpClient.tapRequest(() => Effect.sync(() => calls++)),
          HttpClient.retryTransient({ schedule: Schedule.recurs(2) })
        )
      yield* Effect.flip(failing(outage).get("https://api.example.com/x"))
      assert.strictEqual(calls, 3)
      calls = 0
      yield* Effect.flip(failing(refusal).get("https://api.example.com/x"))
      assert.strictEqual(calls, 1)
    }))

  it.effect("challengeError: a 401 with a Bearer error becomes a ResponseError naming it; without one, the response", () =>
    Effect.gen(function*() {
      const challenged = HttpClientResponse.fromWeb(
        request,
        new Response(null, {
          status: 401,
          headers: { "www-authenticate": "Bearer error=\"invalid_token\", error_description=\"expired\"" }
        })
      )
      const error = yield* Effect.flip(failure.challengeError(bearer, challenged))
      assert.strictEqual(error.reason, "StatusCode")
      assert.include(error.message, "the resource server refused the token: invalid_token (expired)")
      const bare = HttpClientResponse.fromWeb(
        request,
        new Response(null, { status: 401, headers: { "www-authenticate": "Bearer error=\"invalid_token\"" } })
      )
      // Without error_description the description ends with the error itself.
      assert.match(
        (yield* Effect.flip(failure.challengeError(bearer, bare))).message,
        /refused the token: invalid_token \(401 GET /
      )
      const plain = HttpClientResponse.fromWeb(request, new Response(null, { status: 401 }))
      assert.strictEqual(yield* failure.challengeError(bearer, plain), plain)
    }))
})
