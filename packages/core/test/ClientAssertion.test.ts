import { ClientAuth, ClientCredentials, OAuth2Client, OAuth2Error } from "@effect-oauth2/core"
import { assert, describe, it } from "@effect/vitest"
import { deepStrictEqual, strictEqual } from "@effect/vitest/utils"
import * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import * as jose from "jose"
import * as crypto from "node:crypto"
import * as util from "node:util"
import { failure, failureOf, run, success, tokenUrl } from "./utils/Grant.js"
import * as TestHttp from "./utils/TestHttp.js"

const assertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

const ec = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" })
const rsa = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 })
const pem = (key: crypto.KeyObject) => key.export({ format: "pem", type: "pkcs8" }) as string
const ecPem = pem(ec.privateKey)
const ecJwk = { ...ec.privateKey.export({ format: "jwk" }), kid: "ec-key-1" } as jose.JWK
const hmacSecret = "a-client-secret-of-more-than-32-bytes-for-HS256"

const ok = () => TestHttp.token("at")

/** The decoded client assertion of a recorded request, its signature checked with `key`. */
const assertionOf = (request: TestHttp.Recorded, key: crypto.KeyObject | Uint8Array) =>
  Effect.promise(async () => {
    const jws = request.form.get("client_assertion")
    assert.isString(jws)
    const { payload, protectedHeader } = await jose.compactVerify(jws!, key)
    return { header: protectedHeader, claims: JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown> }
  })

/**
 * Runs the fiber to its end, moving TestClock forward by `delay` each time the fiber sleeps that long (a retry
 * after `Retry-After`), and by nothing else. Key import and signing are WebCrypto promises that settle in real time
 * while the attempt's timeout is armed, so the clock must not move until the retry's own sleep is queued.
 */
const runRetries = <A, E>(fiber: Fiber.RuntimeFiber<A, E>, delay: Duration.Duration) =>
  Effect.gen(function*() {
    const step = Duration.toMillis(delay)
    for (let i = 0; i < 10_000; i++) {
      const done = yield* Fiber.poll(fiber)
      if (done._tag === "Some") return yield* Fiber.join(fiber)
      const now = yield* Clock.currentTimeMillis
      if (Chunk.some(yield* TestClock.sleeps(), (wake) => wake === now + step)) yield* TestClock.setTime(now + step)
      else yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 1)))
    }
    return yield* Effect.dieMessage("the fiber did not finish")
  })

const privateKeyJwt = (options: Partial<ClientAuth.PrivateKeyJwtOptions> = {}) =>
  ClientAuth.privateKeyJwt({ key: Redacted.make(ecPem), ...options })

/** The grant with private_key_jwt and no secret. */
const runJwt = (
  handler: TestHttp.Handler,
  options: Partial<ClientCredentials.Options> = {}
) => run(handler, { clientId: "svc", clientSecret: undefined, auth: privateKeyJwt(), ...options })

