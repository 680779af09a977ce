import {
  ClientAuth,
  ClientCredentials,
  Credentials,
  Dpop,
  OAuth2Client,
  OAuth2Error,
  TokenStore
} from "@effect-oauth2/core"
import * as HttpClient from "@effect/platform/HttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FastCheck from "effect/FastCheck"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import * as jose from "jose"
import * as crypto from "node:crypto"
import * as util from "node:util"
import * as dpop from "../src/internal/dpop.js"
import { failure, failureOf, run, success, tokenUrl } from "./utils/Grant.js"
import * as TestHttp from "./utils/TestHttp.js"

const api = "https://api.example.com"

const ecPair = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" })
const privateJwk = ecPair.privateKey.export({ format: "jwk" }) as jose.JWK
const publicJwk = ecPair.publicKey.export({ format: "jwk" }) as jose.JWK
const jwkPair: Dpop.JwkPair = { privateKey: Redacted.make(privateJwk as JsonWebKey) }
const jkt = await jose.calculateJwkThumbprint(publicJwk, "sha256")

/** A proof, verified with its own embedded `jwk` (as a resource server does). */
const proofOf = (request: TestHttp.Recorded) =>
  Effect.promise(async () => {
    const proof = request.headers["dpop"]
    assert.isString(proof, `a DPoP proof on ${request.method} ${request.url.href}`)
    const { payload, protectedHeader } = await jose.jwtVerify(proof!, jose.EmbeddedJWK, { typ: "dpop+jwt" })
    return { header: protectedHeader, claims: payload }
  })

/** A JWT-shaped access token (unsigned: the client only reads it) with `cnf.jkt`. */
const boundJwt = (thumbprint: string, id = "1") =>
  [
    jose.base64url.encode(JSON.stringify({ alg: "ES256", typ: "at+jwt" })),
    jose.base64url.encode(JSON.stringify({ sub: "svc", jti: id, cnf: { jkt: thumbprint } })),
    "c2ln"
  ].join(".")

const dpopToken = (accessToken: string, headers: Record<string, string> = {}) => ({
  json: { access_token: accessToken, token_type: "DPoP", expires_in: 3600 },
  headers: { "content-type": "application/json", ...headers }
})

const isToken = (request: TestHttp.Recorded) => request.url.href === tokenUrl

/** A client over an in-memory HttpClient; `handler` answers both the token endpoint and the API. */
const client = (handler: TestHttp.Handler, options: Partial<OAuth2Client.Options> = {}) =>
  Effect.gen(function*() {
    const http = TestHttp.make(handler)
    const service = yield* OAuth2Client.make({
      tokenUrl,
      clientId: "client",
      clientSecret: Redacted.make("secret"),
      retry: false,
      dpop: { key: jwkPair },
      ...options
    }).pipe(Effect.provide(http.layer))
    return { http, service, get: (url: string) => service.typedHttpClient.get(url) }
  })

