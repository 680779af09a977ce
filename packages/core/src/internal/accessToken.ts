import * as Cause from "effect/Cause"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import type { AccessToken as AccessTokenService, Options as AccessTokenOptions } from "../AccessToken.js"
import type { Credentials } from "../Credentials.js"
import type { OAuth2Error } from "../OAuth2Error.js"
import * as TokenStore from "../TokenStore.js"
import * as coordination from "./coordination.js"
import * as metrics from "./metrics.js"

/** @internal */
export type Options = AccessTokenOptions

/** @internal */
export const defaults = {
  refreshMargin: Duration.seconds(30),
  refreshAhead: Duration.minutes(5),
  defaultLifetime: Duration.minutes(5),
  backgroundBackoff: Duration.seconds(1),
  backgroundBackoffMax: Duration.minutes(1),
  leaseTtl: Duration.seconds(10),
  /** How many times a process waits for another's token before it fetches its own. */
  leaseRounds: 3
}

/** @internal */
export type AccessToken = AccessTokenService

/**
 * The timeline of one token: `issuedAt` ≤ `refreshAfter` < `usableUntil` ≤ `expiresAt`.
 *
 * - before `refreshAfter`: served from cache;
 * - from `refreshAfter`: still served, and a use starts a background fetch of the next token;
 * - from `usableUntil` (the margin): no longer handed out; callers wait for the next token, and fall back to this
 *   one if that fetch fails while it is unexpired;
 * - from `expiresAt`: never used again.
 *
 * @internal
 */
export interface Entry {
  readonly credentials: Credentials
  readonly token: string
  readonly refreshAfter: number
  readonly usableUntil: number
  readonly expiresAt: number
  /** The cache-hit answer, built once per token. */
  readonly hit: Effect.Effect<Credentials>
}

/** @internal */
export const timeline = (
  credentials: Credentials,
  now: number,
  settings: { readonly margin: number; readonly ahead: number; readonly defaultLifetime: number }
): Entry => {
  const issuedAt = credentials.issuedAt ?? now
  const expiresAt = credentials.expiresAt ?? issuedAt + settings.defaultLifetime
  // The margin counts from the server's own expiry, so the grant's grace and the margin do not add up: the token
  // is retired at whichever comes first.
  const serverExpiry = credentials.expiresIn !== undefined && credentials.issuedAt !== undefined
    ? credentials.issuedAt + credentials.expiresIn * 1000
    : expiresAt
  const lifetime = Math.max(0, serverExpiry - issuedAt)
  const usableUntil = Math.min(expiresAt, serverExpiry - Math.min(settings.margin, lifetime / 2))
  const usable = Math.max(0, usableUntil - issuedAt)
  const refreshAfter = usableUntil - Math.min(settings.ahead, usable / 2)
  return {
    credentials,
    token: Redacted.value(credentials.accessToken),
    refreshAfter,
    usableUntil,
    expiresAt,
    hit: Effect.as(Metric.increment(metrics.cacheHits), credentials)
  }
}

/** @internal */
export const settingsOf = (options: Options) => ({
  margin: Duration.toMillis(options.refreshMargin ?? defaults.refreshMargin),
  ahead: Duration.toMillis(options.refreshAhead ?? defaults.refreshAhead),
  defaultLifetime: Duration.toMillis(options.defaultLifetime ?? defaults.defaultLifetime)
})

interface State {
  readonly entry: Option.Option<Entry>
  readonly inflight: Option.Option<Deferred.Deferred<Credentials, OAuth2Error>>
  readonly backgroundFailures: number
  readonly nextBackgroundAt: number
  /** The last token dropped by invalidate or refresh: never taken back from the store. */
  readonly dropped: string | undefined
}

const tokenOf = (token: Credentials | Redacted.Redacted<string> | string): string =>
  typeof token === "string"
    ? token
    : Redacted.isRedacted(token)
    ? Redacted.value(token)
    : Redacted.value(token.accessToken)

const now = Effect.clockWith((clock) => clock.currentTimeMillis)

