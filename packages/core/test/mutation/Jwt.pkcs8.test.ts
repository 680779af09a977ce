/**
 * PKCS#8 PEM keys (internal/jwt.ts `importPem` and its DER reader): which key a PrivateKeyInfo names, and the exact
 * reason for every PEM that cannot sign — an unknown label, a body that is not base64, DER that is not a
 * PrivateKeyInfo (wrong tag, truncated, a length form DER does not allow), curves and algorithms JWS does not use.
 */
import { describe, it } from "@effect/vitest"
import { strictEqual } from "@effect/vitest/utils"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as crypto from "node:crypto"
import * as jwt from "../../src/internal/jwt.js"
import { bytes, outcomeOf, pemOf } from "../utils/Jwt.js"

const what = "signing key"
const importText = (text: string, alg?: string) => outcomeOf(jwt.importPrivateKey(Redacted.make(text), { what, alg }))
const importDer = (der: Uint8Array | ReadonlyArray<number>) => importText(pemOf(der))

const pkcs8 = (key: crypto.KeyObject) => Uint8Array.from(key.export({ format: "der", type: "pkcs8" }))
const ecDer = pkcs8(crypto.generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey)
// An EC P-256 PrivateKeyInfo is a SEQUENCE of 0x87 bytes: its header is 30 81 87.
const ecContent = ecDer.subarray(3)

const notPkcs8 = `${what}: the PEM is malformed (its body is not a PKCS#8 PrivateKeyInfo)`
const notBase64 = `${what}: the PEM is malformed (no END line, or its body is not base64)`
const x25519 = `${what}: the key is an X25519 key, which is for key agreement and cannot sign`
const unknownAlgorithm = `${what}: the key is a key of an algorithm that JWS does not sign with`

describe("jwt PKCS#8 keys (mutation)", () => {
  it.effect("a well-formed EC P-256 PrivateKeyInfo signs ES256 (the reference for the broken ones below)", () =>
    Effect.gen(function*() {
      strictEqual(yield* importDer(ecDer), "signs ES256")
      strictEqual(ecDer[1], 0x81)
      strictEqual(ecDer[2], ecContent.length)
    }))

  it.effect("DER whose first element is not a SEQUENCE is not a PrivateKeyInfo", () =>
    Effect.gen(function*() {
      strictEqual(yield* importDer([0x31, ...ecDer.subarray(1)]), notPkcs8)
    }))

  it.effect("the indefinite length (0x80) and lengths of more than 4 bytes are refused; a length in 4 bytes is read", () =>
    Effect.gen(function*() {
      strictEqual(yield* importDer([0x30, 0x80, ...ecContent]), notPkcs8)
      strictEqual(yield* importDer([0x30, 0x85, 0, 0, 0, 0, ecContent.length, ...ecContent]), notPkcs8)
      // A length in 4 bytes is read (and WebCrypto takes the key too).
      strictEqual(yield* importDer([0x30, 0x84, 0, 0, 0, ecContent.length, ...ecContent]), "signs ES256")
    }))

  it.effect("a long-form length is read as a big-endian number: 1 byte, and 2 bytes (0x0103 = 259)", () =>
    Effect.gen(function*() {
      // AlgorithmIdentifier { OID 1.3.101.110 (X25519) } with the OID's length as 81 03.
      strictEqual(yield* importDer(bytes("30 0b 02 01 00 30 06 06 81 03 2b 65 6e")), x25519)
      // An OID of 259 bytes (82 01 03) that begins with the 3 bytes of X25519's: an unknown algorithm, not X25519.
      const oid = [0x2b, 0x65, 0x6e, ...new Array<number>(256).fill(0)]
      const der = [0x30, 0x82, 0x01, 0x0e, 0x02, 0x01, 0x00, 0x30, 0x82, 0x01, 0x07, 0x06, 0x82, 0x01, 0x03, ...oid]
      strictEqual(der.length, 4 + 0x10e)
      strictEqual(yield* importDer(der), unknownAlgorithm)
    }))

  it.effect("an element longer than the bytes left, or without its length byte, is truncated DER", () =>
    Effect.gen(function*() {
      // The OID says 4 bytes, 3 are left.
      strictEqual(yield* importDer(bytes("30 0a 02 01 00 30 05 06 04 2b 65 6e")), notPkcs8)
      // The OID's tag is the last byte.
      strictEqual(yield* importDer(bytes("30 06 02 01 00 30 01 06")), notPkcs8)
    }))

  it.effect("an algorithm JWS does not sign with (DSA, 1.2.840.10040.4.1) is named as such", () =>
    Effect.gen(function*() {
      strictEqual(yield* importDer(bytes("30 0e 02 01 00 30 09 06 07 2a 86 48 ce 38 04 01")), unknownAlgorithm)
    }))

  it.effect("EC keys on curves JWS does not use (secp224r1), or WebCrypto cannot sign with (secp256k1)", () =>
    Effect.gen(function*() {
      const ecPem = (namedCurve: string) =>
        crypto.generateKeyPairSync("ec", { namedCurve }).privateKey.export({ format: "pem", type: "pkcs8" }) as string
      strictEqual(
        yield* importText(ecPem("secp224r1")),
        `${what}: the key is an EC key on a curve that JWS does not use`
      )
      strictEqual(
        yield* importText(ecPem("secp256k1")),
        `${what}: the key is an EC secp256k1 key (ES256K), which WebCrypto cannot sign with`
      )
    }))

  it.effect("a PrivateKeyInfo whose key WebCrypto refuses: the reason names the alg it was imported for", () =>
    Effect.gen(function*() {
      // version 0, ecPublicKey on P-256, and an empty privateKey OCTET STRING.
      const der = bytes("30 1a 02 01 00 30 13 06 07 2a8648ce3d0201 06 08 2a8648ce3d030107 04 00")
      const outcome = yield* importDer(der)
      strictEqual(outcome.startsWith(`${what}: the PEM key cannot be imported for ES256: `), true, outcome)
      strictEqual(outcome.length > `${what}: the PEM key cannot be imported for ES256: `.length, true, outcome)
    }))

  it.effect("a key that does not fit the alg asked for is refused with the algorithms it signs with", () =>
    Effect.gen(function*() {
      strictEqual(
        yield* importText(pemOf(ecDer), "RS256"),
        `${what}: alg RS256 does not fit an EC P-256 key; it signs with ES256`
      )
    }))

  describe("the PEM text", () => {
    it.effect("an unknown label is named in the reason", () =>
      Effect.gen(function*() {
        strictEqual(
          yield* importText("-----BEGIN DSA PRIVATE KEY-----\nAAAA\n-----END DSA PRIVATE KEY-----"),
          `${what}: the PEM holds "DSA PRIVATE KEY", not a PKCS#8 private key`
        )
      }))

    it.effect("no END line, an empty body, or a body whose length is not a multiple of 4, is not base64", () =>
      Effect.gen(function*() {
        strictEqual(yield* importText("-----BEGIN PRIVATE KEY-----\nMIGHAgEA"), notBase64)
        strictEqual(yield* importText("-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----"), notBase64)
        // "MAA" would decode (to 30 00) without its padding.
        strictEqual(yield* importText("-----BEGIN PRIVATE KEY-----\nMAA\n-----END PRIVATE KEY-----"), notBase64)
        strictEqual(yield* importText("-----BEGIN PRIVATE KEY-----\nMAA=\n-----END PRIVATE KEY-----"), notPkcs8)
      }))
  })
})
