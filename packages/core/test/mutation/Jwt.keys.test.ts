/**
 * Private keys given as JWKs, as WebCrypto CryptoKeys, and the forms of the input (internal/jwt.ts
 * `importPrivateKey`): the alg inferred from each kind of key (for an RSA CryptoKey, from its hash), the exact
 * reason for every key that cannot sign, the algorithms a reason offers, and the public JWK a signer carries.
 */
import { assert, describe, it } from "@effect/vitest"
import { deepStrictEqual, strictEqual } from "@effect/vitest/utils"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import type * as jose from "jose"
import * as crypto from "node:crypto"
import * as jwt from "../../src/internal/jwt.js"
import { outcomeOf } from "../utils/Jwt.js"

const what = "signing key"
const importKey = (key: jwt.PrivateKeyInput, alg?: string) => outcomeOf(jwt.importPrivateKey(key, { what, alg }))
const importJwk = (jwk: Record<string, unknown>, alg?: string) => importKey(Redacted.make(jwk as jose.JWK), alg)

const jwkOf = (key: crypto.KeyObject) => key.export({ format: "jwk" }) as Record<string, unknown>
const rsa = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 })
const rsaDer = rsa.privateKey.export({ format: "der", type: "pkcs8" })
const ec = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" })
const ecJwk = jwkOf(ec.privateKey)
const ed25519Jwk = jwkOf(crypto.generateKeyPairSync("ed25519").privateKey)

const rsaAlgs = "RS256, RS384, RS512, PS256, PS384, PS512"

describe("jwt JWK keys (mutation)", () => {
  it.effect("an RSA JWK signs RS256; an Ed25519 JWK signs EdDSA", () =>
    Effect.gen(function*() {
      strictEqual(yield* importJwk(jwkOf(rsa.privateKey)), "signs RS256")
      strictEqual(yield* importJwk(ed25519Jwk), "signs EdDSA")
    }))

  it.effect("a key that does not fit the alg asked for: the reason describes the key and lists what it signs with", () =>
    Effect.gen(function*() {
      strictEqual(
        yield* importJwk(jwkOf(rsa.privateKey), "ES256"),
        `${what}: alg ES256 does not fit an RSA key; it signs with ${rsaAlgs}`
      )
      strictEqual(
        yield* importJwk(ed25519Jwk, "ES256"),
        `${what}: alg ES256 does not fit an Ed25519 key; it signs with EdDSA, Ed25519`
      )
      strictEqual(
        yield* importJwk(ecJwk, "RS256"),
        `${what}: alg RS256 does not fit an EC P-256 key; it signs with ES256`
      )
    }))

  it.effect("an EC JWK on a curve with no JWS algorithm (secp256k1) cannot sign, and fits no alg", () =>
    Effect.gen(function*() {
      const k1 = jwkOf(crypto.generateKeyPairSync("ec", { namedCurve: "secp256k1" }).privateKey)
      strictEqual(yield* importJwk(k1), `${what}: an EC secp256k1 key cannot sign a JWS`)
      strictEqual(yield* importJwk(k1, "ES256K"), `${what}: alg ES256K does not fit an EC secp256k1 key`)
    }))

  it.effect("JWKs that are no signing key: each reason names what is wrong", () =>
    Effect.gen(function*() {
      const x25519 = jwkOf(crypto.generateKeyPairSync("x25519").privateKey)
      strictEqual(
        yield* importJwk(x25519),
        `${what}: the key is an OKP JWK on X25519, which cannot sign (or not with WebCrypto)`
      )
      const { crv: _crv, ...noCurve } = ecJwk
      strictEqual(yield* importJwk(noCurve), `${what}: the key is an EC JWK without crv`)
      strictEqual(yield* importJwk({ ...ecJwk, kty: "DSA" }), `${what}: the key is a JWK of an unknown key type (kty)`)
      strictEqual(yield* importJwk({}), `${what}: the key is not a JWK (an object with kty)`)
      strictEqual(yield* importJwk({ ...ecJwk, kty: 1 }), `${what}: the key is not a JWK (an object with kty)`)
    }))

  it.effect("use: \"sig\" signs; any other use is refused", () =>
    Effect.gen(function*() {
      strictEqual(yield* importJwk({ ...ecJwk, use: "sig" }), "signs ES256")
      strictEqual(
        yield* importJwk({ ...ecJwk, use: "enc" }),
        `${what}: the JWK is marked for use "enc", not for signing ("sig")`
      )
    }))

  it.effect("the JWK's own alg is used when none is asked for, and may be asked for again", () =>
    Effect.gen(function*() {
      strictEqual(yield* importJwk({ ...ecJwk, alg: "ES256" }), "signs ES256")
      strictEqual(yield* importJwk({ ...ecJwk, alg: "ES256" }, "ES256"), "signs ES256")
    }))

  it.effect("a JWK WebCrypto refuses: the reason names the alg it was imported for, and WebCrypto's reason", () =>
    Effect.gen(function*() {
      const outcome = yield* importJwk({ ...ecJwk, x: "AAAA" })
      const prefix = `${what}: the JWK cannot be imported for ES256: `
      assert.isTrue(outcome.startsWith(prefix) && outcome.length > prefix.length, outcome)
    }))

  it.effect("the signer's public JWK is the JWK without its private members", () =>
    Effect.gen(function*() {
      const signer = yield* jwt.importPrivateKey(Redacted.make({ ...ecJwk, kid: "k1" } as jose.JWK), { what })
      deepStrictEqual(signer.publicJwk, { ...jwkOf(ec.publicKey), kid: "k1" })
      strictEqual(signer.kid, "k1")
    }))
})

