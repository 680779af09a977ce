/**
 * The DPoP hooks of the request path (internal/dpop.ts `make`, `challenge`): the DPoP challenge read from
 * `WWW-Authenticate`, the nonces learned per origin, which 401 is a nonce challenge, the `ath` of each token, the
 * token request's nonce retry, and the binding of the issued token.
 */
import { Dpop } from "@effect-oauth2/core"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { describe, it } from "@effect/vitest"
import { deepStrictEqual, strictEqual } from "@effect/vitest/utils"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as jose from "jose"
import * as crypto from "node:crypto"
import * as dpop from "../../src/internal/dpop.js"
import { failureOf, run, success, tokenUrl } from "../utils/Grant.js"
import { captureLogs } from "../utils/Logs.js"
import * as RecordingTracer from "../utils/RecordingTracer.js"
import * as TestHttp from "../utils/TestHttp.js"

const ecPair = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" })
const jwkPair: Dpop.JwkPair = {
  privateKey: Redacted.make(ecPair.privateKey.export({ format: "jwk" }) as JsonWebKey)
}
const jkt = await jose.calculateJwkThumbprint(ecPair.publicKey.export({ format: "jwk" }) as jose.JWK, "sha256")

/** Hooks over the test key, with a fresh nonce map. */
const hooks = Effect.map(dpop.resolveKey({ key: jwkPair }), (key) => dpop.make(key!))

const nonce = (value: string) => ({ "dpop-nonce": value }) as never
const noHeaders = {} as never

const response = (url: string, status: number, headers: Record<string, string> = {}) =>
  HttpClientResponse.fromWeb(HttpClientRequest.get(url), new Response(null, { status, headers }))

const dpopToken = (accessToken: string) => ({
  json: { access_token: accessToken, token_type: "DPoP", expires_in: 3600 }
})

/** A JWT-shaped access token (unsigned: the client only reads it) with the given `cnf`. */
const jwtWith = (cnf: unknown) =>
  [
    jose.base64url.encode(JSON.stringify({ alg: "ES256", typ: "at+jwt" })),
    jose.base64url.encode(JSON.stringify({ sub: "svc", cnf })),
    "c2ln"
  ].join(".")

describe("dpop challenge (WWW-Authenticate)", () => {
  it("the first DPoP challenge with an error, with its description when it has one", () => {
    deepStrictEqual(
      dpop.challenge(`DPoP error="invalid_token", error_description="the token expired"`),
      { error: "invalid_token", errorDescription: "the token expired" }
    )
    deepStrictEqual(dpop.challenge(`DPoP error="use_dpop_nonce"`), { error: "use_dpop_nonce" })
    deepStrictEqual(
      dpop.challenge(`Bearer error="invalid_token", DPoP algs="ES256", DPoP error="use_dpop_nonce"`),
      { error: "use_dpop_nonce" }
    )
  })

  it("no DPoP challenge with an error: none, and no error", () => {
    for (const header of [undefined, `Bearer error="invalid_token"`, `DPoP algs="ES256"`, ""]) {
      strictEqual(dpop.challenge(header), undefined, String(header))
      strictEqual(dpop.challengeError(header), undefined, String(header))
    }
    strictEqual(dpop.challengeError(`Bearer realm="x", DPoP error="use_dpop_nonce"`), "use_dpop_nonce")
  })
})

describe("dpop nonces (RFC 9449 §8, §9)", () => {
  it.effect("a response without a nonce, or with an empty one, keeps the known nonce", () =>
    Effect.gen(function*() {
      const { learn, nonceFor } = yield* hooks
      learn("https://rs.example/a", nonce("n-1"))
      learn("https://rs.example/b", noHeaders)
      learn("https://rs.example/c", nonce(""))
      strictEqual(nonceFor("https://rs.example"), "n-1")
      learn("https://RS.example/d", nonce("n-2"))
      strictEqual(nonceFor("https://rs.example"), "n-2")
    }))

  it.effect("nonces are kept for 100 origins: the 101st forgets the oldest", () =>
    Effect.gen(function*() {
      const { learn, nonceFor } = yield* hooks
      for (let i = 0; i <= dpop.maxNonceOrigins; i++) learn(`https://h${i}.example/p`, nonce(`n-${i}`))
      strictEqual(nonceFor("https://h0.example"), undefined)
      for (let i = 1; i <= dpop.maxNonceOrigins; i++) strictEqual(nonceFor(`https://h${i}.example`), `n-${i}`)
    }))

  it.effect("a URL without an origin teaches nothing: it neither fails nor pushes a known origin out", () =>
    Effect.gen(function*() {
      const { authorize, learn, nonceFor } = yield* hooks
      for (let i = 0; i < dpop.maxNonceOrigins; i++) learn(`https://h${i}.example/p`, nonce(`n-${i}`))
      learn("/relative", nonce("n-x"))
      strictEqual(nonceFor("https://h0.example"), "n-0")
      const proof = (yield* authorize(HttpClientRequest.get("/relative"), "ACCESS-TOKEN")).headers["dpop"]!
      strictEqual(jose.decodeJwt(proof).nonce, undefined)
    }))

  it.effect("a nonce challenge is a 401 with a DPoP use_dpop_nonce challenge from an origin with a known nonce", () =>
    Effect.gen(function*() {
      const { isNonceChallenge, learn } = yield* hooks
      const url = "https://rs.example/x"
      const challenge = { "www-authenticate": `DPoP error="use_dpop_nonce"` }
      strictEqual(isNonceChallenge(response(url, 401, challenge)), false, "no nonce known yet")
      learn(url, nonce("n-1"))
      strictEqual(isNonceChallenge(response(url, 401, challenge)), true)
      strictEqual(isNonceChallenge(response("https://rs.example/other", 401, challenge)), true, "same origin")
      strictEqual(isNonceChallenge(response("https://other.example/x", 401, challenge)), false, "other origin")
      strictEqual(isNonceChallenge(response(url, 400, challenge)), false, "not a 401")
      strictEqual(isNonceChallenge(response(url, 200, challenge)), false, "not a 401")
      strictEqual(
        isNonceChallenge(response(url, 401, { "www-authenticate": `DPoP error="invalid_token"` })),
        false,
        "another error"
      )
      strictEqual(isNonceChallenge(response(url, 401)), false, "no challenge")
    }))
})

