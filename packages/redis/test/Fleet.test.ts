/**
 * A fleet of 8 real Node processes sharing one redis-server (the test's own) and one loopback token endpoint that
 * counts requests. The processes are started once for the file; each test gives them a fresh client (cold cache)
 * and a key prefix of its own.
 */
import { ClientCredentials } from "@effect-oauth2/core"
import { RedisTokenStore } from "@effect-oauth2/redis"
import type { RedisServer } from "@effect-oauth2/testing"
import { assert, layer } from "@effect/vitest"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as crypto from "node:crypto"
import { all, type Fleet, fleet, type Member } from "./fleet/Fleet.js"
import { fleetServer } from "./fleet/FleetServer.js"
import type { CallStats, MemberConfig } from "./fleet/protocol.js"
import { redisServer } from "./utils.js"

class Env extends Context.Tag("test/FleetEnv")<Env, { readonly fleet: Fleet; readonly redis: RedisServer }>() {}

const EnvLive = Layer.scoped(
  Env,
  Effect.gen(function*() {
    const redis = yield* redisServer
    return { redis, fleet: yield* fleet(8) }
  })
)

const clientId = "fleet-service"
const clientSecret = "fleet-client-secret-Xv3"

/** A fresh token endpoint for the test (closed with it) and the members' configuration against it. */
const scenario = (overrides: Partial<MemberConfig> & { readonly encryptionKey?: string } = {}) =>
  Effect.gen(function*() {
    const { redis } = yield* Env
    const server = yield* fleetServer
    const prefix = `fleet-${crypto.randomBytes(4).toString("hex")}:`
    const config: MemberConfig = {
      tokenUrl: server.tokenUrl,
      apiUrl: server.apiUrl,
      clientId,
      clientSecret,
      scopes: ["api:read"],
      redis: {
        url: redis.url,
        prefix,
        commandTimeoutMs: 1_000,
        ...(overrides.encryptionKey !== undefined ? { encryptionKey: overrides.encryptionKey } : {})
      },
      ...overrides
    }
    return { server, config, prefix }
  })

const configureAll = (members: ReadonlyArray<Member>, config: MemberConfig | ((m: Member) => MemberConfig)) =>
  Effect.promise(() => all(members, (m) => m.configure(typeof config === "function" ? config(m) : config)))

const sum = (stats: ReadonlyArray<CallStats>) =>
  stats.reduce(
    (acc, s) => ({ ok: acc.ok + s.ok, failed: acc.failed + s.failed, errors: [...acc.errors, ...s.errors] }),
    { ok: 0, failed: 0, errors: [] as Array<string> }
  )

/** The members' log lines, for a failure message. */
const logsOf = (fleet: Fleet) => fleet.members.map((m) => `member ${m.index}:\n${m.output().slice(-2000)}`).join("\n")

const sleep = (ms: number) => Effect.promise(() => new Promise((resolve) => setTimeout(resolve, ms)))

