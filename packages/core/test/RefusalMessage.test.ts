// Refusals without an RFC 6749 §5.2 body (a 401 or 403 with an empty body or an HTML page, which some servers send
// for a wrong secret) read as refusals, with what to check.
import { ClientAuth, OAuth2Error } from "@effect-oauth2/core"
import { assert, describe, it } from "@effect/vitest"
import { strictEqual } from "@effect/vitest/utils"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { failureOf, run, tokenUrl } from "./utils/Grant.js"
import * as TestHttp from "./utils/TestHttp.js"

const secret = "REFUSAL-SECRET-q8:+/-long-enough-for-HS256!"

const assertRefusal = (error: OAuth2Error.InvalidResponse, status: number) => {
  const message = error.message
  strictEqual(error.status, status)
  assert.match(message, /^The authorization server refused the token request/)
  assert.notInclude(message, "Invalid OAuth 2.0 token response")
  assert.include(message, `HTTP ${status}`)
  assert.include(message, tokenUrl)
  assert.include(message, "no RFC 6749 §5.2 error body")
  // what to check: the credentials, the method, and the Basic encoding some servers skip
  assert.include(message, "client id")
  assert.include(message, "client secret")
  assert.include(message, "client authentication method")
  assert.include(message, "do not form-decode Basic credentials")
  assert.include(message, "ClientAuth.clientSecretBasicWith(\"none\")")
  assert.include(message, "ClientAuth.clientSecretPost")
  assert.notInclude(message, secret)
  assert.notInclude(JSON.stringify(error), secret)
  assert.isFalse(OAuth2Error.isRetryable(error))
}

describe("a refusal without a §5.2 body", () => {
  it.effect("a 403 with an HTML page reads as a refusal with hints, and is not retried", () =>
    Effect.gen(function*() {
      const { exit, requests } = yield* run(
        () => ({ status: 403, text: "<html><body>Forbidden</body></html>", headers: { "content-type": "text/html" } }),
        { clientSecret: Redacted.make(secret), retry: undefined }
      )
      strictEqual(requests.length, 1)
      const error = failureOf(exit, "InvalidResponse")
      assertRefusal(error, 403)
      assert.include(error.message, "content type text/html")
      assert.include(error.message, "Forbidden")
    }))

  it.effect("a 401 with an empty body reads as a refusal with hints", () =>
    Effect.gen(function*() {
      const { exit } = yield* run(() => TestHttp.raw("", { status: 401 }), { clientSecret: Redacted.make(secret) })
      assertRefusal(failureOf(exit, "InvalidResponse"), 401)
    }))

  it.effect("a 401 with JSON that is not an error body reads as a refusal", () =>
    Effect.gen(function*() {
      const { exit } = yield* run(() => ({ status: 401, json: { message: "Unauthorized" } }))
      assertRefusal(failureOf(exit, "InvalidResponse"), 401)
    }))

  it.effect("a 401 invalid_client (a §5.2 body) names the same hints", () =>
    Effect.gen(function*() {
      const { exit } = yield* run(() => ({ status: 401, json: { error: "invalid_client" } }))
      const error = failureOf(exit, "ErrorResponse")
      assert.include(error.message, "\"invalid_client\"")
      assert.include(error.message, "ClientAuth.clientSecretBasicWith(\"none\")")
      assert.include(error.message, "ClientAuth.clientSecretPost")
    }))

  it.effect("invalid_client names what to check for the method in use, not the Basic hint of another method", () =>
    Effect.gen(function*() {
      const { privateKey } = yield* Effect.promise(() =>
        crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"])
      )
      const cases: ReadonlyArray<readonly [ClientAuth.ClientAuth, string, ReadonlyArray<string>]> = [
        [ClientAuth.clientSecretBasic, "client_secret_basic", ["do not form-decode Basic credentials"]],
        [ClientAuth.clientSecretPost, "client_secret_post", ["sent in the form body", "ClientAuth.clientSecretBasic"]],
        [ClientAuth.clientSecretJwt(), "client_secret_jwt", ["HMAC key", "audience", "clocks"]],
        [ClientAuth.privateKeyJwt({ key: privateKey }), "private_key_jwt", ["public key", "kid", "audience", "clocks"]],
        [ClientAuth.tlsClientAuth, "tls_client_auth", ["client certificate", "RFC 8705", "mtls_endpoint_aliases"]],
        [ClientAuth.none, "none", ["sends no credentials"]]
      ]
      for (const [auth, method, phrases] of cases) {
        // A §5.2 invalid_client (ErrorResponse), and a bare 401 without a §5.2 body (InvalidResponse).
        const replies = [
          [() => ({ status: 401, json: { error: "invalid_client" } }), "ErrorResponse"],
          [() => TestHttp.raw("", { status: 401 }), "InvalidResponse"]
        ] as const
        for (const [reply, tag] of replies) {
          const { exit } = yield* run(reply, { auth, clientSecret: Redacted.make(secret) })
          const error = failureOf(exit, tag)
          assert.strictEqual(error.authMethod, method)
          for (const phrase of phrases) assert.include(error.message, phrase, `${method}: ${error.message}`)
          if (method !== "client_secret_basic") {
            assert.notInclude(error.message, "form-decode Basic", method)
          }
          assert.notInclude(error.message, secret)
        }
      }
    }))

  it.effect("other statuses without a §5.2 body still read as an invalid response", () =>
    Effect.gen(function*() {
      for (const status of [400, 404, 500]) {
        const { exit } = yield* run(
          () => ({ status, text: "<h1>oops</h1>", headers: { "content-type": "text/html" } }),
          { retry: false }
        )
        const error = failureOf(exit, "InvalidResponse")
        assert.match(error.message, /^Invalid OAuth 2\.0 token response/, String(status))
        assert.include(error.reason, `HTTP status ${status}`)
        assert.notInclude(error.message, "clientSecretPost")
      }
    }))

  it("isRefusalStatus is 401 and 403 only", () => {
    for (const status of [401, 403]) assert.isTrue(OAuth2Error.isRefusalStatus(status))
    for (const status of [200, 400, 404, 407, 429, 500]) assert.isFalse(OAuth2Error.isRefusalStatus(status))
  })
})
