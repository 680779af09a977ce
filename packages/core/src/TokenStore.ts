/**
 * Where credentials are kept between requests, processes and replicas. The token lifecycle reads a store before
 * it asks for a token and writes every new token to it, so a restarted service, or another replica, reuses a valid
 * token instead of asking for a new one (machine-to-machine tokens are often metered). The key is the token cache
 * key (token endpoint, client id, auth method, scopes and parameters; never the secret).
 *
 * A store can also **coordinate** the processes that share it, so that they make one token request between them
 * instead of one each:
 *
 * - `acquireLease`: a short lease on a key; its holder fetches the next token for everyone;
 * - `awaitNewer`: waits until the holder has stored the new token (or given the lease up);
 * - `removeIf`: removes a token only if it is still the one a 401 condemned (compare-and-delete).
 *
 * These members are optional, so a store with only `get`, `set` and `remove` still works: {@link coordinated}
 * fills in what is missing with what one process can do alone (the lifecycle's own single-flight). The memory
 * store coordinates the lifecycles of one process, {@link withLeaseRecords} builds the members over any place that
 * can hold a small record beside the credentials (the file and Web Storage stores use it), and the Redis store
 * (`@effect-oauth2/redis`) coordinates a fleet.
 *
 * The lease is an efficiency lock, not a correctness lock: if its holder dies or a store fails over, two processes
 * may each fetch a token, which costs one extra token request and nothing else.
 *
 * Store failures never break requests: the lifecycle logs them and carries on as on a miss.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import type { Credentials } from "./Credentials.js"

/**
 * @since 0.1.0
 * @category type ids
 */
export const TypeId: unique symbol = Symbol.for("@effect-oauth2/core/TokenStore")

/**
 * @since 0.1.0
 * @category type ids
 */
export type TypeId = typeof TypeId

/**
 * A store failed to read, write or remove, or to take, give up or watch a lease.
 *
 * @since 0.1.0
 * @category errors
 */
export class TokenStoreError extends Schema.TaggedError<TokenStoreError>("@effect-oauth2/core/TokenStoreError")(
  "TokenStoreError",
  {
    operation: Schema.Literal("get", "set", "remove", "lease", "release", "await"),
    description: Schema.String,
    cause: Schema.optionalWith(Schema.Defect, { exact: true })
  }
) {
  /**
   * @since 0.1.0
   */
  readonly [TypeId]: TypeId = TypeId

  /**
   * @since 0.1.0
   */
  override get message(): string {
    return `Token store ${this.operation} failed: ${this.description}`
  }
}

/**
 * @since 0.1.0
 * @category guards
 */
export const isTokenStoreError = (u: unknown): u is TokenStoreError => Predicate.hasProperty(u, TypeId)

/**
 * A lease held on a key: the right, for a short time, to fetch the next token for every process that shares the
 * store.
 *
 * @since 0.2.0
 * @category models
 */
export interface Lease {
  /** Gives the lease up if it is still this one (compare-and-delete); a lease that ran out is left alone. */
  readonly release: Effect.Effect<void, TokenStoreError>
}

/**
 * A place to keep credentials by key, and optionally to coordinate the processes that share it.
 *
 * @since 0.1.0
 * @category models
 */
export interface TokenStore {
  readonly get: (key: string) => Effect.Effect<Option.Option<Credentials>, TokenStoreError>
  readonly set: (key: string, credentials: Credentials) => Effect.Effect<void, TokenStoreError>
  readonly remove: (key: string) => Effect.Effect<void, TokenStoreError>
  /**
   * Takes the lease of `key` for `ttl` if nobody holds it (`None` when another holder does). A lease runs out by
   * itself after `ttl`, so a holder that dies is replaced.
   */
  readonly acquireLease?: (key: string, ttl: Duration.Duration) => Effect.Effect<Option.Option<Lease>, TokenStoreError>
  /**
   * Waits, at most `timeout`, until the store holds credentials whose access token is not `after`, or until nobody
   * holds the lease of `key`. Returns the stored credentials when their token is not `after`.
   */
  readonly awaitNewer?: (
    key: string,
    after: Redacted.Redacted<string> | undefined,
    timeout: Duration.Duration
  ) => Effect.Effect<Option.Option<Credentials>, TokenStoreError>
  /** Removes the stored credentials only if their access token is `token`; `true` when it did. */
  readonly removeIf?: (key: string, token: Redacted.Redacted<string>) => Effect.Effect<boolean, TokenStoreError>
}

/**
 * A store with every coordination member.
 *
 * @since 0.2.0
 * @category models
 */
export interface Coordinated extends Required<TokenStore> {}

const tokenOf = (credentials: Credentials): string => Redacted.value(credentials.accessToken)

