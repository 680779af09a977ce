/**
 * The typed errors of effect-oauth2. Every failure of a token request ends as one of these, never as a defect:
 * the server refused ({@link ErrorResponse}, RFC 6749 §5.2), the answer could not be used
 * ({@link InvalidResponse}), the request never completed ({@link TransportError}, {@link TimeoutError}), or the
 * options were wrong before anything was sent ({@link ConfigurationError}).
 *
 * No error carries a client secret or a token: bodies are cut to a short excerpt with token-like fields masked,
 * and transport causes are stripped of the request body and its headers.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"

/**
 * @since 0.1.0
 * @category type ids
 */
export const TypeId: unique symbol = Symbol.for("@effect-oauth2/core/OAuth2Error")

/**
 * @since 0.1.0
 * @category type ids
 */
export type TypeId = typeof TypeId

/**
 * Returns `true` for any error of this library.
 *
 * @since 0.1.0
 * @category guards
 */
export const isOAuth2Error = (u: unknown): u is OAuth2Error => Predicate.hasProperty(u, TypeId)

const where = (tokenEndpoint: string) => tokenEndpoint.length > 0 ? ` from ${tokenEndpoint}` : ""

/** The full stop a sentence ends with, unless the server's own text (quoted last) already ends in one. */
const stop = (text: string) => /[.!?]$/.test(text) ? "" : "."

/**
 * How a token request that was retried ended: the attempts made and the time from the first to the end. Set on the
 * error a retried token request finally fails with; absent when there was one attempt.
 *
 * @since 0.2.0
 * @category models
 */
export const Retries = Schema.Struct({ attempts: Schema.Number, elapsedMillis: Schema.Number })

/**
 * @since 0.2.0
 * @category models
 */
export type Retries = typeof Retries.Type

const authMethodField = Schema.optionalWith(Schema.String, { exact: true })

const retriesField = Schema.optionalWith(Retries, { exact: true })

/** The sentence a retried failure ends with: how many attempts, over how long, and what to check. */
const gaveUp = (retries: Retries | undefined): string =>
  retries === undefined ?
    "" :
    ` Gave up after ${retries.attempts} attempts over ${
      Duration.format(Duration.millis(Math.round(retries.elapsedMillis)))
    }: check that the token endpoint is up and reachable from this host (its URL, DNS, proxy, firewall), or give ` +
    `the retry option a longer schedule or budget.`

/**
 * The authorization server answered with an error response (RFC 6749 §5.2): `error`, and optionally
 * `error_description` and `error_uri`. A 200 response that carries `error` ends here too, as golang/oauth2 does.
 *
 * `retryAfter` holds the server's `Retry-After` header in milliseconds when it sent one (RFC 9110 §10.2.3).
 *
 * @since 0.1.0
 * @category errors
 */
export class ErrorResponse extends Schema.TaggedError<ErrorResponse>("@effect-oauth2/core/ErrorResponse")(
  "ErrorResponse",
  {
    tokenEndpoint: Schema.String,
    status: Schema.Number,
    error: Schema.String,
    errorDescription: Schema.optionalWith(Schema.String, { exact: true }),
    errorUri: Schema.optionalWith(Schema.String, { exact: true }),
    retryAfter: Schema.optionalWith(Schema.Number, { exact: true }),
    /** Set when the request was retried (@since 0.2.0). */
    retries: retriesField,
    /** The client authentication method used (`token_endpoint_auth_method`), for the hint (@since 0.2.0). */
    authMethod: authMethodField
  }
) {
  /**
   * @since 0.1.0
   */
  readonly [TypeId]: TypeId = TypeId

  /**
   * @since 0.1.0
   */
  override get message(): string {
    const detail = this.errorDescription !== undefined
      ? `: ${this.errorDescription}`
      : this.errorUri !== undefined
      ? `: see ${this.errorUri}`
      : ""
    const sentence = `The authorization server refused the token request (HTTP ${this.status}, error "${this.error}")` +
      `${where(this.tokenEndpoint)}${detail}`
    return `${sentence}${stop(sentence)} ${hintFor(this.error, this.authMethod)}`.trimEnd() + gaveUp(this.retries)
  }
}

/**
 * What to check when the server refuses the client: the credentials, the method, and the Basic encoding that some
 * servers skip (RFC 6749 §2.3.1 asks them to form-decode the id and secret; many only base64-decode them).
 */
const basicHint = "Check the client id, the client secret and the client authentication method (auth): some " +
  "servers do not form-decode Basic credentials (RFC 6749 §2.3.1), so auth: ClientAuth.clientSecretBasicWith(\"none\") " +
  "or ClientAuth.clientSecretPost may help."

