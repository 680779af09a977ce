/**
 * Scenario "dpop": what DPoP (RFC 9449) costs per API request. The same client options twice over an in-memory
 * transport that answers at once (no network, no server): once with a Bearer token, once with `dpop: true` (an
 * ES256 key, a DPoP-bound token). Each DPoP request signs a new proof (jti, htm, htu, iat, ath) with WebCrypto
 * through jose; the key import and its thumbprint happen once, when the client is built. Sequential requests,
 * interleaved rounds, the fastest round of each (the one least disturbed by other work on the machine).
 *
 * `dpopMicrosPerRequest` = DPoP − Bearer CPU µs per request; it is also written as `overhead.dpopMicrosPerRequest`.
 */
import { OAuth2HttpClient } from "@effect-oauth2/core"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import { performance } from "node:perf_hooks"
import { authOptions, round, type Servers } from "./lib.js"
import { fmt, type Row, type ScenarioResult } from "./report.js"

export interface Settings {
  readonly requestsPerRound: number
  readonly rounds: number
  readonly warmupRounds: number
}

export const defaults: Settings = { requestsPerRound: 2_000, rounds: 8, warmupRounds: 2 }

export interface Figures {
  readonly bearerMicrosPerRequest: number
  readonly dpopMicrosPerRequest: number
  /** DPoP − Bearer: the per-request CPU cost of DPoP. */
  readonly dpopOverheadMicrosPerRequest: number
  /** Building a client with `dpop: true` (key generation, export, thumbprint, one check signature), ms. */
  readonly buildMillis: number
  readonly rounds: { readonly bearer: ReadonlyArray<number>; readonly dpop: ReadonlyArray<number> }
  readonly settings: Settings
}

/** The transport: the token endpoint answers a token of `tokenType`, the API 200. */
const transport = (servers: Servers, tokenType: "Bearer" | "DPoP") => {
  const token = JSON.stringify({ access_token: `t1.${"x".repeat(61)}`, token_type: tokenType, expires_in: 3600 })
  return HttpClient.make((request) =>
    Effect.sync(() =>
      HttpClientResponse.fromWeb(
        request,
        request.url === servers.tokenUrl
          ? new Response(token, { status: 200, headers: { "content-type": "application/json" } })
          : new Response("{}", { status: 200 })
      )
    )
  )
}

export const run = async (servers: Servers, settings: Settings = defaults): Promise<ScenarioResult<Figures>> => {
  const runtime = (dpop: boolean) =>
    ManagedRuntime.make(
      OAuth2HttpClient.layer({ ...authOptions(servers), dpop }).pipe(
        Layer.provide(Layer.succeed(HttpClient.HttpClient, transport(servers, dpop ? "DPoP" : "Bearer")))
      )
    )
  const bearer = runtime(false)
  const dpop = runtime(true)
  const clients = {
    bearer: await bearer.runPromise(HttpClient.HttpClient),
    dpop: undefined as never as HttpClient.HttpClient
  }
  const buildStart = performance.now()
  clients.dpop = await dpop.runPromise(HttpClient.HttpClient)
  const buildMillis = performance.now() - buildStart

  const url = servers.protectedUrl
  const n = settings.requestsPerRound
  const loop = (client: HttpClient.HttpClient) =>
    Effect.gen(function*() {
      for (let i = 0; i < n; i++) {
        const response = yield* client.get(url)
        if (response.status !== 200) return yield* Effect.dieMessage(`status ${response.status}`)
      }
    })
  const micros = { bearer: [] as Array<number>, dpop: [] as Array<number> }
  const order = [["bearer", "dpop"], ["dpop", "bearer"]] as const
  for (let r = 0; r < settings.warmupRounds + settings.rounds; r++) {
    for (const name of order[r % 2]!) {
      const cpu = process.cpuUsage()
      await Effect.runPromise(loop(clients[name]))
      const used = process.cpuUsage(cpu)
      if (r >= settings.warmupRounds) micros[name].push(round((used.user + used.system) / n, 1))
    }
  }
  await Promise.all([bearer.dispose(), dpop.dispose()])

  const best = (values: ReadonlyArray<number>) => Math.min(...values)
  const figures: Figures = {
    bearerMicrosPerRequest: best(micros.bearer),
    dpopMicrosPerRequest: best(micros.dpop),
    dpopOverheadMicrosPerRequest: round(best(micros.dpop) - best(micros.bearer), 1),
    buildMillis: round(buildMillis, 2),
    rounds: micros,
    settings
  }
  const s = "dpop"
  const rows: Array<Row> = [
    {
      scenario: s,
      figure: "Bearer: client CPU per request (in memory), µs",
      value: fmt(figures.bearerMicrosPerRequest, 1)
    },
    {
      scenario: s,
      figure: "DPoP: client CPU per request (in memory), µs",
      value: fmt(figures.dpopMicrosPerRequest, 1)
    },
    {
      scenario: s,
      figure: "DPoP cost per request (one ES256 proof), µs",
      value: fmt(figures.dpopOverheadMicrosPerRequest, 1)
    },
    { scenario: s, figure: "build a client with dpop: true, ms", value: fmt(figures.buildMillis, 2) }
  ]
  return { figures, rows }
}