describe("jwt input forms (mutation)", () => {
  const notRedacted = `${what}: the key must be a CryptoKey, or Redacted (Redacted.make(pem), Redacted.make(jwk), ` +
    "Config.redacted)"

  it.effect("null, undefined and a plain string are no key (a ConfigurationError, never a defect)", () =>
    Effect.gen(function*() {
      for (const input of [null, undefined, "text", 42]) {
        strictEqual(yield* importKey(input as unknown as jwt.PrivateKeyInput), notRedacted, String(input))
      }
    }))

  it.effect("Redacted null or a number is neither text nor a JWK", () =>
    Effect.gen(function*() {
      for (const value of [null, 42]) {
        strictEqual(
          yield* importKey(Redacted.make(value) as unknown as jwt.PrivateKeyInput),
          `${what}: the key is neither text nor a JWK object`,
          String(value)
        )
      }
    }))

  it.effect("JWK JSON text with whitespace around it is read, on one line or on several", () =>
    Effect.gen(function*() {
      strictEqual(yield* importKey(Redacted.make(` ${JSON.stringify(ecJwk)} `)), "signs ES256")
      strictEqual(yield* importKey(Redacted.make(`\n  ${JSON.stringify(ecJwk, null, 2)}\n`)), "signs ES256")
    }))
})