describe("private_key_jwt (RFC 7523 §2.2 and §3)", () => {
  it.effect("the body carries client_id, the assertion type and the assertion, and no secret or Authorization", () =>
    Effect.gen(function*() {
      const { exit, requests } = yield* runJwt(ok)
      success(exit)
      const request = requests[0]!
      deepStrictEqual([...request.form.keys()], [
        "grant_type",
        "client_id",
        "client_assertion_type",
        "client_assertion"
      ])
      strictEqual(request.form.get("client_id"), "svc")
      strictEqual(request.form.get("client_assertion_type"), assertionType)
      strictEqual(request.headers["authorization"], undefined)
    }))

  it.effect("claims: iss = sub = the client id, aud = the token endpoint URL, a jti, iat from Clock, exp = iat + 60", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(1_800_000_000_500)
      const { exit, requests } = yield* runJwt(ok)
      success(exit)
      const { claims, header } = yield* assertionOf(requests[0]!, ec.publicKey)
      deepStrictEqual(header, { alg: "ES256" })
      strictEqual(claims.iss, "svc")
      strictEqual(claims.sub, "svc")
      strictEqual(claims.aud, tokenUrl)
      strictEqual(claims.iat, 1_800_000_000)
      strictEqual(claims.exp, 1_800_000_060)
      assert.match(String(claims.jti), /^[A-Za-z0-9_-]{22}$/)
      deepStrictEqual(Object.keys(claims).sort(), ["aud", "exp", "iat", "iss", "jti", "sub"])
    }))

  it.effect("the audience leaves out the token URL's query", () =>
    Effect.gen(function*() {
      const { exit, requests } = yield* runJwt(ok, { tokenUrl: `${tokenUrl}?tenant=a` })
      success(exit)
      strictEqual((yield* assertionOf(requests[0]!, ec.publicKey)).claims.aud, tokenUrl)
    }))

  it.effect("every attempt signs a new assertion: a retry never reuses a jti, and its iat and exp follow Clock", () =>
    Effect.gen(function*() {
      const http = TestHttp.make((_, index) =>
        index < 2
          ? { status: 503, json: { error: "temporarily_unavailable" }, headers: { "retry-after": "7" } }
          : ok()
      )
      const fiber = yield* ClientCredentials.grant({ tokenUrl, clientId: "svc", auth: privateKeyJwt() }).pipe(
        Effect.provide(http.layer),
        Effect.fork
      )
      yield* runRetries(fiber, Duration.seconds(7))
      strictEqual(http.requests.length, 3)
      const assertions = yield* Effect.forEach(http.requests, (request) => assertionOf(request, ec.publicKey))
      strictEqual(new Set(assertions.map((a) => a.claims.jti)).size, 3)
      strictEqual(new Set(http.requests.map((request) => request.form.get("client_assertion"))).size, 3)
      // Retry-After: 7 moved TestClock 7 s before each retry: each assertion was made at its own attempt.
      deepStrictEqual(assertions.map((a) => a.claims.iat), [0, 7, 14])
      deepStrictEqual(assertions.map((a) => a.claims.exp), [60, 67, 74])
    }))

  it.effect("a client built once signs a new assertion for every token request", () =>
    Effect.gen(function*() {
      const http = TestHttp.make(ok)
      const request = yield* ClientCredentials.make({ tokenUrl, clientId: "svc", auth: privateKeyJwt() }).pipe(
        Effect.provide(http.layer)
      )
      yield* request
      yield* TestClock.adjust(Duration.seconds(90))
      yield* request
      const [first, second] = yield* Effect.forEach(http.requests, (r) => assertionOf(r, ec.publicKey))
      assert.notStrictEqual(first!.claims.jti, second!.claims.jti)
      strictEqual((second!.claims.iat as number) - (first!.claims.iat as number), 90)
    }))

  it.effect("lifetime sets exp − iat; more than 5 minutes is a ConfigurationError", () =>
    Effect.gen(function*() {
      const { exit, requests } = yield* runJwt(ok, { auth: privateKeyJwt({ lifetime: "5 minutes" }) })
      success(exit)
      const { claims } = yield* assertionOf(requests[0]!, ec.publicKey)
      strictEqual((claims.exp as number) - (claims.iat as number), 300)
      const tooLong = yield* runJwt(ok, { auth: privateKeyJwt({ lifetime: Duration.seconds(301) }) })
      assert.include(failureOf(tooLong.exit, "ConfigurationError").message, "at most 5 minutes")
      strictEqual(tooLong.requests.length, 0)
    }))

  describe("audience", () => {
    it.effect(`"issuer" sends the issuer option`, () =>
      Effect.gen(function*() {
        const { exit, requests } = yield* runJwt(ok, {
          issuer: "https://as.example.com",
          auth: privateKeyJwt({ audience: "issuer" })
        })
        success(exit)
        strictEqual((yield* assertionOf(requests[0]!, ec.publicKey)).claims.aud, "https://as.example.com")
      }))

    it.effect(`"issuer" without an issuer is a ConfigurationError before any request`, () =>
      Effect.gen(function*() {
        const { exit, requests } = yield* runJwt(ok, { auth: privateKeyJwt({ audience: "issuer" }) })
        assert.include(failureOf(exit, "ConfigurationError").reason, `audience "issuer" needs the issuer`)
        strictEqual(requests.length, 0)
      }))

    it.effect("any other value, or several, is sent as given", () =>
      Effect.gen(function*() {
        const one = yield* runJwt(ok, { auth: privateKeyJwt({ audience: "https://login.example.com/" }) })
        strictEqual((yield* assertionOf(one.requests[0]!, ec.publicKey)).claims.aud, "https://login.example.com/")
        const two = yield* runJwt(ok, { auth: privateKeyJwt({ audience: ["a", "b"] }) })
        deepStrictEqual((yield* assertionOf(two.requests[0]!, ec.publicKey)).claims.aud, ["a", "b"])
      }))
  })

  it.effect("modifyAssertion changes the header and claims before signing; alg stays the key's", () =>
    Effect.gen(function*() {
      const { exit, requests } = yield* runJwt(ok, {
        auth: privateKeyJwt({
          kid: "k-7",
          modifyAssertion: ({ claims, header }) => ({
            header: { ...header, typ: "client-authentication+jwt", alg: "none" },
            claims: { ...claims, nbf: claims.iat, aud: [claims.aud, "https://as.example.com"] }
          })
        })
      })
      success(exit)
      const { claims, header } = yield* assertionOf(requests[0]!, ec.publicKey)
      deepStrictEqual(header, { alg: "ES256", kid: "k-7", typ: "client-authentication+jwt" })
      strictEqual(claims.nbf, claims.iat)
      deepStrictEqual(claims.aud, [tokenUrl, "https://as.example.com"])
    }))

  it.effect("a modifyAssertion that throws is a ConfigurationError, with no request sent", () =>
    Effect.gen(function*() {
      const { exit, requests } = yield* runJwt(ok, {
        auth: privateKeyJwt({
          modifyAssertion: () => {
            throw new Error("boom")
          }
        })
      })
      assert.include(failureOf(exit, "ConfigurationError").reason, "modifyAssertion threw")
      strictEqual(requests.length, 0)
    }))

  it.effect("without a clientId: a ConfigurationError before any request", () =>
    Effect.gen(function*() {
      const { exit, requests } = yield* runJwt(ok, { clientId: undefined })
      assert.include(failureOf(exit, "ConfigurationError").reason, "needs a clientId")
      strictEqual(requests.length, 0)
    }))

  it.effect("the method name is part of the cache key", () =>
    Effect.gen(function*() {
      const key = yield* ClientCredentials.cacheKey({ tokenUrl, clientId: "svc", auth: privateKeyJwt() })
      strictEqual(JSON.parse(key)[2], "private_key_jwt")
    }))

  it.effect("used on its own (not through a grant), the method resolves against the request", () =>
    Effect.gen(function*() {
      const request = yield* privateKeyJwt().authenticate({
        url: new URL(tokenUrl),
        headers: {},
        body: [["grant_type", "client_credentials"]],
        clientId: "svc",
        clientSecret: undefined
      })
      const jws = request.body.find(([name]) => name === "client_assertion")![1]
      const { payload } = yield* Effect.promise(() => jose.compactVerify(jws, ec.publicKey))
      strictEqual(JSON.parse(new TextDecoder().decode(payload)).aud, tokenUrl)
    }))
})