describe("DPoP token request (RFC 9449 §4, §5)", () => {
  it.effect("the proof: typ dpop+jwt, alg, the public jwk only; jti, htm POST, htu without query, iat from Clock", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(1_800_000_000_700)
      const { exit, requests } = yield* run(() => dpopToken("opaque-token"), {
        tokenUrl: `${tokenUrl}?tenant=a`,
        dpop: { key: jwkPair }
      })
      const credentials = success(exit)
      const { claims, header } = yield* proofOf(requests[0]!)
      assert.strictEqual(header.typ, "dpop+jwt")
      assert.strictEqual(header.alg, "ES256")
      assert.deepStrictEqual(Object.keys(header.jwk!).sort(), ["crv", "kty", "x", "y"])
      assert.strictEqual(claims.htm, "POST")
      assert.strictEqual(claims.htu, tokenUrl)
      assert.strictEqual(claims.iat, 1_800_000_000)
      assert.isString(claims.jti)
      assert.isUndefined(claims.nonce)
      assert.isUndefined(claims.ath)
      assert.strictEqual(credentials.tokenType, "DPoP")
      assert.strictEqual(credentials.dpopJkt, jkt)
      assert.isUndefined(credentials.cnfJkt, "an opaque token has no cnf")
    }))

  it.effect("a JWT token's cnf.jkt is recorded; one naming another key is refused", () =>
    Effect.gen(function*() {
      const bound = success((yield* run(() => dpopToken(boundJwt(jkt)), { dpop: { key: jwkPair } })).exit)
      assert.strictEqual(bound.cnfJkt, jkt)
      assert.strictEqual(bound.dpopJkt, jkt)
      const other = yield* run(() => dpopToken(boundJwt("another-thumbprint")), { dpop: { key: jwkPair } })
      assert.include(failureOf(other.exit, "InvalidResponse").reason, "cnf.jkt")
    }))

  it.effect("dpop: true generates a key per client: proofs verify with it, and two clients have two keys", () =>
    Effect.gen(function*() {
      const first = yield* run(() => dpopToken("a"), { dpop: true })
      const second = yield* run(() => dpopToken("b"), { dpop: true })
      const a = success(first.exit)
      const b = success(second.exit)
      const proof = yield* proofOf(first.requests[0]!)
      assert.strictEqual(proof.header.alg, "ES256")
      assert.strictEqual(a.dpopJkt, yield* Effect.promise(() => jose.calculateJwkThumbprint(proof.header.jwk!)))
      assert.notStrictEqual(a.dpopJkt, b.dpopJkt)
    }))

  it.effect("400 use_dpop_nonce with DPoP-Nonce: retried once at once with the nonce, even with retry: false", () =>
    Effect.gen(function*() {
      const { exit, requests } = yield* run(
        (_request, index) =>
          index === 0
            ? {
              status: 400,
              json: { error: "use_dpop_nonce", error_description: "nonce required" },
              headers: { "dpop-nonce": "n-1" }
            }
            : dpopToken("t"),
        { dpop: { key: jwkPair }, retry: false }
      )
      success(exit)
      assert.strictEqual(requests.length, 2)
      const first = yield* proofOf(requests[0]!)
      const second = yield* proofOf(requests[1]!)
      assert.isUndefined(first.claims.nonce)
      assert.strictEqual(second.claims.nonce, "n-1")
      assert.notStrictEqual(first.claims.jti, second.claims.jti)
    }))

  it.effect("the nonce retry signs a new client assertion (a new jti), and a second use_dpop_nonce is final", () =>
    Effect.gen(function*() {
      const { exit, requests } = yield* run(
        () => ({ status: 400, json: { error: "use_dpop_nonce" }, headers: { "dpop-nonce": "n-2" } }),
        {
          clientSecret: undefined,
          auth: ClientAuth.privateKeyJwt({ key: Redacted.make(privateJwk) }),
          dpop: { key: jwkPair },
          retry: { schedule: undefined }
        }
      )
      assert.strictEqual(failureOf(exit, "ErrorResponse").error, "use_dpop_nonce")
      assert.strictEqual(requests.length, 2, "one nonce retry, and use_dpop_nonce is not a transient error")
      const assertions = requests.map((r) => jose.decodeJwt(r.form.get("client_assertion")!).jti)
      assert.notStrictEqual(assertions[0], assertions[1])
    }))

  it.effect("use_dpop_nonce without a DPoP-Nonce header is not retried", () =>
    Effect.gen(function*() {
      const { exit, requests } = yield* run(() => ({ status: 400, json: { error: "use_dpop_nonce" } }), {
        dpop: { key: jwkPair }
      })
      failureOf(exit, "ErrorResponse")
      assert.strictEqual(requests.length, 1)
    }))

  it.scoped("a Bearer answer to a DPoP request is used as Bearer, with a logged note (RFC 9449 §5)", () =>
    Effect.gen(function*() {
      const logs: Array<string> = []
      const logger = Logger.replace(Logger.defaultLogger, Logger.make(({ message }) => logs.push(String(message))))
      const { get, http } = yield* client((request) => isToken(request) ? TestHttp.token("plain") : { json: {} })
      const response = yield* get(`${api}/x`).pipe(Effect.provide(logger))
      assert.strictEqual(response.status, 200)
      const call = http.requests.find((r) => !isToken(r))!
      assert.strictEqual(call.headers["authorization"], "Bearer plain")
      assert.isUndefined(call.headers["dpop"])
      assert.isTrue(logs.some((line) => line.includes("Bearer token") && line.includes("RFC 9449 §5")), logs.join())
    }))
})