const differs = (
  stored: Option.Option<Credentials>,
  after: Redacted.Redacted<string> | undefined
): Option.Option<Credentials> =>
  Option.filter(stored, (credentials) => after === undefined || tokenOf(credentials) !== Redacted.value(after))

const removeIfWith = (store: TokenStore) => (key: string, token: Redacted.Redacted<string>) =>
  Effect.flatMap(store.get(key), (stored) =>
    Option.isSome(stored) && tokenOf(stored.value) === Redacted.value(token)
      ? Effect.as(store.remove(key), true)
      : Effect.succeed(false))

const alone: Lease = { release: Effect.void }

/**
 * The store with every coordination member: its own where it has them, and otherwise what one process can do
 * alone. The lease is always granted (the lifecycle's single-flight already makes one request per process),
 * `awaitNewer` looks once without waiting, and `removeIf` reads, compares and removes. The token lifecycle
 * applies this to every store it is given, so a store written for an earlier version, with `get`, `set` and
 * `remove` only, keeps working.
 *
 * @example
 * ```ts
 * import { TokenStore } from "@effect-oauth2/core"
 * import { Effect, Option } from "effect"
 *
 * // a store written with get, set and remove only
 * const plain: TokenStore.TokenStore = {
 *   get: () => Effect.succeed(Option.none()),
 *   set: () => Effect.void,
 *   remove: () => Effect.void
 * }
 * const store = TokenStore.coordinated(plain)
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const coordinated = (store: TokenStore): Coordinated => ({
  get: store.get,
  set: store.set,
  remove: store.remove,
  acquireLease: store.acquireLease ?? (() => Effect.succeedSome(alone)),
  awaitNewer: store.awaitNewer ?? ((key, after) => Effect.map(store.get(key), (stored) => differs(stored, after))),
  removeIf: store.removeIf ?? removeIfWith(store)
})

const now = Effect.clockWith((clock) => clock.currentTimeMillis)

/** A random lease owner: 128 bits from the platform's CSPRNG (Node and browsers alike). */
const newOwner = (): string => {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(16))
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")
}

/**
 * A store in this process's memory: the default. Tokens live as long as the store value. It coordinates every
 * lifecycle that shares it: one of them holds the lease, the others wait for its token and are woken the moment it
 * is stored. Lease times are read through `Clock`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeMemory = (): Coordinated => {
  const map = new Map<string, Credentials>()
  const leases = new Map<string, { readonly owner: string; readonly until: number }>()
  const waiters = new Map<string, Set<() => void>>()
  const wake = (key: string) => waiters.get(key)?.forEach((f) => f())
  const leaseUntil = (key: string, t: number): number | undefined => {
    const lease = leases.get(key)
    return lease !== undefined && lease.until > t ? lease.until : undefined
  }
  const watch = (key: string, f: () => void) =>
    Effect.acquireRelease(
      Effect.sync(() => {
        let set = waiters.get(key)
        if (set === undefined) waiters.set(key, set = new Set())
        set.add(f)
      }),
      () =>
        Effect.sync(() => {
          const set = waiters.get(key)
          set?.delete(f)
          if (set?.size === 0) waiters.delete(key)
        })
    )
  return {
    get: (key) => Effect.sync(() => Option.fromNullable(map.get(key))),
    set: (key, credentials) =>
      Effect.sync(() => {
        map.set(key, credentials)
        wake(key)
      }),
    remove: (key) =>
      Effect.sync(() => {
        map.delete(key)
        wake(key)
      }),
    acquireLease: (key, ttl) =>
      Effect.map(now, (t) => {
        if (leaseUntil(key, t) !== undefined) return Option.none()
        const owner = newOwner()
        leases.set(key, { owner, until: t + Duration.toMillis(ttl) })
        return Option.some<Lease>({
          release: Effect.sync(() => {
            if (leases.get(key)?.owner !== owner) return
            leases.delete(key)
            wake(key)
          })
        })
      }),
    awaitNewer: (key, after, timeout) =>
      Effect.gen(function*() {
        const deadline = (yield* now) + Duration.toMillis(timeout)
        while (true) {
          const woken = yield* Effect.makeLatch(false)
          const found = yield* Effect.scoped(Effect.gen(function*() {
            yield* watch(key, () => woken.unsafeOpen())
            const newer = differs(Option.fromNullable(map.get(key)), after)
            if (Option.isSome(newer)) return Option.some(newer)
            const t = yield* now
            const until = leaseUntil(key, t)
            if (until === undefined || t >= deadline) return Option.some(Option.none<Credentials>())
            // Woken by a write or a release, or at the end of the lease or of the wait.
            yield* Effect.ignore(Effect.timeout(woken.await, Math.min(until, deadline) - t))
            return Option.none()
          }))
          if (Option.isSome(found)) return found.value
        }
      }),
    removeIf: (key, token) =>
      Effect.sync(() => {
        const stored = map.get(key)
        if (stored === undefined || tokenOf(stored) !== Redacted.value(token)) return false
        map.delete(key)
        wake(key)
        return true
      })
  }
}

/**
 * Small records kept beside the credentials, enough for a lease: a file next to the token file, an entry next to
 * the Web Storage entry. `create` must not overwrite a record that is there; the closer it comes to an atomic
 * create (an exclusive file create, a link), the rarer a duplicate token request.
 *
 * @since 0.2.0
 * @category models
 */
