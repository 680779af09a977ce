/**
 * Retry-After parsing (RFC 9110 §10.2.3), on the parser itself: delay-seconds, an HTTP-date, surrounding
 * whitespace, and values that are neither.
 */
import { assert, describe, it } from "@effect/vitest"
import { parseRetryAfter } from "../../src/internal/retryAfter.js"

const now = Date.parse("Wed, 02 Dec 2026 12:00:00 GMT")

describe("parseRetryAfter (mutation)", () => {
  it("delay-seconds: whole seconds in milliseconds", () => {
    assert.strictEqual(parseRetryAfter("7", now), 7_000)
    assert.strictEqual(parseRetryAfter("0", now), 0)
  })

  it("whitespace around the value is optional whitespace (RFC 9110 §5.5), not part of it", () => {
    assert.strictEqual(parseRetryAfter(" 7 ", now), 7_000)
    assert.strictEqual(parseRetryAfter("\t7", now), 7_000)
    assert.strictEqual(parseRetryAfter(" Wed, 02 Dec 2026 12:00:30 GMT ", now), 30_000)
  })

  it("an HTTP-date: the milliseconds from now until then, and 0 for a date already past", () => {
    assert.strictEqual(parseRetryAfter("Wed, 02 Dec 2026 12:01:00 GMT", now), 60_000)
    assert.strictEqual(parseRetryAfter("Wed, 02 Dec 2026 11:00:00 GMT", now), 0)
  })

  it("neither delay-seconds nor an HTTP-date: digits with junk around, fractions, signs, bare numbers Date.parse takes", () => {
    for (const value of ["x7", "7x", "7 s", "1.5", "-1", "+5", "12/02/2026", "", "soon"]) {
      assert.strictEqual(parseRetryAfter(value, now), undefined, JSON.stringify(value))
    }
    assert.strictEqual(parseRetryAfter(undefined, now), undefined)
  })
})
