import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { Credentials } from "../../src/Credentials.js"
import * as scheme from "../../src/internal/requestPath/scheme.js"

const credentials = new Credentials({
  accessToken: Redacted.make("tok-1"),
  tokenType: "Bearer",
  scopes: [],
  tokenEndpoint: "https://auth.example.com/token",
  extra: {}
})

describe("requestPath/scheme", () => {
  it("tokenIn: the token after the scheme name, the name matched case-insensitively (RFC 9110 §11.1)", () => {
    assert.strictEqual(scheme.tokenIn("Bearer abc", "Bearer"), "abc")
    assert.strictEqual(scheme.tokenIn("bearer abc", "Bearer"), "abc")
    assert.strictEqual(scheme.tokenIn("DPoP abc", "DPoP"), "abc")
    assert.isUndefined(scheme.tokenIn("DPoP abc", "Bearer"))
    assert.isUndefined(scheme.tokenIn("Bearerabc", "Bearer"))
    assert.isUndefined(scheme.tokenIn("Bearer ", "Bearer"))
    assert.isUndefined(scheme.tokenIn(undefined, "Bearer"))
    assert.isUndefined(scheme.tokenIn("Basic abc", "Bearer"))
    // Another scheme of the same length is not this one.
    assert.isUndefined(scheme.tokenIn("Digest abc", "Bearer"))
  })

  it("dpop.tokenOf reads a DPoP header, and a Bearer one (the server may answer a DPoP request with Bearer, §5)", () => {
    // tokenOf reads only the request: the key's hooks are not used.
    const dpop = scheme.dpop({} as unknown as Parameters<typeof scheme.dpop>[0])
    const withHeader = (value: string) =>
      HttpClientRequest.get("https://api.example.com/", { headers: { authorization: value } })
    assert.strictEqual(dpop.tokenOf(withHeader("DPoP tok-d")), "tok-d")
    assert.strictEqual(dpop.tokenOf(withHeader("Bearer tok-b")), "tok-b")
    assert.isUndefined(dpop.tokenOf(withHeader("Basic x")))
  })

  it.effect("bearer.authorize sets Authorization: Bearer <token> (RFC 6750 §2.1) and keeps the rest", () =>
    Effect.gen(function*() {
      const request = HttpClientRequest.post("https://api.example.com/x?y=1", {
        headers: { "x-trace": "1" }
      }).pipe(HttpClientRequest.bodyText("hello"))
      const authorized = yield* scheme.bearer.authorize(request, "tok-1", credentials)
      assert.strictEqual(authorized.headers["authorization"], "Bearer tok-1")
      assert.strictEqual(authorized.headers["x-trace"], "1")
      assert.strictEqual(authorized.url, request.url)
      assert.strictEqual(authorized.method, "POST")
      assert.strictEqual(authorized.body, request.body)
      assert.isUndefined(request.headers["authorization"], "the caller's request is not changed")
      assert.strictEqual(scheme.bearer.tokenOf(authorized), "tok-1")
    }))

  it("bearer.challenge reads the Bearer challenge's error; Bearer has no observer and no replay of its own", () => {
    const request = HttpClientRequest.get("https://api.example.com/")
    const response = HttpClientResponse.fromWeb(
      request,
      new Response(null, {
        status: 401,
        headers: { "www-authenticate": "DPoP error=\"use_dpop_nonce\", Bearer error=\"invalid_token\"" }
      })
    )
    assert.strictEqual(scheme.bearer.challenge(response)?.error, "invalid_token")
    assert.isUndefined(scheme.bearer.observe)
    assert.isUndefined(scheme.bearer.replayOn401)
  })

  it("withoutAuthorization removes only the Authorization header", () => {
    const request = HttpClientRequest.get("https://api.example.com/a", {
      headers: { authorization: "Bearer x", accept: "application/json" },
      urlParams: { q: "1" }
    })
    const stripped = scheme.withoutAuthorization(request)
    assert.isUndefined(stripped.headers["authorization"])
    assert.strictEqual(stripped.headers["accept"], "application/json")
    assert.strictEqual(stripped.url, request.url)
    assert.deepStrictEqual(stripped.urlParams, request.urlParams)
  })
})
