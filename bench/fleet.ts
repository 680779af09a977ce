/**
 * Scenario `fleet`: 8 Node processes (the fleet members of packages/redis/test/fleet) share one token through a
 * RedisTokenStore on a redis-server of the bench's own (random port, no persistence), against the bench's token
 * endpoint and API.
 *
 * - `coldBurstTokenRequests`: token requests when every process gets 100 concurrent calls on an empty cache;
 * - `tokenRequestsPerLifetime`: continuous use over several token lifetimes (4 s tokens replaced every 2 s), token
 *   requests ÷ the rotations one process alone would make in that time; the same run without a store
 *   (`withoutStoreTokenRequestsPerLifetime`) for comparison;
 * - `redisOutageFailures`: failed calls when redis-server is stopped in the middle of that run and started again.
 */
import { startRedisServer } from "@effect-oauth2/testing"
import * as crypto from "node:crypto"
import { all, type Fleet, startFleet } from "../packages/redis/test/fleet/Fleet.js"
import type { CallStats, MemberConfig } from "../packages/redis/test/fleet/protocol.js"
import { clientId, clientSecret, round, type Servers, sleep } from "./lib.js"
import { fmt, type Row, type ScenarioResult } from "./report.js"

export interface Settings {
  readonly processes: number
  readonly burst: number
  readonly burstRounds: number
  /** `expires_in` of the rotating tokens, and the rotation period it gives with the options below. */
  readonly expiresIn: number
  readonly periodMs: number
  /** How many rotation periods each continuous run lasts. */
  readonly periods: number
  readonly concurrency: number
  readonly pauseMs: number
}

export const defaults: Settings = {
  processes: 8,
  burst: 100,
  burstRounds: 3,
  expiresIn: 4,
  periodMs: 2_000,
  periods: 5.5,
  concurrency: 2,
  pauseMs: 20
}

const sum = (stats: ReadonlyArray<CallStats>) =>
  stats.reduce((acc, s) => ({ ok: acc.ok + s.ok, failed: acc.failed + s.failed }), { ok: 0, failed: 0 })

export const run = async (servers: Servers, settings: Settings = defaults): Promise<ScenarioResult<unknown>> => {
  const redis = await startRedisServer()
  let fleet: Fleet | undefined
  try {
    fleet = await startFleet(settings.processes)
    const members = fleet.members
    const config = (store: boolean): MemberConfig => ({
      tokenUrl: servers.tokenUrl,
      apiUrl: servers.protectedUrl,
      clientId,
      clientSecret,
      scopes: ["read", "write"],
      ...(store ? { redis: { url: redis.url, prefix: `bench-${crypto.randomBytes(4).toString("hex")}:` } } : {}),
      // a 4 s token is used for 2 s, then replaced in the background (no grace, 1 s margin, 1 s ahead)
      expiryGraceMs: 0,
      refreshMarginMs: 1_000,
      refreshAheadMs: 1_000
    })

    // Cold burst.
    await servers.config({ expiresIn: 3600, delayMs: 20 })
    const burstRequests: Array<number> = []
    let burstFailures = 0
    for (let r = 0; r < settings.burstRounds; r++) {
      const round = config(true) // one key prefix for the whole fleet
      await all(members, (m) => m.configure(round))
      await servers.reset()
      const stats = sum(await all(members, (m) => m.burst(settings.burst)))
      burstFailures += stats.failed
      burstRequests.push((await servers.stats()).tokenRequests)
    }

    // Continuous use over several lifetimes; `outage` stops redis-server for 3 periods in the middle.
    const continuous = async (store: boolean, outage: boolean) => {
      await servers.config({ expiresIn: settings.expiresIn, delayMs: 0 })
      const shared = config(store) // one key prefix for the whole fleet
      await all(members, (m) => m.configure(shared))
      await servers.reset()
      await all(members, (m) => m.run(settings.concurrency, settings.pauseMs))
      // Timed from the first token request, so the start-up of the processes does not count.
      const deadline = Date.now() + 10_000
      while ((await servers.stats()).tokenRequests === 0 && Date.now() < deadline) await sleep(10)
      const start = Date.now()
      const duration = settings.periods * settings.periodMs
      if (outage) {
        await sleep(1.5 * settings.periodMs)
        await redis.stop()
        await sleep(3 * settings.periodMs)
        await redis.start()
      }
      await sleep(start + duration - Date.now())
      const stats = sum(await all(members, (m) => m.stop()))
      const server = await servers.stats()
      const elapsed = Date.now() - start
      return {
        tokenRequests: server.tokenRequests,
        rotations: Math.ceil(elapsed / settings.periodMs),
        calls: stats.ok + stats.failed,
        failed: stats.failed + server.apiUnauthorized,
        seconds: round(elapsed / 1000, 1)
      }
    }
    const shared = await continuous(true, false)
    const alone = await continuous(false, false)
    const outage = await continuous(true, true)

    const perLifetime = (r: typeof shared) => round(r.tokenRequests / r.rotations, 2)
    const figures = {
      processes: settings.processes,
      coldBurstTokenRequests: Math.max(...burstRequests),
      coldBurstTokenRequestsPerRound: burstRequests,
      coldBurstCalls: settings.processes * settings.burst,
      coldBurstFailures: burstFailures,
      tokenRequestsPerLifetime: perLifetime(shared),
      withoutStoreTokenRequestsPerLifetime: perLifetime(alone),
      redisOutageFailures: outage.failed,
      runs: { shared, withoutStore: alone, outage: { ...outage, outageSeconds: (3 * settings.periodMs) / 1000 } },
      goal: { coldBurstTokenRequests: 1, tokenRequestsPerLifetime: 1, redisOutageFailures: 0 }
    }
    const s = "6 fleet"
    const rows: Array<Row> = [
      {
        scenario: s,
        figure: `token requests, ${settings.processes} processes × ${settings.burst} cold calls`,
        value: burstRequests.join(", "),
        goal: "1",
        ok: figures.coldBurstTokenRequests === 1 && burstFailures === 0
      },
      {
        scenario: s,
        figure: `token requests per lifetime, ${settings.processes} processes, Redis`,
        value: `${fmt(figures.tokenRequestsPerLifetime, 2)} (${shared.tokenRequests} in ${shared.rotations})`,
        goal: "1",
        ok: shared.tokenRequests <= shared.rotations && shared.failed === 0
      },
      {
        scenario: s,
        figure: "same run without a shared store",
        value: `${fmt(figures.withoutStoreTokenRequestsPerLifetime, 2)} (${alone.tokenRequests} in ${alone.rotations})`
      },
      {
        scenario: s,
        figure: `failed calls, redis-server down ${(3 * settings.periodMs) / 1000} s mid-run`,
        value: `${outage.failed} of ${fmt(outage.calls)} (${outage.tokenRequests} token requests)`,
        goal: "0",
        ok: outage.failed === 0
      }
    ]
    return { figures, rows }
  } finally {
    await fleet?.close()
    await redis.close()
  }
}
