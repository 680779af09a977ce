/**
 * The token lifecycle: a cache of {@link Credentials} over any `Effect<Credentials, OAuth2Error>` (the client
 * credentials grant is one source; others plug in the same way).
 *
 * What it guarantees:
 * - **Single-flight.** Any number of concurrent callers on a cold cache, or after expiry, cause one token request,
 *   and all get its result or its error.
 * - **No waiting in steady state.** A token has a timeline: served from cache; then, from `refreshAfter`, still
 *   served while the first use starts a background fetch of the next one; from `usableUntil` (the refresh margin
 *   before `expiresAt`) no longer handed out.
 * - **Short-lived tokens are reused.** The margin is at most half the lifetime, and the refresh-ahead window at
 *   most half of what remains, so a 30 s or a 5 s token is still cached.
 * - **Idle costs nothing.** Refresh-ahead is started by use; an idle client makes no token requests.
 * - **Failures are never cached.** A failed background fetch is logged and retried on later uses with backoff
 *   (1 s doubling to 1 min) while the current token keeps serving; inside the margin a failed fetch falls back to
 *   the still-unexpired token; callers see an error only when no unexpired token is left.
 * - **Compare-and-swap invalidation.** `invalidate(token)` drops that token only if it is still the current one,
 *   so a late 401 for an old token cannot throw away a newer one.
 * - **Pluggable store.** A {@link TokenStore.TokenStore} is read before a token request and written with every new
 *   token; a request served from the cached token never touches it, and a store failure never fails a request.
 * - **Fleet single-flight.** With a store that coordinates (a lease and a wait for a newer token), the processes
 *   sharing it make one token request per token lifetime between them: one holds the lease and fetches, the others
 *   adopt its token; a refresh ahead of time adopts a newer stored token first; `invalidate` removes the stored
 *   token only if it is still the refused one.
 * - **Scoped.** Background fetches run in the scope given to `make`; closing it stops them.
 *
 * @since 0.1.0
 */
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import type { Credentials } from "./Credentials.js"
import * as internal from "./internal/accessToken.js"
import type { OAuth2Error } from "./OAuth2Error.js"
import type * as TokenStore from "./TokenStore.js"

/**
 * A kept-fresh access token.
 *
 * @since 0.1.0
 * @category models
 */
export interface AccessToken {
  /** Credentials that are good to use now: cached, joined from a request in flight, or fetched. */
  readonly get: Effect.Effect<Credentials, OAuth2Error>
  /** The cached credentials, if any, without fetching. */
  readonly current: Effect.Effect<Option.Option<Credentials>>
  /** Drops the cached token and gets a new one (joining a fetch already in flight). */
  readonly refresh: Effect.Effect<Credentials, OAuth2Error>
  /**
   * Drops the cached token if it is `token` (compare-and-swap); `true` when it was dropped. A token that has
   * already been replaced is left alone. The store entry is removed too when it holds that token.
   */
  readonly invalidate: (token: Credentials | Redacted.Redacted<string> | string) => Effect.Effect<boolean>
}

/**
 * Lifecycle settings. Each default is chosen to sit inside the range peers use and is tested with `TestClock`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /**
   * A token is not handed out within this margin of the server's expiry (nor after `expiresAt`, which holds the
   * grant's 10 s grace: the earlier of the two wins, they do not add up), so that a request carrying it still
   * arrives in time despite latency and clock skew. Default 30 s (golang/oauth2 uses 10 s, Spring and authlib
   * 60 s, MSAL 5 min); never more than half the lifetime.
   */
  readonly refreshMargin?: Duration.DurationInput | undefined
  /**
   * How long before the margin the next token is fetched in the background. Default 5 min, never more than half
   * of the usable lifetime (so a 300 s token is refreshed after 135 s, a 3600 s token 5 min before its margin).
   */
  readonly refreshAhead?: Duration.DurationInput | undefined
  /**
   * The lifetime assumed when the server sends no `expires_in`. Default 5 min (Keycloak's default token lifetime,
   * the shortest in common use); a 401 `invalid_token` replaces a token that dies sooner.
   */
  readonly defaultLifetime?: Duration.DurationInput | undefined
  /** The first wait after a failed background fetch; doubles per failure up to 1 min. Default 1 s. */
  readonly backgroundBackoff?: Duration.DurationInput | undefined
  /**
   * Where tokens are kept; default none (memory of this AccessToken only). A store that coordinates (a lease and
   * a wait for a newer token, see {@link TokenStore.TokenStore}) makes every process that shares it use one token
   * request per token lifetime between them.
   */
  readonly store?: TokenStore.TokenStore | undefined
  /**
   * How long the store's lease lets one process fetch the next token for all of them before another may take
   * over (a holder that dies is replaced after this time; the others wait at most this long per round). Default
   * 10 s: well above a token request's usual latency. A fetch that outlasts it may be duplicated, which is
   * harmless.
   */
  readonly leaseTtl?: Duration.DurationInput | undefined
  /** The store key; the Layer uses {@link ClientCredentials.cacheKey}. */
  readonly storeKey?: string | undefined
}

/**
 * Keeps the credentials of `fetch` fresh. Background fetches run in the current scope.
 *
 * @example
 * ```ts
 * import { AccessToken, ClientCredentials } from "@effect-oauth2/core"
 * import { Effect, Redacted } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const fetch = yield* ClientCredentials.make({
 *     tokenUrl: "https://auth.example.com/token",
 *     clientId: "svc",
 *     clientSecret: Redacted.make("s3cret")
 *   })
 *   const token = yield* AccessToken.make(fetch)
 *   const credentials = yield* token.get // one request, however many callers
 * })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (
  fetch: Effect.Effect<Credentials, OAuth2Error>,
  options?: Options
) => Effect.Effect<AccessToken, never, Scope.Scope> = internal.make

/**
 * The timeline the lifecycle gives a token (epoch milliseconds): `refreshAfter` (background refresh starts on
 * use), `usableUntil` (no longer handed out), `expiresAt` (never used). Exposed for diagnostics and tests.
 *
 * @since 0.1.0
 * @category utils
 */
export const timeline = (
  credentials: Credentials,
  now: number,
  options: Pick<Options, "refreshMargin" | "refreshAhead" | "defaultLifetime"> = {}
): { readonly refreshAfter: number; readonly usableUntil: number; readonly expiresAt: number } => {
  const entry = internal.timeline(credentials, now, internal.settingsOf(options))
  return { refreshAfter: entry.refreshAfter, usableUntil: entry.usableUntil, expiresAt: entry.expiresAt }
}