describe("jwt CryptoKey keys (mutation)", () => {
  const importRsa = (name: string, hash: string) =>
    Effect.promise(() => crypto.subtle.importKey("pkcs8", rsaDer, { name, hash }, false, ["sign"]))

  it.effect("an RSA CryptoKey signs with its own hash: RS256/384/512, PS256/384/512", () =>
    Effect.gen(function*() {
      for (const [name, prefix] of [["RSASSA-PKCS1-v1_5", "RS"], ["RSA-PSS", "PS"]] as const) {
        for (const bits of [256, 384, 512]) {
          strictEqual(yield* importKey(yield* importRsa(name, `SHA-${bits}`)), `signs ${prefix}${bits}`)
        }
      }
    }))

  it.effect("an RSA CryptoKey that does not fit the alg: its hash's algorithms come first in the reason", () =>
    Effect.gen(function*() {
      const reason = (key: string, algs: string) => `${what}: alg ES256 does not fit ${key}; it signs with ${algs}`
      strictEqual(
        yield* importKey(yield* importRsa("RSASSA-PKCS1-v1_5", "SHA-256"), "ES256"),
        reason("an RSA key", "RS256, PS256, RS384, RS512, PS384, PS512")
      )
      strictEqual(
        yield* importKey(yield* importRsa("RSASSA-PKCS1-v1_5", "SHA-384"), "ES256"),
        reason("an RSA key", "RS384, PS384, RS256, RS512, PS256, PS512")
      )
      strictEqual(
        yield* importKey(yield* importRsa("RSA-PSS", "SHA-512"), "ES256"),
        reason("an RSA-PSS key", "PS512, PS256, PS384")
      )
      // SHA-1 is no JWS hash: no algorithm comes first.
      strictEqual(
        yield* importKey(yield* importRsa("RSASSA-PKCS1-v1_5", "SHA-1"), "ES256"),
        reason("an RSA key", rsaAlgs)
      )
    }))

  it.effect("an ECDSA CryptoKey that does not fit the alg is described by its curve", () =>
    Effect.gen(function*() {
      const pair = yield* Effect.promise(() =>
        crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"])
      )
      strictEqual(
        yield* importKey(pair.privateKey, "RS256"),
        `${what}: alg RS256 does not fit an EC P-256 key; it signs with ES256`
      )
    }))

  it.effect("an extractable CryptoKey's signer carries its public JWK; a non-extractable one's carries none", () =>
    Effect.gen(function*() {
      const [extractable, opaque] = yield* Effect.promise(() =>
        Promise.all(
          [true, false].map((flag) =>
            crypto.subtle.importKey("jwk", ecJwk, { name: "ECDSA", namedCurve: "P-256" }, flag, ["sign"])
          )
        )
      )
      const signer = yield* jwt.importPrivateKey(extractable!, { what })
      strictEqual(signer.alg, "ES256")
      deepStrictEqual(signer.publicJwk, jwkOf(ec.publicKey))
      strictEqual((yield* jwt.importPrivateKey(opaque!, { what })).publicJwk, undefined)
    }))

  it.effect("CryptoKeys that cannot sign a JWS: each reason names what is wrong", () =>
    Effect.gen(function*() {
      const hmac = yield* Effect.promise(() =>
        crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, false, ["sign"])
      )
      strictEqual(
        yield* importKey(hmac),
        `${what}: the CryptoKey is a secret (HMAC) key; use ClientAuth.clientSecretJwt for a shared secret`
      )
      const ecdh = yield* Effect.promise(() =>
        crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, false, ["deriveBits"])
      )
      strictEqual(yield* importKey(ecdh.privateKey), `${what}: the CryptoKey may not sign (its usages are deriveBits)`)
      const oaep = yield* Effect.promise(() =>
        crypto.subtle.importKey("pkcs8", rsaDer, { name: "RSA-OAEP", hash: "SHA-256" }, false, ["decrypt", "unwrapKey"])
      )
      strictEqual(
        yield* importKey(oaep),
        `${what}: the CryptoKey may not sign (its usages are decrypt, unwrapKey)`
      )
      // Node's WebCrypto signs with Ed448, JWS (in WebCrypto) does not.
      const ed448 = yield* Effect.promise(() =>
        crypto.subtle.generateKey({ name: "Ed448" }, false, ["sign", "verify"]) as Promise<CryptoKeyPair>
      )
      strictEqual(yield* importKey(ed448.privateKey), `${what}: the key is a Ed448 CryptoKey, which cannot sign a JWS`)
    }))

  it.effect("an object that only claims to be a CryptoKey (another WebCrypto) fails with a reason, not a defect", () =>
    Effect.gen(function*() {
      const claimed = (usages: ReadonlyArray<string>) =>
        ({
          [Symbol.toStringTag]: "CryptoKey",
          type: "private",
          extractable: false,
          algorithm: { name: "RSA-PSS" },
          usages
        }) as unknown as CryptoKey
      strictEqual(yield* importKey(claimed([])), `${what}: the CryptoKey may not sign (its usages are empty)`)
      // Without a hash, PS256; the signature itself then fails.
      const outcome = yield* importKey(claimed(["sign"]))
      assert.isTrue(outcome.startsWith(`${what}: signing failed: `), outcome)
    }))
})