const assertionHint = "the assertion's audience (aud: the token endpoint by default; some servers want the issuer, " +
  "the audience option of the method), its alg, and the clocks of this host and the server (iat, exp)."

/** What to check when the server refuses the client, for the method that was used (RFC 6749 §2.3, RFC 7523, RFC 8705). */
const clientHint = (method: string | undefined): string => {
  switch (method) {
    case "client_secret_post":
      return "Check the client id, the client secret and the client authentication method (auth): the secret was " +
        "sent in the form body (client_secret_post); the server may expect HTTP Basic (ClientAuth.clientSecretBasic)."
    case "client_secret_jwt":
      return "Check the client id, the client secret (the HMAC key of the client_secret_jwt assertion), and " +
        assertionHint
    case "private_key_jwt":
      return "Check the client id, that the server knows the client's public key (its registered JWKS or key, and the " +
        "kid), and " + assertionHint
    case "tls_client_auth":
    case "self_signed_tls_client_auth":
      return "Check the client id, that the client certificate is presented (the platform layer's tls option) and " +
        `is the one registered for ${method} (RFC 8705 §2), and that the token request goes to the mutual-TLS ` +
        "endpoint (mtls_endpoint_aliases)."
    case "none":
      return "Check the client id: this client sends no credentials (auth: none), and the server may require " +
        "client authentication."
    default:
      return basicHint
  }
}

const hintFor = (error: string, method: string | undefined): string => {
  switch (error) {
    case "invalid_client":
      return clientHint(method)
    case "invalid_scope":
      return "Check the requested scopes against those the client may ask for."
    case "unauthorized_client":
      return "The client may not use the client_credentials grant; check its registration."
    case "unsupported_grant_type":
      return "The server does not support the client_credentials grant for this client."
    case "invalid_target":
      return "Check the resource / audience parameters."
    case "temporarily_unavailable":
      return "The server is temporarily unavailable; the request may be retried."
    default:
      return ""
  }
}

/**
 * Whether an HTTP status from the token endpoint means the server refused the client (401 Unauthorized, 403
 * Forbidden), whatever the body says. Such an answer without an RFC 6749 §5.2 body is still a refusal, and its
 * {@link InvalidResponse} message reads as one, with what to check.
 *
 * @since 0.1.0
 * @category predicates
 */
export const isRefusalStatus = (status: number): boolean => status === 401 || status === 403

/**
 * The token endpoint answered, but not with something usable: a status that is neither 200 nor an RFC 6749 §5.2
 * error, a missing or unexpected content type, a body that does not parse, a missing or mistyped field, an
 * unsupported `token_type`, a body over the size limit, or a redirect.
 *
 * `bodyExcerpt` is at most a few hundred characters, with the values of token and secret fields masked.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidResponse extends Schema.TaggedError<InvalidResponse>("@effect-oauth2/core/InvalidResponse")(
  "InvalidResponse",
  {
    tokenEndpoint: Schema.String,
    reason: Schema.String,
    status: Schema.Number,
    contentType: Schema.optionalWith(Schema.String, { exact: true }),
    bodyExcerpt: Schema.String,
    retryAfter: Schema.optionalWith(Schema.Number, { exact: true }),
    /** Set when the request was retried (@since 0.2.0). */
    retries: retriesField,
    /** The client authentication method used, for the hint of a refusal (@since 0.2.0). */
    authMethod: authMethodField
  }
) {
  /**
   * @since 0.1.0
   */
  readonly [TypeId]: TypeId = TypeId

  /**
   * @since 0.1.0
   */
  override get message(): string {
    const type = this.contentType !== undefined ? `, content type ${this.contentType}` : ""
    const body = this.bodyExcerpt.length > 0 ? ` Body starts: ${JSON.stringify(this.bodyExcerpt)}` : ""
    // A 401 or 403 without a §5.2 body (empty, or an HTML page) is how some servers say no to a wrong secret.
    return isRefusalStatus(this.status)
      ? `The authorization server refused the token request${
        where(this.tokenEndpoint)
      } (HTTP ${this.status}${type}): ${this.reason}. ${clientHint(this.authMethod)}${body}`
      : `Invalid OAuth 2.0 token response${where(this.tokenEndpoint)} (HTTP ${this.status}${type}): ${this.reason}.${
        gaveUp(this.retries)
      }${body}`
  }
}

