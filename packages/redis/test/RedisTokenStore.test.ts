import { ClientCredentials, Credentials, OAuth2Client, OAuth2Error, TokenStore } from "@effect-oauth2/core"
import { NodeOAuth2 } from "@effect-oauth2/platform-node"
import { RedisTokenStore } from "@effect-oauth2/redis"
import { clients, startAuthServer } from "@effect-oauth2/testing"
import { assert, describe, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as crypto from "node:crypto"
import { createClient } from "redis"
import { captureLogs, redisServer } from "./utils.js"

const cacheKey = JSON.stringify(["https://as.example/token", "svc", "client_secret_basic", ["api:read"], []])
const hash = crypto.createHash("sha256").update(cacheKey).digest("hex")

const credentials = (token: string, expiresAt = Date.now() + 60_000) =>
  new Credentials.Credentials({
    accessToken: Redacted.make(token),
    tokenType: "Bearer",
    scopes: ["api:read"],
    tokenEndpoint: "https://as.example/token",
    extra: {},
    issuedAt: Date.now(),
    expiresAt,
    expiresIn: 70
  })

const tokenOf = (stored: Option.Option<Credentials.Credentials>) =>
  Option.getOrUndefined(Option.map(stored, (c) => Redacted.value(c.accessToken)))

/** 32 random bytes, base64: an encryption key as `openssl rand -base64 32` makes one. */
const newKey = () => Redacted.make(crypto.randomBytes(32).toString("base64"))

const failureOf = <A, E>(exit: Exit.Exit<A, E>): E | undefined =>
  Exit.isFailure(exit) && exit.cause._tag === "Fail" ? exit.cause.error : undefined

describe("RedisTokenStore", () => {
  it.scopedLive("stores credentials JSON at <prefix><sha-256 of the cache key>, expiring with the token", () =>
    Effect.gen(function*() {
      const redis = yield* redisServer
      const store = yield* RedisTokenStore.make({ url: redis.url })
      assert.isTrue(Option.isNone(yield* store.get(cacheKey)))
      const written = credentials("tok-json", Date.now() + 60_000)
      yield* store.set(cacheKey, written)
      assert.strictEqual(RedisTokenStore.keys(cacheKey).token, `effect-oauth2:${hash}`)
      const raw = yield* Effect.promise(() => redis.cli("GET", `effect-oauth2:${hash}`))
      assert.strictEqual(JSON.parse(raw).accessToken, "tok-json", "no encryptionKey: the token is in clear")
      const ttl = Number(yield* Effect.promise(() => redis.cli("PTTL", `effect-oauth2:${hash}`)))
      assert.isTrue(ttl > 55_000 && ttl <= 60_000, `PTTL ${ttl}`)
      const read = Option.getOrThrow(yield* store.get(cacheKey))
      assert.strictEqual(Redacted.value(read.accessToken), "tok-json")
      assert.strictEqual(read.expiresAt, written.expiresAt)
      const other = yield* RedisTokenStore.make({ url: redis.url, prefix: "tenant-b:" })
      assert.isTrue(Option.isNone(yield* other.get(cacheKey)), "another prefix is another key space")
      yield* store.remove(cacheKey)
      assert.isTrue(Option.isNone(yield* store.get(cacheKey)))
    }))

  it.scopedLive("with an encryptionKey, redis-cli GET shows no token, and only a store with that key reads it", () =>
    Effect.gen(function*() {
      const redis = yield* redisServer
      const key = newKey()
      const store = yield* RedisTokenStore.make({ url: redis.url, encryptionKey: key })
      const token = "secret-access-token-Hq7"
      yield* store.set(cacheKey, credentials(token))
      const raw = yield* Effect.promise(() => redis.cli("GET", `effect-oauth2:${hash}`))
      assert.match(raw, /^v1\.[\w-]+\.[\w-]+$/)
      assert.notInclude(raw, token)
      assert.notInclude(raw, "accessToken")
      assert.notInclude(Buffer.from(raw.split(".")[2], "base64url").toString("latin1"), token)
      assert.strictEqual(tokenOf(yield* store.get(cacheKey)), token)

      // The same fleet member restarted with the same key reads it back.
      const again = yield* RedisTokenStore.make({ url: redis.url, encryptionKey: key })
      assert.strictEqual(tokenOf(yield* again.get(cacheKey)), token)

      // Another key, or no key, cannot: a logged miss that quotes nothing.
      for (const options of [{ encryptionKey: newKey() }, {}]) {
        const stranger = yield* RedisTokenStore.make({ url: redis.url, ...options })
        const { logs, value } = yield* captureLogs(stranger.get(cacheKey))
        assert.isTrue(Option.isNone(value))
        assert.strictEqual(logs.length, 1)
        assert.match(logs[0], /^WARN .*is not credentials this store can read/)
        assert.notInclude(logs[0], raw)
        assert.notInclude(logs[0], Redacted.value(key) as string)
      }

      // A value copied to another key does not decrypt there (the key is authenticated with it).
      const otherKey = JSON.stringify(["https://as.example/token", "svc", "client_secret_basic", ["api:write"], []])
      yield* Effect.promise(() => redis.cli("SET", RedisTokenStore.keys(otherKey).token, raw))
      assert.isTrue(Option.isNone((yield* captureLogs(store.get(otherKey))).value))

      // A plain JSON value planted while encryption is on is not trusted.
      const plain = yield* Effect.promise(async () => {
        const encoded = JSON.stringify({
          accessToken: "planted",
          tokenType: "Bearer",
          scopes: [],
          tokenEndpoint: "x",
          extra: {}
        })
        await redis.cli("SET", `effect-oauth2:${hash}`, encoded)
      }).pipe(Effect.zipRight(captureLogs(store.get(cacheKey))))
      assert.isTrue(Option.isNone(plain.value))
      assert.match(plain.logs[0], /not encrypted with this encryptionKey/)
    }))

  it.scopedLive("a corrupt or foreign value is a logged miss that quotes nothing of it", () =>
    Effect.gen(function*() {
      const redis = yield* redisServer
      const store = yield* RedisTokenStore.make({ url: redis.url })
      for (
        const value of ["garbage", `{"accessToken":"leaked-token-1","tokenType":"Bear`, `{"accessToken":"leaked-2"}`]
      ) {
        yield* Effect.promise(() => redis.cli("SET", `effect-oauth2:${hash}`, value))
        const { logs, value: read } = yield* captureLogs(store.get(cacheKey))
        assert.isTrue(Option.isNone(read), value)
        assert.strictEqual(logs.length, 1)
        assert.match(logs[0], /^WARN .*not credentials JSON.*treated as a miss/)
        assert.notInclude(logs[0], "leaked")
      }
      // A key of another type (a list) is a TokenStoreError (Redis's WRONGTYPE), not a crash.
      yield* Effect.promise(() => redis.cli("DEL", `effect-oauth2:${hash}`))
      yield* Effect.promise(() => redis.cli("LPUSH", `effect-oauth2:${hash}`, "x"))
      const error = failureOf(yield* Effect.exit(store.get(cacheKey)))
      assert.isTrue(TokenStore.isTokenStoreError(error))
      assert.include(error!.message, "WRONGTYPE")
    }))

  it.scopedLive("the lease: one of 20 concurrent takers gets it; release is compare-and-delete; it runs out by itself", () =>
    Effect.gen(function*() {
      const redis = yield* redisServer
      const stores = yield* Effect.all(Array.from({ length: 20 }, () => RedisTokenStore.make({ url: redis.url })))
      const leases = yield* Effect.forEach(stores, (s) => s.acquireLease(cacheKey, Duration.seconds(10)), {
        concurrency: "unbounded"
      })
      const granted = leases.filter(Option.isSome)
      assert.strictEqual(granted.length, 1)
      const leaseKey = RedisTokenStore.keys(cacheKey).lease
      assert.strictEqual(leaseKey, `effect-oauth2:${hash}:lease`)
      const ttl = Number(yield* Effect.promise(() => redis.cli("PTTL", leaseKey)))
      assert.isTrue(ttl > 9_000 && ttl <= 10_000, `PTTL ${ttl}`)
      // Someone else's lease (the first ran out and was taken over) is not released by the first holder.
      yield* Effect.promise(() => redis.cli("SET", leaseKey, "someone-else", "PX", "10000"))
      yield* granted[0].value.release
      assert.strictEqual(yield* Effect.promise(() => redis.cli("GET", leaseKey)), "someone-else")
      yield* Effect.promise(() => redis.cli("DEL", leaseKey))

      const short = Option.getOrThrow(yield* stores[0].acquireLease(cacheKey, Duration.millis(200)))
      assert.isTrue(Option.isNone(yield* stores[1].acquireLease(cacheKey, Duration.seconds(10))))
      yield* Effect.sleep("300 millis")
      const next = yield* stores[1].acquireLease(cacheKey, Duration.seconds(10))
      assert.isTrue(Option.isSome(next), "a lease past its time is free again")
      yield* short.release // late: must not free the new holder's lease
      assert.isTrue(Option.isNone(yield* stores[2].acquireLease(cacheKey, Duration.seconds(10))))
      yield* Option.getOrThrow(next).release
      assert.strictEqual(yield* Effect.promise(() => redis.cli("EXISTS", leaseKey)), "0")
    }))

  it.scopedLive("awaitNewer is woken by pub/sub the moment the holder stores the token", () =>
    Effect.gen(function*() {
      const redis = yield* redisServer
      // A poll interval of a minute: only the notification can wake the waiter in time.
      const waiter = yield* RedisTokenStore.make({ url: redis.url, pollInterval: "1 minute" })
      const holder = yield* RedisTokenStore.make({ url: redis.url })
      yield* holder.set(cacheKey, credentials("tok-1"))
      const lease = Option.getOrThrow(yield* holder.acquireLease(cacheKey, Duration.seconds(30)))
      const waiting = yield* Effect.fork(waiter.awaitNewer(cacheKey, Redacted.make("tok-1"), Duration.seconds(30)))
      yield* Effect.sleep("200 millis")
      const started = Date.now()
      yield* holder.set(cacheKey, credentials("tok-2"))
      const woken = yield* Fiber.join(waiting)
      assert.strictEqual(tokenOf(woken), "tok-2")
      assert.isBelow(Date.now() - started, 2_000)
      yield* lease.release

      // A release without a token wakes the waiter too, with nothing.
      const second = Option.getOrThrow(yield* holder.acquireLease(cacheKey, Duration.seconds(30)))
      const released = yield* Effect.fork(waiter.awaitNewer(cacheKey, Redacted.make("tok-2"), Duration.seconds(30)))
      yield* Effect.sleep("200 millis")
      yield* second.release
      assert.isTrue(Option.isNone(yield* Fiber.join(released)))
    }))

  it.scopedLive("removeIf deletes the stored token only if it is the one named (encrypted values too)", () =>
    Effect.gen(function*() {
      const redis = yield* redisServer
      const store = yield* RedisTokenStore.make({ url: redis.url, encryptionKey: newKey() })
      yield* store.set(cacheKey, credentials("tok-2"))
      assert.isFalse(yield* store.removeIf(cacheKey, Redacted.make("tok-1")))
      assert.strictEqual(tokenOf(yield* store.get(cacheKey)), "tok-2")
      assert.isTrue(yield* store.removeIf(cacheKey, Redacted.make("tok-2")))
      assert.isTrue(Option.isNone(yield* store.get(cacheKey)))
    }))

  it.scopedLive("Redis down: every call fails with a TokenStoreError within the timeout; after a restart it works", () =>
    Effect.gen(function*() {
      const redis = yield* redisServer
      const { logs } = yield* captureLogs(Effect.gen(function*() {
        // made inside the capture: the store logs outages through the runtime it was made in
        const store = yield* RedisTokenStore.make({ url: redis.url, commandTimeout: "500 millis" })
        yield* store.set(cacheKey, credentials("tok-1"))
        yield* Effect.promise(() => redis.stop())
        for (let i = 0; i < 3; i++) {
          const started = Date.now()
          const error = failureOf(yield* Effect.exit(store.get(cacheKey)))
          assert.isTrue(TokenStore.isTokenStoreError(error), String(error))
          // bounded by the command timeout (generous: a loaded machine may be slow to run the timer)
          assert.isBelow(Date.now() - started, 2_500, "bounded by the command timeout")
        }
        yield* Effect.sleep("400 millis")
        const started = Date.now()
        const error = failureOf(yield* Effect.exit(store.acquireLease(cacheKey, Duration.seconds(10))))
        assert.include(error!.message, "unreachable", "known down: fails at once")
        // under the 500 ms command timeout: it did not wait for Redis
        assert.isBelow(Date.now() - started, 450)
        yield* Effect.promise(() => redis.start())
        // node-redis reconnects by itself (backoff up to ~2 s)
        const back = yield* store.set(cacheKey, credentials("tok-2")).pipe(
          Effect.retry({ times: 50, schedule: Schedule.spaced("100 millis") }),
          Effect.either
        )
        assert.isTrue(back._tag === "Right", "writes work again")
        assert.strictEqual(tokenOf(yield* store.get(cacheKey)), "tok-2")
      }))
      assert.isTrue(logs.some((line) => /^WARN .*cannot reach Redis/.test(line)), logs.join("\n"))
      assert.isTrue(logs.some((line) => /^INFO .*reachable again/.test(line)), logs.join("\n"))
    }))

  it.scopedLive("a Redis that is down at start does not fail make: the store connects when Redis comes up", () =>
    Effect.gen(function*() {
      const redis = yield* redisServer
      yield* Effect.promise(() => redis.stop())
      const { value: store } = yield* captureLogs(
        RedisTokenStore.make({ url: redis.url, commandTimeout: "200 millis" })
      )
      assert.isTrue(Exit.isFailure(yield* Effect.exit(store.get(cacheKey))))
      yield* Effect.promise(() => redis.start())
      const read = yield* store.get(cacheKey).pipe(
        Effect.retry({ times: 50, schedule: Schedule.spaced("100 millis") }),
        Effect.either
      )
      assert.isTrue(read._tag === "Right")
    }))

  it.scopedLive("a client the application already has is used as it is, and not closed by the store", () =>
    Effect.gen(function*() {
      const redis = yield* redisServer
      const client = createClient({ url: redis.url })
      yield* Effect.acquireRelease(Effect.promise(() => client.connect()), () => Effect.sync(() => client.destroy()))
      yield* Effect.scoped(Effect.gen(function*() {
        const store = yield* RedisTokenStore.make({ client })
        yield* store.set(cacheKey, credentials("tok-own"))
      }))
      assert.isTrue(client.isReady, "still open after the store's scope closed")
      assert.strictEqual(
        JSON.parse((yield* Effect.promise(() => client.get(`effect-oauth2:${hash}`)))!).accessToken,
        "tok-own"
      )
    }))

  it.effect("bad options are ConfigurationErrors that quote no secret", () =>
    Effect.gen(function*() {
      const secretUrl = "http://user:hunter2@redis.internal:6379"
      const badUrl = failureOf(yield* Effect.exit(Effect.scoped(RedisTokenStore.make({ url: secretUrl }))))
      assert.isTrue(OAuth2Error.isOAuth2Error(badUrl) && badUrl._tag === "ConfigurationError")
      assert.notInclude(badUrl!.message, "hunter2")
      const short = Redacted.make(crypto.randomBytes(16).toString("base64"))
      const badKey = failureOf(
        yield* Effect.exit(Effect.scoped(RedisTokenStore.make({ url: "redis://127.0.0.1:1", encryptionKey: short })))
      )
      assert.include(badKey!.message, "32 bytes (256 bits), got 16")
      assert.notInclude(badKey!.message, Redacted.value(short) as string)
      const notBase64 = failureOf(
        yield* Effect.exit(
          Effect.scoped(RedisTokenStore.make({ url: "redis://127.0.0.1:1", encryptionKey: Redacted.make("!!!") }))
        )
      )
      assert.include(notBase64!.message, "base64")
      const missing = failureOf(yield* Effect.exit(Effect.scoped(RedisTokenStore.make({}))))
      assert.include(missing!.message, "give a Redis URL or a client")
    }))

  it.scopedLive("layerConfig reads OAUTH2_REDIS_URL, OAUTH2_REDIS_PREFIX, OAUTH2_REDIS_ENCRYPTION_KEY", () =>
    Effect.gen(function*() {
      const redis = yield* redisServer
      const key = newKey()
      const provider = ConfigProvider.fromMap(
        new Map([
          ["OAUTH2_REDIS_URL", redis.url],
          ["OAUTH2_REDIS_PREFIX", "svc-a:"],
          ["OAUTH2_REDIS_ENCRYPTION_KEY", Redacted.value(key) as string]
        ])
      )
      yield* Effect.flatMap(RedisTokenStore.RedisTokenStore, (store) => store.set(cacheKey, credentials("tok-config")))
        .pipe(
          Effect.provide(RedisTokenStore.layerConfig().pipe(Layer.provide(Layer.setConfigProvider(provider))))
        )
      const raw = yield* Effect.promise(() => redis.cli("GET", `svc-a:${hash}`))
      assert.match(raw, /^v1\./)
      const missing = yield* Effect.exit(
        Effect.scoped(
          Layer.build(
            RedisTokenStore.layerConfig().pipe(
              Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map())))
            )
          )
        )
      )
      assert.include(String(failureOf(missing)), "OAUTH2_REDIS_URL")
    }))

  it.scopedLive("different scopes never share a token: separate keys and separate token requests (oidc-provider)", () =>
    Effect.gen(function*() {
      const redis = yield* redisServer
      const auth = yield* Effect.acquireRelease(
        Effect.promise(() => startAuthServer()),
        (server) => Effect.promise(() => server.close())
      )
      const store = yield* RedisTokenStore.make({ url: redis.url })
      const options = (scopes: ReadonlyArray<string>) => ({
        tokenUrl: auth.tokenEndpoint,
        clientId: clients.basic.id,
        clientSecret: Redacted.make(clients.basic.secret),
        scopes,
        store
      })
      const tokenWith = (scopes: ReadonlyArray<string>) =>
        Effect.scoped(
          Effect.flatMap(OAuth2Client.OAuth2Client, (client) => client.token.get).pipe(
            Effect.provide(NodeOAuth2.layer(options(scopes)))
          )
        )
      const read = yield* tokenWith(["api:read"])
      const write = yield* tokenWith(["api:write"])
      assert.strictEqual(auth.tokenRequests(), 2)
      assert.notStrictEqual(Redacted.value(read.accessToken), Redacted.value(write.accessToken))
      const claims = (c: Credentials.Credentials) =>
        JSON.parse(Buffer.from(Redacted.value(c.accessToken).split(".")[1], "base64url").toString())
      assert.strictEqual(claims(read).scope, "api:read")
      assert.strictEqual(claims(write).scope, "api:write")
      const [readKey, writeKey] = yield* Effect.all([
        ClientCredentials.cacheKey(options(["api:read"])),
        ClientCredentials.cacheKey(options(["api:write"]))
      ])
      assert.notStrictEqual(RedisTokenStore.keys(readKey).token, RedisTokenStore.keys(writeKey).token)
      const stored = (yield* Effect.promise(() => redis.cli("KEYS", "effect-oauth2:*"))).split("\n").sort()
      assert.deepStrictEqual(stored, [RedisTokenStore.keys(readKey).token, RedisTokenStore.keys(writeKey).token].sort())
      assert.notInclude(readKey, clients.basic.secret, "the secret is never part of the key")
      // The same scopes again (another process, another layer): adopted from Redis, no request.
      const again = yield* tokenWith(["api:read"])
      assert.strictEqual(Redacted.value(again.accessToken), Redacted.value(read.accessToken))
      assert.strictEqual(auth.tokenRequests(), 2)
    }))
})
