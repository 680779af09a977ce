/**
 * Scenario 1, overhead: requests per second through the authenticated HttpClient (token cached) against the same
 * undici HttpClient with a constant `Authorization` header (the same server path) and without auth, same API, same
 * concurrency. Paired rounds: the static-header and authenticated clients run back to back in every round, in
 * alternating order (S A, A S, S A, ...), and the ratio is the median of the per-round ratios, with its spread.
 */
import { OAuth2HttpClient } from "@effect-oauth2/core"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import { performance } from "node:perf_hooks"
import {
  Authenticated,
  authOptions,
  call,
  loopUntil,
  median,
  percentile,
  Plain,
  round,
  type Servers,
  sorted
} from "./lib.js"
import { fmt, type Row, type ScenarioResult } from "./report.js"

export interface Settings {
  readonly concurrency: number
  readonly roundMs: number
  readonly warmupRounds: number
  readonly rounds: number
}

export const defaults: Settings = { concurrency: 32, roundMs: 600, warmupRounds: 1, rounds: 12 }

/**
 * The library's own CPU cost per request, without network or server: the three clients over an in-memory
 * transport that answers at once (the token endpoint with a token, the API with 200), sequential requests,
 * interleaved rounds, the fastest round of each (the one least disturbed by other work on the machine).
 */
const inMemory = async (servers: Servers) => {
  const ok = new Response("{}", { status: 200 })
  const token = JSON.stringify({ access_token: `t1.${"x".repeat(61)}`, token_type: "Bearer", expires_in: 3600 })
  const transport = HttpClient.make((request) =>
    Effect.sync(() =>
      HttpClientResponse.fromWeb(
        request,
        request.url === servers.tokenUrl
          ? new Response(token, { status: 200, headers: { "content-type": "application/json" } })
          : ok
      )
    )
  )
  const auth = ManagedRuntime.make(
    OAuth2HttpClient.layer(authOptions(servers)).pipe(Layer.provide(Layer.succeed(HttpClient.HttpClient, transport)))
  )
  const clients = {
    plain: transport,
    staticHeader: HttpClient.mapRequest(transport, HttpClientRequest.setHeader("authorization", "Bearer t1.x")),
    authenticated: await auth.runPromise(HttpClient.HttpClient)
  }
  const url = servers.protectedUrl
  const n = 5_000
  const loop = (client: HttpClient.HttpClient) =>
    Effect.gen(function*() {
      for (let i = 0; i < n; i++) yield* client.get(url)
    })
  const micros: Record<keyof typeof clients, Array<number>> = { plain: [], staticHeader: [], authenticated: [] }
  for (let r = 0; r < 8; r++) {
    for (const name of ["plain", "staticHeader", "authenticated"] as const) {
      const cpu = process.cpuUsage()
      await Effect.runPromise(loop(clients[name]))
      const used = process.cpuUsage(cpu)
      if (r >= 2) micros[name].push((used.user + used.system) / n)
    }
  }
  await auth.dispose()
  const best = (values: ReadonlyArray<number>) => round(Math.min(...values), 1)
  return {
    plain: best(micros.plain),
    staticHeader: best(micros.staticHeader),
    authenticated: best(micros.authenticated)
  }
}

interface Variant {
  readonly name: "plain" | "staticHeader" | "authenticated"
  readonly runtime: ManagedRuntime.ManagedRuntime<HttpClient.HttpClient, unknown>
  readonly client: HttpClient.HttpClient
  readonly url: string
  readonly rps: Array<number>
  readonly cpuMicrosPerRequest: Array<number>
}

