/**
 * Scenario 2, cold burst: 1,000 concurrent requests through a freshly built authenticated HttpClient (empty token
 * cache, no open connection): token requests made and time until all are answered. The same burst through a fresh
 * plain client gives the time the burst costs without any token.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as Effect from "effect/Effect"
import * as ManagedRuntime from "effect/ManagedRuntime"
import { performance } from "node:perf_hooks"
import { Authenticated, call, median, Plain, round, type Servers } from "./lib.js"
import { fmt, type Row, type ScenarioResult } from "./report.js"

export interface Settings {
  readonly requests: number
  readonly warmupRounds: number
  readonly rounds: number
  /** Added to each token response, so the burst overlaps a token request that takes real time. */
  readonly tokenDelayMs: number
}

export const defaults: Settings = { requests: 1000, warmupRounds: 1, rounds: 3, tokenDelayMs: 20 }

const burst = async (
  runtime: ManagedRuntime.ManagedRuntime<HttpClient.HttpClient, unknown>,
  url: string,
  requests: number
) => {
  const client = await runtime.runPromise(HttpClient.HttpClient)
  const started = performance.now()
  await runtime.runPromise(
    Effect.forEach(Array.from({ length: requests }), () => call(client, url), {
      concurrency: "unbounded",
      discard: true
    })
  )
  const elapsed = performance.now() - started
  await runtime.dispose()
  return elapsed
}

export const run = async (servers: Servers, settings: Settings = defaults): Promise<ScenarioResult<unknown>> => {
  await servers.config({ expiresIn: 3600, delayMs: settings.tokenDelayMs })
  const authMs: Array<number> = []
  const plainMs: Array<number> = []
  const tokenRequests: Array<number> = []
  let unauthorized = 0
  for (let r = 0; r < settings.warmupRounds + settings.rounds; r++) {
    const record = r >= settings.warmupRounds
    await servers.reset()
    const auth = await burst(ManagedRuntime.make(Authenticated(servers)), servers.protectedUrl, settings.requests)
    const stats = await servers.stats()
    const plain = await burst(ManagedRuntime.make(Plain), servers.publicUrl, settings.requests)
    if (record) {
      authMs.push(auth)
      plainMs.push(plain)
      tokenRequests.push(stats.tokenRequests)
      unauthorized += stats.apiUnauthorized
    }
  }
  const worst = Math.max(...tokenRequests)
  const figures = {
    requests: settings.requests,
    rounds: settings.rounds,
    tokenDelayMs: settings.tokenDelayMs,
    tokenRequests: worst,
    tokenRequestsPerRound: tokenRequests,
    allDoneMs: round(median(authMs), 1),
    allDoneMsRounds: authMs.map((ms) => round(ms, 1)),
    plainAllDoneMs: round(median(plainMs), 1),
    apiUnauthorized: unauthorized,
    goal: { tokenRequests: 1 }
  }
  const s = "2 cold burst"
  const rows: Array<Row> = [
    {
      scenario: s,
      figure: `token requests for ${fmt(settings.requests)} concurrent calls`,
      value: tokenRequests.join(", "),
      goal: "1",
      ok: worst === 1
    },
    {
      scenario: s,
      figure: `all done, ms (token endpoint +${settings.tokenDelayMs} ms)`,
      value: fmt(median(authMs), 1)
    },
    { scenario: s, figure: "same burst, plain client, ms", value: fmt(median(plainMs), 1) }
  ]
  return { figures, rows }
}
