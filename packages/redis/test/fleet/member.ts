/**
 * One process of a test fleet (bundled and started by Fleet.ts): an authenticated HttpClient layer
 * (NodeOAuth2 over undici) with a RedisTokenStore, driven over IPC. `configure` replaces the layer, so a member
 * starts every scenario with a cold cache without a new process.
 */
import { OAuth2HttpClient } from "@effect-oauth2/core"
import { RedisTokenStore } from "@effect-oauth2/redis"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import { type CallStats, type Command, type MemberConfig, memberHeader, type Ready, type Reply } from "./protocol.js"

const member = process.env.FLEET_MEMBER ?? "?"

const layerOf = (config: MemberConfig) =>
  Layer.unwrapScoped(Effect.gen(function*() {
    const store = config.redis === undefined ? undefined : yield* RedisTokenStore.make({
      url: config.redis.url,
      prefix: config.redis.prefix,
      ...(config.redis.encryptionKey !== undefined
        ? { encryptionKey: Redacted.make(config.redis.encryptionKey) }
        : {}),
      ...(config.redis.commandTimeoutMs !== undefined ? { commandTimeout: config.redis.commandTimeoutMs } : {})
    }).pipe(Effect.orDie)
    if (store !== undefined) {
      // Ready means connected: wait (bounded) until Redis answers.
      yield* store.get("fleet-warmup").pipe(
        Effect.retry({ times: 50, schedule: Schedule.spaced("100 millis") }),
        Effect.ignore
      )
    }
    return OAuth2HttpClient.layer({
      tokenUrl: config.tokenUrl,
      clientId: config.clientId,
      clientSecret: Redacted.make(config.clientSecret),
      scopes: config.scopes,
      headers: { [memberHeader]: member },
      origins: [config.apiUrl],
      store,
      ...(config.leaseTtlMs !== undefined ? { leaseTtl: config.leaseTtlMs } : {}),
      ...(config.expiryGraceMs !== undefined ? { expiryGrace: config.expiryGraceMs } : {}),
      ...(config.refreshMarginMs !== undefined ? { refreshMargin: config.refreshMarginMs } : {}),
      ...(config.refreshAheadMs !== undefined ? { refreshAhead: config.refreshAheadMs } : {})
    })
  })).pipe(Layer.provide(NodeHttpClient.layerUndici))

type Runtime = ManagedRuntime.ManagedRuntime<HttpClient.HttpClient, unknown>

let runtime: Runtime | undefined
let apiUrl = ""
let running: { stop: boolean; done: Promise<CallStats> } | undefined

const newStats = () => ({ ok: 0, failed: 0, errors: [] as Array<string> })

/** One API call; any failure (a token error, a refused token, a transport error) counts as a failed call. */
const call = (stats: ReturnType<typeof newStats>) =>
  Effect.flatMap(HttpClient.HttpClient, (client) => client.get(apiUrl, { headers: { [memberHeader]: member } })).pipe(
    Effect.flatMap((response) =>
      response.status === 200 ? Effect.void : Effect.fail(new Error(`the API answered ${response.status}`))
    ),
    Effect.match({
      onFailure: (error) => {
        stats.failed++
        if (stats.errors.length < 5) stats.errors.push(String(error))
      },
      onSuccess: () => {
        stats.ok++
      }
    })
  )

const handle = async (command: Command): Promise<unknown> => {
  switch (command.op) {
    case "configure": {
      if (runtime !== undefined) await runtime.dispose()
      apiUrl = command.config.apiUrl
      const next: Runtime = ManagedRuntime.make(layerOf(command.config))
      await next.runPromise(Effect.void)
      runtime = next
      return true
    }
    case "burst": {
      const stats = newStats()
      await runtime!.runPromise(
        Effect.all(Array.from({ length: command.n }, () => call(stats)), { concurrency: "unbounded", discard: true })
      )
      return stats
    }
    case "run": {
      const stats = newStats()
      const state = { stop: false, done: Promise.resolve(stats) }
      const loop = Effect.gen(function*() {
        while (!state.stop) {
          yield* call(stats)
          yield* Effect.sleep(command.pauseMs)
        }
      })
      state.done = runtime!.runPromise(
        Effect.all(Array.from({ length: command.concurrency }, () => loop), { concurrency: "unbounded", discard: true })
      ).then(() => stats)
      running = state
      return true
    }
    case "stop": {
      const current = running
      running = undefined
      if (current === undefined) return newStats()
      current.stop = true
      return await current.done
    }
    case "exit": {
      if (runtime !== undefined) await runtime.dispose()
      setImmediate(() => process.exit(0))
      return true
    }
  }
}

process.on("message", (command: Command) => {
  handle(command).then(
    (result) => process.send!({ id: command.id, ok: true, result } satisfies Reply),
    (error: unknown) => process.send!({ id: command.id, ok: false, error: String(error) } satisfies Reply)
  )
})
// The harness going away (a failed test) ends the member too.
process.on("disconnect", () => process.exit(0))
process.send!({ ready: true, pid: process.pid } satisfies Ready)
