/** The bench's client-side harness: the server process, the layers under test, load loops and statistics. */
import { type OAuth2Client, OAuth2HttpClient } from "@effect-oauth2/core"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as MetricState from "effect/MetricState"
import * as Redacted from "effect/Redacted"
import { type ChildProcess, fork } from "node:child_process"
import { performance } from "node:perf_hooks"
import * as v8 from "node:v8"
import { runInNewContext } from "node:vm"
import { clientId, clientSecret, type Command, type Ready, type Stats, type TokenLogEntry } from "./protocol.js"

export { clientId, clientSecret }

/** Wall-clock milliseconds with sub-millisecond resolution, comparable with the server process's log. */
export const now = (): number => performance.timeOrigin + performance.now()

type Request = Command extends infer C ? C extends { readonly id: number } ? Omit<C, "id"> : never : never

export interface Servers {
  readonly tokenUrl: string
  readonly apiUrl: string
  /** `GET` this with a bearer token: 200, or 401 without one. */
  readonly protectedUrl: string
  /** `GET` this without any header: the same 200 body. */
  readonly publicUrl: string
  readonly config: (settings: { readonly expiresIn?: number; readonly delayMs?: number }) => Promise<void>
  readonly stats: () => Promise<Stats>
  readonly reset: () => Promise<void>
  readonly tokenLog: () => Promise<ReadonlyArray<TokenLogEntry>>
  readonly close: () => Promise<void>
}

/** Forks servers.ts (the child inherits tsx's loader through `execArgv`) and waits until it listens. */
export const startServers = async (): Promise<Servers> => {
  const child: ChildProcess = fork(new URL("./servers.ts", import.meta.url), [], {
    stdio: ["ignore", "inherit", "inherit", "ipc"]
  })
  const pending = new Map<number, (result: unknown) => void>()
  let nextId = 0
  const ready = await new Promise<Ready>((resolve, reject) => {
    child.once("error", reject)
    child.once("exit", (code) => reject(new Error(`the bench servers exited early (${code})`)))
    child.on("message", (message: Ready | { readonly id: number; readonly result: unknown }) => {
      if ("ready" in message) resolve(message)
      else {
        pending.get(message.id)?.(message.result)
        pending.delete(message.id)
      }
    })
  })
  child.removeAllListeners("exit")
  const call = <A>(request: Request): Promise<A> =>
    new Promise<A>((resolve) => {
      const id = nextId++
      pending.set(id, resolve as (result: unknown) => void)
      child.send({ ...request, id })
    })
  return {
    tokenUrl: ready.tokenUrl,
    apiUrl: ready.apiUrl,
    protectedUrl: `${ready.apiUrl}/protected`,
    publicUrl: `${ready.apiUrl}/public`,
    config: (settings) => call({ op: "config", ...settings }),
    stats: () => call({ op: "stats" }),
    reset: () => call({ op: "reset" }),
    tokenLog: () => call({ op: "tokenLog" }),
    close: async () => {
      const exited = new Promise((resolve) => child.once("exit", resolve))
      await call({ op: "close" })
      await exited
    }
  }
}

/** The options every scenario gives this library: client_secret_basic, two scopes, the API as the only origin. */
export const authOptions = (servers: Servers) => ({
  tokenUrl: servers.tokenUrl,
  clientId,
  clientSecret: Redacted.make(clientSecret),
  scopes: ["read", "write"],
  origins: [servers.apiUrl]
})

/** The plain undici HttpClient of @effect/platform-node (its own Agent). */
export const Plain: Layer.Layer<HttpClient.HttpClient> = NodeHttpClient.layerUndici

/** This library's authenticated HttpClient over its own undici HttpClient. */
export const Authenticated = (servers: Servers, extra: Partial<OAuth2Client.Options> = {}) =>
  OAuth2HttpClient.layer({ ...authOptions(servers), ...extra }).pipe(Layer.provide(NodeHttpClient.layerUndici))

/** One request, body read; fails on a non-200 status so that a broken run cannot pass for a fast one. */
export const call = (client: HttpClient.HttpClient, url: string) =>
  Effect.flatMap(client.get(url), (response) =>
    Effect.flatMap(response.text, (text) =>
      response.status === 200
        ? Effect.succeed(text)
        : Effect.dieMessage(`${url} answered ${response.status}: ${text}`)))

/** `concurrency` loops calling `url` until `until` (performance.now() ms); returns the number of requests made. */
export const loopUntil = (client: HttpClient.HttpClient, url: string, concurrency: number, until: number) =>
  Effect.map(
    Effect.forEach(
      Array.from({ length: concurrency }),
      () =>
        Effect.gen(function*() {
          let n = 0
          while (performance.now() < until) {
            yield* call(client, url)
            n++
          }
          return n
        }),
      { concurrency: "unbounded" }
    ),
    (counts) => counts.reduce((a, b) => a + b, 0)
  )

/** `concurrency` loops sharing `total` requests to `url`. */
export const loopCount = (client: HttpClient.HttpClient, url: string, concurrency: number, total: number) => {
  let left = total
  return Effect.forEach(
    Array.from({ length: concurrency }),
    () =>
      Effect.gen(function*() {
        while (left > 0) {
          left--
          yield* call(client, url)
        }
      }),
    { concurrency: "unbounded", discard: true }
  )
}

/** The value of one of the library's counters (`oauth2_token_cache_hits`, ...), summed over tags. */
export const counter = (name: string): Effect.Effect<number> =>
  Effect.map(
    Metric.snapshot,
    (pairs) =>
      pairs.reduce(
        (sum, pair) =>
          pair.metricKey.name === name && MetricState.isCounterState(pair.metricState)
            ? sum + Number(pair.metricState.count)
            : sum,
        0
      )
  )

// ---------------------------------------------------------------------------------------------------------------
// statistics

export const sorted = (values: ReadonlyArray<number>): Array<number> => [...values].sort((a, b) => a - b)

/** Nearest-rank percentile of sorted values. */
export const percentile = (ascending: ReadonlyArray<number>, p: number): number =>
  ascending.length === 0 ? NaN : ascending[Math.min(ascending.length - 1, Math.ceil((p / 100) * ascending.length) - 1)]

export const median = (values: ReadonlyArray<number>): number => {
  const s = sorted(values)
  if (s.length === 0) return NaN
  const mid = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2
}

export const round = (value: number, digits = 2): number => {
  const f = 10 ** digits
  return Math.round(value * f) / f
}

// ---------------------------------------------------------------------------------------------------------------
// garbage collection

/**
 * `global.gc`: present under `--expose-gc`; otherwise the V8 flag is switched on at run time and `gc` taken from a
 * fresh context (a documented V8 behaviour), so `npm run bench` needs no extra flag.
 */
const gcFunction = (): () => void => {
  const existing = (globalThis as { gc?: () => void }).gc
  if (typeof existing === "function") return existing
  v8.setFlagsFromString("--expose-gc")
  return runInNewContext("gc") as () => void
}

/** Full collections until the heap stops shrinking; returns `heapUsed` after. */
export const settledHeap = async (): Promise<number> => {
  const gc = gcFunction()
  let last = Infinity
  for (let i = 0; i < 10; i++) {
    await new Promise((resolve) => setImmediate(resolve))
    gc()
    const used = process.memoryUsage().heapUsed
    if (Math.abs(last - used) < 16 * 1024) return used
    last = used
  }
  return last
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
