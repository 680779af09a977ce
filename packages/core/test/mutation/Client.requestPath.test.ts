/**
 * The authenticated client's request path (internal/client.ts) end to end, over the in-memory HttpClient: where the
 * token goes, which 401s are explained, which 3xx answers are remembered as redirects, and how a replay shows in
 * the caller's span.
 */
import { OAuth2Client } from "@effect-oauth2/core"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { describe, it } from "@effect/vitest"
import { deepStrictEqual, strictEqual } from "@effect/vitest/utils"
import * as Effect from "effect/Effect"
import * as Logger from "effect/Logger"
import * as Redacted from "effect/Redacted"
import * as jose from "jose"
import * as crypto from "node:crypto"
import * as RecordingTracer from "../utils/RecordingTracer.js"
import * as TestHttp from "../utils/TestHttp.js"

const tokenUrl = "https://as.example/token"
const api = "https://api.example"

const isToken = (request: TestHttp.Recorded) => request.url.href === tokenUrl

/** A client whose token endpoint issues tok-1, tok-2, …; `answer` answers every other request. */
const client = (
  answer: (request: TestHttp.Recorded, n: number) => TestHttp.Reply = () => ({ json: {} }),
  options: Partial<OAuth2Client.Options> = {},
  tokenType = "Bearer"
) =>
  Effect.gen(function*() {
    let tokens = 0
    let calls = 0
    const http = TestHttp.make((request) =>
      isToken(request) ? TestHttp.token(`tok-${++tokens}`, 3600, { token_type: tokenType }) : answer(request, calls++)
    )
    const service = yield* OAuth2Client.make({
      tokenUrl,
      clientId: "svc",
      clientSecret: Redacted.make("secret"),
      retry: false,
      ...options
    }).pipe(Effect.provide(http.layer))
    /** The Authorization header each API request carried, in order. */
    const sent = () => http.requests.filter((r) => !isToken(r)).map((r) => r.headers["authorization"] ?? null)
    return { http, service, sent, tokens: () => tokens }
  })

const ecPair = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" })
const dpopKey = { privateKey: Redacted.make(ecPair.privateKey.export({ format: "jwk" }) as JsonWebKey) }

const spanNamed = (recording: ReturnType<typeof RecordingTracer.make>, name: string) =>
  recording.spans.find((span) => span.name === name)!

const captureWarnings = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.suspend(() => {
    const lines: Array<string> = []
    const logger = Logger.make(({ message }) =>
      lines.push(Array.isArray(message) ? message.join(" ") : String(message))
    )
    return Effect.map(Effect.provide(effect, Logger.replace(Logger.defaultLogger, logger)), () => lines)
  })

describe("client: a request that already carries this client's token", () => {
  it.scoped("sent to an origin outside origins, it goes without the token (a copied request)", () =>
    Effect.gen(function*() {
      const { sent, service } = yield* client(undefined, { origins: [api] })
      yield* service.httpClient.get(`${api}/a`)
      yield* service.httpClient.execute(
        HttpClientRequest.get("https://other.example/b", { headers: { authorization: "Bearer tok-1" } })
      )
      deepStrictEqual(sent(), ["Bearer tok-1", null])
    }))

  it.scoped("under the \"*\" default, sent to an https origin the token never went to, it goes without the token", () =>
    Effect.gen(function*() {
      const { sent, service } = yield* client()
      yield* service.typedHttpClient.get(`${api}/a`)
      yield* service.typedHttpClient.execute(
        HttpClientRequest.get("https://other.example/b", { headers: { authorization: "Bearer tok-1" } })
      )
      deepStrictEqual(sent(), ["Bearer tok-1", null])
    }))
})