describe("DPoP on API requests (RFC 9449 §7)", () => {
  it.scoped("Authorization: DPoP and a new proof per request: htm, htu without query, ath, iat following Clock", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(1_900_000_000_000)
      const { get, http } = yield* client((request) => isToken(request) ? dpopToken("tok-1") : { json: {} })
      yield* get(`${api}/items?page=2`)
      yield* TestClock.adjust("42 seconds")
      yield* get(`${api}/items`)
      const calls = http.requests.filter((r) => !isToken(r))
      assert.strictEqual(calls.length, 2)
      const expectedAth = jose.base64url.encode(crypto.createHash("sha256").update("tok-1").digest())
      const proofs = []
      for (const call of calls) {
        assert.strictEqual(call.headers["authorization"], "DPoP tok-1")
        const { claims } = yield* proofOf(call)
        assert.strictEqual(claims.htm, "GET")
        assert.strictEqual(claims.htu, `${api}/items`)
        assert.strictEqual(claims.ath, expectedAth)
        proofs.push(claims)
      }
      assert.strictEqual(proofs[0]!.iat, 1_900_000_000)
      assert.strictEqual(proofs[1]!.iat, 1_900_000_042)
      assert.notStrictEqual(proofs[0]!.jti, proofs[1]!.jti)
      assert.strictEqual(http.count(isToken), 1)
    }))

  it.scoped("a DPoP-Nonce of any response is used in the next proof to that origin only", () =>
    Effect.gen(function*() {
      let n = 0
      const { get, http } = yield* client((request) =>
        isToken(request)
          ? dpopToken("tok")
          : request.url.origin === api
          ? { json: {}, headers: { "dpop-nonce": `rs-${++n}` } }
          : { json: {} }
      )
      yield* get(`${api}/a`)
      yield* get(`${api}/b`)
      yield* get("https://other.example.com/c")
      const calls = http.requests.filter((r) => !isToken(r))
      assert.isUndefined((yield* proofOf(calls[0]!)).claims.nonce)
      assert.strictEqual((yield* proofOf(calls[1]!)).claims.nonce, "rs-1")
      assert.isUndefined((yield* proofOf(calls[2]!)).claims.nonce)
    }))

  it.scoped("401 DPoP use_dpop_nonce: replayed once with the nonce; the token is kept", () =>
    Effect.gen(function*() {
      let challenges = 0
      const { get, http } = yield* client((request) => {
        if (isToken(request)) return dpopToken("tok")
        const nonce = request.headers["dpop"] && jose.decodeJwt(request.headers["dpop"]).nonce
        if (nonce === "fresh") return { json: { ok: true } }
        challenges++
        return {
          status: 401,
          json: {},
          headers: { "www-authenticate": `DPoP error="use_dpop_nonce", algs="ES256"`, "dpop-nonce": "fresh" }
        }
      })
      const response = yield* get(`${api}/x`)
      assert.strictEqual(response.status, 200)
      assert.strictEqual(challenges, 1)
      assert.strictEqual(http.count(isToken), 1, "a nonce challenge does not cost a token")
    }))

  it.scoped("the nonce replay happens once: a second challenge is the final answer", () =>
    Effect.gen(function*() {
      const { get, http } = yield* client((request) =>
        isToken(request) ? dpopToken("tok") : {
          status: 401,
          json: {},
          headers: { "www-authenticate": `DPoP error="use_dpop_nonce"`, "dpop-nonce": crypto.randomUUID() }
        }
      )
      const response = yield* get(`${api}/x`)
      assert.strictEqual(response.status, 401)
      assert.strictEqual(http.count((r) => !isToken(r)), 2)
    }))

  it.scoped("401 DPoP invalid_token: a new token and one replay, as for Bearer", () =>
    Effect.gen(function*() {
      let n = 0
      const { get, http } = yield* client((request) => {
        if (isToken(request)) return dpopToken(`tok-${++n}`)
        return request.headers["authorization"] === "DPoP tok-1"
          ? { status: 401, json: {}, headers: { "www-authenticate": `DPoP error="invalid_token"` } }
          : { json: {} }
      })
      const response = yield* get(`${api}/x`)
      assert.strictEqual(response.status, 200)
      assert.strictEqual(http.count(isToken), 2)
      assert.strictEqual(http.requests.at(-1)!.headers["authorization"], "DPoP tok-2")
    }))

  it.scoped("origin rules are unchanged: no token and no proof outside the allowed origins", () =>
    Effect.gen(function*() {
      const { get, http } = yield* client(
        (request) => isToken(request) ? dpopToken("tok") : { json: {} },
        { origins: [api] }
      )
      yield* get("https://elsewhere.example.com/x")
      const call = http.requests.find((r) => !isToken(r))!
      assert.isUndefined(call.headers["authorization"])
      assert.isUndefined(call.headers["dpop"])
    }))

  it.scoped("a redirect re-sent to another origin loses the token and the proof", () =>
    Effect.gen(function*() {
      const { http, service } = yield* client(
        (request) =>
          isToken(request)
            ? dpopToken("tok")
            : request.url.origin === api
            ? new Response(null, { status: 302, headers: { location: "https://evil.example.com/steal" } })
            : { json: {} },
        { origins: [api], transformClient: HttpClient.followRedirects() }
      )
      yield* service.typedHttpClient.get(`${api}/x`)
      const evil = http.requests.find((r) => r.url.origin === "https://evil.example.com")!
      assert.isUndefined(evil.headers["authorization"])
      assert.isUndefined(evil.headers["dpop"])
    }))
})

