/**
 * Scenario 5, memory: heap used (after full GC) before and after 100,000 authenticated requests with short tokens
 * (so the token rotates many times during the run), against the same run through the plain client.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as ManagedRuntime from "effect/ManagedRuntime"
import { performance } from "node:perf_hooks"
import { Authenticated, loopCount, Plain, round, type Servers, settledHeap } from "./lib.js"
import { bytes, fmt, type Row, type ScenarioResult } from "./report.js"

export interface Settings {
  readonly requests: number
  readonly warmupRequests: number
  readonly concurrency: number
  /** Short tokens, so the token rotates many times during the run (4 s: every second, see AccessToken.timeline). */
  readonly expiresIn: number
  /** Growth above this many bytes counts as a leak. */
  readonly maxGrowthBytes: number
}

export const defaults: Settings = {
  requests: 100_000,
  warmupRequests: 5_000,
  concurrency: 32,
  expiresIn: 4,
  maxGrowthBytes: 1024 * 1024
}

const measure = async (
  runtime: ManagedRuntime.ManagedRuntime<HttpClient.HttpClient, unknown>,
  url: string,
  settings: Settings
) => {
  const client = await runtime.runPromise(HttpClient.HttpClient)
  await runtime.runPromise(loopCount(client, url, settings.concurrency, settings.warmupRequests))
  const before = await settledHeap()
  const started = performance.now()
  await runtime.runPromise(loopCount(client, url, settings.concurrency, settings.requests / 2))
  const middle = await settledHeap()
  await runtime.runPromise(loopCount(client, url, settings.concurrency, settings.requests / 2))
  const elapsed = performance.now() - started
  const after = await settledHeap()
  await runtime.dispose()
  return { before, middle, after, growth: after - before, seconds: elapsed / 1000 }
}

export const run = async (servers: Servers, settings: Settings = defaults): Promise<ScenarioResult<unknown>> => {
  await servers.config({ expiresIn: settings.expiresIn, delayMs: 0 })
  await servers.reset()
  const plain = await measure(ManagedRuntime.make(Plain), servers.publicUrl, settings)
  await servers.reset()
  const auth = await measure(ManagedRuntime.make(Authenticated(servers)), servers.protectedUrl, settings)
  const stats = await servers.stats()
  const figures = {
    requests: settings.requests,
    concurrency: settings.concurrency,
    expiresIn: settings.expiresIn,
    tokenRequests: stats.tokenRequests,
    heapBeforeBytes: auth.before,
    heapMiddleBytes: auth.middle,
    heapAfterBytes: auth.after,
    heapGrowthBytes: auth.growth,
    seconds: round(auth.seconds, 1),
    plain: {
      heapBeforeBytes: plain.before,
      heapAfterBytes: plain.after,
      heapGrowthBytes: plain.growth,
      seconds: round(plain.seconds, 1)
    },
    apiUnauthorized: stats.apiUnauthorized,
    goal: { heapGrowthBytes: `< ${settings.maxGrowthBytes}` }
  }
  const s = "5 memory"
  const rows: Array<Row> = [
    {
      scenario: s,
      figure: `heap growth, ${fmt(settings.requests)} authenticated requests`,
      value: bytes(auth.growth),
      goal: `< ${bytes(settings.maxGrowthBytes)}`,
      ok: auth.growth < settings.maxGrowthBytes
    },
    {
      scenario: s,
      figure: "heap before / middle / after",
      value: `${bytes(auth.before)} / ${bytes(auth.middle)} / ${bytes(auth.after)}`
    },
    { scenario: s, figure: "token requests (rotations) during the run", value: String(stats.tokenRequests) },
    { scenario: s, figure: "same run, plain client: heap growth", value: bytes(plain.growth) }
  ]
  return { figures, rows }
}
