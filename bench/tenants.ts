/**
 * Scenario `tenants`: one process calls the API for 10,000 tenants through a KeyedClient with capacity 1,000
 * (each tenant its own client and token: the audience differs). Heap (after full GC) with 1,000 tenants open, per
 * 1,000 tenants, and again after all 10,000 (bounded by the capacity); token requests made.
 */
import { KeyedClient } from "@effect-oauth2/core"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { performance } from "node:perf_hooks"
import { call, clientId, clientSecret, round, type Servers, settledHeap } from "./lib.js"
import { bytes, fmt, type Row, type ScenarioResult } from "./report.js"

export interface Settings {
  readonly tenants: number
  readonly capacity: number
  readonly concurrency: number
}

export const defaults: Settings = { tenants: 10_000, capacity: 1_000, concurrency: 32 }

export const run = async (servers: Servers, settings: Settings = defaults): Promise<ScenarioResult<unknown>> => {
  await servers.config({ expiresIn: 3600, delayMs: 0 })
  await servers.reset()
  const program = Effect.gen(function*() {
    const before = yield* Effect.promise(settledHeap)
    const tenants = yield* KeyedClient.make({
      options: (tenant: string) => ({
        tokenUrl: servers.tokenUrl,
        clientId,
        clientSecret: Redacted.make(clientSecret),
        scopes: ["read", "write"],
        params: { audience: `https://${tenant}.api.example` },
        origins: [servers.apiUrl]
      }),
      capacity: settings.capacity,
      idleTimeToLive: "1 hour"
    })
    let next = 0
    let most = 0
    const visit = (count: number) =>
      Effect.forEach(
        Array.from({ length: settings.concurrency }),
        () =>
          Effect.gen(function*() {
            while (next < count) {
              const tenant = `tenant-${next++}`
              yield* call(tenants.httpClient(tenant), servers.protectedUrl)
              most = Math.max(most, (yield* tenants.keys).length)
            }
          }),
        { concurrency: "unbounded", discard: true }
      )
    const started = performance.now()
    yield* visit(settings.capacity)
    const atCapacity = yield* Effect.promise(settledHeap)
    yield* visit(settings.tenants)
    const seconds = (performance.now() - started) / 1000
    const after = yield* Effect.promise(settledHeap)
    const open = (yield* tenants.keys).length
    return { before, atCapacity, after, open, most, seconds }
  }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici))

  const r = await Effect.runPromise(program)
  const stats = await servers.stats()
  const perThousand = ((r.atCapacity - r.before) / settings.capacity) * 1000
  const figures = {
    tenants: settings.tenants,
    capacity: settings.capacity,
    heapBytesPerThousand: Math.round(perThousand),
    heapBeforeBytes: r.before,
    heapAtCapacityBytes: r.atCapacity,
    heapAfterAllBytes: r.after,
    heapGrowthPastCapacityBytes: r.after - r.atCapacity,
    mostClientsOpen: r.most,
    clientsOpenAtEnd: r.open,
    tokenRequests: stats.tokenRequests,
    apiUnauthorized: stats.apiUnauthorized,
    seconds: round(r.seconds, 1),
    goal: { mostClientsOpen: `<= ${settings.capacity}`, tokenRequests: settings.tenants }
  }
  const s = "7 tenants"
  const rows: Array<Row> = [
    { scenario: s, figure: `heap per 1,000 tenants (clients open, token cached)`, value: bytes(perThousand) },
    {
      scenario: s,
      figure: `heap after ${fmt(settings.tenants)} tenants vs at ${fmt(settings.capacity)}`,
      value: `${bytes(r.after)} vs ${bytes(r.atCapacity)}`
    },
    {
      scenario: s,
      figure: `most clients open (capacity ${fmt(settings.capacity)})`,
      value: fmt(r.most),
      goal: `<= ${fmt(settings.capacity)}`,
      ok: r.most <= settings.capacity
    },
    {
      scenario: s,
      figure: `token requests for ${fmt(settings.tenants)} tenants`,
      value: `${fmt(stats.tokenRequests)} (${fmt(r.seconds, 1)} s)`,
      goal: fmt(settings.tenants),
      ok: stats.tokenRequests === settings.tenants && stats.apiUnauthorized === 0
    }
  ]
  return { figures, rows }
}
