import { Credentials, OAuth2Error, TokenStore } from "@effect-oauth2/core"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Runtime from "effect/Runtime"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as crypto from "node:crypto"
import { createClient, type RedisClientType } from "redis"
import type { Options as RedisTokenStoreOptions } from "../RedisTokenStore.js"
import * as encryption from "./encryption.js"

/** Any node-redis client, whatever its modules, scripts and RESP version. @internal */
export type AnyRedisClient = RedisClientType<any, any, any, any, any>

/** @internal */
export type Options = RedisTokenStoreOptions

/** @internal */
export const defaults = {
  prefix: "effect-oauth2:",
  commandTimeout: Duration.millis(500),
  pollInterval: Duration.millis(250),
  /** How long Redis keeps credentials without `expiresAt` (the lifecycle decides their use; this only cleans up). */
  ttlWithoutExpiry: Duration.hours(1)
}

/** @internal */
export const hashOf = (cacheKey: string): string => crypto.createHash("sha256").update(cacheKey, "utf8").digest("hex")

/** @internal */
export const keysOf = (cacheKey: string, prefix: string = defaults.prefix) => {
  const hash = hashOf(cacheKey)
  return { hash, token: `${prefix}${hash}`, lease: `${prefix}${hash}:lease`, channel: `${prefix}notify` }
}

// Lua runs atomically in Redis: a write and its notification, and the compare-and-delete of a lease or a token.
const setAndNotify = "redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) redis.call('PUBLISH', ARGV[3], ARGV[4]) " +
  "return 1"
const releaseAndNotify = "if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) " +
  "redis.call('PUBLISH', ARGV[2], ARGV[3]) return 1 end return 0"
const deleteIfEqual = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"

const encodeJson = Schema.encodeEither(Credentials.FromJson)
const decodeJson = Schema.decodeEither(Credentials.FromJson)

type Operation = TokenStore.TokenStoreError["operation"]

/**
 * What went wrong, without the command's arguments (which hold the token): node-redis messages are fixed texts,
 * socket errors name the address, and Redis's own replies (`NOAUTH ...`, `OOM ...`) name the problem.
 */
const describe = (cause: unknown): string => {
  const message = cause instanceof Error ? cause.message : String(cause)
  return message.length > 200 ? `${message.slice(0, 200)}…` : message
}

/**
 * Resumes after the I/O that is already waiting has been handled. Node runs due timers before it reads sockets,
 * so after an event-loop stall longer than the timeout the timer would otherwise fire before a reply that has long
 * arrived: the timeout waits for this before it fails the command.
 */
const afterPendingIo: Effect.Effect<void> = Effect.async((resume) => {
  const handle = setImmediate(() => resume(Effect.void))
  return Effect.sync(() => clearImmediate(handle))
})

const invalidUrl = new OAuth2Error.ConfigurationError({
  reason: "url: expected redis://[[user][:password]@]host[:port][/db] or rediss://... (TLS)"
})

