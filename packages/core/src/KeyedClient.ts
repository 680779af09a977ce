/**
 * Many OAuth 2.0 clients in one process, one per key: a gateway or SaaS backend that calls APIs for thousands of
 * tenants, each with its own token endpoint, credentials, scopes or audience. A client is made on the first use of
 * its key (from options computed from the key), kept while in use, closed after `idleTimeToLive` without use (its
 * background refresh stops with it), and the least recently used one is closed when `capacity` clients are open,
 * so memory stays bounded however many keys there are. Built on Effect's `RcMap`.
 *
 * Each client is a full {@link OAuth2Client.Service}: single-flight per key, refresh ahead of expiry, invalidation
 * on 401. Give the clients a shared `store` (`TokenStore.makeMemory()`, or Redis for a fleet) and a token outlives
 * the closing of its client: the next use of the key takes it back instead of asking for a new one.
 *
 * @since 0.2.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as internal from "./internal/keyedClient.js"
import type * as OAuth2Client from "./OAuth2Client.js"

/**
 * Why a key's client could not be made: the errors of {@link OAuth2Client.make} (options that cannot work).
 *
 * @since 0.2.0
 * @category models
 */
export type ClientError = Effect.Effect.Error<ReturnType<typeof OAuth2Client.make>>

/**
 * @since 0.2.0
 * @category models
 */
export interface Options<K, E = never, R = never> {
  /**
   * The client options of a key: a value, or an Effect (read from a database or a secret manager). A failure is
   * not kept: the next use of the key tries again.
   */
  readonly options: (key: K) => OAuth2Client.Options | Effect.Effect<OAuth2Client.Options, E, R>
  /**
   * The most clients open at once; opening one more closes the least recently used. Default 1,000 (a client with
   * its token takes about 28 KiB of heap, so 1,000 open clients about 28 MiB: see the `tenants` benchmark).
   */
  readonly capacity?: number | undefined
  /**
   * How long a client is kept after its last use, token cached and ready; then it is closed. Default 15 minutes:
   * a key used every few minutes keeps its token, one unused for a quarter of an hour costs nothing. A function
   * gives each key its own.
   */
  readonly idleTimeToLive?: Duration.DurationInput | ((key: K) => Duration.DurationInput) | undefined
}

/**
 * @since 0.2.0
 * @category models
 */
export interface KeyedClient<K, E = never> {
  /**
   * The client of `key`, made on its first use; it stays open at least as long as the scope (and
   * `idleTimeToLive` after).
   */
  readonly get: (key: K) => Effect.Effect<OAuth2Client.Service, ClientError | E, Scope.Scope>
  /**
   * An `HttpClient` whose requests are authenticated as `key`. A client that cannot be made fails the request
   * with a `RequestError` (reason `Encode`) whose `cause` is the error.
   */
  readonly httpClient: (key: K) => HttpClient.HttpClient
  /** Closes the client of `key` now (once its current users are done); the next use makes a new one. */
  readonly invalidate: (key: K) => Effect.Effect<void>
  /** The keys that have a client open. */
  readonly keys: Effect.Effect<Array<K>>
}

/**
 * Makes a keyed client over the ambient `HttpClient` (used unauthenticated for token requests, as by
 * {@link OAuth2Client.make}). Keys are compared with `Equal`: strings, numbers, or `Data` values. Closing the scope
 * closes every client.
 *
 * @example
 * ```ts
 * import { KeyedClient, TokenStore } from "@effect-oauth2/core"
 * import { Effect, Redacted } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const store = TokenStore.makeMemory()
 *   const tenants = yield* KeyedClient.make({
 *     options: (tenant: string) => ({
 *       tokenUrl: `https://${tenant}.auth.example.com/oauth2/token`,
 *       clientId: "gateway",
 *       clientSecret: Redacted.make(process.env.CLIENT_SECRET!),
 *       params: { audience: `https://${tenant}.api.example.com` },
 *       store
 *     }),
 *     capacity: 1000,
 *     idleTimeToLive: "15 minutes"
 *   })
 *   const response = yield* tenants.httpClient("acme").get("https://acme.api.example.com/orders")
 * })
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const make: <K, E = never, R = never>(
  options: Options<K, E, R>
) => Effect.Effect<KeyedClient<K, E>, never, HttpClient.HttpClient | Scope.Scope | R> = internal.make
