/**
 * One line to an authenticated `HttpClient` on Node: the core layer of `@effect-oauth2/core` over
 * `@effect/platform-node`'s undici client, with options given in code, read from `Config`, or read from
 * `OAUTH2_*` environment variables.
 *
 * @since 0.1.0
 */
import { OAuth2HttpClient } from "@effect-oauth2/core"
import type { OAuth2Client, OAuth2Error } from "@effect-oauth2/core"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"

/**
 * What the Node layers provide: the authenticated `HttpClient.HttpClient` (token failures surface as
 * `HttpClientError.RequestError` with the {@link OAuth2Error.OAuth2Error} as `cause`) and the
 * {@link OAuth2Client.OAuth2Client} tag (typed errors, current credentials, `invalidate`).
 *
 * @since 0.1.0
 * @category models
 */
export type Services = HttpClient.HttpClient | OAuth2Client.OAuth2Client

/**
 * The core layer over the undici `HttpClient`: downstream code asks for `HttpClient.HttpClient` and its requests
 * carry `Authorization: Bearer <token>`; the token is fetched once, shared by concurrent callers, refreshed in
 * the background before it expires, and replaced after a 401 `invalid_token`. The undici dispatcher, and every
 * background refresh, live as long as the layer.
 *
 * Fails with a `ConfigurationError` (before any request) when the options cannot work, such as a plain-http
 * token URL on a non-loopback host.
 *
 * @example
 * ```ts
 * import { NodeOAuth2 } from "@effect-oauth2/platform-node"
 * import { HttpClient } from "@effect/platform"
 * import { Effect, Redacted } from "effect"
 *
 * const Auth = NodeOAuth2.layer({
 *   tokenUrl: "https://auth.example.com/oauth2/token",
 *   clientId: "reporting-service",
 *   clientSecret: Redacted.make(process.env.CLIENT_SECRET!),
 *   scopes: ["reports:read"],
 *   origins: ["https://api.example.com"]
 * })
 *
 * const program = Effect.gen(function*() {
 *   const client = yield* HttpClient.HttpClient
 *   const response = yield* client.get("https://api.example.com/reports")
 *   return yield* response.json
 * }).pipe(Effect.provide(Auth))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: OAuth2Client.Options
): Layer.Layer<Services, OAuth2Error.ConfigurationError | OAuth2Error.DiscoveryError> =>
  OAuth2HttpClient.layer(options).pipe(Layer.provide(NodeHttpClient.layerUndici))

/**
 * {@link layer} with options read from `Config`: each option may be a `Config` (secrets through
 * `Config.redacted`) or a plain value wrapped in `Config.succeed`.
 *
 * @example
 * ```ts
 * import { NodeOAuth2 } from "@effect-oauth2/platform-node"
 * import { Config } from "effect"
 *
 * const Auth = NodeOAuth2.layerConfig({
 *   tokenUrl: Config.string("AUTH_TOKEN_URL"),
 *   clientId: Config.string("AUTH_CLIENT_ID"),
 *   clientSecret: Config.redacted("AUTH_CLIENT_SECRET"),
 *   scopes: Config.succeed(["reports:read"])
 * })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  config: Config.Config.Wrap<OAuth2Client.Options>
): Layer.Layer<Services, OAuth2Error.ConfigurationError | OAuth2Error.DiscoveryError | ConfigError.ConfigError> =>
  OAuth2HttpClient.layerConfig(config).pipe(Layer.provide(NodeHttpClient.layerUndici))

/**
 * The options read from environment variables (or any `ConfigProvider`) named `<prefix>_...`, default prefix
 * `OAUTH2`; `overrides` are laid over what is read (a `store`, lifecycle settings, functions), and
 * `overrides.params` are merged into the audience and resource read. This is the core `OAuth2HttpClient.config`:
 * a missing or malformed variable (URLs are checked when read) is a `ConfigError` naming it.
 *
 * | variable | option |
 * | --- | --- |
 * | `OAUTH2_TOKEN_URL` (required) | `tokenUrl`: an absolute http(s) URL |
 * | `OAUTH2_CLIENT_ID` | `clientId` |
 * | `OAUTH2_CLIENT_SECRET` | `clientSecret`, read as `Redacted` |
 * | `OAUTH2_SCOPES` | `scopes`, space or comma separated |
 * | `OAUTH2_AUDIENCE` | `params.audience` |
 * | `OAUTH2_RESOURCE` | `params.resource` (RFC 8707), space or comma separated, sent repeated |
 * | `OAUTH2_AUTH_METHOD` | `auth`: `client_secret_basic`, `client_secret_post` or `none` |
 * | `OAUTH2_ORIGINS` | `origins`: the API origins that get the token, space or comma separated |
 * | `OAUTH2_TIMEOUT` | `timeout` of one token request, a duration such as `10 seconds` |
 *
 * @since 0.1.0
 * @category config
 */
export const config: (
  prefix?: string,
  overrides?: Partial<OAuth2Client.Options>
) => Config.Config<OAuth2Client.Options> = OAuth2HttpClient.config

/**
 * {@link layer} with options from environment variables (see {@link config} for the table). A missing
 * `OAUTH2_TOKEN_URL` or a malformed value fails the layer with a `ConfigError` that names the variable.
 *
 * @example
 * ```ts
 * import { FileTokenStore, NodeOAuth2 } from "@effect-oauth2/platform-node"
 *
 * // OAUTH2_TOKEN_URL, OAUTH2_CLIENT_ID, OAUTH2_CLIENT_SECRET, OAUTH2_SCOPES, ... from the environment
 * const Auth = NodeOAuth2.layerFromEnv()
 *
 * // another prefix (BILLING_TOKEN_URL, ...), and tokens kept across restarts
 * const Billing = NodeOAuth2.layerFromEnv("BILLING", { store: FileTokenStore.make("/var/lib/billing/tokens") })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerFromEnv = (
  prefix = "OAUTH2",
  overrides: Partial<OAuth2Client.Options> = {}
): Layer.Layer<Services, OAuth2Error.ConfigurationError | OAuth2Error.DiscoveryError | ConfigError.ConfigError> =>
  Layer.unwrapEffect(Effect.map(config(prefix, overrides), layer))
