/**
 * Authorization server metadata (RFC 8414): where the token endpoint is, which client authentication methods the
 * server takes, and its `mtls_endpoint_aliases` (RFC 8705 §5). Give the grant or the layer an `issuer` instead of a
 * `tokenUrl` and they read it once, when the client is built; {@link discover} reads it on its own (the CLI's
 * `effect-oauth2 discover`).
 *
 * @since 0.2.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Schema from "effect/Schema"
import type * as ClientCredentials from "./ClientCredentials.js"
import * as internal from "./internal/discovery.js"
import type * as OAuth2Error from "./OAuth2Error.js"

/**
 * The metadata document of RFC 8414 §2, with the RFC 8705 and RFC 9449 members a client-credentials client may use.
 * Only `issuer` is required. Members the client uses (`token_endpoint`, `token_endpoint_auth_methods_supported`,
 * `mtls_endpoint_aliases`) must have their RFC types; another known member of the wrong type is dropped; unknown
 * members are kept as they are.
 *
 * @since 0.2.0
 * @category schemas
 */
export const Metadata: typeof internal.Metadata = internal.Metadata

/**
 * @since 0.2.0
 * @category models
 */
export interface Metadata extends Schema.Schema.Type<typeof internal.Metadata> {}

/**
 * Where the metadata is read: `"oauth-authorization-server"` (RFC 8414 §3.1,
 * `/.well-known/oauth-authorization-server` inserted before the issuer's path), `"openid-configuration"` (OpenID
 * Connect Discovery §4, `/.well-known/openid-configuration` appended to the issuer), or `"auto"` (default): the
 * first, then the second when the first serves no metadata (404, another 4xx, a page that is not JSON metadata).
 *
 * @since 0.2.0
 * @category models
 */
export type Location = "auto" | "oauth-authorization-server" | "openid-configuration"

/**
 * Options of {@link discover}: the grant's `timeout`, `retry`, `maxResponseBytes` and `allowInsecureHttp` apply
 * here too, with the same defaults (30 s per attempt; up to 3 retries on transport errors, timeouts, 408, 429 and
 * 5xx inside a 60 s budget; 1 MiB).
 *
 * @since 0.2.0
 * @category models
 */
export interface Options {
  readonly location?: Location | undefined
  readonly allowInsecureHttp?: boolean | undefined
  readonly timeout?: Duration.DurationInput | undefined
  readonly retry?: ClientCredentials.RetryOptions | false | undefined
  readonly maxResponseBytes?: number | undefined
}

/**
 * Reads the metadata of `issuer` (RFC 8414 §3) and checks that its `issuer` is identical to the one asked for
 * (§3.3): `https://as.example.com` and `https://as.example.com/` are different issuers, as are two host names of
 * one server. A failure is a {@link OAuth2Error.DiscoveryError} that names the URL it tried and why it failed (404,
 * HTML, wrong issuer, timeout, ...); an issuer that is not an https URL (http only on loopback hosts or with
 * `allowInsecureHttp`), or has a query or fragment, is a `ConfigurationError`.
 *
 * @example
 * ```ts
 * import { Discovery } from "@effect-oauth2/core"
 * import { FetchHttpClient } from "@effect/platform"
 * import { Console, Effect } from "effect"
 *
 * const program = Discovery.discover("https://auth.example.com").pipe(
 *   Effect.flatMap((metadata) => Console.log(metadata.token_endpoint, metadata.token_endpoint_auth_methods_supported)),
 *   Effect.provide(FetchHttpClient.layer)
 * )
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const discover = (
  issuer: string | URL,
  options: Options = {}
): Effect.Effect<Metadata, OAuth2Error.DiscoveryError | OAuth2Error.ConfigurationError, HttpClient.HttpClient> =>
  Effect.map(internal.discover(issuer, options), (found) => found.metadata)

/**
 * The metadata URL of an issuer at a location: RFC 8414 §3.1 for `"oauth-authorization-server"`, OpenID Connect
 * Discovery §4 for `"openid-configuration"`.
 *
 * @example
 * ```ts
 * import { Discovery } from "@effect-oauth2/core"
 *
 * Discovery.metadataUrl(new URL("https://as.example.com/tenant-a"), "oauth-authorization-server").href
 * // "https://as.example.com/.well-known/oauth-authorization-server/tenant-a"
 * ```
 *
 * @since 0.2.0
 * @category utils
 */
export const metadataUrl: (issuer: URL, location: Exclude<Location, "auto">) => URL = internal.metadataUrl

/**
 * The token endpoint a client uses: under mutual TLS the `mtls_endpoint_aliases.token_endpoint` when the server
 * publishes one (RFC 8705 §5), otherwise `token_endpoint`.
 *
 * @since 0.2.0
 * @category utils
 */
export const tokenEndpoint = (metadata: Metadata, options: { readonly mutualTls?: boolean } = {}): string | undefined =>
  (options.mutualTls === true ? metadata.mtls_endpoint_aliases?.token_endpoint : undefined) ?? metadata.token_endpoint
