/**
 * `WwwAuthenticate.bearerError` (RFC 6750 §3), whole outputs: the error of the first Bearer challenge that has one,
 * with exactly the attributes sent (error_description, error_uri, scope; an absent one is no key at all), nothing
 * for a Bearer challenge without an error (RFC 6750 §3.1) and nothing from DPoP challenges (RFC 9449 §7.1), which
 * parse to their own scheme.
 */
import { WwwAuthenticate } from "@effect-oauth2/core"
import { assert, describe, it } from "@effect/vitest"

const bearerError = WwwAuthenticate.bearerError

describe("WwwAuthenticate.bearerError (mutation)", () => {
  it("the RFC 6750 §3 example: the error and its description", () => {
    assert.deepStrictEqual(
      bearerError(`Bearer realm="example", error="invalid_token", error_description="The access token expired"`),
      { error: "invalid_token", errorDescription: "The access token expired" }
    )
  })

  it("all four attributes of RFC 6750 §3: error, error_description, error_uri, scope", () => {
    assert.deepStrictEqual(
      bearerError(
        `Bearer realm="example", error="insufficient_scope", error_description="needs more", ` +
          `error_uri="https://as.example/errors/scope", scope="read write"`
      ),
      {
        error: "insufficient_scope",
        errorDescription: "needs more",
        errorUri: "https://as.example/errors/scope",
        scope: "read write"
      }
    )
  })

  it("an attribute that is not sent is no key at all", () => {
    assert.deepStrictEqual(bearerError(`Bearer error="invalid_request"`), { error: "invalid_request" })
    assert.deepStrictEqual(bearerError(`Bearer error="insufficient_scope", scope="admin"`), {
      error: "insufficient_scope",
      scope: "admin"
    })
    assert.deepStrictEqual(bearerError(`Bearer error="invalid_token", error_uri="https://as.example/e"`), {
      error: "invalid_token",
      errorUri: "https://as.example/e"
    })
  })

  it("a Bearer challenge without an error (RFC 6750 §3.1: no authentication sent) gives none", () => {
    assert.isUndefined(bearerError(`Bearer realm="example"`))
    assert.isUndefined(bearerError(`Bearer realm="example", scope="read"`))
    assert.isUndefined(bearerError(undefined))
    assert.isUndefined(bearerError(""))
  })

  it("the first Bearer challenge that has an error, after one that has none", () => {
    assert.deepStrictEqual(bearerError(`Bearer realm="a", Bearer error="invalid_token", Bearer error="other"`), {
      error: "invalid_token"
    })
  })

  it("DPoP challenges (RFC 9449 §7.1) are not Bearer ones: their error is not a Bearer error", () => {
    const dpop = `DPoP error="invalid_token", error_description="Invalid DPoP key binding", algs="ES256"`
    assert.deepStrictEqual(WwwAuthenticate.parse(dpop), [
      {
        scheme: "dpop",
        params: { error: "invalid_token", error_description: "Invalid DPoP key binding", algs: "ES256" }
      }
    ])
    assert.isUndefined(bearerError(dpop))
    const both = `DPoP algs="ES256 PS256", error="use_dpop_nonce", Bearer error="insufficient_scope", scope="read"`
    assert.deepStrictEqual(WwwAuthenticate.parse(both), [
      { scheme: "dpop", params: { algs: "ES256 PS256", error: "use_dpop_nonce" } },
      { scheme: "bearer", params: { error: "insufficient_scope", scope: "read" } }
    ])
    assert.deepStrictEqual(bearerError(both), { error: "insufficient_scope", scope: "read" })
  })
})