/** Waits until `f` holds, polling every 20 ms; fails after `ms`. */
const until = (what: string, f: () => boolean, ms: number) =>
  Effect.promise(async () => {
    const deadline = Date.now() + ms
    while (!f()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  })

/**
 * Short tokens with a clean rotation: `expires_in` 4 s, no grace, 1 s margin and 1 s refresh-ahead, so a token is
 * replaced (in the background) 2 s after it was requested and stays usable until 3 s.
 */
const rotation = { expiresIn: 4, periodMs: 2_000 }
const rotating: Partial<MemberConfig> = { expiryGraceMs: 0, refreshMarginMs: 1_000, refreshAheadMs: 1_000 }

/**
 * Every member calls the API continuously (2 loops, 50 ms pauses) with rotating tokens; `start` is the arrival of
 * the first token request, so the start-up of the processes does not count.
 */
const continuousUse = (fleet: Fleet) =>
  Effect.gen(function*() {
    const { config, server } = yield* scenario(rotating)
    server.configure({ expiresIn: rotation.expiresIn })
    yield* configureAll(fleet.members, config)
    const first = server.nextTokenRequest()
    yield* Effect.promise(() => all(fleet.members, (m) => m.run(2, 50)))
    return { server, start: (yield* Effect.promise(() => first)).time }
  })

const cacheKeyOf = (config: MemberConfig) =>
  ClientCredentials.cacheKey({
    tokenUrl: config.tokenUrl,
    clientId: config.clientId,
    clientSecret: Redacted.make(config.clientSecret),
    scopes: config.scopes
  })

layer(EnvLive, { timeout: "120 seconds", excludeTestServices: true })("a fleet of 8 processes on Redis", (it) => {
  it.scoped("8 processes × 100 concurrent cold callers make 1 token request, and every call succeeds", () =>
    Effect.gen(function*() {
      const { fleet } = yield* Env
      const { config, server } = yield* scenario()
      server.configure({ delayMs: 200 })
      yield* configureAll(fleet.members, config)
      const stats = sum(yield* Effect.promise(() => all(fleet.members, (m) => m.burst(100))))
      assert.deepStrictEqual({ ok: stats.ok, failed: stats.failed }, { ok: 800, failed: 0 }, stats.errors.join("\n"))
      assert.strictEqual(server.tokenRequests().length, 1, logsOf(fleet))
      assert.strictEqual(new Set(server.apiCalls().map((c) => c.token)).size, 1)
      assert.strictEqual(server.apiUnauthorized(), 0)
    }))

  it.scoped("5 token lifetimes of continuous use across the 8 processes make 5 token requests", () =>
    Effect.gen(function*() {
      const { fleet } = yield* Env
      const { server, start } = yield* continuousUse(fleet)
      // The run lasts until the 5th token has been requested (5 lifetimes: the load of the machine delays each
      // refresh a little, so the time is not fixed), then a moment more, in which a duplicate would show.
      yield* until("the 5th token request", () => server.tokenRequests().length >= 5, 60_000)
      yield* sleep(rotation.periodMs / 4)
      const stats = sum(yield* Effect.promise(() => all(fleet.members, (m) => m.stop())))
      const requests = server.tokenRequests()
      assert.strictEqual(stats.failed, 0, stats.errors.join("\n"))
      assert.strictEqual(requests.length, 5, requests.map((r) => `${r.member}@${r.time - start}`).join(" "))
      // One per lifetime: consecutive requests about a rotation period apart, never two for one rotation.
      for (let i = 1; i < requests.length; i++) {
        const gap = requests[i].time - requests[i - 1].time
        assert.isAtLeast(gap, rotation.periodMs / 2, `gap ${i}: ${gap} ms`)
      }
      // Every process called the API with the shared tokens.
      assert.strictEqual(new Set(server.apiCalls().map((c) => c.member)).size, 8)
      assert.isTrue(server.apiCalls().every((c) => server.issued().includes(c.token)))
    }))

  it.scoped("the lease holder SIGKILLed mid-fetch is replaced within the lease time, and no caller fails", () =>
    Effect.gen(function*() {
      const { fleet } = yield* Env
      const leaseTtlMs = 2_000
      const { config, server } = yield* scenario({ leaseTtlMs })
      server.configure({ stallNext: true })
      yield* configureAll(fleet.members, config)
      const first = server.nextTokenRequest()
      const bursts = fleet.members.map((m) => m.burst(20).then((stats) => ({ member: m, stats })))
      const holder = (yield* Effect.promise(() => first)).member
      const victim = fleet.members[Number(holder)]
      yield* Effect.promise(() => victim.kill("SIGKILL"))
      const killedAt = Date.now()
      const settled = yield* Effect.promise(() => Promise.allSettled(bursts))
      const survivors = settled.flatMap((r) => r.status === "fulfilled" ? [r.value] : [])
      assert.strictEqual(survivors.length, 7, "only the killed member's burst is lost")
      const stats = sum(survivors.map((s) => s.stats))
      assert.deepStrictEqual({ ok: stats.ok, failed: stats.failed }, { ok: 140, failed: 0 }, stats.errors.join("\n"))
      const requests = server.tokenRequests()
      assert.strictEqual(requests.length, 2, "the dead holder's request and its replacement's")
      const replacedAfter = requests[1].time - requests[0].time
      // Its lease ran out 2 s after it was taken (a little before its request arrived); a duplicate would have
      // come within milliseconds. The margins absorb the load of a shared 2-core machine.
      assert.isAtLeast(replacedAfter, leaseTtlMs / 2, "the others waited for the lease, not a duplicate")
      assert.isBelow(replacedAfter, leaseTtlMs + 3_000, "and not much longer than the lease")
      assert.isBelow(Date.now() - killedAt, leaseTtlMs + 5_000)
      yield* Effect.promise(() => fleet.respawn(victim.index))
    }))

  it.scoped("redis-server stopped during the run: 0 failed requests; after its restart, coordination resumes", () =>
    Effect.gen(function*() {
      const { fleet, redis } = yield* Env
      const { server } = yield* continuousUse(fleet)
      const p = rotation.periodMs
      // Coordinated first: the cold start and one rotation, one token request each.
      yield* until("the 2nd token request", () => server.tokenRequests().length >= 2, 60_000)
      yield* sleep(p / 4)
      const coordinated = server.tokenRequests().length
      yield* Effect.promise(() => redis.stop())
      const stoppedAt = Date.now()
      yield* sleep(3 * p)
      const duringOutage = server.tokenRequests().filter((r) => r.time >= stoppedAt).length
      yield* Effect.promise(() => redis.start())
      const restartedAt = Date.now()
      // node-redis reconnects within ~2 s (its backoff), and at its next refresh each process adopts the shared
      // token: 4 periods leave room for a process that reconnects last.
      yield* sleep(4 * p)
      const settledFrom = Date.now()
      yield* sleep(2 * p)
      const stats = sum(yield* Effect.promise(() => all(fleet.members, (m) => m.stop())))
      assert.strictEqual(stats.failed, 0, stats.errors.join("\n"))
      assert.strictEqual(server.apiUnauthorized(), 0)
      assert.strictEqual(
        coordinated,
        2,
        `before the outage: one token per rotation for the fleet, got ${coordinated}\n${logsOf(fleet)}`
      )
      assert.isAtLeast(duringOutage, 8, "during the outage each process fetched its own")
      const requests = server.tokenRequests()
      const firstAfter = requests.findIndex((r) => r.time >= settledFrom)
      const after = requests.length - firstAfter
      assert.isAtLeast(firstAfter, 0, "a rotation happened in the last 2 periods")
      assert.isAtMost(after, 2, `after the restart: one request per rotation (${after} in 2 periods)`)
      // During the outage each process used a token of its own; once settled, every process uses the token of the
      // first rotation after settling (it was issued at least a period before the end).
      const shared = server.issued()[firstAfter]
      const users = new Set(server.apiCalls().filter((c) => c.token === shared).map((c) => c.member))
      assert.strictEqual(users.size, 8, "the fleet shares its tokens again")
      assert.isAbove(restartedAt, stoppedAt)
    }))

  it.scoped("a corrupt value in Redis is a logged miss: the fleet still makes 1 token request", () =>
    Effect.gen(function*() {
      const { fleet, redis } = yield* Env
      const { config, prefix, server } = yield* scenario()
      const key = RedisTokenStore.keys(yield* cacheKeyOf(config), prefix).token
      yield* Effect.promise(() => redis.cli("SET", key, "{\"accessToken\":\"corrupt-leaked-value\""))
      yield* configureAll(fleet.members, config)
      const before = fleet.members.map((m) => m.output().length)
      const stats = sum(yield* Effect.promise(() => all(fleet.members, (m) => m.burst(10))))
      assert.strictEqual(stats.failed, 0, stats.errors.join("\n"))
      assert.strictEqual(server.tokenRequests().length, 1)
      const logged = fleet.members.map((m, i) => m.output().slice(before[i])).join("")
      assert.match(logged, /is not credentials this store can read \(not credentials JSON\); treated as a miss/)
      assert.notInclude(logged, "corrupt-leaked-value")
      assert.notStrictEqual(
        yield* Effect.promise(() => redis.cli("GET", key)),
        "{\"accessToken\":\"corrupt-leaked-value\""
      )
    }))

  it.scoped("with encryption on, redis-cli GET shows no token, and no process output holds a token or the key", () =>
    Effect.gen(function*() {
      const { fleet, redis } = yield* Env
      const encryptionKey = crypto.randomBytes(32).toString("base64")
      const { config, prefix, server } = yield* scenario({ encryptionKey })
      yield* configureAll(fleet.members, config)
      const stats = sum(yield* Effect.promise(() => all(fleet.members, (m) => m.burst(10))))
      assert.strictEqual(stats.failed, 0, stats.errors.join("\n"))
      assert.strictEqual(server.tokenRequests().length, 1)
      const [token] = server.issued()
      const key = RedisTokenStore.keys(yield* cacheKeyOf(config), prefix).token
      const raw = yield* Effect.promise(() => redis.cli("GET", key))
      assert.match(raw, /^v1\.[\w-]+\.[\w-]+$/)
      assert.notInclude(raw, token)
      assert.notInclude(raw, "accessToken")
      const output = fleet.members.map((m) => m.output()).join("")
      for (const secret of [...server.issued(), encryptionKey, clientSecret]) assert.notInclude(output, secret)
    }))

  it.scoped("different scopes get different tokens: 4 processes with one scope, 4 with another, 2 token requests", () =>
    Effect.gen(function*() {
      const { fleet } = yield* Env
      const { config, server } = yield* scenario()
      yield* configureAll(
        fleet.members,
        (m) => ({ ...config, scopes: m.index % 2 === 0 ? ["api:read"] : ["api:write"] })
      )
      const stats = sum(yield* Effect.promise(() => all(fleet.members, (m) => m.burst(20))))
      assert.strictEqual(stats.failed, 0, stats.errors.join("\n"))
      const requests = server.tokenRequests()
      assert.deepStrictEqual(requests.map((r) => r.scope).sort(), ["api:read", "api:write"])
      const tokenOf = (even: boolean) =>
        new Set(server.apiCalls().filter((c) => (Number(c.member) % 2 === 0) === even).map((c) => c.token))
      const [read, write] = [tokenOf(true), tokenOf(false)]
      assert.strictEqual(read.size, 1)
      assert.strictEqual(write.size, 1)
      assert.notDeepEqual([...read], [...write])
      // the scope of each token request matches the members that used its token
      const issuedFor = new Map(requests.map((r, i) => [server.issued()[i], r.scope]))
      assert.strictEqual(issuedFor.get([...read][0]), "api:read")
      assert.strictEqual(issuedFor.get([...write][0]), "api:write")
    }))

  it.scoped("the members are 8 separate live processes", () =>
    Effect.gen(function*() {
      const { fleet } = yield* Env
      const pids = new Set(fleet.members.map((m) => m.pid))
      assert.strictEqual(pids.size, 8)
      assert.isFalse(pids.has(process.pid))
      assert.strictEqual(fleet.alive().length, 8)
    }))
})
