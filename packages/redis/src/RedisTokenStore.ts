/**
 * A {@link TokenStore.TokenStore} on Redis that makes a fleet of processes use **one token request per token
 * lifetime** between them, through node-redis (the `redis` package).
 *
 * - **Shared token.** A process that needs a token (cold start, expiry, or refresh ahead of time) first takes a
 *   usable token another process stored.
 * - **Fleet single-flight.** Otherwise it takes a short lease (`SET <prefix><hash>:lease <random owner> NX PX
 *   <leaseTtl>`); the holder fetches, stores the token, then releases the lease with a Lua compare-and-delete of
 *   its owner. The others wait for the new token, woken by pub/sub (`<prefix>notify`) and polling every 250 ms
 *   as a fallback, for at most the lease time, then adopt it; a holder that dies is replaced once its lease runs
 *   out.
 * - **An efficiency lock.** On one Redis this is Redis's own lock pattern. If the holder outlives its lease, or a
 *   Redis failover loses the lease, two processes may both fetch: one extra token request, harmless. No fencing
 *   or Redlock is needed.
 * - **Fleet-wide invalidate.** A 401 `invalid_token` deletes the stored token only if it is still the refused
 *   one (compare-and-delete on the stored value).
 * - **Keys.** `<prefix><SHA-256 of the cache key>` (the cache key holds the token endpoint, client id, auth
 *   method, scopes and every parameter, never the secret): different scopes or audiences never share a token. The
 *   entry expires in Redis with the token.
 * - **Encryption at rest** with `encryptionKey`: AES-256-GCM through WebCrypto, a fresh IV per value, the Redis
 *   key as additional data. The value (`v1.<iv>.<ciphertext>`) is unreadable, and unforgeable, without the key.
 * - **Redis down, slow or restarting never fails a request.** Each command has a timeout (`commandTimeout`, 500 ms);
 *   a failure is logged and the lifecycle fetches on its own (in-process single-flight still holds), and
 *   coordination resumes when Redis is back. A request served from the cached token never touches Redis. A value
 *   this store cannot read (corrupt, foreign, encrypted with another key) is a logged miss.
 *
 * Neither the encryption key nor a token is ever logged or put in an error.
 *
 * @since 0.1.0
 */
import type { OAuth2Error, TokenStore } from "@effect-oauth2/core"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as internal from "./internal/redisStore.js"

/**
 * A node-redis client of any shape (modules, scripts, RESP 2 or 3), as `createClient()` returns it.
 *
 * @since 0.1.0
 * @category models
 */
export type RedisClient = internal.AnyRedisClient

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /**
   * `redis://[[user][:password]@]host[:port][/db]`, or `rediss://...` for TLS. The store owns this client:
   * it connects in the background (a Redis that is down at start does not hold the service up) and closes it
   * with the scope.
   */
  readonly url?: string | undefined
  /**
   * A client the application already has, used instead of `url`. The application connects and closes it; the
   * store adds one connection of its own for notifications (`client.duplicate()`), closed with the scope.
   */
  readonly client?: RedisClient | undefined
  /** Prepended to every key and to the notification channel. Default `"effect-oauth2:"`. */
  readonly prefix?: string | undefined
  /**
   * Encrypts every value with AES-256-GCM: 32 random bytes, or a base64 / base64url string of them
   * (`openssl rand -base64 32`). Give every process of the fleet the same key. With a key, a value that is not
   * encrypted with it is a miss.
   */
  readonly encryptionKey?: Redacted.Redacted<string | Uint8Array> | undefined
  /**
   * The longest a Redis command may take before the store gives up on it and the lifecycle carries on without
   * Redis. Default 500 ms. Once Redis has been unreachable for longer than this, commands fail at once.
   */
  readonly commandTimeout?: Duration.DurationInput | undefined
  /**
   * How often a process waiting for another's token looks at Redis, besides being woken by pub/sub. Default
   * 250 ms.
   */
  readonly pollInterval?: Duration.DurationInput | undefined
}

/**
 * The Redis token store as a service.
 *
 * @since 0.1.0
 * @category tags
 */
export class RedisTokenStore
  extends Context.Tag("@effect-oauth2/redis/RedisTokenStore")<RedisTokenStore, TokenStore.Coordinated>()
{}