/**
 * The token request did not complete: the connection failed, was dropped, or the body stream broke off. `cause`
 * is the platform's `HttpClientError` (with the request body and headers removed, so no secret travels with it).
 *
 * @since 0.1.0
 * @category errors
 */
export class TransportError extends Schema.TaggedError<TransportError>("@effect-oauth2/core/TransportError")(
  "TransportError",
  {
    tokenEndpoint: Schema.String,
    description: Schema.String,
    cause: Schema.optionalWith(Schema.Defect, { exact: true }),
    /** Set when the request was retried (@since 0.2.0). */
    retries: retriesField
  }
) {
  /**
   * @since 0.1.0
   */
  readonly [TypeId]: TypeId = TypeId

  /**
   * @since 0.1.0
   */
  override get message(): string {
    return `The token request${
      this.tokenEndpoint.length > 0 ? ` to ${this.tokenEndpoint}` : ""
    } failed: ${this.description}${stop(this.description)}${gaveUp(this.retries)}`
  }
}

/**
 * A token request took longer than its timeout (`stage: "attempt"`), or all attempts together took longer than the
 * retry budget (`stage: "budget"`).
 *
 * @since 0.1.0
 * @category errors
 */
export class TimeoutError extends Schema.TaggedError<TimeoutError>("@effect-oauth2/core/TimeoutError")(
  "TimeoutError",
  {
    tokenEndpoint: Schema.String,
    stage: Schema.Literal("attempt", "budget"),
    timeoutMillis: Schema.Number,
    /** Set when the request was retried (@since 0.2.0). */
    retries: retriesField
  }
) {
  /**
   * @since 0.1.0
   */
  readonly [TypeId]: TypeId = TypeId

  /**
   * @since 0.1.0
   */
  override get message(): string {
    const what = this.stage === "attempt" ? "The token request" : "The token request and its retries"
    return `${what} to ${this.tokenEndpoint} timed out after ${Duration.format(Duration.millis(this.timeoutMillis))}.${
      gaveUp(this.retries)
    }`
  }
}

/**
 * The options cannot work, found before any request is sent: an unparsable or insecure token URL, a secret without
 * a client id, a client authentication method that lacks what it needs.
 *
 * @since 0.1.0
 * @category errors
 */
export class ConfigurationError
  extends Schema.TaggedError<ConfigurationError>("@effect-oauth2/core/ConfigurationError")("ConfigurationError", {
    reason: Schema.String
  })
{
  /**
   * @since 0.1.0
   */
  readonly [TypeId]: TypeId = TypeId

  /**
   * @since 0.1.0
   */
  override get message(): string {
    return `Invalid OAuth 2.0 client configuration: ${this.reason}`
  }
}

/**
 * Every error a token request can end with.
 *
 * @since 0.1.0
 * @category models
 */
export type OAuth2Error =
  | ErrorResponse
  | InvalidResponse
  | TransportError
  | TimeoutError
  | ConfigurationError
  | DiscoveryError

/**
 * @since 0.1.0
 * @category guards
 */
export const isErrorResponse = (u: unknown): u is ErrorResponse => isOAuth2Error(u) && u._tag === "ErrorResponse"

/**
 * @since 0.1.0
 * @category guards
 */
export const isInvalidResponse = (u: unknown): u is InvalidResponse => isOAuth2Error(u) && u._tag === "InvalidResponse"

/**
 * @since 0.1.0
 * @category guards
 */
export const isTransportError = (u: unknown): u is TransportError => isOAuth2Error(u) && u._tag === "TransportError"

/**
 * @since 0.1.0
 * @category guards
 */
export const isTimeoutError = (u: unknown): u is TimeoutError => isOAuth2Error(u) && u._tag === "TimeoutError"

/**
 * @since 0.1.0
 * @category guards
 */
export const isConfigurationError = (u: unknown): u is ConfigurationError =>
  isOAuth2Error(u) && u._tag === "ConfigurationError"

/**
 * HTTP statuses after which a token request is worth repeating (RFC 9110: 408 Request Timeout, 429 Too Many
 * Requests, and the transient 5xx).
 *
 * @since 0.1.0
 * @category predicates
 */
export const transientStatuses: ReadonlySet<number> = new Set([408, 429, 500, 502, 503, 504])

/**
 * Whether a failed token request may succeed when repeated: transport failures, attempt timeouts, the statuses of
 * {@link transientStatuses} and the `temporarily_unavailable` error code (RFC 6749 §5.2 lists it for the
 * authorization endpoint; servers use it at the token endpoint too). Definite refusals (`invalid_client`,
 * `invalid_scope`, `invalid_request`, ...) and configuration errors are never retried.
 *
 * @since 0.1.0
 * @category predicates
 */
