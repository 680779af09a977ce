/**
 * The description of a token failure on the request path (internal/requestPath/failure.ts), word for word: it tells
 * the user the request was not sent, whether repeating it may help, and why.
 */
import { OAuth2Error } from "@effect-oauth2/core"
import { assert, describe, it } from "@effect/vitest"
import * as failure from "../../src/internal/requestPath/failure.js"

const tokenUrl = "https://as.example/token"

describe("requestPath/failure description (mutation)", () => {
  it("a transient token failure: not sent, repeating later may succeed, then the error's message", () => {
    const error = new OAuth2Error.TransportError({ tokenEndpoint: tokenUrl, description: "connection refused" })
    assert.strictEqual(
      failure.describe(error),
      "request not sent: could not obtain an OAuth 2.0 access token (a transient failure; repeating the request " +
        `later may succeed): ${error.message}`
    )
  })

  it("a definite token failure: not sent, repeating will not help until the cause is fixed, then the message", () => {
    const error = new OAuth2Error.ErrorResponse({ tokenEndpoint: tokenUrl, status: 401, error: "invalid_client" })
    assert.strictEqual(
      failure.describe(error),
      "request not sent: it could not be authorized, because the token request failed for good (repeating it will " +
        `not help until the cause below is fixed): ${error.message}`
    )
  })
})
