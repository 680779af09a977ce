import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { assert, describe, it } from "@effect/vitest"
import * as Either from "effect/Either"
import * as origins from "../../src/internal/requestPath/origins.js"
import * as redirectGuard from "../../src/internal/requestPath/redirectGuard.js"
import { bearer } from "../../src/internal/requestPath/scheme.js"

const guardFor = (list: ReadonlyArray<string> | "*") =>
  redirectGuard.make(Either.getOrThrow(origins.make(list, false)), bearer)

const carrying = (url: string, token: string) =>
  HttpClientRequest.get(url, { headers: { authorization: `Bearer ${token}` } })

const redirect = (from: string, location: string) =>
  HttpClientResponse.fromWeb(HttpClientRequest.get(from), new Response(null, { status: 302, headers: { location } }))

describe("requestPath/redirectGuard", () => {
  it("ours: only tokens this client issued; a header the caller set is not ours", () => {
    const guard = guardFor("*")
    assert.isUndefined(guard.ours(carrying("https://a.example/", "t1")), "nothing issued yet")
    guard.issue("t1", "https://a.example/")
    assert.strictEqual(guard.ours(carrying("https://a.example/", "t1")), "t1")
    assert.isUndefined(guard.ours(carrying("https://a.example/", "callers-own")))
  })

  it("explicit origins: our token is kept on the listed origins and removed anywhere else", () => {
    const guard = guardFor(["https://api.example.com", "https://files.example.com"])
    guard.issue("t1", "https://api.example.com/a")
    const same = carrying("https://files.example.com/b", "t1")
    assert.strictEqual(guard.guard(same), same)
    const away = guard.guard(carrying("https://evil.example/b", "t1"))
    assert.isUndefined(away.headers["authorization"])
  })

  it("\"*\": our token is kept only where it has already been sent, even to another https origin", () => {
    const guard = guardFor("*")
    guard.issue("t1", "https://api.example.com/a")
    const back = carrying("https://api.example.com/other", "t1")
    assert.strictEqual(guard.guard(back), back)
    assert.isUndefined(guard.guard(carrying("https://elsewhere.example/", "t1")).headers["authorization"])
    const callers = carrying("https://elsewhere.example/", "callers-own")
    assert.strictEqual(guard.guard(callers), callers, "a header the caller set is the caller's business")
  })

  it("\"*\": the target of a cross-origin redirect is remembered once; same-origin redirects are not", () => {
    const guard = guardFor("*")
    guard.remember(redirect("https://api.example.com/a", "https://cdn.example/file?sig=1"))
    guard.remember(redirect("https://api.example.com/a", "/b"))
    assert.isFalse(guard.isRedirectTarget("https://api.example.com/b"))
    assert.isTrue(guard.isRedirectTarget("https://cdn.example/file?sig=2"))
    assert.isFalse(guard.isRedirectTarget("https://cdn.example/file"), "consumed")
  })

  it("explicit origins need no redirect record: the policy alone decides", () => {
    const guard = guardFor(["https://api.example.com"])
    guard.remember(redirect("https://api.example.com/a", "https://cdn.example/file"))
    assert.isFalse(guard.isRedirectTarget("https://cdn.example/file"))
  })

  it("bounded: the oldest of more than 16 tokens is forgotten, with where it went", () => {
    const guard = guardFor("*")
    for (let i = 0; i < 17; i++) guard.issue(`t${i}`, "https://api.example.com/")
    assert.isUndefined(guard.ours(carrying("https://api.example.com/", "t0")))
    assert.strictEqual(guard.ours(carrying("https://api.example.com/", "t16")), "t16")
    assert.strictEqual(guard.ours(carrying("https://api.example.com/", "t1")), "t1")
  })
})