export const isRetryable = (error: OAuth2Error): boolean => {
  switch (error._tag) {
    case "TransportError":
      return true
    case "TimeoutError":
      return error.stage === "attempt"
    case "ErrorResponse":
      return error.error === "temporarily_unavailable" ||
        (transientStatuses.has(error.status) && !definiteRefusals.has(error.error))
    case "InvalidResponse":
      return transientStatuses.has(error.status)
    case "ConfigurationError":
      return false
    case "DiscoveryError":
      return error.kind === "Transport" || error.kind === "Timeout" ||
        (error.kind === "Status" && error.status !== undefined && transientStatuses.has(error.status))
  }
}

const definiteRefusals: ReadonlySet<string> = new Set([
  "invalid_client",
  "invalid_grant",
  "invalid_scope",
  "invalid_request",
  "unauthorized_client",
  "unsupported_grant_type",
  "invalid_target"
])

/**
 * Why discovery failed: the metadata location answered 404 (`NotFound`) or another status (`Status`), with
 * something that is not JSON such as an HTML page (`NotJson`), with JSON that is not valid metadata
 * (`InvalidMetadata`), with metadata of another issuer (`IssuerMismatch`, RFC 8414 §3.3) or without the
 * `token_endpoint` the grant needs (`NoTokenEndpoint`), with an endpoint that breaks the https rule (`Insecure`);
 * or it did not answer (`Transport`, `Timeout`).
 *
 * @since 0.2.0
 * @category models
 */
export type DiscoveryFailure =
  | "NotFound"
  | "Status"
  | "NotJson"
  | "InvalidMetadata"
  | "IssuerMismatch"
  | "NoTokenEndpoint"
  | "Insecure"
  | "Transport"
  | "Timeout"

const discoveryHints: Record<DiscoveryFailure, string> = {
  NotFound: "Check the issuer: it is the server's issuer identifier (the \"issuer\" of its metadata), not its token " +
    "URL; or set tokenUrl instead of issuer.",
  Status: "Check that the issuer URL is right and the server is up.",
  NotJson: "Check the issuer URL: the server answered with a page, not with metadata (a login page or a proxy's " +
    "error page).",
  InvalidMetadata: "The server's metadata does not follow RFC 8414; set tokenUrl instead of issuer.",
  IssuerMismatch: "Set issuer to exactly the value the server publishes (RFC 8414 §3.3: no trailing slash added or " +
    "removed, same host name). No token request was sent.",
  NoTokenEndpoint: "Set tokenUrl instead of issuer.",
  Insecure: "Use https, or allowInsecureHttp for a trusted private network.",
  Transport: "Check that the server is reachable from here (DNS, proxy, firewall, TLS).",
  Timeout: "Check that the server is reachable, or raise timeout."
}

/**
 * Discovery of the authorization server's metadata (RFC 8414; OpenID Connect Discovery 1.0 as the fallback) failed,
 * so the client could not be built and no token request was sent. `url` is the location whose answer ended
 * discovery; `tried` lists the earlier locations with what they answered.
 *
 * @since 0.2.0
 * @category errors
 */
export class DiscoveryError extends Schema.TaggedError<DiscoveryError>("@effect-oauth2/core/DiscoveryError")(
  "DiscoveryError",
  {
    issuer: Schema.String,
    url: Schema.String,
    kind: Schema.Literal(
      "NotFound",
      "Status",
      "NotJson",
      "InvalidMetadata",
      "IssuerMismatch",
      "NoTokenEndpoint",
      "Insecure",
      "Transport",
      "Timeout"
    ),
    reason: Schema.String,
    status: Schema.optionalWith(Schema.Number, { exact: true }),
    tried: Schema.optionalWith(Schema.Array(Schema.String), { exact: true })
  }
) {
  /**
   * @since 0.2.0
   */
  readonly [TypeId]: TypeId = TypeId

  /**
   * @since 0.2.0
   */
  override get message(): string {
    const tried = this.tried !== undefined && this.tried.length > 0 ? ` (after ${this.tried.join("; ")})` : ""
    return `Discovery of the authorization server ${this.issuer} failed at ${this.url}: ${this.reason}${tried}. ` +
      discoveryHints[this.kind]
  }
}

/**
 * @since 0.2.0
 * @category guards
 */
export const isDiscoveryError = (u: unknown): u is DiscoveryError => isOAuth2Error(u) && u._tag === "DiscoveryError"
