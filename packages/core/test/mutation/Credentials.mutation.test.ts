/**
 * Credentials (Credentials.ts): the lifetime is `expiresAt − issuedAt`, and only when both are known (credentials
 * loaded from the Dart format have no issue time); a Dart file whose `scopes` is null (Dart's `List<String>?`)
 * loads with no scopes.
 */
import { Credentials } from "@effect-oauth2/core"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { make } from "../utils/Credentials.js"

describe("Credentials (mutation)", () => {
  it("lifetimeMillis is expiresAt − issuedAt", () => {
    assert.strictEqual(make({ issuedAt: 1_767_222_000_000, expiresAt: 1_767_225_590_000 }).lifetimeMillis, 3_590_000)
  })

  it("lifetimeMillis is undefined unless both times are known", () => {
    assert.isUndefined(make({ expiresAt: 1_767_225_600_000 }).lifetimeMillis)
    assert.isUndefined(make({ issuedAt: 1_767_222_000_000 }).lifetimeMillis)
  })

  it.effect("credentials loaded from Dart JSON have an expiry but no issue time, so no lifetime", () =>
    Effect.gen(function*() {
      const credentials = yield* Credentials.fromDartJson(`{"accessToken":"t","expiration":1767225600000}`)
      assert.strictEqual(credentials.expiresAt, 1_767_225_600_000)
      assert.isUndefined(credentials.issuedAt)
      assert.isUndefined(credentials.lifetimeMillis)
    }))

  it.effect("a Dart file with \"scopes\": null loads with no scopes", () =>
    Effect.gen(function*() {
      const credentials = yield* Credentials.fromDartJson(
        `{"accessToken":"t","refreshToken":null,"idToken":null,"tokenEndpoint":null,"scopes":null,"expiration":null}`
      )
      assert.deepStrictEqual(credentials.scopes, [])
    }))
})