describe("private_key_jwt keys", () => {
  const algOf = (key: ClientAuth.PrivateKey, options: Partial<ClientAuth.PrivateKeyJwtOptions> = {}) =>
    Effect.gen(function*() {
      const { exit, requests } = yield* runJwt(ok, { auth: ClientAuth.privateKeyJwt({ key, ...options }) })
      success(exit)
      const jws = requests[0]!.form.get("client_assertion")!
      return jose.decodeProtectedHeader(jws)
    })

  it.effect("alg is inferred from the key: RSA → RS256, P-256 → ES256, P-384 → ES384, P-521 → ES512, Ed25519 → EdDSA", () =>
    Effect.gen(function*() {
      strictEqual((yield* algOf(Redacted.make(pem(rsa.privateKey)))).alg, "RS256")
      strictEqual((yield* algOf(Redacted.make(ecPem))).alg, "ES256")
      for (const [curve, alg] of [["P-384", "ES384"], ["P-521", "ES512"]] as const) {
        const key = crypto.generateKeyPairSync("ec", { namedCurve: curve }).privateKey
        strictEqual((yield* algOf(Redacted.make(pem(key)))).alg, alg)
      }
      const ed = crypto.generateKeyPairSync("ed25519").privateKey
      strictEqual((yield* algOf(Redacted.make(pem(ed)))).alg, "EdDSA")
    }))

  it.effect("an RSA key signs PS256 when asked, and the signature verifies", () =>
    Effect.gen(function*() {
      const { exit, requests } = yield* runJwt(ok, {
        auth: ClientAuth.privateKeyJwt({ key: Redacted.make(pem(rsa.privateKey)), alg: "PS256" })
      })
      success(exit)
      strictEqual((yield* assertionOf(requests[0]!, rsa.publicKey)).header.alg, "PS256")
    }))

  it.effect("an RSA-PSS PEM (openssl genpkey -algorithm RSA-PSS) signs PS256, or with the hash its parameters name", () =>
    Effect.gen(function*() {
      // RSA-PSS keys are written with the id-RSASSA-PSS identifier, which WebCrypto's pkcs8 import refuses.
      const verified = (request: TestHttp.Recorded, publicKey: crypto.KeyObject, bits: number) => {
        const [header, payload, signature] = request.form.get("client_assertion")!.split(".")
        return crypto.verify(
          `sha${bits}`,
          Buffer.from(`${header}.${payload}`),
          { key: publicKey, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: bits / 8 },
          Buffer.from(signature!, "base64url")
        )
      }
      const open = crypto.generateKeyPairSync("rsa-pss", { modulusLength: 2048 })
      const plain = yield* runJwt(ok, { auth: ClientAuth.privateKeyJwt({ key: Redacted.make(pem(open.privateKey)) }) })
      success(plain.exit)
      strictEqual(jose.decodeProtectedHeader(plain.requests[0]!.form.get("client_assertion")!).alg, "PS256")
      assert.isTrue(verified(plain.requests[0]!, open.publicKey, 256))

      const sha384 = crypto.generateKeyPairSync("rsa-pss", {
        modulusLength: 2048,
        hashAlgorithm: "sha384",
        mgf1HashAlgorithm: "sha384"
      })
      const restricted = yield* runJwt(ok, {
        auth: ClientAuth.privateKeyJwt({ key: Redacted.make(pem(sha384.privateKey)) })
      })
      success(restricted.exit)
      strictEqual(jose.decodeProtectedHeader(restricted.requests[0]!.form.get("client_assertion")!).alg, "PS384")
      assert.isTrue(verified(restricted.requests[0]!, sha384.publicKey, 384))

      const rs = yield* runJwt(ok, {
        auth: ClientAuth.privateKeyJwt({ key: Redacted.make(pem(open.privateKey)), alg: "RS256" })
      })
      strictEqual(
        failureOf(rs.exit, "ConfigurationError").reason,
        "private_key_jwt key: alg RS256 does not fit an RSA-PSS key; it signs with PS256, PS384, PS512"
      )
      // A key whose parameters name SHA-1 (the default when they name none) or SHA-224 signs no JWS alg.
      for (
        const [hash, reason] of [
          ["sha1", "restricted to SHA-1, which JWS does not sign with"],
          ["sha224", "restricted to a hash that JWS does not sign with"]
        ] as const
      ) {
        const key = crypto.generateKeyPairSync("rsa-pss", {
          modulusLength: 2048,
          hashAlgorithm: hash,
          mgf1HashAlgorithm: hash
        })
        const refused = yield* runJwt(ok, {
          auth: ClientAuth.privateKeyJwt({ key: Redacted.make(pem(key.privateKey)) })
        })
        strictEqual(
          failureOf(refused.exit, "ConfigurationError").reason,
          `private_key_jwt key: the key is an RSA-PSS key ${reason}`
        )
        strictEqual(refused.requests.length, 0)
      }
    }))

  it.effect("a JWK (object or JSON text) gives its kid and alg; kid can be overridden", () =>
    Effect.gen(function*() {
      deepStrictEqual(yield* algOf(Redacted.make(ecJwk)), { alg: "ES256", kid: "ec-key-1" })
      deepStrictEqual(yield* algOf(Redacted.make(JSON.stringify(ecJwk))), { alg: "ES256", kid: "ec-key-1" })
      deepStrictEqual(yield* algOf(Redacted.make(ecJwk), { kid: "other" }), { alg: "ES256", kid: "other" })
    }))

  it.effect("a PEM with literal \\n line breaks (as pasted into an environment variable) is read", () =>
    Effect.gen(function*() {
      strictEqual((yield* algOf(Redacted.make(ecPem.replace(/\n/g, "\\n")))).alg, "ES256")
    }))

  it.effect("a WebCrypto CryptoKey, non-extractable, signs", () =>
    Effect.gen(function*() {
      const pair = yield* Effect.promise(() =>
        crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-384" }, false, ["sign", "verify"])
      )
      assert.isFalse(pair.privateKey.extractable)
      const { exit, requests } = yield* runJwt(ok, { auth: ClientAuth.privateKeyJwt({ key: pair.privateKey }) })
      success(exit)
      const jws = requests[0]!.form.get("client_assertion")!
      const { protectedHeader } = yield* Effect.promise(() => jose.compactVerify(jws, pair.publicKey))
      strictEqual(protectedHeader.alg, "ES384")
    }))

  const rsa1024 = crypto.generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey
  const badKeys: ReadonlyArray<
    readonly [string, () => ClientAuth.PrivateKeyJwtOptions | Promise<ClientAuth.PrivateKeyJwtOptions>, string]
  > = [
    [
      "a public key PEM",
      () => ({ key: Redacted.make(ec.publicKey.export({ format: "pem", type: "spki" }) as string) }),
      "public key"
    ],
    ["a public JWK", () => ({ key: Redacted.make(ec.publicKey.export({ format: "jwk" }) as jose.JWK) }), "public key"],
    [
      "a public CryptoKey",
      async () => ({
        key:
          (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])).publicKey
      }),
      "public key"
    ],
    [
      "an EC key with alg RS256",
      () => ({ key: Redacted.make(ecPem), alg: "RS256" }),
      "alg RS256 does not fit an EC P-256 key"
    ],
    [
      "an RSA key with alg ES256",
      () => ({ key: Redacted.make(pem(rsa.privateKey)), alg: "ES256" }),
      "alg ES256 does not fit an RSA key"
    ],
    [
      "a JWK whose alg differs",
      () => ({ key: Redacted.make({ ...ecJwk, alg: "ES256" }), alg: "ES384" }),
      "differs from the JWK's own alg"
    ],
    [
      "malformed PEM",
      () => ({ key: Redacted.make(ecPem.replace(/[A-Za-z0-9+/]{10}\n/, "!!!!!!!!!!\n")) }),
      "PEM is malformed"
    ],
    ["a truncated PEM", () => ({ key: Redacted.make(ecPem.slice(0, 80)) }), "PEM is malformed"],
    [
      "a PKCS#1 RSA key",
      () => ({ key: Redacted.make(rsa.privateKey.export({ format: "pem", type: "pkcs1" }) as string) }),
      "PKCS#1"
    ],
    [
      "a SEC1 EC key",
      () => ({ key: Redacted.make(ec.privateKey.export({ format: "pem", type: "sec1" }) as string) }),
      "SEC1"
    ],
    [
      "an encrypted key",
      () => ({
        key: Redacted.make(
          ec.privateKey.export({ format: "pem", type: "pkcs8", cipher: "aes-256-cbc", passphrase: "pw" }) as string
        )
      }),
      "encrypted"
    ],
    ["an RSA key under 2048 bits", () => ({ key: Redacted.make(pem(rsa1024)) }), "2048 bits"],
    ["an X25519 key", () => ({ key: Redacted.make(pem(crypto.generateKeyPairSync("x25519").privateKey)) }), "X25519"],
    [
      "a symmetric JWK",
      () => ({ key: Redacted.make({ kty: "oct", k: "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA" }) }),
      "clientSecretJwt"
    ],
    ["text that is neither PEM nor JWK", () => ({ key: Redacted.make("not a key at all") }), "neither a PEM"],
    ["a JWK that is not JSON", () => ({ key: Redacted.make("{ not json") }), "not valid JSON"],
    [
      "a key that is not Redacted",
      () => ({ key: ecPem as unknown as Redacted.Redacted<string> }),
      "must be a CryptoKey, or Redacted"
    ]
  ]

  for (const [name, options, reason] of badKeys) {
    it.effect(`${name}: a ConfigurationError when the client is built, never at the first request`, () =>
      Effect.gen(function*() {
        const auth = ClientAuth.privateKeyJwt(yield* Effect.promise(async () => options()))
        const http = TestHttp.make(ok)
        const exit = yield* ClientCredentials.make({ tokenUrl, clientId: "svc", auth }).pipe(
          Effect.provide(http.layer),
          Effect.exit
        )
        const error = failure(exit)
        assert.isTrue(OAuth2Error.isConfigurationError(error), String(error))
        assert.include(error.message, reason)
        strictEqual(http.requests.length, 0)
        // The key material is never in the message.
        for (const secret of [ecPem, pem(rsa.privateKey), String(ecJwk.d)]) {
          for (const line of secret.split("\n").filter((l) => l.length > 20 && !l.startsWith("-----"))) {
            assert.notInclude(error.message, line)
          }
        }
      }))
  }

  it.effect("a bad key fails the layer when it is built", () =>
    Effect.gen(function*() {
      const http = TestHttp.make(ok)
      const exit = yield* OAuth2Client.make({
        tokenUrl,
        clientId: "svc",
        auth: ClientAuth.privateKeyJwt({ key: Redacted.make(ec.publicKey.export({ format: "jwk" }) as jose.JWK) })
      }).pipe(Effect.provide(http.layer), Effect.scoped, Effect.exit)
      strictEqual(failure(exit)._tag, "ConfigurationError")
      strictEqual(http.requests.length, 0)
    }))
})