export interface LeaseRecords {
  /** Writes `value` as the record of `key` unless one is there; `true` when it wrote it. */
  readonly create: (key: string, value: string) => Effect.Effect<boolean, TokenStoreError>
  readonly read: (key: string) => Effect.Effect<Option.Option<string>, TokenStoreError>
  readonly remove: (key: string) => Effect.Effect<void, TokenStoreError>
}

const LeaseRecord = Schema.parseJson(Schema.Struct({ owner: Schema.String, until: Schema.Number }))
const decodeLease = Schema.decodeUnknownOption(LeaseRecord)
const encodeLease = Schema.encodeSync(LeaseRecord)

/**
 * Completes a store with a lease kept as a record in `records` (`{"owner":…,"until":…}`, times from `Clock`), an
 * `awaitNewer` that polls the store every `pollInterval` (default 100 ms) and the record, and a `removeIf` that
 * reads, compares and removes. A record past its time, or one that cannot be read, is taken over.
 *
 * The file store of `@effect-oauth2/platform-node` and the Web Storage store of `@effect-oauth2/platform-browser`
 * are built with it: the processes of one host, or the tabs of one origin, then make one token request between them.
 *
 * @example
 * ```ts
 * import { TokenStore } from "@effect-oauth2/core"
 * import { Effect, Option } from "effect"
 *
 * const records = new Map<string, string>()
 * const store = TokenStore.withLeaseRecords(TokenStore.makeMemory(), {
 *   create: (key, value) =>
 *     Effect.sync(() => records.has(key) ? false : (records.set(key, value), true)),
 *   read: (key) => Effect.sync(() => Option.fromNullable(records.get(key))),
 *   remove: (key) => Effect.sync(() => void records.delete(key))
 * })
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const withLeaseRecords = (
  store: TokenStore,
  records: LeaseRecords,
  options: { readonly pollInterval?: Duration.DurationInput | undefined } = {}
): Coordinated => {
  const pollInterval = Duration.toMillis(options.pollInterval ?? "100 millis")
  /** When the lease of `key` runs out, if someone holds it at `t`. */
  const heldUntil = (key: string, t: number) =>
    Effect.map(records.read(key), (record) =>
      Option.flatMap(record, decodeLease).pipe(
        Option.filter((lease) => lease.until > t),
        Option.map((lease) => lease.until)
      ))
  const acquireLease = (key: string, ttl: Duration.Duration) =>
    Effect.gen(function*() {
      const t = yield* now
      const owner = newOwner()
      const record = encodeLease({ owner, until: t + Duration.toMillis(ttl) })
      let created = yield* records.create(key, record)
      if (!created && Option.isNone(yield* heldUntil(key, t))) {
        // The holder ran out of time (or left a record nobody can read): take over.
        yield* records.remove(key)
        created = yield* records.create(key, record)
      }
      if (!created) return Option.none<Lease>()
      return Option.some<Lease>({
        release: Effect.flatMap(records.read(key), (current) =>
          Option.flatMap(current, decodeLease).pipe(Option.exists((lease) =>
              lease.owner === owner
            ))
            ? records.remove(key)
            : Effect.void)
      })
    })
  const awaitNewer = (key: string, after: Redacted.Redacted<string> | undefined, timeout: Duration.Duration) =>
    Effect.gen(function*() {
      const deadline = (yield* now) + Duration.toMillis(timeout)
      while (true) {
        const newer = differs(yield* store.get(key), after)
        if (Option.isSome(newer)) return newer
        const t = yield* now
        const until = yield* heldUntil(key, t)
        if (Option.isNone(until) || t >= deadline) return Option.none<Credentials>()
        yield* Effect.sleep(Math.max(1, Math.min(pollInterval, until.value - t, deadline - t)))
      }
    })
  return {
    get: store.get,
    set: store.set,
    remove: store.remove,
    acquireLease,
    awaitNewer,
    removeIf: removeIfWith(store)
  }
}
