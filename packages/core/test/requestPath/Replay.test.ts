import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { assert, describe, it } from "@effect/vitest"
import * as Stream from "effect/Stream"
import * as replay from "../../src/internal/requestPath/replay.js"
import { bearer, type Scheme } from "../../src/internal/requestPath/scheme.js"

const url = "https://api.example.com/x"
const sent = (token: string) => HttpClientRequest.get(url, { headers: { authorization: `Bearer ${token}` } })
const unauthorized = (token: string, challenge?: string) =>
  HttpClientResponse.fromWeb(
    sent(token),
    new Response(null, { status: 401, headers: challenge === undefined ? {} : { "www-authenticate": challenge } })
  )
const invalidToken = "Bearer error=\"invalid_token\""
const request = HttpClientRequest.get(url)

describe("requestPath/replay", () => {
  it("invalid_token (default): replay after an invalid_token challenge only (RFC 6750 §3.1)", () => {
    const rule = replay.make("invalid_token", bearer)
    assert.strictEqual(rule(request, "t1", unauthorized("t1", invalidToken), replay.initial), "invalidate")
    assert.strictEqual(
      rule(request, "t1", unauthorized("t1", "Bearer error=\"insufficient_scope\""), replay.initial),
      "none"
    )
    assert.strictEqual(rule(request, "t1", unauthorized("t1"), replay.initial), "none")
  })

  it("always / never", () => {
    assert.strictEqual(replay.make("always", bearer)(request, "t1", unauthorized("t1"), replay.initial), "invalidate")
    assert.strictEqual(
      replay.make("never", bearer)(request, "t1", unauthorized("t1", invalidToken), replay.initial),
      "none"
    )
  })

  it("once: a request already replayed after invalidation is not replayed again", () => {
    const rule = replay.make("always", bearer)
    assert.strictEqual(rule(request, "t2", unauthorized("t2"), { invalidated: true, again: false }), "none")
  })

  it("not when our token was not sent, the answering server saw another token, or the body is a stream", () => {
    const rule = replay.make("always", bearer)
    assert.strictEqual(rule(request, undefined, unauthorized("t1"), replay.initial), "none")
    assert.strictEqual(rule(request, "t1", unauthorized("other"), replay.initial), "none")
    const streamed = HttpClientRequest.post(url).pipe(HttpClientRequest.bodyStream(Stream.make(new Uint8Array([1]))))
    assert.strictEqual(rule(streamed, "t1", unauthorized("t1"), replay.initial), "none")
  })

  it("a scheme's own reason: one replay with the token kept, then the invalid_token rule still applies", () => {
    const nonceScheme: Scheme = {
      ...bearer,
      replayOn401: (response) => response.headers["www-authenticate"]?.includes("use_nonce") === true
    }
    const rule = replay.make("invalid_token", nonceScheme)
    const wantsNonce = unauthorized("t1", "Bearer error=\"use_nonce\"")
    assert.strictEqual(rule(request, "t1", wantsNonce, replay.initial), "again")
    assert.strictEqual(rule(request, "t1", wantsNonce, { invalidated: false, again: true }), "none")
    assert.strictEqual(
      rule(request, "t1", unauthorized("t1", invalidToken), { invalidated: false, again: true }),
      "invalidate"
    )
  })
})
