/**
 * The client credentials grant (RFC 6749 §4.4): the client asks the token endpoint for an access token in its own
 * name, authenticating with its own credentials. A port of the Dart `oauth2` package's `clientCredentialsGrant`,
 * as an Effect that needs an `HttpClient` and reads time through `Clock`.
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Redacted from "effect/Redacted"
import type * as Schedule from "effect/Schedule"
import type * as ClientAuth from "./ClientAuth.js"
import type { Credentials } from "./Credentials.js"
import type * as Dpop from "./Dpop.js"
import * as dpop from "./internal/dpop.js"
import * as internal from "./internal/grant.js"
import { resolve } from "./internal/resolve.js"
import * as OAuth2Error from "./OAuth2Error.js"
import type * as TokenResponse from "./TokenResponse.js"

/**
 * Retry policy for token requests.
 *
 * By default a token request is retried on transport errors, attempt timeouts, HTTP 408, 429, 500, 502, 503, 504
 * and `temporarily_unavailable` ({@link OAuth2Error.isRetryable}), up to 3 times with exponential backoff from
 * 250 ms (×2, jittered ±20 %), waiting at least as long as the server's `Retry-After` (seconds or HTTP date) up to
 * `retryAfterCap` (30 s), all inside `budget` (60 s). Definite refusals (`invalid_client`, `invalid_scope`, ...)
 * are never retried.
 *
 * @since 0.1.0
 * @category models
 */
export interface RetryOptions {
  /** Replaces the backoff schedule; its input is the failed attempt's error. */
  readonly schedule?: Schedule.Schedule<unknown, OAuth2Error.OAuth2Error> | undefined
  /** Which errors to retry; default {@link OAuth2Error.isRetryable}. */
  readonly while?: ((error: OAuth2Error.OAuth2Error) => boolean) | undefined
  /** The longest `Retry-After` honoured; default 30 seconds. */
  readonly retryAfterCap?: Duration.DurationInput | undefined
  /** The time all attempts together may take; default 60 seconds. Beyond it: a `TimeoutError` with stage "budget". */
  readonly budget?: Duration.DurationInput | undefined
}

/**
 * A value of an extra request parameter. Arrays repeat the parameter (RFC 8707 `resource`); `undefined`, `null`
 * and empty strings are not sent.
 *
 * @since 0.1.0
 * @category models
 */
export type ParamValue = string | number | boolean | ReadonlyArray<string> | null | undefined

/**
 * Options of the grant. The first five mirror the Dart `clientCredentialsGrant(authorizationEndpoint, identifier,
 * secret, scopes:, delimiter:)`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /**
   * The token endpoint. https is required except for loopback hosts (see `allowInsecureHttp`). Required unless
   * `issuer` is given.
   */
  readonly tokenUrl?: string | URL | undefined
  /**
   * The authorization server's issuer identifier, instead of `tokenUrl`: its metadata (RFC 8414, or OpenID Connect
   * Discovery as the fallback) is read once when the client is built, and gives the token endpoint. The metadata's
   * `issuer` must equal this value exactly (RFC 8414 §3.3). With `tokenUrl` as well, nothing is discovered and the
   * issuer only serves as the assertion audience `"issuer"`.
   */
  readonly issuer?: string | URL | undefined
  /**
   * Use the metadata's `mtls_endpoint_aliases.token_endpoint` (RFC 8705 §5) when it has one. Default: on for
   * {@link ClientAuth.tlsClientAuth} and {@link ClientAuth.selfSignedTlsClientAuth}; the Node layer turns it on when
   * it is given a client certificate (`tls`).
   */
  readonly useMtlsEndpointAliases?: boolean | undefined
  readonly clientId?: string | undefined
  /** Always Redacted: `Redacted.make(secret)` or `Config.redacted("...")`. */
  readonly clientSecret?: Redacted.Redacted<string> | undefined
  /** Requested scopes (RFC 6749 §3.3), as a list or one delimited string. Sent only when non-empty. */
  readonly scopes?: ReadonlyArray<string> | string | undefined
  /** Joins and splits scopes; default `" "` (the RFC's). Some providers use `","`. */
  readonly scopeDelimiter?: string | undefined
  /**
   * Client authentication; default {@link ClientAuth.clientSecretBasic} when a secret is given (RFC 6749
   * §2.3.1, form-encoded; with `issuer`, {@link ClientAuth.clientSecretPost} when the server lists only that),
   * otherwise {@link ClientAuth.none}. Keys and mutual TLS: {@link ClientAuth.privateKeyJwt},
   * {@link ClientAuth.clientSecretJwt}, {@link ClientAuth.tlsClientAuth}.
   */
  readonly auth?: ClientAuth.ClientAuth | undefined
  /** Extra body parameters: `audience`, `resource` (repeatable, RFC 8707), anything the server wants. */
  readonly params?: Readonly<Record<string, ParamValue>> | undefined
  /** Extra headers on the token request. */
  readonly headers?: Readonly<Record<string, string>> | undefined
  /** Replaces the body parser (the Dart package's `getParameters`). */
  readonly parseResponse?: TokenResponse.ParseResponse | undefined
  /** Subtracted from the lifetime, so the token is retired early; default 10 s, never more than half the lifetime. */
  readonly expiryGrace?: Duration.DurationInput | undefined
  /** Allows a plain-http token URL on a non-loopback host. Off by default: the secret would travel in clear. */
  readonly allowInsecureHttp?: boolean | undefined
  /** Timeout of one token request (attempt); default 30 seconds. */
  readonly timeout?: Duration.DurationInput | undefined
  /** Retry policy, or `false` for a single attempt. */
  readonly retry?: RetryOptions | false | undefined
  /** The largest token response body read; default 1 MiB. */
  readonly maxResponseBytes?: number | undefined
  /**
   * DPoP (RFC 9449): `true` generates an ES256 key pair (non-extractable) when the client is built; `{ key, alg? }`
   * uses a given pair. Token requests then carry a proof, and a `DPoP` token is bound to the key. See {@link Dpop}.
   *
   * @since 0.2.0
   */
  readonly dpop?: Dpop.Option | undefined
}

