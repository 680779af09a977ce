/**
 * The rest of internal/jwt.ts: how an error thrown by jose or WebCrypto becomes a reason (its message when it is a
 * short text, a fixed text otherwise, so that no long message can carry key material), the HMAC signer's alg check,
 * and the `jti` generator (128 random bits each, from a pool drawn once per 256 identifiers).
 */
import { assert, describe, it, vi } from "@effect/vitest"
import { strictEqual } from "@effect/vitest/utils"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import type * as jose from "jose"
import * as jwt from "../../src/internal/jwt.js"
import { outcomeOf } from "../utils/Jwt.js"

/** The reason of the thumbprint of a JWK whose `kty` throws `thrown` when read. */
const thumbprintReason = (thrown: unknown) =>
  Effect.flip(jwt.thumbprint({
    get kty(): string {
      throw thrown
    }
  } as jose.JWK)).pipe(Effect.map((error) => error.reason))

describe("jwt crypto messages (mutation)", () => {
  it.effect("a thumbprint jose refuses: \"JWK thumbprint: \" and jose's message", () =>
    Effect.gen(function*() {
      const reason = yield* Effect.flip(jwt.thumbprint({ kty: "EC" })).pipe(Effect.map((error) => error.reason))
      assert.isTrue(reason.startsWith("JWK thumbprint: ") && reason.length > "JWK thumbprint: ".length, reason)
    }))

  it.effect("an error's message is kept from 1 to 200 characters", () =>
    Effect.gen(function*() {
      strictEqual(yield* thumbprintReason(new Error("x")), "JWK thumbprint: x")
      strictEqual(yield* thumbprintReason(new Error("y".repeat(200))), `JWK thumbprint: ${"y".repeat(200)}`)
    }))

  it.effect("an empty message, one over 200 characters, or a thrown non-Error: \"the key was refused\"", () =>
    Effect.gen(function*() {
      for (const thrown of [new Error(""), new Error("y".repeat(201)), "a thrown string", undefined]) {
        strictEqual(yield* thumbprintReason(thrown), "JWK thumbprint: the key was refused", String(thrown))
      }
    }))
})

describe("jwt HMAC signer (mutation)", () => {
  const secret = Redacted.make("client-secret-".repeat(5))

  it.effect("an alg that is not HS256, HS384 or HS512 is refused by name", () =>
    Effect.gen(function*() {
      for (const alg of ["HS1", "RS256"]) {
        strictEqual(
          yield* outcomeOf(jwt.hmacSigner(secret, { what: "client_secret_jwt", alg: alg as jwt.HmacAlgorithm })),
          `client_secret_jwt: alg ${alg} is not an HMAC algorithm (HS256, HS384, HS512)`
        )
      }
    }))

  it.effect("so is a name inherited by every object (constructor, toString), not taken for an HMAC alg", () =>
    Effect.gen(function*() {
      for (const alg of ["constructor", "toString", "__proto__"]) {
        strictEqual(
          yield* outcomeOf(jwt.hmacSigner(secret, { what: "client_secret_jwt", alg: alg as jwt.HmacAlgorithm })),
          `client_secret_jwt: alg ${alg} is not an HMAC algorithm (HS256, HS384, HS512)`
        )
      }
    }))
})

describe("jwt random identifiers (mutation)", () => {
  it.effect("every identifier is 22 base64url characters (128 bits), and all differ", () =>
    Effect.gen(function*() {
      // More than two pools of 256, wherever the pool stands when this test starts.
      const ids = yield* Effect.replicateEffect(jwt.randomId, 600)
      for (const id of ids) assert.match(id, /^[A-Za-z0-9_-]{22}$/)
      strictEqual(new Set(ids).size, ids.length)
    }))

  it.effect("the CSPRNG is drawn once per 256 identifiers", () =>
    Effect.gen(function*() {
      const spy = vi.spyOn(globalThis.crypto, "getRandomValues")
      try {
        // 512 identifiers use two pools' worth of bytes: exactly two draws, wherever the pool stands.
        yield* Effect.replicateEffect(jwt.randomId, 512)
        strictEqual(spy.mock.calls.length, 2)
      } finally {
        spy.mockRestore()
      }
    }))
})
