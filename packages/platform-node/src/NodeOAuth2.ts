/**
 * One line to an authenticated `HttpClient` on Node: the core layer of `@effect-oauth2/core` over
 * `@effect/platform-node`'s undici client, with options given in code, read from `Config`, or read from
 * `OAUTH2_*` environment variables.
 *
 * @since 0.1.0
 */
import { OAuth2HttpClient } from "@effect-oauth2/core"
import type { OAuth2Client, OAuth2Error } from "@effect-oauth2/core"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Redacted from "effect/Redacted"
import * as internalConfig from "./internal/config.js"
import * as internalTls from "./internal/tls.js"

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
 * A client certificate for mutual TLS (RFC 8705): PEM texts (or their bytes). It authenticates the client with
 * `ClientAuth.tlsClientAuth` / `ClientAuth.selfSignedTlsClientAuth`, and binds the tokens to the certificate
 * (RFC 8705 §3) whatever the method.
 *
 * @since 0.2.0
 * @category models
 */
export interface TlsOptions {
  /** The client certificate, followed by any intermediate certificates (PEM), or several PEMs. */
  readonly cert: string | Uint8Array | ReadonlyArray<string | Uint8Array>
  /** The certificate's private key (PEM), Redacted. */
  readonly key: Redacted.Redacted<string | Uint8Array>
  /**
   * The CA certificates that servers (the token endpoint and the APIs) are checked against, instead of Node's
   * default list: for a private PKI.
   */
  readonly ca?: string | Uint8Array | ReadonlyArray<string | Uint8Array> | undefined
  /** The passphrase of an encrypted key, Redacted. */
  readonly passphrase?: Redacted.Redacted<string> | undefined
}

/**
 * The core options, plus the client certificate.
 *
 * @since 0.2.0
 * @category models
 */
export interface Options extends OAuth2Client.Options {
  /**
   * Mutual TLS: the layer builds an undici dispatcher of its own that presents this certificate on every
   * connection, for the token requests and the API requests alike (a certificate-bound token is only accepted with
   * the same certificate), and closes it with the layer. With `issuer`, the metadata's `mtls_endpoint_aliases` are
   * used (`useMtlsEndpointAliases` defaults to on). A certificate or key that cannot be used fails the layer with a
   * `ConfigurationError`.
   */
  readonly tls?: TlsOptions | undefined
}

