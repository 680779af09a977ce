/**
 * The redirect guard's records (internal/requestPath/redirectGuard.ts) under the "*" default: every origin a token
 * went to is kept (up to 64 per token), a token issued again keeps its origins, and at most 256 redirect targets
 * are remembered, oldest first out.
 */
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { assert, describe, it } from "@effect/vitest"
import * as Either from "effect/Either"
import * as origins from "../../src/internal/requestPath/origins.js"
import * as redirectGuard from "../../src/internal/requestPath/redirectGuard.js"
import { bearer } from "../../src/internal/requestPath/scheme.js"

const guardFor = () => redirectGuard.make(Either.getOrThrow(origins.make("*", false)), bearer)

const carrying = (url: string, token: string) =>
  HttpClientRequest.get(url, { headers: { authorization: `Bearer ${token}` } })

/** Whether a re-sent request to `url` carrying `token` keeps its Authorization header. */
const keeps = (guard: redirectGuard.RedirectGuard, url: string, token: string) => {
  const request = carrying(url, token)
  return guard.guard(request) === request
}

const redirect = (from: string, location: string) =>
  HttpClientResponse.fromWeb(HttpClientRequest.get(from), new Response(null, { status: 302, headers: { location } }))

describe("requestPath/redirectGuard records (mutation)", () => {
  it("a token sent to a second origin is still kept on the first", () => {
    const guard = guardFor()
    guard.issue("t1", "https://a.example/x")
    guard.issue("t1", "https://b.example/y")
    assert.strictEqual(keeps(guard, "https://a.example/again", "t1"), true)
    assert.strictEqual(keeps(guard, "https://b.example/again", "t1"), true)
    assert.strictEqual(keeps(guard, "https://c.example/", "t1"), false)
  })

  it("a token issued again after 15 others keeps the origins it went to before", () => {
    const guard = guardFor()
    guard.issue("t0", "https://a.example/")
    for (let i = 1; i < 16; i++) guard.issue(`t${i}`, "https://b.example/")
    guard.issue("t0", "https://c.example/") // 16 tokens: t0 is already one of them, nothing is forgotten
    assert.strictEqual(keeps(guard, "https://a.example/", "t0"), true)
    assert.strictEqual(keeps(guard, "https://c.example/", "t0"), true)
    assert.strictEqual(keeps(guard, "https://b.example/", "t1"), true)
  })

  it("a token is remembered at its first 64 origins only: a re-send to a 65th loses the token", () => {
    const guard = guardFor()
    for (let i = 0; i < 65; i++) guard.issue("t1", `https://o${i}.example/`)
    assert.strictEqual(keeps(guard, "https://o0.example/", "t1"), true)
    assert.strictEqual(keeps(guard, "https://o63.example/", "t1"), true)
    assert.strictEqual(keeps(guard, "https://o64.example/", "t1"), false)
  })

  it("at most 256 cross-origin redirect targets are remembered: the oldest goes first", () => {
    const guard = guardFor()
    for (let i = 0; i < 257; i++) guard.remember(redirect("https://api.example/a", `https://cdn.example/f${i}`))
    assert.strictEqual(guard.isRedirectTarget("https://cdn.example/f0"), false)
    assert.strictEqual(guard.isRedirectTarget("https://cdn.example/f1"), true)
    assert.strictEqual(guard.isRedirectTarget("https://cdn.example/f256"), true)
  })

  it("isRedirectTarget of a string that is not a URL is false, even with targets remembered", () => {
    const guard = guardFor()
    guard.remember(redirect("https://api.example/a", "https://cdn.example/f"))
    assert.strictEqual(guard.isRedirectTarget("not a url"), false)
    assert.strictEqual(guard.isRedirectTarget("https://cdn.example/f"), true)
  })

  it("a token only ever sent to a URL with no prefix (\"https:///host\") is kept nowhere on a re-send", () => {
    const guard = guardFor()
    guard.issue("t1", "https:///a.example/x")
    assert.strictEqual(guard.ours(carrying("https://a.example/x", "t1")), "t1")
    assert.strictEqual(keeps(guard, "https://a.example/x", "t1"), false)
  })
})