/**
 * A Redis token store, open for the scope. Pass it as the `store` option of the layer; every process of the fleet
 * with the same options (and so the same cache key) shares one token. Fails only on bad options (a malformed
 * `url` or `encryptionKey`), never because Redis is unreachable.
 *
 * @example
 * ```ts
 * import { NodeOAuth2 } from "@effect-oauth2/platform-node"
 * import { RedisTokenStore } from "@effect-oauth2/redis"
 * import { Effect, Layer, Redacted } from "effect"
 *
 * const Auth = Layer.unwrapScoped(
 *   Effect.map(
 *     RedisTokenStore.make({
 *       url: "redis://redis.internal:6379",
 *       encryptionKey: Redacted.make(process.env.TOKEN_ENCRYPTION_KEY!)
 *     }),
 *     (store) =>
 *       NodeOAuth2.layer({
 *         tokenUrl: "https://auth.example.com/oauth2/token",
 *         clientId: "billing-service",
 *         clientSecret: Redacted.make(process.env.CLIENT_SECRET!),
 *         store
 *       })
 *   )
 * )
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (
  options: Options
) => Effect.Effect<TokenStore.Coordinated, OAuth2Error.ConfigurationError, Scope.Scope> = internal.make

/**
 * A layer of the {@link RedisTokenStore} service.
 *
 * @example
 * ```ts
 * import { NodeOAuth2 } from "@effect-oauth2/platform-node"
 * import { RedisTokenStore } from "@effect-oauth2/redis"
 * import { Effect, Layer } from "effect"
 *
 * const Auth = Layer.unwrapEffect(
 *   Effect.map(RedisTokenStore.RedisTokenStore, (store) => NodeOAuth2.layerFromEnv("OAUTH2", { store }))
 * ).pipe(Layer.provide(RedisTokenStore.layer({ url: "redis://127.0.0.1:6379" })))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<RedisTokenStore, OAuth2Error.ConfigurationError> =>
  Layer.scoped(RedisTokenStore, make(options))

/**
 * The options read from environment variables named `<prefix>_REDIS_...` (default prefix `OAUTH2`):
 *
 * | variable | option |
 * | --- | --- |
 * | `OAUTH2_REDIS_URL` (required) | `url`: `redis://` or `rediss://` (TLS), user and password in the URL |
 * | `OAUTH2_REDIS_PREFIX` | `prefix` |
 * | `OAUTH2_REDIS_ENCRYPTION_KEY` | `encryptionKey` (read as `Redacted`; base64 of 32 bytes) |
 * | `OAUTH2_REDIS_TIMEOUT` | `commandTimeout` (a duration: `500 millis`) |
 *
 * @since 0.1.0
 * @category config
 */
export const config = (prefix = "OAUTH2"): Config.Config<Options> => {
  const name = (key: string) => (prefix.length > 0 ? `${prefix}_REDIS_${key}` : `REDIS_${key}`)
  return Config.all({
    url: Config.nonEmptyString(name("URL")),
    prefix: Config.option(Config.string(name("PREFIX"))),
    encryptionKey: Config.option(Config.redacted(name("ENCRYPTION_KEY"))),
    commandTimeout: Config.option(Config.duration(name("TIMEOUT")))
  }).pipe(Config.map((read): Options => ({
    url: read.url,
    prefix: Option.getOrUndefined(read.prefix),
    encryptionKey: Option.getOrUndefined(read.encryptionKey),
    commandTimeout: Option.getOrUndefined(read.commandTimeout)
  })))
}

/**
 * {@link layer} with options from `Config`: by default {@link config}, the `OAUTH2_REDIS_*` environment
 * variables.
 *
 * @example
 * ```ts
 * import { RedisTokenStore } from "@effect-oauth2/redis"
 *
 * // OAUTH2_REDIS_URL=rediss://:password@redis.internal:6380 OAUTH2_REDIS_ENCRYPTION_KEY=...
 * const Store = RedisTokenStore.layerConfig()
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  options: Config.Config.Wrap<Omit<Options, "client">> = config()
): Layer.Layer<RedisTokenStore, OAuth2Error.ConfigurationError | ConfigError.ConfigError> =>
  Layer.scoped(RedisTokenStore, Effect.flatMap(Config.unwrap(options), make))

/**
 * The Redis keys of a token cache key: where the token (`token`) and the lease (`lease`) of a client live, to
 * look at them with `redis-cli`. A layer's cache key is the `cacheKey` field of its `OAuth2Client` service.
 *
 * @example
 * ```ts
 * import { OAuth2Client } from "@effect-oauth2/core"
 * import { RedisTokenStore } from "@effect-oauth2/redis"
 * import { Effect } from "effect"
 *
 * const where = Effect.map(OAuth2Client.OAuth2Client, (client) => RedisTokenStore.keys(client.cacheKey).token)
 * ```
 *
 * @since 0.1.0
 * @category utils
 */
export const keys = (
  cacheKey: string,
  prefix?: string
): { readonly token: string; readonly lease: string; readonly channel: string } => {
  const all = internal.keysOf(cacheKey, prefix)
  return { token: all.token, lease: all.lease, channel: all.channel }
}