export const run = async (servers: Servers, settings: Settings = defaults): Promise<ScenarioResult<unknown>> => {
  await servers.config({ expiresIn: 3600, delayMs: 0 })
  await servers.reset()
  const staticToken = `Bearer t0.${"x".repeat(61)}`
  const make = async (
    name: Variant["name"],
    runtime: ManagedRuntime.ManagedRuntime<HttpClient.HttpClient, unknown>,
    url: string,
    wrap: (client: HttpClient.HttpClient) => HttpClient.HttpClient = (client) => client
  ): Promise<Variant> => {
    const client = wrap(await runtime.runPromise(HttpClient.HttpClient))
    await runtime.runPromise(call(client, url)) // connects, and caches the token
    return { name, runtime, client, url, rps: [], cpuMicrosPerRequest: [] }
  }
  const variants = [
    await make("plain", ManagedRuntime.make(Plain), servers.publicUrl),
    await make(
      "staticHeader",
      ManagedRuntime.make(Plain),
      servers.protectedUrl,
      HttpClient.mapRequest(HttpClientRequest.setHeader("authorization", staticToken))
    ),
    await make("authenticated", ManagedRuntime.make(Authenticated(servers)), servers.protectedUrl)
  ]
  const measure = async (variant: Variant, record: boolean) => {
    const cpu = process.cpuUsage()
    const started = performance.now()
    const n = await variant.runtime.runPromise(
      loopUntil(variant.client, variant.url, settings.concurrency, started + settings.roundMs)
    )
    const elapsed = performance.now() - started
    const used = process.cpuUsage(cpu)
    if (record) {
      variant.rps.push(n / (elapsed / 1000))
      variant.cpuMicrosPerRequest.push((used.user + used.system) / n)
    }
  }
  for (let r = 0; r < settings.warmupRounds; r++) {
    for (const variant of variants) await measure(variant, false)
  }
  const [plainVariant, staticVariant, authVariant] = variants
  for (let r = 0; r < settings.rounds; r++) {
    // The pair is always adjacent and swaps order every round (P S A, A S P, P S A, ...), so a drift in machine
    // load hits both alike and neither always runs first.
    const order = r % 2 === 0 ? [plainVariant, staticVariant, authVariant] : [authVariant, staticVariant, plainVariant]
    for (const variant of order) await measure(variant, true)
  }
  const stats = await servers.stats()
  for (const variant of variants) await variant.runtime.dispose()
  const memory = await inMemory(servers)

  const [plain, staticHeader, authenticated] = variants
  const summary = (variant: Variant) => ({
    requestsPerSecond: round(median(variant.rps), 0),
    rounds: variant.rps.map((rps) => round(rps, 0)),
    clientCpuMicrosPerRequest: round(median(variant.cpuMicrosPerRequest), 1)
  })
  // Adjacent rounds are compared (A and B of the same round), so drifts in machine load cancel out.
  const ratioOf = (a: Variant, b: Variant) => median(a.rps.map((rps, i) => rps / b.rps[i]))
  const ratio = ratioOf(authenticated, plain)
  const ratioToStatic = ratioOf(authenticated, staticHeader)
  const pairedRatios = sorted(authenticated.rps.map((rps, i) => rps / staticHeader.rps[i]))
  const cpuOverStatic = median(
    authenticated.cpuMicrosPerRequest.map((cpu, i) => cpu - staticHeader.cpuMicrosPerRequest[i])
  )
  const figures = {
    concurrency: settings.concurrency,
    roundMs: settings.roundMs,
    rounds: settings.rounds,
    plain: summary(plain),
    staticHeader: summary(staticHeader),
    authenticated: summary(authenticated),
    ratio: round(ratio, 3),
    ratioToStaticHeader: round(ratioToStatic, 3),
    /** The per-round ratios authenticated ÷ static header: quartiles and extremes of the paired rounds. */
    ratioToStaticHeaderSpread: {
      p25: round(percentile(pairedRatios, 25), 3),
      p75: round(percentile(pairedRatios, 75), 3),
      min: round(pairedRatios[0], 3),
      max: round(pairedRatios[pairedRatios.length - 1], 3)
    },
    /** Median over paired rounds of (authenticated − static header) client CPU µs per request, c = 32, sockets. */
    cpuMicrosOverStaticHeader: round(cpuOverStatic, 1),
    staticHeaderRatio: round(ratioOf(staticHeader, plain), 3),
    cpuOverheadMicrosPerRequest: round(
      median(authenticated.cpuMicrosPerRequest) - median(plain.cpuMicrosPerRequest),
      1
    ),
    inMemoryCpuMicrosPerRequest: memory,
    tokenRequests: stats.tokenRequests,
    apiUnauthorized: stats.apiUnauthorized,
    goal: { ratio: ">= 0.99", ratioToStaticHeader: ">= 0.98", cpuMicrosOverStaticHeader: "<= 5" }
  }
  const s = "1 overhead"
  const rows: Array<Row> = [
    { scenario: s, figure: `plain undici, req/s (c=${settings.concurrency})`, value: fmt(median(plain.rps)) },
    { scenario: s, figure: "static Bearer header, req/s", value: fmt(median(staticHeader.rps)) },
    { scenario: s, figure: "authenticated (token cached), req/s", value: fmt(median(authenticated.rps)) },
    { scenario: s, figure: "ratio authenticated / plain", value: fmt(ratio, 3), goal: ">= 0.99", ok: ratio >= 0.99 },
    {
      scenario: s,
      figure: `ratio authenticated / static header (median of ${settings.rounds} paired rounds, p25–p75)`,
      value: `${fmt(ratioToStatic, 3)} (${fmt(figures.ratioToStaticHeaderSpread.p25, 3)}–${
        fmt(figures.ratioToStaticHeaderSpread.p75, 3)
      })`,
      goal: ">= 0.98",
      ok: ratioToStatic >= 0.98
    },
    {
      scenario: s,
      figure: "client CPU µs/req over static header (c=32, sockets)",
      value: fmt(cpuOverStatic, 1),
      goal: "<= 5",
      ok: cpuOverStatic <= 5
    },
    { scenario: s, figure: "ratio static header / plain", value: fmt(figures.staticHeaderRatio, 3) },
    {
      scenario: s,
      figure: "client CPU µs/req plain / static / auth",
      value: [plain, staticHeader, authenticated].map((v) => fmt(median(v.cpuMicrosPerRequest), 1)).join(" / ")
    },
    {
      scenario: s,
      figure: "same, in-memory transport (library cost)",
      value: [memory.plain, memory.staticHeader, memory.authenticated].map((v) => fmt(v, 1)).join(" / ")
    },
    {
      scenario: s,
      figure: "token requests, 401s",
      value: `${stats.tokenRequests}, ${stats.apiUnauthorized}`,
      goal: "1, 0",
      ok: stats.tokenRequests === 1 && stats.apiUnauthorized === 0
    }
  ]
  return { figures, rows }
}
