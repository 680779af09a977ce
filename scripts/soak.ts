/**
 * `npm run soak`: many authenticated requests through `OAuth2HttpClient.layer` over undici against a loopback API,
 * while a loopback token endpoint (the fault server of @effect-oauth2/testing) hands out 3-second tokens and, every
 * few seconds, answers a token request with a fault instead: 503, a dropped connection, a brief stall, a stall past
 * the attempt timeout, 429 with `Retry-After: 1`. The API accepts only tokens the endpoint handed out recently.
 * Prints progress every few seconds and a summary: requests, failures by kind, token requests, faults met (token
 * requests the endpoint answered with a fault; a fault still queued at the end is not counted) and injected,
 * elapsed time, requests per second, heap before and after (after a GC).
 *
 *   SOAK_REQUESTS      total requests (default 1,000,000)
 *   SOAK_CONCURRENCY   requests in flight (default 64)
 *   SOAK_FAULT_EVERY   milliseconds between injected faults (default 2000)
 *   SOAK_PROGRESS      milliseconds between progress lines (default 5000)
 *
 * The token endpoint and the API run in a child process (this file, forked with the argument "servers"), so that
 * the client has a core of its own and the heap figures are the client's alone.
 *
 * Not part of the test command. Exit code 1 when any request failed or the API saw a token it did not accept.
 */
import { OAuth2HttpClient } from "@effect-oauth2/core"
import { type Fault, type FaultServer, listen, startFaultServer } from "@effect-oauth2/testing"
import { HttpClient, HttpClientError } from "@effect/platform"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { Effect, Layer, Logger, LogLevel, Redacted } from "effect"
import { type ChildProcess, fork } from "node:child_process"
import * as http from "node:http"
import { performance } from "node:perf_hooks"
import { fileURLToPath } from "node:url"
import * as v8 from "node:v8"
import * as vm from "node:vm"