/**
 * Obtains credentials with the client credentials grant (RFC 6749 §4.4.2): POSTs `grant_type=client_credentials`
 * (plus `scope` and `params`) with the client authentication of `auth`, and decodes the answer (§4.4.3, §5.1,
 * §5.2) into {@link Credentials}. Options are checked before anything is sent.
 *
 * @example
 * ```ts
 * import { ClientCredentials } from "@effect-oauth2/core"
 * import { FetchHttpClient } from "@effect/platform"
 * import { Effect, Redacted } from "effect"
 *
 * const program = ClientCredentials.grant({
 *   tokenUrl: "https://auth.example.com/oauth2/token",
 *   clientId: "my-service",
 *   clientSecret: Redacted.make("s3cret"),
 *   scopes: ["api:read"],
 *   params: { audience: "https://api.example.com" }
 * }).pipe(Effect.provide(FetchHttpClient.layer))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const grant = (options: Options): Effect.Effect<Credentials, OAuth2Error.OAuth2Error, HttpClient.HttpClient> =>
  Effect.flatMap(make(options), (request) => request)

/**
 * Checks the options and captures the ambient `HttpClient`, giving the token request as an Effect that can be run
 * any number of times (each run is one grant, with its retries). Configuration mistakes fail here, once; so do
 * discovery (with `issuer`) and the import of a client authentication key.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: Options
): Effect.Effect<
  Effect.Effect<Credentials, OAuth2Error.OAuth2Error>,
  OAuth2Error.ConfigurationError | OAuth2Error.DiscoveryError,
  HttpClient.HttpClient
> =>
  Effect.gen(function*() {
    const resolved = yield* resolve(options)
    const prepared = yield* Effect.suspend(() => internal.prepare(resolved))
    const client = yield* HttpClient.HttpClient
    return internal.request(prepared, client)
  })

/**
 * The key under which tokens of these options are cached and stored: token endpoint, client id, auth method,
 * sorted scopes and sorted extra parameters, and the DPoP key's thumbprint. Never the secret.
 *
 * Options with an `issuer` and no `tokenUrl` have no key before discovery: read it from the built client
 * (`OAuth2Client`'s `cacheKey`) instead.
 *
 * @since 0.1.0
 * @category utils
 */
export const cacheKey = (options: Options): Effect.Effect<string, OAuth2Error.ConfigurationError> =>
  Effect.suspend(() => {
    const tokenUrl = options.tokenUrl
    return tokenUrl === undefined
      ? Effect.fail(
        new OAuth2Error.ConfigurationError({
          reason: "cacheKey names the token endpoint: with issuer and no tokenUrl it is known only once discovered; " +
            "read cacheKey from the built OAuth2Client"
        })
      )
      : options.dpop === true
      ? Effect.fail(
        new OAuth2Error.ConfigurationError({
          reason: "cacheKey names the DPoP key: with dpop: true it is generated when the client is built; " +
            "read cacheKey from the built OAuth2Client"
        })
      )
      : Effect.flatMap(dpop.resolveKey(options.dpop), (key) =>
        Effect.map(
          internal.prepare({ ...options, tokenUrl, ...(key !== undefined ? { dpopHooks: dpop.make(key) } : {}) }),
          (prepared) => prepared.cacheKey
        ))
  })