describe("DPoP keys (RFC 9449 §4.2) and the cache", () => {
  const buildError = (option: Dpop.Option) =>
    Effect.gen(function*() {
      const http = TestHttp.make(() => dpopToken("t"))
      const exit = yield* Effect.exit(
        OAuth2Client.make({ tokenUrl, clientId: "c", dpop: option }).pipe(Effect.provide(http.layer))
      )
      assert.strictEqual(http.requests.length, 0, "nothing is sent before the key is checked")
      const error = failure(exit)
      assert.isTrue(OAuth2Error.isConfigurationError(error), String(error))
      return (error as OAuth2Error.ConfigurationError).reason
    })

  it.scoped("bad keys are ConfigurationErrors when the client is built, and never quote the private key", () =>
    Effect.gen(function*() {
      const other = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" })
      const webPair = yield* Dpop.generateKeyPair()
      const cases: Array<readonly [Dpop.Option, string]> = [
        [{ key: { privateKey: Redacted.make(publicJwk as JsonWebKey) } }, "public key"],
        [
          {
            key: {
              privateKey: Redacted.make(privateJwk as JsonWebKey),
              publicKey: other.publicKey.export({ format: "jwk" })
            }
          },
          "not the public key"
        ],
        [{ key: { privateKey: privateJwk as unknown as Redacted.Redacted<JsonWebKey> } }, "Redacted"],
        [{ key: jwkPair, alg: "HS256" }, "asymmetric"],
        [{ key: jwkPair, alg: "RS256" }, "does not fit"],
        [{ key: { privateKey: Redacted.make({ kty: "oct", k: "c2VjcmV0" }) } }, "symmetric"],
        [{ key: { privateKey: webPair.publicKey, publicKey: webPair.publicKey } }, "public key"],
        [
          { key: { privateKey: webPair.privateKey, publicKey: (yield* Dpop.generateKeyPair()).publicKey } },
          "not the public key"
        ],
        [{} as Dpop.Option, "{ key"]
      ]
      for (const [option, expected] of cases) {
        const reason = yield* buildError(option)
        assert.include(reason, expected)
        assert.notInclude(reason, privateJwk.d!)
      }
    }))

  it.effect("a generated key is non-extractable, and a WebCrypto pair works as the key", () =>
    Effect.gen(function*() {
      const pair = yield* Dpop.generateKeyPair()
      assert.isFalse(pair.privateKey.extractable)
      const { exit, requests } = yield* run(() => dpopToken("t"), { dpop: { key: pair } })
      const credentials = success(exit)
      const { header } = yield* proofOf(requests[0]!)
      assert.strictEqual(credentials.dpopJkt, yield* Dpop.thumbprint(header.jwk as JsonWebKey))
    }))

  it.effect("an Ed25519 key signs EdDSA proofs", () =>
    Effect.gen(function*() {
      const pair = yield* Dpop.generateKeyPair({ alg: "EdDSA" })
      const { exit, requests } = yield* run(() => dpopToken("t"), { dpop: { key: pair } })
      success(exit)
      assert.strictEqual((yield* proofOf(requests[0]!)).header.alg, "EdDSA")
    }))

  it.effect("the cache key includes the key's thumbprint", () =>
    Effect.gen(function*() {
      const base = { tokenUrl, clientId: "c", clientSecret: Redacted.make("s") }
      const plain = yield* ClientCredentials.cacheKey(base)
      const bound = yield* ClientCredentials.cacheKey({ ...base, dpop: { key: jwkPair } })
      assert.notStrictEqual(plain, bound)
      assert.include(bound, jkt)
      const generated = yield* Effect.exit(ClientCredentials.cacheKey({ ...base, dpop: true }))
      assert.isTrue(Exit.isFailure(generated))
    }))

  it.scoped("a stored DPoP token whose key is not available is a miss; the client fetches its own", () =>
    Effect.gen(function*() {
      const store = TokenStore.makeMemory()
      const storeKey = "shared"
      // Another process's token, bound to another key, under the same store key.
      const foreign = new Credentials.Credentials({
        accessToken: Redacted.make("foreign"),
        tokenType: "DPoP",
        dpopJkt: "someone-elses-key",
        scopes: [],
        tokenEndpoint: tokenUrl,
        extra: {}
      })
      // Not usable without DPoP, nor with another key.
      assert.isFalse(dpop.usableWith(undefined)(foreign))
      assert.isFalse(dpop.usableWith({ alg: "ES256", publicJwk: {}, jkt, signer: undefined as never })(foreign))
      yield* store.set(storeKey, foreign)
      const { get, http } = yield* client(
        (request) => isToken(request) ? dpopToken("mine") : { json: {} },
        { store, storeKey }
      )
      yield* get(`${api}/x`)
      assert.strictEqual(http.count(isToken), 1)
      assert.strictEqual(http.requests.find((r) => !isToken(r))!.headers["authorization"], "DPoP mine")
    }))

  it("the nonce map is bounded and keeps the latest nonce per origin", () =>
    FastCheck.assert(
      FastCheck.property(
        FastCheck.array(FastCheck.tuple(FastCheck.integer({ min: 0, max: 300 }), FastCheck.string({ minLength: 1 }))),
        (events) => {
          const hooks = dpop.make({
            alg: "ES256",
            publicJwk: {},
            jkt: "x",
            signer: undefined as never
          })
          const last = new Map<string, string>()
          for (const [n, nonce] of events) {
            hooks.learn(`https://h${n}.example/p`, { "dpop-nonce": nonce } as never)
            last.set(`https://h${n}.example`, nonce)
          }
          let known = 0
          for (const [origin, nonce] of last) {
            const seen = hooks.nonceFor(origin)
            if (seen !== undefined) {
              known++
              assert.strictEqual(seen, nonce)
            }
          }
          assert.isAtMost(known, dpop.maxNonceOrigins)
          assert.strictEqual(known, Math.min(last.size, dpop.maxNonceOrigins))
        }
      )
    ))
})