/** @internal */
export const make = (
  options: Options
): Effect.Effect<TokenStore.Coordinated, OAuth2Error.ConfigurationError, Scope.Scope> =>
  Effect.gen(function*() {
    const prefix = options.prefix ?? defaults.prefix
    const timeout = Duration.toMillis(options.commandTimeout ?? defaults.commandTimeout)
    const pollInterval = Duration.toMillis(options.pollInterval ?? defaults.pollInterval)
    const cipher = options.encryptionKey === undefined ? undefined : yield* encryption.make(options.encryptionKey)
    const runFork = Runtime.runFork(yield* Effect.runtime<never>())

    // The client: the application's own (used as it is: it connects and closes it), or one this store owns.
    const client: AnyRedisClient = options.client ?? (yield* Effect.acquireRelease(
      Effect.gen(function*() {
        if (options.url === undefined) {
          return yield* new OAuth2Error.ConfigurationError({ reason: "url: give a Redis URL or a client" })
        }
        const url = options.url
        if (!/^rediss?:\/\//i.test(url)) return yield* invalidUrl
        const owned = yield* Effect.try({
          try: () => createClient({ url }) as unknown as AnyRedisClient,
          catch: () => invalidUrl
        })
        // Logged when Redis goes away and when it is back, not on every reconnection attempt.
        let reachable = true
        owned.on("error", (cause: unknown) => {
          if (!reachable) return
          reachable = false
          runFork(
            Effect.logWarning(
              `OAuth2 Redis token store: cannot reach Redis (${describe(cause)}); ` +
                "each process fetches its own tokens until it is back"
            )
          )
        })
        owned.on("ready", () => {
          if (reachable) return
          reachable = true
          runFork(Effect.logInfo("OAuth2 Redis token store: Redis is reachable again; processes share tokens again"))
        })
        // Not awaited: a Redis that is down at start must not hold the service up. Commands sent before it is
        // ready wait in node-redis's queue, within their timeout.
        owned.connect().catch(() => undefined)
        return owned
      }),
      (owned) => Effect.sync(() => owned.destroy())
    ))

    // Notifications of new tokens and released leases arrive on a connection of their own (a subscribed
    // connection cannot send commands). node-redis subscribes again after each reconnection.
    const wakers = new Map<string, Set<() => void>>()
    const { channel } = keysOf("", prefix)
    yield* Effect.acquireRelease(
      Effect.sync(() => {
        const subscriber = client.duplicate()
        subscriber.on("error", () => undefined) // reported by the main client
        subscriber.connect().catch(() => undefined)
        subscriber.subscribe(channel, (message: string) => wakers.get(message)?.forEach((wake) => wake())).catch(
          () => undefined
        )
        return subscriber
      }),
      (subscriber) => Effect.sync(() => subscriber.destroy())
    )

    // Once Redis has been unreachable for longer than a command may take, commands fail at once instead of each
    // waiting out its timeout.
    let unreadySince: number | undefined
    const now = Effect.clockWith((clock) => clock.currentTimeMillis)
    const command = <A>(operation: Operation, what: string, args: ReadonlyArray<string>) =>
      Effect.flatMap(now, (t) => {
        if (client.isReady) unreadySince = undefined
        else if (unreadySince === undefined) unreadySince = t
        else if (t - unreadySince > timeout) {
          return Effect.fail(
            new TokenStore.TokenStoreError({
              operation,
              description: `Redis has been unreachable for ${Math.round((t - unreadySince) / 1000)} s`
            })
          )
        }
        const reply = Effect.tryPromise({
          try: (signal) => client.sendCommand(args, { abortSignal: signal }) as Promise<A>,
          catch: (cause) =>
            new TokenStore.TokenStoreError({ operation, description: `Redis ${what} failed: ${describe(cause)}` })
        })
        const timedOut = Effect.sleep(timeout).pipe(
          Effect.zipRight(afterPendingIo),
          Effect.zipRight(Effect.fail(
            new TokenStore.TokenStoreError({
              operation,
              description: `Redis did not answer ${what} within ${timeout} ms (check that it is up and reachable)`
            })
          ))
        )
        return Effect.raceFirst(reply, timedOut)
      })

    const encode = (credentials: Credentials.Credentials, redisKey: string) =>
      Either.match(encodeJson(credentials), {
        onLeft: () =>
          Effect.fail(
            new TokenStore.TokenStoreError({ operation: "set", description: "cannot encode the credentials" })
          ),
        onRight: (json) =>
          cipher === undefined ? Effect.succeed(json) : cipher.encrypt(json, redisKey).pipe(
            Effect.mapError(() =>
              new TokenStore.TokenStoreError({ operation: "set", description: "cannot encrypt the credentials" })
            )
          )
      })

    // A value this store cannot read (not JSON, not credentials, not encrypted with this key, or plain JSON while
    // encryption is on) is a miss with a warning that never quotes it.
    const decode = (raw: string, redisKey: string): Effect.Effect<Option.Option<Credentials.Credentials>> =>
      Effect.gen(function*() {
        const json = cipher === undefined ? raw : yield* cipher.decrypt(raw, redisKey)
        const decoded = json === undefined ? undefined : decodeJson(json)
        if (decoded !== undefined && Either.isRight(decoded)) return Option.some(decoded.right)
        yield* Effect.logWarning(
          `OAuth2 Redis token store: the value at ${redisKey} is not credentials this store can read (${
            cipher === undefined
              ? "not credentials JSON"
              : json === undefined
              ? "not encrypted with this encryptionKey"
              : "not credentials JSON"
          }); treated as a miss (the next token replaces it)`
        )
        return Option.none()
      })

    const read = (cacheKey: string) => {
      const keys = keysOf(cacheKey, prefix)
      return Effect.flatMap(
        command<string | null>("get", "GET", ["GET", keys.token]),
        (raw) => raw === null ? Effect.succeedNone : decode(String(raw), keys.token)
      )
    }

    const tokenOf = (credentials: Credentials.Credentials) => Redacted.value(credentials.accessToken)

    const newer = (stored: Option.Option<Credentials.Credentials>, after: Redacted.Redacted<string> | undefined) =>
      Option.filter(stored, (credentials) => after === undefined || tokenOf(credentials) !== Redacted.value(after))

    const store: TokenStore.Coordinated = {
      get: read,

      set: (cacheKey, credentials) =>
        Effect.gen(function*() {
          const keys = keysOf(cacheKey, prefix)
          const t = yield* now
          const ttl = credentials.expiresAt !== undefined
            ? Math.max(1, Math.ceil(credentials.expiresAt - t))
            : Duration.toMillis(defaults.ttlWithoutExpiry)
          const value = yield* encode(credentials, keys.token)
          yield* command("set", "SET", ["EVAL", setAndNotify, "1", keys.token, value, String(ttl), channel, keys.hash])
        }),

      remove: (cacheKey) => Effect.asVoid(command("remove", "DEL", ["DEL", keysOf(cacheKey, prefix).token])),

      acquireLease: (cacheKey, ttl) =>
        Effect.gen(function*() {
          const keys = keysOf(cacheKey, prefix)
          const owner = crypto.randomBytes(16).toString("hex")
          const ms = String(Math.max(1, Math.ceil(Duration.toMillis(ttl))))
          const taken = yield* command<string | null>("lease", "SET NX", ["SET", keys.lease, owner, "NX", "PX", ms])
          if (taken === null) return Option.none<TokenStore.Lease>()
          return Option.some<TokenStore.Lease>({
            release: Effect.asVoid(
              command("release", "lease release", [
                "EVAL",
                releaseAndNotify,
                "1",
                keys.lease,
                owner,
                channel,
                keys.hash
              ])
            )
          })
        }),

      awaitNewer: (cacheKey, after, wait) =>
        Effect.gen(function*() {
          const keys = keysOf(cacheKey, prefix)
          const deadline = (yield* now) + Duration.toMillis(wait)
          while (true) {
            const woken = yield* Effect.makeLatch(false)
            const wake = () => woken.unsafeOpen()
            const found = yield* Effect.acquireUseRelease(
              Effect.sync(() => {
                let set = wakers.get(keys.hash)
                if (set === undefined) wakers.set(keys.hash, set = new Set())
                set.add(wake)
              }),
              () =>
                Effect.gen(function*() {
                  const stored = newer(yield* read(cacheKey), after)
                  if (Option.isSome(stored)) return Option.some(stored)
                  const held = yield* command<number>("await", "EXISTS", ["EXISTS", keys.lease])
                  const t = yield* now
                  if (Number(held) === 0 || t >= deadline) return Option.some(Option.none<Credentials.Credentials>())
                  // Woken by a notification; the poll covers one lost while the subscriber reconnects, and a
                  // holder that died (its lease runs out without a word).
                  yield* Effect.ignore(Effect.timeout(woken.await, Math.min(pollInterval, deadline - t)))
                  return Option.none()
                }),
              () =>
                Effect.sync(() => {
                  const set = wakers.get(keys.hash)
                  set?.delete(wake)
                  if (set?.size === 0) wakers.delete(keys.hash)
                })
            )
            if (Option.isSome(found)) return found.value
          }
        }),

      removeIf: (cacheKey, token) =>
        Effect.gen(function*() {
          const keys = keysOf(cacheKey, prefix)
          const raw = yield* command<string | null>("remove", "GET", ["GET", keys.token])
          if (raw === null) return false
          const stored = yield* decode(String(raw), keys.token)
          if (Option.isNone(stored) || tokenOf(stored.value) !== Redacted.value(token)) return false
          // Deleted only if the value is still the one read: compare-and-delete on the stored bytes.
          const deleted = yield* command<number>("remove", "compare-and-delete", [
            "EVAL",
            deleteIfEqual,
            "1",
            keys.token,
            String(raw)
          ])
          return Number(deleted) === 1
        })
    }
    return store
  })