/**
 * The core layer over the undici `HttpClient`: downstream code asks for `HttpClient.HttpClient` and its requests
 * carry `Authorization: Bearer <token>`; the token is fetched once, shared by concurrent callers, refreshed in
 * the background before it expires, and replaced after a 401 `invalid_token`. The undici dispatcher, and every
 * background refresh, live as long as the layer.
 *
 * Fails with a `ConfigurationError` (before any request) when the options cannot work, such as a plain-http
 * token URL on a non-loopback host, a key that cannot sign or a client certificate that cannot be used; with
 * `issuer`, a failed discovery is a `DiscoveryError`.
 *
 * With `tls`, the layer owns an undici dispatcher that presents the client certificate (mutual TLS, RFC 8705) on
 * the token requests and the API requests.
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
 * @example
 * ```ts
 * import { ClientAuth } from "@effect-oauth2/core"
 * import { NodeOAuth2 } from "@effect-oauth2/platform-node"
 * import { Redacted } from "effect"
 * import * as fs from "node:fs"
 *
 * // mTLS: the certificate authenticates the client and binds its tokens (RFC 8705)
 * const Auth = NodeOAuth2.layer({
 *   issuer: "https://auth.example.com",
 *   clientId: "reporting-service",
 *   auth: ClientAuth.tlsClientAuth,
 *   tls: {
 *     cert: fs.readFileSync("client.crt", "utf8"),
 *     key: Redacted.make(fs.readFileSync("client.key", "utf8"))
 *   },
 *   origins: ["https://api.example.com"]
 * })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: Options
): Layer.Layer<Services, OAuth2Error.ConfigurationError | OAuth2Error.DiscoveryError> => {
  const { tls, ...core } = options
  return OAuth2HttpClient.layer(
    tls !== undefined && core.useMtlsEndpointAliases === undefined ? { ...core, useMtlsEndpointAliases: true } : core
  ).pipe(Layer.provide(internalTls.httpClientLayer(tls)))
}

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
  config: Config.Config.Wrap<Options>
): Layer.Layer<Services, OAuth2Error.ConfigurationError | OAuth2Error.DiscoveryError | ConfigError.ConfigError> =>
  Layer.unwrapEffect(Effect.map(Config.unwrap(config), layer))

/**
 * The options read from environment variables (or any `ConfigProvider`) named `<prefix>_...`, default prefix
 * `OAUTH2`; `overrides` are laid over what is read (a `store`, lifecycle settings, functions), and
 * `overrides.params` are merged into the audience and resource read. This is the core `OAuth2HttpClient.config`
 * plus the files only Node reads: a missing or malformed variable (URLs are checked when read), or a file that is
 * missing, unreadable or empty, is a `ConfigError` naming the variable.
 *
 * | variable | option |
 * | --- | --- |
 * | `OAUTH2_TOKEN_URL` | `tokenUrl`: an absolute http(s) URL (this or `OAUTH2_ISSUER` is required) |
 * | `OAUTH2_ISSUER` | `issuer`: the token endpoint is discovered (RFC 8414) |
 * | `OAUTH2_CLIENT_ID` | `clientId` |
 * | `OAUTH2_CLIENT_SECRET` | `clientSecret`, read as `Redacted` |
 * | `OAUTH2_PRIVATE_KEY` | the `private_key_jwt` key, PKCS#8 PEM or a JWK as JSON, read as `Redacted` |
 * | `OAUTH2_PRIVATE_KEY_FILE` | the same, from a file (not both) |
 * | `OAUTH2_KEY_ID` | the `kid` of that key |
 * | `OAUTH2_TLS_CERT_FILE`, `OAUTH2_TLS_KEY_FILE` | `tls`: the client certificate and its key (PEM files) |
 * | `OAUTH2_TLS_CA_FILE` | `tls.ca`: the CAs that servers are checked against (PEM file) |
 * | `OAUTH2_SCOPES` | `scopes`, space or comma separated |
 * | `OAUTH2_AUDIENCE` | `params.audience` |
 * | `OAUTH2_RESOURCE` | `params.resource` (RFC 8707), space or comma separated, sent repeated |
 * | `OAUTH2_AUTH_METHOD` | `auth`: `client_secret_basic`, `client_secret_post`, `client_secret_jwt`, `private_key_jwt`, `tls_client_auth`, `self_signed_tls_client_auth` or `none` |
 * | `OAUTH2_ORIGINS` | `origins`: the API origins that get the token, space or comma separated |
 * | `OAUTH2_TIMEOUT` | `timeout` of one token request, a duration such as `10 seconds` |
 *
 * Without `OAUTH2_AUTH_METHOD`: `private_key_jwt` with a private key, `client_secret_basic` with a secret (or what
 * discovery finds), `tls_client_auth` with only a client certificate, otherwise `none`.
 *
 * @since 0.1.0
 * @category config
 */
export const config = (prefix = "OAUTH2", overrides: Partial<Options> = {}): Config.Config<Options> =>
  internalConfig.config<Options>(prefix, overrides)

/**
 * {@link layer} with options from environment variables (see {@link config} for the table). Neither
 * `OAUTH2_TOKEN_URL` nor `OAUTH2_ISSUER`, a malformed value or an unreadable file fails the layer with a
 * `ConfigError` that names the variable.
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
  overrides: Partial<Options> = {}
): Layer.Layer<Services, OAuth2Error.ConfigurationError | OAuth2Error.DiscoveryError | ConfigError.ConfigError> =>
  Layer.unwrapEffect(Effect.map(config(prefix, overrides), layer))