describe("DPoP secrets never in output", () => {
  it.scoped("neither the private key nor the token appears in the errors of a refused DPoP flow", () =>
    Effect.gen(function*() {
      const token = "secret-dpop-token-value-123"
      const { service } = yield* client(
        (request) =>
          isToken(request)
            ? dpopToken(token)
            : { status: 401, json: {}, headers: { "www-authenticate": `DPoP error="invalid_dpop_proof"` } },
        { failOnChallenge: true, replayOn401: "never" }
      )
      const refusedCall = yield* Effect.exit(service.typedHttpClient.get(`${api}/x`))
      const refused = yield* Effect.exit(
        OAuth2Client.make({ tokenUrl, clientId: "c", dpop: { key: jwkPair, alg: "ES384" } }).pipe(
          Effect.provide(TestHttp.make(() => dpopToken(token)).layer)
        )
      )
      const grant = (yield* run(() => dpopToken(boundJwt("other-key")), { dpop: { key: jwkPair } })).exit
      // Rendered as messages; the build and grant failures also inspected in full. (The API failure's inspect output
      // shows the request it carries, headers included, as it does for Bearer: left to the request-path work.)
      const renderings = [refusedCall, refused, grant].map((exit: Exit.Exit<unknown, unknown>) => {
        assert.isTrue(Exit.isFailure(exit))
        return Exit.isFailure(exit) ? Cause.pretty(exit.cause) : ""
      })
      renderings.push(util.inspect(refused, { depth: 10 }), util.inspect(grant, { depth: 10 }))
      for (const text of renderings) {
        assert.notInclude(text, privateJwk.d!)
        assert.notInclude(text, token)
        assert.notInclude(text, boundJwt("other-key"))
      }
    }))
})

describe("DPoP with the layers", () => {
  it.scoped("OAuth2Client.layer with dpop: true serves DPoP-bound requests", () =>
    Effect.gen(function*() {
      const http = TestHttp.make((request) => isToken(request) ? dpopToken("tok") : { json: {} })
      const layer = OAuth2Client.layer({ tokenUrl, clientId: "c", clientSecret: Redacted.make("s"), dpop: true })
      yield* Effect.gen(function*() {
        const service = yield* OAuth2Client.OAuth2Client
        yield* service.httpClient.get(`${api}/x`)
        const call = http.requests.find((r) => !isToken(r))!
        assert.strictEqual(call.headers["authorization"], "DPoP tok")
        assert.isString(call.headers["dpop"])
        assert.include(service.cacheKey, (yield* service.token.get).dpopJkt!)
      }).pipe(Effect.provide(layer.pipe(Layer.provide(http.layer))))
    }))
})