describe("client_secret_jwt (RFC 7523 §2.2)", () => {
  const secretJwt = (handler: TestHttp.Handler, options: Partial<ClientCredentials.Options> = {}) =>
    run(handler, {
      clientId: "svc",
      clientSecret: Redacted.make(hmacSecret),
      auth: ClientAuth.clientSecretJwt(),
      ...options
    })

  it.effect("HMAC-signs the same claims with the secret, HS256 by default; the secret is never sent", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(1_700_000_000_000)
      const { exit, requests } = yield* secretJwt(ok)
      success(exit)
      const request = requests[0]!
      const { claims, header } = yield* assertionOf(request, new TextEncoder().encode(hmacSecret))
      deepStrictEqual(header, { alg: "HS256" })
      deepStrictEqual({ ...claims, jti: undefined }, {
        iss: "svc",
        sub: "svc",
        aud: tokenUrl,
        jti: undefined,
        iat: 1_700_000_000,
        exp: 1_700_000_060
      })
      strictEqual(request.form.get("client_assertion_type"), assertionType)
      strictEqual(request.headers["authorization"], undefined)
      assert.notInclude(request.body, hmacSecret)
      assert.notInclude(request.body, encodeURIComponent(hmacSecret))
    }))

  it.effect("HS512 when asked", () =>
    Effect.gen(function*() {
      const secret = "x".repeat(64)
      const { exit, requests } = yield* secretJwt(ok, {
        clientSecret: Redacted.make(secret),
        auth: ClientAuth.clientSecretJwt({ alg: "HS512" })
      })
      success(exit)
      strictEqual((yield* assertionOf(requests[0]!, new TextEncoder().encode(secret))).header.alg, "HS512")
    }))

  it.effect("a secret shorter than the hash is a ConfigurationError (RFC 7518 §3.2); so is none", () =>
    Effect.gen(function*() {
      const short = yield* secretJwt(ok, { clientSecret: Redacted.make("short-secret") })
      assert.include(failureOf(short.exit, "ConfigurationError").reason, "needs at least 32")
      assert.notInclude(failureOf(short.exit, "ConfigurationError").message, "short-secret")
      strictEqual(short.requests.length, 0)
      const none = yield* secretJwt(ok, { clientSecret: undefined })
      assert.include(failureOf(none.exit, "ConfigurationError").reason, "needs a clientSecret")
    }))
})

