/**
 * A client-credentials OAuth 2.0 client as a service: an authenticated HttpClient (two flavours), and the token
 * lifecycle behind it. Use the Tag when you want the typed {@link OAuth2Error.OAuth2Error}, the current
 * credentials, or `invalidate`; use {@link make} for one client per API when a program talks to several.
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import type * as AccessToken from "./AccessToken.js"
import type * as ClientCredentials from "./ClientCredentials.js"
import * as internal from "./internal/client.js"
import type * as OAuth2Error from "./OAuth2Error.js"

/**
 * Options: the grant's, the lifecycle's, and how the token is attached to API requests.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options extends ClientCredentials.Options, AccessToken.Options {
  /**
   * The origins (`https://api.example.com`) whose requests get the token. Requests to other origins go out
   * untouched, and a token this client attached is removed if a request is re-sent to another origin (a
   * redirect). Default `"*"`: every https origin and loopback http (never plain http over a network unless
   * `allowInsecureHttp`). Set it whenever the program calls anything else through the same HttpClient.
   */
  readonly origins?: ReadonlyArray<string | URL> | "*" | undefined
  /**
   * When a 401 invalidates the token and replays the request once with a fresh one:
   * `"invalid_token"` (default) when `WWW-Authenticate` has a Bearer challenge with `error="invalid_token"`
   * (RFC 6750 §3.1), or a DPoP challenge with it (RFC 9449 §7.1); `"always"` on any 401 (servers that send no
   * challenge); `"never"`. Requests with a stream body are not replayed (the stream is spent). Apart from this, with
   * `dpop` a 401 DPoP `use_dpop_nonce` challenge is replayed once with the server's nonce (RFC 9449 §9).
   */
  readonly replayOn401?: "invalid_token" | "always" | "never" | undefined
  /**
   * The Dart package's `Client` behaviour: a final 401 whose Bearer (or, with `dpop`, DPoP) challenge carries an
   * `error` fails with a
   * `ResponseError` (reason `StatusCode`, the challenge in its description) instead of returning the response.
   * Default `false`.
   */
  readonly failOnChallenge?: boolean | undefined
  /** Applied to the ambient client for API requests (not token requests): base URL, retries, ... */
  readonly transformClient?: ((client: HttpClient.HttpClient) => HttpClient.HttpClient) | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /**
   * The authenticated client with the platform's error type: a token failure is an
   * `HttpClientError.RequestError` (the request was not sent) whose `cause` is the {@link OAuth2Error.OAuth2Error}:
   * reason `Transport` when the failure is transient (`HttpClient.retryTransient` repeats it), `Encode` for a
   * definite one such as `invalid_client`; the description says which in words.
   */
  readonly httpClient: HttpClient.HttpClient
  /** The same client with token failures as typed {@link OAuth2Error.OAuth2Error}s. */
  readonly typedHttpClient: HttpClient.HttpClient.With<HttpClientError.HttpClientError | OAuth2Error.OAuth2Error>
  /** The token lifecycle: current credentials, `get`, `refresh`, `invalidate`. */
  readonly token: AccessToken.AccessToken
  /** The cache and store key of these options. */
  readonly cacheKey: string
}

/**
 * @since 0.1.0
 * @category tags
 */
export class OAuth2Client extends Context.Tag("@effect-oauth2/core/OAuth2Client")<OAuth2Client, Service>() {}

/**
 * Builds a client over the ambient `HttpClient`, which it uses unauthenticated for token requests. Options are
 * checked here: a bad token URL or a key that cannot sign fails now (`ConfigurationError`), not at the first
 * request; with `issuer`, the metadata is read now, once (`DiscoveryError` when it cannot be used).
 *
 * @example
 * ```ts
 * import { OAuth2Client } from "@effect-oauth2/core"
 * import { Effect, Redacted } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const billing = yield* OAuth2Client.make({
 *     tokenUrl: "https://auth.example.com/token",
 *     clientId: "svc",
 *     clientSecret: Redacted.make("s3cret"),
 *     origins: ["https://billing.example.com"]
 *   })
 *   const response = yield* billing.httpClient.get("https://billing.example.com/invoices")
 * })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (
  options: Options
) => Effect.Effect<
  Service,
  OAuth2Error.ConfigurationError | OAuth2Error.DiscoveryError,
  HttpClient.HttpClient | Scope.Scope
> = internal.make

/**
 * A layer of the {@link OAuth2Client} tag alone (the ambient HttpClient stays as it is).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: Options
): Layer.Layer<OAuth2Client, OAuth2Error.ConfigurationError | OAuth2Error.DiscoveryError, HttpClient.HttpClient> =>
  Layer.scoped(OAuth2Client, make(options))
