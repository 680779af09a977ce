/**
 * The replay rule (internal/requestPath/replay.ts) for a 401 to a request that carried none of this client's tokens
 * (the origin policy left it without one): there is no token to drop, so it is never replayed, whatever the mode
 * and whatever the challenge says.
 */
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { assert, describe, it } from "@effect/vitest"
import * as replay from "../../src/internal/requestPath/replay.js"
import { bearer } from "../../src/internal/requestPath/scheme.js"

const request = HttpClientRequest.get("https://elsewhere.example/x")

/** A 401 to `request` sent as it is, without an Authorization header. */
const unauthorized = (challenge?: string) =>
  HttpClientResponse.fromWeb(
    request,
    new Response(null, { status: 401, headers: challenge === undefined ? {} : { "www-authenticate": challenge } })
  )

describe("requestPath/replay without a token of ours (mutation)", () => {
  it("a 401 to a request sent without a token is not replayed, in any mode", () => {
    for (const mode of ["always", "invalid_token", "never"] as const) {
      const rule = replay.make(mode, bearer)
      assert.strictEqual(rule(request, undefined, unauthorized(), replay.initial), "none", mode)
      assert.strictEqual(
        rule(request, undefined, unauthorized("Bearer error=\"invalid_token\""), replay.initial),
        "none",
        mode
      )
    }
  })
})