describe("tls_client_auth and self_signed_tls_client_auth (RFC 8705 §2)", () => {
  for (const auth of [ClientAuth.tlsClientAuth, ClientAuth.selfSignedTlsClientAuth]) {
    it.effect(`${auth.method}: the body carries only client_id (the certificate is in the HttpClient)`, () =>
      Effect.gen(function*() {
        const { exit, requests } = yield* run(ok, { clientId: "svc", clientSecret: undefined, auth })
        success(exit)
        deepStrictEqual([...requests[0]!.form.entries()], [["grant_type", "client_credentials"], ["client_id", "svc"]])
        strictEqual(requests[0]!.headers["authorization"], undefined)
        assert.isTrue(ClientAuth.isMutualTls(auth))
        const missing = yield* run(ok, { clientId: undefined, clientSecret: undefined, auth })
        assert.include(failureOf(missing.exit, "ConfigurationError").reason, `${auth.method} needs a clientId`)
      }))
  }
})

describe("keys and assertions never appear in any output", () => {
  it.effect("refusals and unusable answers that echo the request: no assertion, no key, in messages or causes", () =>
    Effect.gen(function*() {
      const echoes: ReadonlyArray<(request: TestHttp.Recorded) => TestHttp.Reply> = [
        (request) => ({ status: 400, json: { error: "invalid_client", error_description: `bad ${request.body}` } }),
        (request) => ({ status: 400, text: request.body, headers: { "content-type": "text/plain" } }),
        (request) => ({
          status: 500,
          text: `<pre>${request.form.get("client_assertion")}</pre>`,
          headers: { "content-type": "text/html" }
        }),
        (request) => ({
          status: 200,
          json: { error: "invalid_client", assertion: request.form.get("client_assertion") }
        })
      ]
      for (const echo of echoes) {
        let sent = ""
        const { exit } = yield* runJwt((request) => {
          sent = request.form.get("client_assertion")!
          return echo(request)
        })
        assert.isTrue(Exit.isFailure(exit))
        const rendered = Exit.isFailure(exit) ? `${Cause.pretty(exit.cause)}\n${JSON.stringify(failure(exit))}` : ""
        assert.isAbove(sent.length, 100)
        assert.notInclude(rendered, sent)
        // Not even the signature, or the payload, on their own.
        for (const part of sent.split(".").slice(1)) assert.notInclude(rendered, part)
        assert.notInclude(rendered, String(ecJwk.d))
      }
    }))

  it("the ClientAuth value prints no key", () => {
    const auth = ClientAuth.privateKeyJwt({ key: Redacted.make(ecJwk) })
    const printed = `${String(auth)} ${JSON.stringify(auth)} ${util.inspect(auth, { depth: 5 })}`
    assert.notInclude(printed, String(ecJwk.d))
    const text = ClientAuth.privateKeyJwt({ key: Redacted.make(ecPem) })
    assert.notInclude(util.inspect(text, { depth: 5 }), ecPem.split("\n")[1]!)
  })
})
