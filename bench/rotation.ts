/**
 * Scenario 3, rotation: steady paced load in real time across many short token lifetimes, with a token endpoint
 * that takes `tokenDelayMs` to answer. Measures how many token requests each lifetime costs, whether any request
 * had to wait for a token, and whether requests in flight during a rotation are slower than the others.
 */
import { AccessToken, OAuth2Client } from "@effect-oauth2/core"
import * as HttpClient from "@effect/platform/HttpClient"
import * as Effect from "effect/Effect"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Option from "effect/Option"
import { Authenticated, call, counter, loopCount, now, percentile, round, type Servers, sleep, sorted } from "./lib.js"
import { fmt, type Row, type ScenarioResult } from "./report.js"

export interface Settings {
  /** The token endpoint's `expires_in`, seconds. */
  readonly expiresIn: number
  /** How long the token endpoint takes to answer. */
  readonly tokenDelayMs: number
  readonly durationMs: number
  /** Concurrent request loops... */
  readonly workers: number
  /** ...each pausing this long between requests (paced load, so latencies are not queueing delays). */
  readonly pauseMs: number
  /** A request is "near a rotation" when it is in flight within this many ms of a token request. */
  readonly nearMs: number
  /** Requests through a throw-away client first, so JIT warm-up does not land in the first lifetime. */
  readonly warmupRequests: number
}

export const defaults: Settings = {
  expiresIn: 4,
  tokenDelayMs: 50,
  durationMs: 15_000,
  workers: 16,
  pauseMs: 4,
  nearMs: 5,
  warmupRequests: 3_000
}

interface Sample {
  readonly start: number
  readonly latency: number
  readonly token: number
}