const positive = (name: string, fallback: number): number => {
  const raw = process.env[name]
  if (raw === undefined || raw === "") return fallback
  const value = Number(raw.replace(/_/g, ""))
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, was ${raw}`)
  return value
}

const total = positive("SOAK_REQUESTS", 1_000_000)
const concurrency = positive("SOAK_CONCURRENCY", 64)
const faultEvery = positive("SOAK_FAULT_EVERY", 2_000)
const progressEvery = positive("SOAK_PROGRESS", 5_000)

/** Token lifetime the endpoint announces (expires_in). */
const TOKEN_SECONDS = 3
/** A new token value is handed out by the endpoint every ROTATE ms (each token request gets the current one). */
const ROTATE = 500

// ---------------------------------------------------------------------------------------------------------------
// GC and memory
// ---------------------------------------------------------------------------------------------------------------

const gc: (() => void) | undefined = (() => {
  const exposed = (globalThis as { gc?: () => void }).gc
  if (typeof exposed === "function") return exposed
  try {
    v8.setFlagsFromString("--expose-gc")
    const fromContext = vm.runInNewContext("gc") as unknown
    return typeof fromContext === "function" ? fromContext as () => void : undefined
  } catch {
    return undefined
  }
})()

const heapAfterGc = () => {
  if (gc !== undefined) {
    gc()
    gc()
  }
  return process.memoryUsage()
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`
const signed = (bytes: number) => `${bytes >= 0 ? "+" : "-"}${mb(Math.abs(bytes))}`

// ---------------------------------------------------------------------------------------------------------------
// The token endpoint: tokens that rotate, faults on a timer
// ---------------------------------------------------------------------------------------------------------------

/** When each token value became the one the endpoint hands out. */
const issuedAt = new Map<string, number>()
let tokenSerial = 0

const rotate = (server: FaultServer) => {
  const token = `soak-${++tokenSerial}-${Math.random().toString(36).slice(2, 10)}`
  issuedAt.set(token, Date.now())
  // forget tokens long dead, so the map stays small
  if (issuedAt.size > 64) issuedAt.delete(issuedAt.keys().next().value!)
  server.setDefault({ kind: "token", accessToken: token, expiresIn: TOKEN_SECONDS })
}

const faults: ReadonlyArray<readonly [string, Fault]> = [
  ["503", { kind: "json", status: 503, body: { error: "server_error", error_description: "soak fault" } }],
  ["drop", { kind: "drop" }],
  ["stall 300 ms", { kind: "stall", ms: 300 }],
  ["429 Retry-After 1", { kind: "retryAfter", status: 429, retryAfter: "1" }],
  ["stall past the timeout", { kind: "stall", ms: 1_500 }]
]
const faultsInjected = new Map<string, number>()
const faultNames = new Map<Fault, string>(faults.map(([name, fault]) => [fault, name]))

/** The faults the client met: token requests the endpoint answered with a scripted fault (not those still queued). */
const faultsMet = (server: FaultServer): Map<string, number> => {
  const met = new Map<string, number>()
  for (const request of server.requests()) {
    const name = faultNames.get(request.step)
    if (name !== undefined) met.set(name, (met.get(name) ?? 0) + 1)
  }
  return met
}

// ---------------------------------------------------------------------------------------------------------------
// The API: accepts a token the endpoint handed out less than its lifetime (plus the rotation period) ago
// ---------------------------------------------------------------------------------------------------------------

interface Api {
  readonly url: string
  readonly accepted: () => number
  readonly rejected: () => Map<string, number>
  readonly close: () => Promise<void>
}

const startApi = async (): Promise<Api> => {
  let accepted = 0
  const rejected = new Map<string, number>()
  const ok = Buffer.from("{\"ok\":true}")
  const server = http.createServer((req, res) => {
    req.resume()
    const header = req.headers.authorization
    const token = header?.startsWith("Bearer ") ? header.slice(7) : undefined
    const at = token === undefined ? undefined : issuedAt.get(token)
    const why = token === undefined
      ? "no bearer token"
      : at === undefined
      ? "a token the endpoint never issued"
      : Date.now() - at > TOKEN_SECONDS * 1_000 + ROTATE + 250
      ? "an expired token"
      : undefined
    if (why === undefined) {
      accepted++
      res.writeHead(200, { "content-type": "application/json", "content-length": ok.length })
      res.end(ok)
      return
    }
    rejected.set(why, (rejected.get(why) ?? 0) + 1)
    const body = JSON.stringify({ error: "invalid_token", error_description: why })
    res.writeHead(401, {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(body),
      "www-authenticate": `Bearer error="invalid_token", error_description="${why}"`
    })
    res.end(body)
  })
  server.keepAliveTimeout = 30_000
  const { close, url } = await listen(server)
  return { url, accepted: () => accepted, rejected: () => rejected, close }
}

// ---------------------------------------------------------------------------------------------------------------
// The child process: token endpoint and API, driven over IPC
// ---------------------------------------------------------------------------------------------------------------

interface ServerStats {
  readonly tokenRequests: number
  readonly tokenValues: number
  /** Faults the client met (answered with a fault), by kind. */
  readonly faults: ReadonlyArray<readonly [string, number]>
  /** Faults queued by the injector, by kind: some may still be waiting for a token request when the run ends. */
  readonly injected: ReadonlyArray<readonly [string, number]>
  readonly accepted: number
  readonly rejected: ReadonlyArray<readonly [string, number]>
}

type ToParent =
  | { readonly _tag: "ready"; readonly tokenUrl: string; readonly apiUrl: string }
  | { readonly _tag: "stats"; readonly stats: ServerStats; readonly final: boolean }

type ToChild = { readonly _tag: "stats" } | { readonly _tag: "stop" }

const servers = async () => {
  const send = (message: ToParent) => process.send!(message)
  const tokenEndpoint = await startFaultServer()
  const api = await startApi()
  rotate(tokenEndpoint)
  const rotation = setInterval(() => rotate(tokenEndpoint), ROTATE)
  let faultIndex = 0
  const injector = setInterval(() => {
    const [name, fault] = faults[faultIndex++ % faults.length]!
    faultsInjected.set(name, (faultsInjected.get(name) ?? 0) + 1)
    tokenEndpoint.script(fault)
  }, faultEvery)
  const stats = (): ServerStats => ({
    tokenRequests: tokenEndpoint.requests().length,
    tokenValues: tokenSerial,
    faults: [...faultsMet(tokenEndpoint)],
    injected: [...faultsInjected],
    accepted: api.accepted(),
    rejected: [...api.rejected()]
  })
  process.on("message", (message: ToChild) => {
    if (message._tag === "stats") {
      send({ _tag: "stats", stats: stats(), final: false })
      return
    }
    clearInterval(rotation)
    clearInterval(injector)
    const final = stats()
    void Promise.all([tokenEndpoint.close(), api.close()]).then(() => {
      send({ _tag: "stats", stats: final, final: true })
      process.disconnect()
    })
  })
  send({ _tag: "ready", tokenUrl: tokenEndpoint.tokenUrl, apiUrl: api.url })
}

interface Servers {
  readonly tokenUrl: string
  readonly apiUrl: string
  readonly stats: () => Promise<ServerStats>
  readonly stop: () => Promise<ServerStats>
}

/** Forks this file as the servers (the child inherits tsx's loader through `execArgv`). */
const startServers = () =>
  new Promise<Servers>((resolve, reject) => {
    const child: ChildProcess = fork(fileURLToPath(import.meta.url), ["servers"], {
      stdio: ["ignore", "inherit", "inherit", "ipc"]
    })
    const waiting: Array<(stats: ServerStats) => void> = []
    let finished: ((stats: ServerStats) => void) | undefined
    child.once("error", reject)
    child.once("exit", (code) => reject(new Error(`the soak servers exited early (${code})`)))
    child.on("message", (message: ToParent) => {
      if (message._tag === "ready") {
        resolve({
          tokenUrl: message.tokenUrl,
          apiUrl: message.apiUrl,
          stats: () =>
            new Promise<ServerStats>((done) => {
              waiting.push(done)
              child.send({ _tag: "stats" } satisfies ToChild)
            }),
          stop: () =>
            new Promise<ServerStats>((done) => {
              child.removeAllListeners("exit")
              finished = done
              child.send({ _tag: "stop" } satisfies ToChild)
            })
        })
      } else if (message.final) {
        finished?.(message.stats)
      } else {
        waiting.shift()?.(message.stats)
      }
    })
  })

// ---------------------------------------------------------------------------------------------------------------
// The load
// ---------------------------------------------------------------------------------------------------------------

const failures = new Map<string, number>()
const fail = (kind: string) => failures.set(kind, (failures.get(kind) ?? 0) + 1)
const sum = (entries: Iterable<readonly [string, number]>) => {
  let n = 0
  for (const [, count] of entries) n += count
  return n
}
const show = (entries: Iterable<readonly [string, number]>) => {
  const list = [...entries]
  return list.length === 0 ? "none" : list.map(([kind, n]) => `${kind}: ${n.toLocaleString("en")}`).join(", ")
}

const kindOf = (error: unknown): string => {
  if (HttpClientError.isHttpClientError(error)) {
    const cause = error.cause as { readonly _tag?: unknown } | undefined
    if (error._tag === "RequestError" && typeof cause?._tag === "string" && cause._tag !== "RequestError") {
      return `token ${cause._tag} (${error.reason})`
    }
    return `${error._tag} ${error.reason}`
  }
  return `other ${String(error).slice(0, 60)}`
}

let started = 0
let completed = 0
let warnings = 0
/** The heap is measured again after this many requests: what grows after it is not warm-up. */
const warmup = Math.min(10_000, Math.floor(total / 10))
let heapWarm: NodeJS.MemoryUsage | undefined

const client = async () => {
  const servers = await startServers()

  // the library's retry and background-refresh warnings are counted, not printed
  const countingLogger = Logger.make(() => {
    warnings++
  })
  const layer = OAuth2HttpClient.layer({
    tokenUrl: servers.tokenUrl,
    clientId: "soak-client",
    clientSecret: Redacted.make("soak-secret"),
    origins: [servers.apiUrl],
    timeout: "1 second"
  }).pipe(
    Layer.provide(NodeHttpClient.layerUndici),
    Layer.provide(Logger.replace(Logger.defaultLogger, countingLogger)),
    Layer.provide(Logger.minimumLogLevel(LogLevel.Warning))
  )

  console.log(
    `soak: ${total.toLocaleString("en")} requests, concurrency ${concurrency}, ${TOKEN_SECONDS} s tokens, ` +
      `a token endpoint fault every ${faultEvery} ms, GC ${gc === undefined ? "not available" : "available"}`
  )
  const heapBefore = heapAfterGc()
  const start = performance.now()
  let lastCompleted = 0
  let lastTime = start
  const progress = setInterval(() => {
    const now = performance.now()
    const rate = ((completed - lastCompleted) / (now - lastTime)) * 1000
    lastCompleted = completed
    lastTime = now
    void servers.stats().then((stats) =>
      console.log(
        `  ${((now - start) / 1000).toFixed(0).padStart(4)} s  ${completed.toLocaleString("en").padStart(9)} done  ` +
          `${rate.toFixed(0).padStart(6)} req/s  failures ${sum(failures)}  token requests ` +
          `${stats.tokenRequests}  faults met ${sum(stats.faults)}  API rejections ${sum(stats.rejected)}  heap ${
            mb(process.memoryUsage().heapUsed)
          }`
      )
    )
  }, progressEvery)

  const worker = (http: HttpClient.HttpClient) =>
    Effect.gen(function*() {
      while (started < total) {
        started++
        yield* http.get(`${servers.apiUrl}/hello`).pipe(
          Effect.flatMap((response) =>
            Effect.map(response.arrayBuffer, () => {
              if (response.status !== 200) fail(`HTTP ${response.status}`)
            })
          ),
          Effect.catchAll((error) => Effect.sync(() => fail(kindOf(error))))
        )
        completed++
        if (completed === warmup) heapWarm = heapAfterGc()
      }
    })

  const heapAfter = await Effect.runPromise(
    Effect.gen(function*() {
      const http = yield* HttpClient.HttpClient
      yield* Effect.all(Array.from({ length: concurrency }, () => worker(http)), { concurrency: "unbounded" })
      // measured with the layer still open: whatever the client keeps is counted
      return heapAfterGc()
    }).pipe(Effect.provide(layer))
  )
  const elapsed = (performance.now() - start) / 1000
  clearInterval(progress)
  const stats = await servers.stop()

  const failed = sum(failures)
  const rows: ReadonlyArray<readonly [string, string]> = [
    ["requests", completed.toLocaleString("en")],
    ["succeeded (HTTP 200)", (completed - failed).toLocaleString("en")],
    ["failures", `${failed.toLocaleString("en")} (${show(failures)})`],
    ["API accepted", stats.accepted.toLocaleString("en")],
    ["API rejections", `${sum(stats.rejected).toLocaleString("en")} (${show(stats.rejected)})`],
    ["token requests", `${stats.tokenRequests.toLocaleString("en")} (${stats.tokenValues} token values handed out)`],
    ["faults met", `${sum(stats.faults)} (${show(stats.faults)})`],
    ["faults injected", `${sum(stats.injected)} (queued; ${sum(stats.injected) - sum(stats.faults)} never met)`],
    ["library warnings", warnings.toLocaleString("en")],
    ["elapsed", `${elapsed.toFixed(1)} s`],
    ["requests / s", (completed / elapsed).toFixed(0)],
    ["client heap before (after GC)", mb(heapBefore.heapUsed)],
    ...(heapWarm !== undefined
      ? [[`client heap after ${warmup.toLocaleString("en")} requests`, mb(heapWarm.heapUsed)] as const]
      : []),
    [
      "client heap after (after GC)",
      `${mb(heapAfter.heapUsed)} (${signed(heapAfter.heapUsed - heapBefore.heapUsed)}${
        heapWarm !== undefined ? `; ${signed(heapAfter.heapUsed - heapWarm.heapUsed)} since the warm-up` : ""
      })`
    ],
    ["client rss before / after", `${mb(heapBefore.rss)} / ${mb(heapAfter.rss)}`]
  ]
  const width = Math.max(...rows.map(([name]) => name.length))
  console.log("\nsoak summary")
  for (const [name, value] of rows) console.log(`  ${name.padEnd(width)}  ${value}`)
  if (gc === undefined) console.log("  (no GC available: heap figures include garbage)")
  process.exitCode = failed > 0 || sum(stats.rejected) > 0 ? 1 : 0
}

const role = process.argv[2] === "servers" ? servers : client
role().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 2
})
