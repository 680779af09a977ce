/**
 * The discovery side of the guards and of isRetryable (OAuth2Error.ts): isDiscoveryError accepts a DiscoveryError
 * only, and a discovery failure is worth repeating when the server did not answer (Transport, Timeout) or answered
 * with a transient status (408, 429, 500, 502, 503, 504), as a token request is; never otherwise.
 */
import { OAuth2Error } from "@effect-oauth2/core"
import { assert, describe, it } from "@effect/vitest"

const issuer = "https://as.example"
const url = `${issuer}/.well-known/oauth-authorization-server`

const discovery = (kind: OAuth2Error.DiscoveryFailure, status?: number) =>
  new OAuth2Error.DiscoveryError({ issuer, url, kind, reason: "r", ...(status !== undefined ? { status } : {}) })

describe("OAuth2Error guards and isRetryable for discovery (mutation)", () => {
  it("isDiscoveryError: a DiscoveryError, not another error of the library, not a look-alike", () => {
    assert.isTrue(OAuth2Error.isDiscoveryError(discovery("NotFound", 404)))
    const others: ReadonlyArray<unknown> = [
      new OAuth2Error.ErrorResponse({ tokenEndpoint: "https://as.example/token", status: 400, error: "invalid_scope" }),
      new OAuth2Error.ConfigurationError({ reason: "r" }),
      new OAuth2Error.TimeoutError({ tokenEndpoint: "https://as.example/token", stage: "attempt", timeoutMillis: 1 }),
      { _tag: "DiscoveryError", issuer, url, kind: "NotFound", reason: "r" },
      null,
      undefined,
      "DiscoveryError",
      new Error("DiscoveryError")
    ]
    for (const value of others) assert.isFalse(OAuth2Error.isDiscoveryError(value), String(value))
  })

  it("isRetryable: no answer (Transport, Timeout) is worth repeating", () => {
    assert.isTrue(OAuth2Error.isRetryable(discovery("Transport")))
    assert.isTrue(OAuth2Error.isRetryable(discovery("Timeout")))
  })

  it("isRetryable: a transient status is worth repeating, any other status is not", () => {
    for (const status of [408, 429, 500, 502, 503, 504]) {
      assert.isTrue(OAuth2Error.isRetryable(discovery("Status", status)), String(status))
    }
    for (const status of [301, 400, 401, 403, 501]) {
      assert.isFalse(OAuth2Error.isRetryable(discovery("Status", status)), String(status))
    }
    assert.isFalse(OAuth2Error.isRetryable(discovery("Status")))
  })

  it("isRetryable: an answer that is not metadata, or not usable metadata, is not", () => {
    assert.isFalse(OAuth2Error.isRetryable(discovery("NotFound", 404)))
    assert.isFalse(OAuth2Error.isRetryable(discovery("NotFound", 410)))
    for (const kind of ["NotJson", "InvalidMetadata", "IssuerMismatch"] as const) {
      assert.isFalse(OAuth2Error.isRetryable(discovery(kind, 200)), kind)
    }
    for (const kind of ["NoTokenEndpoint", "Insecure"] as const) {
      assert.isFalse(OAuth2Error.isRetryable(discovery(kind)), kind)
    }
  })
})
