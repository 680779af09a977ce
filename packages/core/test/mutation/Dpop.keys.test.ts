/**
 * The DPoP key (internal/dpop.ts `resolveKey`, `generateKeyPair`, `usableWith`; Dpop.generateKeyPair): which
 * `dpop` options and keys are accepted, the exact ConfigurationError of each one that is not, and which stored
 * credentials a client with a key may use.
 */
import { Credentials, Dpop, OAuth2Client, OAuth2Error, TokenStore } from "@effect-oauth2/core"
import { assert, describe, it, vi } from "@effect/vitest"
import { strictEqual } from "@effect/vitest/utils"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as jose from "jose"
import * as crypto from "node:crypto"
import * as dpop from "../../src/internal/dpop.js"
import { failure, run, success, tokenUrl } from "../utils/Grant.js"
import * as TestHttp from "../utils/TestHttp.js"

const ecPair = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" })
const privateJwk = ecPair.privateKey.export({ format: "jwk" }) as JsonWebKey
const publicJwk = ecPair.publicKey.export({ format: "jwk" }) as JsonWebKey
const jkt = await jose.calculateJwkThumbprint(publicJwk as jose.JWK, "sha256")

/** The reason of the ConfigurationError the option is refused with (a defect fails the test). */
const refusal = (option: unknown) =>
  Effect.map(Effect.exit(dpop.resolveKey(option as Dpop.Option)), (exit) => {
    const error = failure(exit)
    assert.isTrue(OAuth2Error.isConfigurationError(error), String(error))
    return error.reason
  })

/** The reason of the ConfigurationError `Dpop.generateKeyPair` fails with. */
const generationRefusal = (options: Parameters<typeof Dpop.generateKeyPair>[0]) =>
  Effect.map(Effect.exit(Dpop.generateKeyPair(options)), (exit) => {
    const error = failure(exit)
    assert.isTrue(OAuth2Error.isConfigurationError(error), String(error))
    return error.reason
  })

/** `crypto.subtle.generateKey` replaced for the scope (restored when it closes). */
const generateKeySpy = Effect.acquireRelease(
  Effect.sync(() => vi.spyOn(globalThis.crypto.subtle, "generateKey")),
  (spy) => Effect.sync(() => spy.mockRestore())
)

describe("dpop option: what is not a key", () => {
  it.effect("dpop: false is no DPoP: the token request carries no proof", () =>
    Effect.gen(function*() {
      strictEqual(yield* dpop.resolveKey(false), undefined)
      const { exit, requests } = yield* run(() => TestHttp.token("t"), { dpop: false })
      strictEqual(success(exit).dpopJkt, undefined)
      strictEqual(requests[0]!.headers["dpop"], undefined)
    }))

  it.effect("an option that is neither true nor an object with key is refused with what the option takes", () =>
    Effect.gen(function*() {
      for (const option of ["yes", 1, null, {}]) {
        strictEqual(
          yield* refusal(option),
          "dpop: the option is true, or { key: CryptoKeyPair | { privateKey, publicKey? }, alg? }"
        )
      }
    }))

  it.effect("a key that is not an object is refused as such", () =>
    Effect.gen(function*() {
      for (const key of [null, "a-key", 7]) {
        strictEqual(yield* refusal({ key }), "dpop: key must be a CryptoKeyPair or a JWK pair")
      }
    }))

  it.effect("a private key that is neither a CryptoKey nor Redacted (absent, null, a bare JWK) is refused", () =>
    Effect.gen(function*() {
      for (const key of [{}, { privateKey: null }, { privateKey: undefined }, { privateKey: privateJwk }]) {
        strictEqual(
          yield* refusal({ key }),
          "dpop: key.privateKey must be a CryptoKey, or a JWK wrapped in Redacted (Redacted.make(jwk))"
        )
      }
    }))

  it.effect("alg none is refused as not asymmetric, before the key is looked at", () =>
    Effect.gen(function*() {
      strictEqual(
        yield* refusal({ key: { privateKey: Redacted.make(privateJwk) }, alg: "none" }),
        "dpop: alg none is not allowed: DPoP proofs use asymmetric signatures (RFC 9449 §4.2)"
      )
    }))
})