describe("dpop proofs on API requests (RFC 9449 §7.1)", () => {
  it.effect("each token's proof carries that token's ath, when the token changes and changes back", () =>
    Effect.gen(function*() {
      const { authorize } = yield* hooks
      for (const token of ["ACCESS-TOKEN-1", "ACCESS-TOKEN-2", "ACCESS-TOKEN-2", "ACCESS-TOKEN-1"]) {
        const request = yield* authorize(HttpClientRequest.get("https://rs.example/x"), token)
        strictEqual(request.headers["authorization"], `DPoP ${token}`)
        strictEqual(jose.decodeJwt(request.headers["dpop"]!).ath, yield* Dpop.accessTokenHash(token))
      }
    }))
})

describe("dpop token request (RFC 9449 §5, §8)", () => {
  it.effect("an error other than use_dpop_nonce is not retried, even with a DPoP-Nonce", () =>
    Effect.gen(function*() {
      const { exit, requests } = yield* run(
        () => ({ status: 400, json: { error: "invalid_client" }, headers: { "dpop-nonce": "n-1" } }),
        { dpop: { key: jwkPair } }
      )
      strictEqual(failureOf(exit, "ErrorResponse").error, "invalid_client")
      strictEqual(requests.length, 1)
    }))

  it.effect("the nonce retry is marked on the token request span", () =>
    Effect.gen(function*() {
      const recording = RecordingTracer.make()
      const { exit, requests } = yield* run(
        (_request, index) =>
          index === 0
            ? { status: 400, json: { error: "use_dpop_nonce" }, headers: { "dpop-nonce": "n-1" } }
            : dpopToken("ACCESS-TOKEN"),
        { dpop: { key: jwkPair } }
      ).pipe(Effect.withTracer(recording.tracer))
      success(exit)
      strictEqual(requests.length, 2)
      const span = recording.spans.find((s) => s.name === "OAuth2.tokenRequest")!
      strictEqual(span.attributes.get("oauth2.dpop_nonce_retry"), true)
    }))

  it.effect("a Bearer answer is logged with the token endpoint and used as Bearer", () =>
    Effect.gen(function*() {
      const { logs, value } = yield* captureLogs(run(() => TestHttp.token("ACCESS-TOKEN"), { dpop: { key: jwkPair } }))
      const credentials = success(value.exit)
      strictEqual(credentials.tokenType, "Bearer")
      strictEqual(credentials.dpopJkt, undefined)
      deepStrictEqual(logs, [
        `INFO OAuth2 DPoP: ${tokenUrl} answered the DPoP token request with a Bearer token; ` +
        "it is used as a Bearer token (RFC 9449 §5)"
      ])
    }))

  it.effect("a token bound to another key is an InvalidResponse that quotes no body (it holds the token)", () =>
    Effect.gen(function*() {
      const { exit } = yield* run(() => dpopToken(jwtWith({ jkt: "another-thumbprint" })), { dpop: { key: jwkPair } })
      const error = failureOf(exit, "InvalidResponse")
      strictEqual(
        error.reason,
        "the DPoP-bound token's cnf.jkt is not the thumbprint of this client's DPoP key (RFC 9449 §6.1)"
      )
      strictEqual(error.status, 200)
      strictEqual(error.bodyExcerpt, "")
    }))

  it.effect("a cnf.jkt that is not a string names no key: the token is used, bound to this client's key", () =>
    Effect.gen(function*() {
      const { exit } = yield* run(() => dpopToken(jwtWith({ jkt: 42 })), { dpop: { key: jwkPair } })
      const credentials = success(exit)
      strictEqual(credentials.dpopJkt, jkt)
      strictEqual(credentials.cnfJkt, undefined)
    }))
})
