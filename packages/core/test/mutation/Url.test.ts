/**
 * The token endpoint URL check (internal/url.ts): user information of any kind is refused, and which hosts count
 * as loopback for plain http.
 */
import { OAuth2Error } from "@effect-oauth2/core"
import { assert, describe, it } from "@effect/vitest"
import { isLoopbackHost, parseEndpoint } from "../../src/internal/url.js"

const reasonOf = (input: string) => {
  const result = parseEndpoint(input, { what: "tokenUrl" })
  return OAuth2Error.isConfigurationError(result) ? result.reason : `accepted ${result.href}`
}

const userInfo = "tokenUrl must not hold user credentials; use clientId and clientSecret"

describe("url (mutation)", () => {
  it("a token URL with a password but no user name is refused like any user information", () => {
    assert.strictEqual(reasonOf("https://:s3cret@as.example/token"), userInfo)
    assert.strictEqual(reasonOf("https://svc:s3cret@as.example/token"), userInfo)
    assert.strictEqual(reasonOf("https://svc@as.example/token"), userInfo)
    assert.strictEqual(reasonOf("https://as.example/token"), "accepted https://as.example/token")
  })

  it("loopback hosts: localhost and its subdomains, ::1, and all of 127.0.0.0/8, in any letter case", () => {
    for (const host of ["localhost", "LOCALHOST", "api.localhost", "::1", "[::1]", "127.0.0.1", "127.1.2.30"]) {
      assert.isTrue(isLoopbackHost(host), host)
    }
    for (
      const host of [
        "127.0.0.1.example.com",
        "localhost.example.com",
        "notlocalhost",
        "example.com",
        "10.0.0.1",
        "[::2]"
      ]
    ) {
      assert.isFalse(isLoopbackHost(host), host)
    }
  })
})