describe("dpop option: a WebCrypto pair", () => {
  it.effect("a CryptoKey private key without a CryptoKey public key is refused", () =>
    Effect.gen(function*() {
      const pair = yield* Dpop.generateKeyPair()
      for (const publicKey of [undefined, null, publicJwk]) {
        strictEqual(
          yield* refusal({ key: { privateKey: pair.privateKey, publicKey } }),
          "dpop: key.privateKey is a CryptoKey: give the pair's publicKey as a CryptoKey too"
        )
      }
    }))

  it.effect("a private CryptoKey given as the public key is refused as such", () =>
    Effect.gen(function*() {
      const pair = yield* Dpop.generateKeyPair({ extractable: true })
      strictEqual(
        yield* refusal({ key: { privateKey: pair.privateKey, publicKey: pair.privateKey } }),
        "dpop: key.publicKey is a private key; give the public key of the pair"
      )
    }))

  it.effect("a public CryptoKey that cannot be exported is refused with WebCrypto's reason", () =>
    Effect.gen(function*() {
      const pair = yield* Dpop.generateKeyPair()
      const exported = yield* Effect.promise(() => crypto.subtle.exportKey("jwk", pair.publicKey))
      const hidden = yield* Effect.promise(() =>
        crypto.subtle.importKey("jwk", exported, { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"])
      )
      strictEqual(
        yield* refusal({ key: { privateKey: pair.privateKey, publicKey: hidden } }),
        "dpop: the public key cannot be exported as a JWK: non-extractable CryptoKey cannot be exported as a JWK"
      )
    }))

  it.effect("the given alg is checked against a CryptoKey, under the dpop name", () =>
    Effect.gen(function*() {
      const pair = yield* Dpop.generateKeyPair()
      strictEqual(
        yield* refusal({ key: pair, alg: "ES384" }),
        "dpop: alg ES384 does not fit an EC P-256 key; it signs with ES256"
      )
    }))
})

describe("dpop option: a JWK pair", () => {
  it.effect("a private JWK with its own public JWK is accepted; the thumbprint is the public key's", () =>
    Effect.gen(function*() {
      const key = yield* dpop.resolveKey({ key: { privateKey: Redacted.make(privateJwk), publicKey: publicJwk } })
      strictEqual(key?.jkt, jkt)
      strictEqual(key?.alg, "ES256")
    }))
})

describe("generated keys", () => {
  it.scoped("dpop: true generates a non-extractable ES256 pair", () =>
    Effect.gen(function*() {
      const spy = yield* generateKeySpy
      const key = yield* dpop.resolveKey(true)
      strictEqual(key?.alg, "ES256")
      strictEqual(spy.mock.calls.length, 1)
      strictEqual(spy.mock.calls[0]![1], false, "extractable")
    }))

  it.effect("Dpop.generateKeyPair({ extractable: true }) gives an extractable private key", () =>
    Effect.gen(function*() {
      strictEqual((yield* Dpop.generateKeyPair({ extractable: true })).privateKey.extractable, true)
      strictEqual((yield* Dpop.generateKeyPair({ extractable: false })).privateKey.extractable, false)
    }))

  it.effect("an alg that cannot be generated is refused with the list of those that can", () =>
    Effect.gen(function*() {
      strictEqual(
        yield* generationRefusal({ alg: "HS256" }),
        "dpop: alg HS256 cannot be generated; use one of ES256, ES384, ES512, PS256, PS384, PS512, RS256, RS384, " +
          "RS512, EdDSA"
      )
    }))

  it.scoped("a generation WebCrypto refuses is a ConfigurationError with its message, or a fixed text", () =>
    Effect.gen(function*() {
      const spy = yield* generateKeySpy
      const cases: Array<readonly [unknown, string]> = [
        [new Error("boom"), "boom"],
        [new Error("x".repeat(200)), "x".repeat(200)],
        [new Error("x".repeat(201)), "the key was refused"],
        [new Error(""), "the key was refused"],
        ["not an Error", "the key was refused"]
      ]
      for (const [thrown, shown] of cases) {
        spy.mockRejectedValueOnce(thrown)
        strictEqual(
          yield* generationRefusal({ alg: "ES384" }),
          `dpop: a ES384 key pair cannot be generated here: ${shown}`
        )
      }
    }))
})

describe("stored credentials and the key", () => {
  it.scoped("a stored DPoP token bound to this client's key is used: no token request", () =>
    Effect.gen(function*() {
      const key = yield* dpop.resolveKey({ key: { privateKey: Redacted.make(privateJwk) } })
      const stored = new Credentials.Credentials({
        accessToken: Redacted.make("STORED-TOKEN"),
        tokenType: "DPoP",
        dpopJkt: jkt,
        scopes: [],
        tokenEndpoint: tokenUrl,
        extra: {}
      })
      strictEqual(dpop.usableWith(key)(stored), true)
      const store = TokenStore.makeMemory()
      yield* store.set("shared", stored)
      const http = TestHttp.make((request) =>
        request.url.href === tokenUrl ? TestHttp.token("FETCHED-TOKEN") : { json: {} }
      )
      const service = yield* OAuth2Client.make({
        tokenUrl,
        clientId: "client",
        clientSecret: Redacted.make("client-secret"),
        dpop: { key: { privateKey: Redacted.make(privateJwk) } },
        store,
        storeKey: "shared"
      }).pipe(Effect.provide(http.layer))
      yield* service.typedHttpClient.get("https://api.example.com/x")
      strictEqual(http.requests.length, 1)
      strictEqual(http.requests[0]!.headers["authorization"], "DPoP STORED-TOKEN")
    }))
})
