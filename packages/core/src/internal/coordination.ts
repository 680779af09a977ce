import * as Cause from "effect/Cause"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import type { Credentials } from "../Credentials.js"
import type { OAuth2Error } from "../OAuth2Error.js"
import type * as TokenStore from "../TokenStore.js"

/**
 * How a lifecycle got its next token: adopted from the store (`fresh: false`), or fetched (`fresh: true`), then
 * holding the store's lease when it fetched for every process (`lease`), which it gives up once the token is
 * stored.
 *
 * @internal
 */
export interface Obtained {
  readonly credentials: Credentials
  readonly fresh: boolean
  readonly lease: TokenStore.Lease | undefined
}

/** @internal */
export interface Coordination {
  readonly store: TokenStore.Coordinated
  readonly key: string
  readonly leaseTtl: Duration.Duration
  /** How many times a process waits for another's token before it fetches its own. */
  readonly rounds: number
}

/**
 * Runs a store operation; a failure (typed or a defect) is logged and becomes `None`, the signal to carry on
 * without the store. A store never breaks a request.
 *
 * @internal
 */
export const guarded = <A>(effect: Effect.Effect<A, TokenStore.TokenStoreError>): Effect.Effect<Option.Option<A>> =>
  Effect.catchAllCause(Effect.asSome(effect), (cause) =>
    Effect.as(
      Effect.logWarning(
        `OAuth2 token store: ${
          Cause.isFailType(cause) ? cause.error.message : "the store failed unexpectedly"
        }; carrying on without it`
      ),
      Option.none()
    ))

const fetched = (credentials: Credentials, lease?: TokenStore.Lease): Obtained => ({
  credentials,
  fresh: true,
  lease
})
const adopted = (credentials: Credentials): Obtained => ({ credentials, fresh: false, lease: undefined })

/**
 * Fleet single-flight. The next token comes from the first of:
 *
 * 1. credentials another process already stored, when `adoptable` accepts them;
 * 2. the token endpoint, when this process gets the store's lease (it looks at the store once more first, in case
 *    a token arrived meanwhile);
 * 3. the lease holder: this process waits for the token it stores (at most the lease time), then starts over;
 * 4. the token endpoint, alone, after `rounds` rounds, or as soon as the store fails.
 *
 * A plain store grants every lease, so step 2 is what one process does alone.
 *
 * @internal
 */
export const obtain = (
  coordination: Coordination,
  fetch: Effect.Effect<Credentials, OAuth2Error>,
  adoptable: (credentials: Credentials) => Effect.Effect<boolean>
): Effect.Effect<Obtained, OAuth2Error> => {
  const { key, leaseTtl, store } = coordination
  const alone = Effect.map(fetch, (credentials) => fetched(credentials))

  /**
   * What the store holds: credentials to adopt (`found`) and the token seen there (`seen`, to wait for a newer
   * one); `None` when the store failed.
   */
  const look: Effect.Effect<
    Option.Option<{ readonly found: Option.Option<Credentials>; readonly seen: Redacted.Redacted<string> | undefined }>
  > = Effect.gen(function*() {
    const stored = yield* guarded(store.get(key))
    if (Option.isNone(stored)) return Option.none()
    if (Option.isNone(stored.value)) return Option.some({ found: Option.none(), seen: undefined })
    const credentials = stored.value.value
    const ok = yield* adoptable(credentials)
    return Option.some({ found: ok ? Option.some(credentials) : Option.none(), seen: credentials.accessToken })
  })

  const asHolder = (lease: TokenStore.Lease): Effect.Effect<Obtained, OAuth2Error> =>
    Effect.flatMap(look, (seen) => {
      const found = Option.flatMap(seen, (s) => s.found)
      return Option.isSome(found)
        ? Effect.as(guarded(lease.release), adopted(found.value))
        : Effect.map(fetch, (credentials) => fetched(credentials, lease))
    }).pipe(Effect.onError(() => guarded(lease.release)))

  const round = (n: number): Effect.Effect<Obtained, OAuth2Error> =>
    n >= coordination.rounds ? alone : Effect.flatMap(look, (seen) => {
      if (Option.isNone(seen)) return alone
      const { found, seen: token } = seen.value
      if (Option.isSome(found)) return Effect.succeed(adopted(found.value))
      return Effect.flatMap(guarded(store.acquireLease(key, leaseTtl)), (lease) => {
        if (Option.isNone(lease)) return alone
        if (Option.isSome(lease.value)) return asHolder(lease.value.value)
        // Another process is fetching: wait for its token, at most as long as its lease can last.
        return Effect.flatMap(guarded(store.awaitNewer(key, token, leaseTtl)), (newer) => {
          if (Option.isNone(newer)) return alone
          if (Option.isNone(newer.value)) return round(n + 1)
          const credentials = newer.value.value
          return Effect.flatMap(
            adoptable(credentials),
            (ok) => ok ? Effect.succeed(adopted(credentials)) : round(n + 1)
          )
        })
      })
    })

  return round(0)
}