describe("client: the notice for a 401 to a request sent without the token", () => {
  it.scoped("a request with the caller's own Authorization header to an origin outside origins is not reported", () =>
    Effect.gen(function*() {
      const { sent, service } = yield* client(() => ({ status: 401, json: {} }), { origins: [api] })
      const lines = yield* captureWarnings(Effect.gen(function*() {
        const own = yield* service.httpClient.execute(
          HttpClientRequest.get("https://other.example/a", { headers: { authorization: "Bearer callers-own" } })
        )
        const bare = yield* service.httpClient.get("https://third.example/a")
        deepStrictEqual([own.status, bare.status], [401, 401])
      }))
      deepStrictEqual(sent(), ["Bearer callers-own", null])
      deepStrictEqual(lines, [
        "OAuth2: https://third.example answered 401 to a request sent without an access token: its origin is not " +
        "in the client's origins. Add it to origins (https, or allowInsecureHttp for http) if it should get the " +
        "token. (Logged once per origin.)"
      ])
    }))
})

describe("client: only 3xx answers are remembered as cross-origin redirects (under the \"*\" default)", () => {
  it.scoped("a Location on a 300 or 399 keeps the token off the target; on a 201, 400 or 404 it does not", () =>
    Effect.gen(function*() {
      const { sent, service } = yield* client((request) => {
        const status = /^\/s(\d+)$/.exec(request.url.pathname)
        return status === null
          ? { json: {} }
          : { status: Number(status[1]), json: {}, headers: { location: `https://cdn.example/f${status[1]}` } }
      })
      const statuses = [201, 300, 399, 400, 404]
      for (const status of statuses) {
        const answer = yield* service.httpClient.get(`${api}/s${status}`)
        strictEqual(answer.status, status)
        yield* service.httpClient.get(`https://cdn.example/f${status}`)
      }
      // Each pair: the API request, then the request to its Location.
      deepStrictEqual(sent().filter((_, i) => i % 2 === 1), [
        "Bearer tok-1", // 201 Created: a Location, not a redirect
        null,
        null,
        "Bearer tok-1", // 400
        "Bearer tok-1" // 404
      ])
    }))
})

describe("client: a replayed request is marked on the caller's span", () => {
  const invalidToken = { status: 401, json: {}, headers: { "www-authenticate": "Bearer error=\"invalid_token\"" } }

  it.scoped("a 401 invalid_token replay sets oauth2.replayed = true; a request answered at once sets nothing", () => {
    const recording = RecordingTracer.make()
    return Effect.gen(function*() {
      const { sent, service } = yield* client((_, n) => (n === 0 ? invalidToken : { json: {} }))
      const replayed = yield* service.typedHttpClient.get(`${api}/a`).pipe(Effect.withSpan("replayed"))
      const direct = yield* service.typedHttpClient.get(`${api}/b`).pipe(Effect.withSpan("direct"))
      deepStrictEqual([replayed.status, direct.status], [200, 200])
      deepStrictEqual(sent(), ["Bearer tok-1", "Bearer tok-2", "Bearer tok-2"])
      strictEqual(spanNamed(recording, "replayed").attributes.get("oauth2.replayed"), true)
      strictEqual(spanNamed(recording, "direct").attributes.has("oauth2.replayed"), false)
    }).pipe(Effect.withTracer(recording.tracer))
  })

  it.scoped("a DPoP use_dpop_nonce replay (same token, RFC 9449 §9) sets oauth2.replayed = true", () => {
    const recording = RecordingTracer.make()
    return Effect.gen(function*() {
      const { sent, service, tokens } = yield* client(
        (request) =>
          jose.decodeJwt(request.headers["dpop"]!).nonce === "fresh" ? { json: {} } : {
            status: 401,
            json: {},
            headers: { "www-authenticate": "DPoP error=\"use_dpop_nonce\"", "dpop-nonce": "fresh" }
          },
        { dpop: { key: dpopKey } },
        "DPoP"
      )
      const response = yield* service.typedHttpClient.get(`${api}/a`).pipe(Effect.withSpan("nonce"))
      strictEqual(response.status, 200)
      deepStrictEqual(sent(), ["DPoP tok-1", "DPoP tok-1"])
      strictEqual(tokens(), 1)
      strictEqual(spanNamed(recording, "nonce").attributes.get("oauth2.replayed"), true)
    }).pipe(Effect.withTracer(recording.tracer))
  })
})