/** @internal */
export const make = (
  fetch: Effect.Effect<Credentials, OAuth2Error>,
  options: Options = {},
  /** DPoP: stored credentials this client cannot use (a token bound to another key) are a miss. */
  usable: (credentials: Credentials) => boolean = () => true
): Effect.Effect<AccessToken, never, Scope.Scope> =>
  Effect.gen(function*() {
    const settings = settingsOf(options)
    const backoffBase = Duration.toMillis(options.backgroundBackoff ?? defaults.backgroundBackoff)
    const backoffMax = Duration.toMillis(defaults.backgroundBackoffMax)
    const storeKey = options.storeKey ?? "default"
    const scope = yield* Effect.scope
    // The state lives in a plain cell: every read and write below is one synchronous step, so it is atomic on the
    // JavaScript thread, and the hot path reads it without allocating an effect per access.
    const cell: { value: State } = {
      value: {
        entry: Option.none(),
        inflight: Option.none(),
        backgroundFailures: 0,
        nextBackgroundAt: 0,
        dropped: undefined
      }
    }
    const read = Effect.sync(() => cell.value)
    const update = (f: (s: State) => State) => Effect.sync(() => void (cell.value = f(cell.value)))
    const modify = <B>(f: (s: State) => readonly [B, State]) =>
      Effect.sync(() => {
        const [b, next] = f(cell.value)
        cell.value = next
        return b
      })

    const store = options.store === undefined ? undefined : TokenStore.coordinated(options.store)
    const fleet: coordination.Coordination | undefined = store === undefined ? undefined : {
      store,
      key: storeKey,
      leaseTtl: Duration.decode(options.leaseTtl ?? defaults.leaseTtl),
      rounds: defaults.leaseRounds
    }

    // Stored credentials are taken when they are usable, not a token this lifecycle dropped, and, for a refresh
    // ahead of time, not yet due for refresh themselves (a newer token than the one being replaced).
    const adoptable = (background: boolean) => (credentials: Credentials): Effect.Effect<boolean> =>
      Effect.map(Effect.zip(now, read), ([t, s]) => {
        const entry = timeline(credentials, t, settings)
        return usable(credentials) && t < entry.usableUntil && entry.token !== s.dropped &&
          (!background || t < entry.refreshAfter)
      })

    const obtain = (background: boolean): Effect.Effect<coordination.Obtained, OAuth2Error> =>
      fleet === undefined
        ? Effect.map(fetch, (credentials) => ({ credentials, fresh: true, lease: undefined }))
        : coordination.obtain(fleet, fetch, adoptable(background))

    // The new token is stored before the lease is given up, so that the processes waiting for it find it.
    const saveAndRelease = (obtained: coordination.Obtained): Effect.Effect<void> =>
      store === undefined ? Effect.void : Effect.zipRight(
        obtained.fresh ? coordination.guarded(store.set(storeKey, obtained.credentials)) : Effect.void,
        obtained.lease !== undefined ? coordination.guarded(obtained.lease.release) : Effect.void
      )

    // The fetch runs in its own fiber in the token's scope, so a caller that gives up does not cancel it for the
    // others, and closing the scope stops it.
    const startFetch = (deferred: Deferred.Deferred<Credentials, OAuth2Error>, background: boolean) => {
      const run = obtain(background).pipe(
        Effect.onExit((exit) =>
          Effect.gen(function*() {
            const t = yield* now
            if (Exit.isSuccess(exit)) {
              const entry = timeline(exit.value.credentials, t, settings)
              // A token already past its margin on arrival is handed to the callers who waited for it, but not
              // cached: the next caller asks again.
              yield* update((s) => ({
                ...s,
                entry: t < entry.usableUntil ? Option.some(entry) : s.entry,
                inflight: Option.none(),
                backgroundFailures: 0,
                nextBackgroundAt: 0
              }))
              yield* Deferred.succeed(deferred, exit.value.credentials)
              yield* saveAndRelease(exit.value)
            } else {
              const failures = yield* modify((s) => {
                const failures = background ? s.backgroundFailures + 1 : s.backgroundFailures
                return [failures, {
                  ...s,
                  inflight: Option.none(),
                  backgroundFailures: failures,
                  nextBackgroundAt: background
                    ? t + Math.min(backoffMax, backoffBase * 2 ** Math.min(20, failures - 1))
                    : s.nextBackgroundAt
                }]
              })
              if (background && !Exit.isInterrupted(exit)) {
                yield* Metric.increment(metrics.backgroundRefreshFailures)
                yield* Effect.logWarning(
                  `OAuth2 background token refresh failed (${failures} in a row); the current token keeps serving: ` +
                    Cause.pretty(exit.cause)
                )
              }
              yield* Deferred.failCause(deferred, exit.cause)
            }
          })
        )
      )
      // Forked from an uninterruptible region: the fetch itself must stay interruptible, so that closing the
      // scope stops it.
      return Effect.forkIn(Effect.interruptible(Effect.ignore(run)), scope)
    }

    const awaitFresh = (
      deferred: Deferred.Deferred<Credentials, OAuth2Error>
    ): Effect.Effect<Credentials, OAuth2Error> =>
      Effect.catchAll(Deferred.await(deferred), (error) =>
        // Inside the margin, a failed fetch falls back to the token that has not expired yet.
        Effect.flatMap(Effect.zip(read, now), ([s, t]) =>
          Option.isSome(s.entry) && t < s.entry.value.expiresAt
            ? Effect.succeed(s.entry.value.credentials)
            : Effect.fail(error)))

    type Action =
      | { readonly _tag: "Hit"; readonly hit: Effect.Effect<Credentials> }
      | { readonly _tag: "HitAndRefresh"; readonly hit: Effect.Effect<Credentials> }
      | { readonly _tag: "Join"; readonly deferred: Deferred.Deferred<Credentials, OAuth2Error> }
      | { readonly _tag: "Fetch" }

    const slowPath = (t: number): Effect.Effect<Credentials, OAuth2Error> =>
      Effect.uninterruptibleMask((restore) =>
        Effect.gen(function*() {
          const fresh = yield* Deferred.make<Credentials, OAuth2Error>()
          const action = yield* modify((s): readonly [Action, State] => {
            if (Option.isSome(s.entry) && t < s.entry.value.usableUntil) {
              const hit = s.entry.value.hit
              if (t >= s.entry.value.refreshAfter && Option.isNone(s.inflight) && t >= s.nextBackgroundAt) {
                return [{ _tag: "HitAndRefresh", hit }, { ...s, inflight: Option.some(fresh) }]
              }
              return [{ _tag: "Hit", hit }, s]
            }
            if (Option.isSome(s.inflight)) return [{ _tag: "Join", deferred: s.inflight.value }, s]
            return [{ _tag: "Fetch" }, { ...s, inflight: Option.some(fresh) }]
          })
          switch (action._tag) {
            case "Hit":
              return yield* action.hit
            case "HitAndRefresh":
              yield* startFetch(fresh, true)
              return yield* action.hit
            case "Join":
              yield* Metric.increment(metrics.joinedWaiters)
              return yield* restore(awaitFresh(action.deferred))
            case "Fetch":
              yield* startFetch(fresh, false)
              return yield* restore(awaitFresh(fresh))
          }
        })
      )

    // The hot path: one step reads the clock and the state, and returns the entry's prepared cache-hit effect.
    const get: Effect.Effect<Credentials, OAuth2Error> = Effect.clockWith((clock) => {
      const s = cell.value
      const t = clock.unsafeCurrentTimeMillis()
      return Option.isSome(s.entry) && t < s.entry.value.refreshAfter ? s.entry.value.hit : slowPath(t)
    })

    const refresh: Effect.Effect<Credentials, OAuth2Error> = Effect.zipRight(
      update((s) => ({
        ...s,
        entry: Option.none(),
        dropped: Option.isSome(s.entry) ? s.entry.value.token : s.dropped
      })),
      get
    )

    const invalidate = (token: Credentials | Redacted.Redacted<string> | string): Effect.Effect<boolean> =>
      Effect.gen(function*() {
        const value = tokenOf(token)
        const dropped = yield* modify((s) =>
          Option.isSome(s.entry) && s.entry.value.token === value
            ? [true, { ...s, entry: Option.none(), dropped: value }]
            : [false, s]
        )
        // Fleet-wide: the stored token goes only if it is still the one that was refused (compare-and-delete).
        if (dropped && store !== undefined) yield* coordination.guarded(store.removeIf(storeKey, Redacted.make(value)))
        return dropped
      })

    const current = Effect.map(read, (s) => Option.map(s.entry, (entry) => entry.credentials))

    return { get, current, refresh, invalidate }
  })
