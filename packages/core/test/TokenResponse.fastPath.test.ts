import { TokenResponse } from "@effect-oauth2/core"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as FastCheck from "effect/FastCheck"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { scaled } from "./utils/scale.js"

const options = { tokenEndpoint: "https://auth.example.com/token" }
const known = new Set(["access_token", "token_type", "expires_in", "refresh_token", "id_token", "scope"])
const reveal = (value: Redacted.Redacted<string> | undefined) => value === undefined ? undefined : Redacted.value(value)

/** What the Schema alone makes of a body: the reference the decoder's fast path must agree with. */
const bySchema = (body: Record<string, unknown>) => {
  const decoded = Schema.decodeUnknownEither(TokenResponse.SuccessBody, {
    errors: "all",
    onExcessProperty: "preserve"
  })(
    body
  )
  if (Either.isLeft(decoded) || decoded.right.token_type.toLowerCase() !== "bearer") return undefined
  const b = decoded.right
  const extra: Record<string, unknown> = {}
  for (const key of Object.keys(b)) if (!known.has(key)) extra[key] = b[key]
  return {
    accessToken: Redacted.value(b.access_token),
    tokenType: b.token_type,
    expiresIn: b.expires_in,
    refreshToken: reveal(b.refresh_token),
    idToken: reveal(b.id_token),
    scope: b.scope,
    extra
  }
}

const byDecoder = (body: Record<string, unknown>) => {
  const exit = Effect.runSyncExit(
    TokenResponse.decode({ status: 200, contentType: "application/json", body: JSON.stringify(body) }, options)
  )
  if (Exit.isFailure(exit)) return undefined
  const r = exit.value
  return {
    accessToken: Redacted.value(r.accessToken),
    tokenType: r.tokenType,
    expiresIn: r.expiresIn,
    refreshToken: reveal(r.refreshToken),
    idToken: reveal(r.idToken),
    scope: r.scope,
    extra: r.extra
  }
}

const field = FastCheck.oneof(
  FastCheck.constant(undefined),
  FastCheck.constant(null),
  FastCheck.constant(""),
  FastCheck.string(),
  FastCheck.constantFrom("Bearer", "bearer", "BEARER", "DPoP", "mac"),
  FastCheck.double(),
  FastCheck.integer({ min: -10, max: 100_000 }),
  FastCheck.constantFrom(2 ** 53, 2 ** 53 - 1, 2 ** 53 + 0.5, 1e300, -0, 0.5, Number.MAX_VALUE),
  FastCheck.constantFrom("3600", " 60 ", "1e3", "-1", "abc"),
  FastCheck.boolean(),
  FastCheck.constant([]),
  FastCheck.constant({ nested: 1 })
)

describe("TokenResponse.decode fast path", () => {
  it("a usual success body decodes as the Schema says, without the Schema", () => {
    const body = { access_token: "t", token_type: "Bearer", expires_in: 3600, scope: "a b", custom: { x: 1 } }
    assert.deepStrictEqual(byDecoder(body), bySchema(body))
    assert.deepStrictEqual(byDecoder(body)?.extra, { custom: { x: 1 } })
  })

  it("any body: the decoder (fast path or Schema) and the Schema alone give the same token response", () => {
    FastCheck.assert(
      FastCheck.property(
        FastCheck.record({
          access_token: field,
          token_type: field,
          expires_in: field,
          refresh_token: field,
          id_token: field,
          scope: field,
          other: field
        }, { requiredKeys: [] }),
        (record) => {
          const body = JSON.parse(JSON.stringify(record)) as Record<string, unknown>
          assert.deepStrictEqual(byDecoder(body), bySchema(body))
        }
      ),
      { numRuns: scaled(3000, 300) }
    )
  })
})
