/**
 * The redirect guard (internal/requestPath/redirectGuard.ts) under the "*" default: a token sent to a URL that has
 * no `scheme://authority` prefix (the parser reads "https:///host" as https://host) is not recorded there, so such
 * a URL takes none of the 64 places a token has for the origins it went to.
 */
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { assert, describe, it } from "@effect/vitest"
import * as Either from "effect/Either"
import * as origins from "../../src/internal/requestPath/origins.js"
import * as redirectGuard from "../../src/internal/requestPath/redirectGuard.js"
import { bearer } from "../../src/internal/requestPath/scheme.js"

/** Whether a re-sent request to `url` carrying `token` keeps its Authorization header. */
const keeps = (guard: redirectGuard.RedirectGuard, url: string, token: string) => {
  const request = HttpClientRequest.get(url, { headers: { authorization: `Bearer ${token}` } })
  return guard.guard(request) === request
}

describe("requestPath/redirectGuard and URLs without a prefix (mutation)", () => {
  it("a token sent to a prefix-less URL, then to 64 origins, is still kept on the 64th", () => {
    const guard = redirectGuard.make(Either.getOrThrow(origins.make("*", false)), bearer)
    guard.issue("t1", "https:///a.example/x")
    for (let i = 0; i < 64; i++) guard.issue("t1", `https://o${i}.example/`)
    assert.strictEqual(keeps(guard, "https://o63.example/again", "t1"), true)
    assert.strictEqual(keeps(guard, "https://o0.example/again", "t1"), true)
    // A URL without a prefix never keeps a re-sent token.
    assert.strictEqual(keeps(guard, "https:///a.example/x", "t1"), false)
  })
})
