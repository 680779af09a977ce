/**
 * Properties of internal/redact.ts over open-ended inputs: no given secret survives an excerpt, a token field of any
 * JSON value is masked whole, and an excerpt is never longer than its limit (plus the ellipsis).
 */
import { assert, describe, it } from "@effect/vitest"
import * as FastCheck from "effect/FastCheck"
import { excerpt, mask } from "../../src/internal/redact.js"

// Secrets of letters and digits: masking one cannot build another out of the mask ("***") or collapsed whitespace.
const secret = FastCheck.stringMatching(/^[A-Za-z0-9]{4,24}$/)
const text = FastCheck.oneof(FastCheck.string({ maxLength: 400 }), FastCheck.string({ unit: "binary", maxLength: 400 }))
const max = FastCheck.integer({ min: 1, max: 400 })

describe("redact (properties)", () => {
  it.prop(
    "no given secret survives anywhere in excerpt(body, [secret]), wherever it is in the body and whatever the limit",
    { before: text, secret, after: text, repeat: FastCheck.integer({ min: 1, max: 3 }), max },
    ({ after, before, max, repeat, secret }) => {
      const body = `${before}${`${secret} `.repeat(repeat)}${after}`
      assert.isFalse(excerpt(body, [secret], max).includes(secret))
      assert.isFalse(mask(body, [secret]).includes(secret))
    },
    { fastCheck: { numRuns: 2_000 } }
  )

  it.prop(
    "a token field is masked whole whatever its JSON value; the fields around it are kept",
    {
      key: FastCheck.constantFrom("access_token", "REFRESH_TOKEN", "Client_Secret", "id_token", "password", "code"),
      value: FastCheck.jsonValue({ maxDepth: 4 }),
      space: FastCheck.constantFrom("", " ", "\n  ")
    },
    ({ key, space, value }) => {
      const body = `{"before":"b",${space}"${key}":${space}${
        JSON.stringify(value, null, space.length > 0 ? 1 : 0)
      },${space}"after":"a"}`
      assert.strictEqual(mask(body), `{"before":"b",${space}"${key}":${space}"***",${space}"after":"a"}`)
    },
    { fastCheck: { numRuns: 2_000 } }
  )

  it.prop(
    "an excerpt is trimmed, has no run of whitespace, and is at most max characters plus the ellipsis",
    { body: text, max },
    ({ body, max }) => {
      const result = excerpt(body, [], max)
      assert.isTrue(result.length <= max + 1)
      assert.strictEqual(result, result.trim())
      assert.isFalse(/\s\s/.test(result))
    },
    { fastCheck: { numRuns: 2_000 } }
  )
})