export const run = async (servers: Servers, settings: Settings = defaults): Promise<ScenarioResult<unknown>> => {
  await servers.config({ expiresIn: settings.expiresIn, delayMs: settings.tokenDelayMs })
  const warmup = ManagedRuntime.make(Authenticated(servers))
  await warmup.runPromise(
    Effect.flatMap(
      HttpClient.HttpClient,
      (client) => loopCount(client, servers.protectedUrl, 16, settings.warmupRequests)
    )
  )
  await warmup.dispose()
  await servers.reset()
  const runtime = ManagedRuntime.make(Authenticated(servers))
  const client = await runtime.runPromise(HttpClient.HttpClient)
  const oauth = await runtime.runPromise(OAuth2Client.OAuth2Client)

  // The cold start (first token) is not part of the measure.
  await runtime.runPromise(call(client, servers.protectedUrl))
  const first = Option.getOrThrow(await runtime.runPromise(oauth.token.current))
  const issuedAt = first.issuedAt!
  const timeline = AccessToken.timeline(first, Date.now())
  const interval = timeline.refreshAfter - issuedAt

  // The run ends half an interval after a planned refresh, so the count of planned refreshes is a whole number
  // that scheduling jitter of a few ms cannot change.
  const planned = Math.max(1, Math.round(settings.durationMs / interval))
  const endAt = issuedAt + (planned + 0.5) * interval
  const hitsBefore = await runtime.runPromise(counter("oauth2_token_cache_hits"))
  const samples: Array<Sample> = []
  await runtime.runPromise(
    Effect.forEach(
      Array.from({ length: settings.workers }),
      () =>
        Effect.gen(function*() {
          while (Date.now() < endAt) {
            const start = now()
            const body = yield* call(client, servers.protectedUrl)
            samples.push({ start, latency: now() - start, token: (JSON.parse(body) as { token: number }).token })
            yield* Effect.sleep(settings.pauseMs)
          }
        }),
      { concurrency: "unbounded", discard: true }
    )
  )
  const end = now()
  const hits = (await runtime.runPromise(counter("oauth2_token_cache_hits"))) - hitsBefore
  await runtime.dispose()
  await sleep(settings.tokenDelayMs + 50) // a token request in flight at the end is logged when answered
  const log = (await servers.tokenLog()).filter((entry) => entry.received <= end)
  const stats = await servers.stats()

  // Token requests per lifetime: the refreshes made, against the number the timeline plans for the run
  // (one every `refreshAfter − issuedAt`, counted from the first token's issue).
  const firstToken = log[0].n
  const refreshes = log.slice(1)
  const perLifetime = refreshes.length / planned
  const gaps = refreshes.map((entry, i) => entry.received - (i === 0 ? log[0].received : refreshes[i - 1].received))
  const used = new Set(samples.map((sample) => sample.token))
  const unused = log.filter((entry) => !used.has(entry.n) && entry.sent < end - 50).length

  // Waiting, measured three ways; the pass/fail uses the causal one (2), which does not rely on the library's word:
  // 1. the library's own counter: every call that was not served from cache joined or started a fetch;
  const waited = samples.length - hits
  // 2. causality: a request that carries token n but started before the endpoint sent token n waited for it;
  const sentAt = new Map(log.map((entry) => [entry.n, entry.sent]))
  const waitedCausal =
    samples.filter((sample) => sample.token > firstToken && sample.start < (sentAt.get(sample.token) ?? 0) - 1).length
  // 3. latency: a request that waited for a token took at least the endpoint's delay.
  const slowerThanFetch = samples.filter((sample) => sample.latency >= settings.tokenDelayMs).length

  // Near a rotation: in flight while a refresh was in flight (± nearMs). Away: in flight during a control window
  // of the same length half an interval earlier, so both sets are the same size and equally exposed to pauses that
  // have nothing to do with rotation (GC, other processes on the machine).
  const nearWindows = refreshes.map((entry) =>
    [entry.received - settings.nearMs, entry.sent + settings.nearMs] as const
  )
  const awayWindows = nearWindows.map(([from, to]) => [from - interval / 2, to - interval / 2] as const)
  const inside = (windows: ReadonlyArray<readonly [number, number]>) => (sample: Sample) =>
    windows.some(([from, to]) => sample.start <= to && sample.start + sample.latency >= from)
  const near = sorted(samples.filter(inside(nearWindows)).map((sample) => sample.latency))
  const away = sorted(samples.filter(inside(awayWindows)).map((sample) => sample.latency))
  const all = sorted(samples.map((sample) => sample.latency))
  const ms = (value: number) => round(value, 2)
  const p99Ratio = percentile(near, 99) / percentile(away, 99)

  const figures = {
    expiresIn: settings.expiresIn,
    tokenDelayMs: settings.tokenDelayMs,
    durationMs: round(end - issuedAt, 0),
    workers: settings.workers,
    pauseMs: settings.pauseMs,
    timeline: {
      refreshAfterMs: timeline.refreshAfter - issuedAt,
      usableUntilMs: timeline.usableUntil - issuedAt,
      expiresAtMs: timeline.expiresAt - issuedAt
    },
    requests: samples.length,
    tokenRequests: log.length,
    refreshes: refreshes.length,
    plannedRefreshes: planned,
    tokenRequestsPerLifetime: round(perLifetime, 3),
    refreshIntervalMs: {
      planned: interval,
      mean: round(gaps.reduce((a, b) => a + b, 0) / Math.max(1, gaps.length), 1),
      min: round(Math.min(...gaps), 1),
      max: round(Math.max(...gaps), 1)
    },
    unusedTokens: unused,
    waitedOnFetch: waited,
    waitedOnFetchCausal: waitedCausal,
    slowerThanTokenDelay: slowerThanFetch,
    latencyMs: {
      all: { p50: ms(percentile(all, 50)), p99: ms(percentile(all, 99)), max: ms(all[all.length - 1]) },
      nearRotation: { count: near.length, p50: ms(percentile(near, 50)), p99: ms(percentile(near, 99)) },
      awayFromRotation: { count: away.length, p50: ms(percentile(away, 50)), p99: ms(percentile(away, 99)) }
    },
    p99NearRotationRatio: round(p99Ratio, 3),
    apiUnauthorized: stats.apiUnauthorized,
    goal: { tokenRequestsPerLifetime: 1, waitedOnFetchCausal: 0, p99NearRotationRatio: "<= 1.5" }
  }

  const s = "3 rotation"
  const perLifetimeOk = refreshes.length === planned && unused === 0
  const rows: Array<Row> = [
    {
      scenario: s,
      figure: `expires_in ${settings.expiresIn} s → refresh every (planned)`,
      value: `${fmt(interval)} ms`
    },
    {
      scenario: s,
      figure: `requests, refreshes over ${fmt((end - issuedAt) / 1000, 1)} s`,
      value: `${fmt(samples.length)}, ${refreshes.length}`
    },
    {
      scenario: s,
      figure: "token requests per lifetime",
      value: fmt(perLifetime, 3),
      goal: "1",
      ok: perLifetimeOk
    },
    {
      scenario: s,
      figure: "requests that waited on a fetch (causal)",
      value: `${waitedCausal} (library counter ${waited}, ≥${settings.tokenDelayMs} ms ${slowerThanFetch})`,
      goal: "0",
      ok: waitedCausal === 0
    },
    {
      scenario: s,
      figure: "p50 / p99 ms near a rotation",
      value: `${fmt(percentile(near, 50), 2)} / ${fmt(percentile(near, 99), 2)}`
    },
    {
      scenario: s,
      figure: "p50 / p99 ms away (control windows)",
      value: `${fmt(percentile(away, 50), 2)} / ${fmt(percentile(away, 99), 2)}`
    },
    { scenario: s, figure: "p99 ratio near / away", value: fmt(p99Ratio, 2), goal: "<= 1.5", ok: p99Ratio <= 1.5 }
  ]
  return { figures, rows }
}
