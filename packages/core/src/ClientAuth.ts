/**
 * How the client proves who it is at the token endpoint (RFC 6749 §2.3). A `ClientAuth` is a value that turns
 * a {@link TokenRequest} into an authenticated one, so methods beyond the built-in ones plug in the same way.
 *
 * Built in: shared secrets (`client_secret_basic`, `client_secret_post`), JWT assertions (`private_key_jwt`,
 * `client_secret_jwt`, RFC 7523), mutual TLS (`tls_client_auth`, `self_signed_tls_client_auth`, RFC 8705, with the
 * certificate in the platform HttpClient) and `none`.
 *
 * @since 0.1.0
 */
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Encoding from "effect/Encoding"
import * as Redacted from "effect/Redacted"
import * as assertion from "./internal/clientAssertion.js"
import * as jwt from "./internal/jwt.js"
import { hasLoneSurrogate } from "./internal/unicode.js"
import { ConfigurationError, type OAuth2Error } from "./OAuth2Error.js"

/**
 * A token request before it is sent: the endpoint, the headers and the form body, as ordered pairs. Client
 * authentication adds to the headers or the body.
 *
 * @since 0.1.0
 * @category models
 */
export interface TokenRequest {
  readonly url: URL
  readonly headers: Readonly<Record<string, string>>
  readonly body: ReadonlyArray<readonly [string, string]>
  readonly clientId: string | undefined
  readonly clientSecret: Redacted.Redacted<string> | undefined
}

/**
 * What a method learns when the client is built: the token endpoint it will call (after discovery, the
 * `mtls_endpoint_aliases` one under mTLS), the issuer when known (the `issuer` option or discovered), and the
 * client's id and secret.
 *
 * @since 0.2.0
 * @category models
 */
export interface ResolveContext {
  readonly tokenEndpoint: URL
  readonly issuer: string | undefined
  readonly clientId: string | undefined
  readonly clientSecret: Redacted.Redacted<string> | undefined
}

/**
 * A client authentication method.
 *
 * @since 0.1.0
 * @category models
 */
export interface ClientAuth {
  /** The `token_endpoint_auth_method` name (RFC 7591 §2), part of the token cache key. */
  readonly method: string
  /** Adds the method's proof to one token request; runs once per attempt, retries included. */
  readonly authenticate: (request: TokenRequest) => Effect.Effect<TokenRequest, OAuth2Error>
  /**
   * Work done once, when the client is built and before any request: importing and checking a key, fixing the
   * assertion audience. Returns the method whose `authenticate` then runs per attempt. A mistake here is a
   * `ConfigurationError` of the client's construction (the layer's), never of the first request.
   *
   * @since 0.2.0
   */
  readonly resolve?: ((context: ResolveContext) => Effect.Effect<ClientAuth, ConfigurationError>) | undefined
}

/**
 * Makes a client authentication method from its name and function.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  method: string,
  authenticate: (request: TokenRequest) => Effect.Effect<TokenRequest, OAuth2Error>
): ClientAuth => ({ method, authenticate })

/**
 * The `application/x-www-form-urlencoded` encoding of one value (RFC 6749 Appendix B, the WHATWG URL standard's
 * serializer): unreserved `*-._` and alphanumerics kept, space as `+`, everything else as UTF-8 `%XX`.
 *
 * @since 0.1.0
 * @category encoding
 */
export const formUrlEncode = (value: string): string => new URLSearchParams([["", value]]).toString().slice(1)

/**
 * How `client_secret_basic` encodes the id and the secret before joining them with `:`.
 *
 * - `"form"`: RFC 6749 §2.3.1, `application/x-www-form-urlencoded` (the default, what the RFC requires).
 * - `"uri"`: like the Dart `oauth2` package (`Uri.encodeFull`, the same table as JavaScript `encodeURI`), which
 *   keeps `:` `+` `/` `?` `@` and friends unencoded: for servers that were built against that behaviour.
 * - `"none"`: no encoding at all (Google, eBay, some Azure endpoints): `id:secret` in UTF-8.
 *
 * Whatever the encoding, the joined string is base64-encoded from its UTF-8 bytes, so any Unicode works.
 *
 * @since 0.1.0
 * @category models
 */
export type BasicEncoding = "form" | "uri" | "none"

const encoders: Record<BasicEncoding, (s: string) => string> = {
  form: formUrlEncode,
  uri: encodeURI,
  none: (s) => s
}

const missing = (what: string, method: string) =>
  new ConfigurationError({ reason: `${method} needs ${what}; set clientId and clientSecret, or choose another auth` })

/**
 * Builds the `Authorization: Basic` header value of RFC 6749 §2.3.1 (RFC 7617) for an id and a secret.
 *
 * @example
 * ```ts
 * import { ClientAuth } from "@effect-oauth2/core"
 * import { Effect, Redacted } from "effect"
 *
 * // "weird:client id" / "s3cr3t:+/%& =~" are form-encoded first, so ':' inside the id survives
 * const header = Effect.runSync(ClientAuth.basicHeader("weird:client id", Redacted.make("s3cr3t:+/%& =~")))
 * ```
 *
 * @since 0.1.0
 * @category encoding
 */
export const basicHeader = (
  clientId: string,
  clientSecret: Redacted.Redacted<string>,
  encoding: BasicEncoding = "form"
): Effect.Effect<Redacted.Redacted<string>, ConfigurationError> =>
  Effect.try({
    try: () => {
      const secret = Redacted.value(clientSecret)
      if (hasLoneSurrogate(clientId) || hasLoneSurrogate(secret)) throw new Error("lone surrogate")
      const encode = encoders[encoding]
      const joined = `${encode(clientId)}:${encode(secret)}`
      return Redacted.make(`Basic ${Encoding.encodeBase64(joined)}`)
    },
    catch: () =>
      new ConfigurationError({
        reason: `the client id or secret cannot be ${encoding}-encoded (it holds an unpaired UTF-16 surrogate)`
      })
  })

/**
 * `client_secret_basic` with a chosen encoding: the id and secret in an `Authorization: Basic` header.
 *
 * @since 0.1.0
 * @category constructors
 */
export const clientSecretBasicWith = (encoding: BasicEncoding): ClientAuth => {
  // The header of the last (id, secret) pair: a client sends the same one with every token request.
  let last:
    | { readonly clientId: string; readonly secret: Redacted.Redacted<string>; readonly header: string }
    | undefined
  const withHeader = (request: TokenRequest, header: string): TokenRequest => ({
    ...request,
    headers: { ...request.headers, authorization: header }
  })
  return make("client_secret_basic", (request) => {
    const { clientId, clientSecret } = request
    if (clientId === undefined) return Effect.fail(missing("a client id", "client_secret_basic"))
    if (clientSecret === undefined) return Effect.fail(missing("a client secret", "client_secret_basic"))
    const cached = last
    if (cached !== undefined && cached.clientId === clientId && cached.secret === clientSecret) {
      return Effect.succeed(withHeader(request, cached.header))
    }
    return Effect.map(basicHeader(clientId, clientSecret, encoding), (header) => {
      last = { clientId, secret: clientSecret, header: Redacted.value(header) }
      return withHeader(request, last.header)
    })
  })
}

/**
 * `client_secret_basic` (RFC 6749 §2.3.1): the id and secret, each `application/x-www-form-urlencoded`, joined with
 * `:` and base64-encoded from UTF-8 into an `Authorization: Basic` header. The default when a secret is given.
 *
 * Unlike `HttpClientRequest.basicAuth`, which base64-encodes Latin-1 and throws on anything else, this encodes as
 * the RFC asks, so `weird:client id` / `s3cr3t:+/%& =~` and non-Latin-1 secrets work.
 *
 * @since 0.1.0
 * @category constructors
 */
export const clientSecretBasic: ClientAuth = clientSecretBasicWith("form")

/**
 * `client_secret_basic` encoded as the Dart `oauth2` package does it (`Uri.encodeFull`, i.e. `encodeURI`): the
 * interop variant for servers that decode Basic credentials that way. Prefer {@link clientSecretBasic}.
 *
 * @since 0.1.0
 * @category constructors
 */
export const clientSecretBasicInterop: ClientAuth = clientSecretBasicWith("uri")

/**
 * `client_secret_post` (RFC 6749 §2.3.1): `client_id` and `client_secret` in the form body. The RFC discourages it;
 * some servers require it.
 *
 * @since 0.1.0
 * @category constructors
 */
export const clientSecretPost: ClientAuth = make("client_secret_post", (request) => {
  if (request.clientId === undefined) return Effect.fail(missing("a client id", "client_secret_post"))
  if (request.clientSecret === undefined) return Effect.fail(missing("a client secret", "client_secret_post"))
  return Effect.succeed({
    ...request,
    body: [...request.body, ["client_id", request.clientId], ["client_secret", Redacted.value(request.clientSecret)]]
  })
})

/**
 * `none` (RFC 7591 §2): no client secret. The `client_id` is sent in the body when there is one (RFC 6749 §3.2.1),
 * for public clients and for servers that authenticate the client by other means (mTLS, network policy).
 *
 * @since 0.1.0
 * @category constructors
 */
export const none: ClientAuth = make("none", (request) =>
  Effect.succeed(
    request.clientId === undefined ? request : { ...request, body: [...request.body, ["client_id", request.clientId]] }
  ))

/**
 * The method used when none is chosen: {@link clientSecretBasic} when a secret is given (as the seed's
 * `basicAuth = true`), otherwise {@link none}.
 *
 * @since 0.1.0
 * @category constructors
 */
export const defaultFor = (options: { readonly clientSecret?: Redacted.Redacted<string> | undefined }): ClientAuth =>
  options.clientSecret !== undefined ? clientSecretBasic : none

/**
 * The `aud` of a client assertion:
 *
 * - `"token_endpoint"` (default): the token endpoint URL, as OpenID Connect Core §9 recommends and as Microsoft
 *   Entra ID and Okta require;
 * - `"issuer"`: the authorization server's issuer identifier (the `issuer` option, or the one discovered), as
 *   Auth0 and FAPI 2.0 servers require and as the update of RFC 7523 in progress recommends;
 * - any other string, or several: sent as given.
 *
 * @since 0.2.0
 * @category models
 */
export type AssertionAudience = "token_endpoint" | "issuer" | (string & {}) | ReadonlyArray<string>

/**
 * A client assertion before it is signed: the JWS protected header and the JWT claims (RFC 7519).
 *
 * @since 0.2.0
 * @category models
 */
export interface Assertion {
  readonly header: Readonly<Record<string, unknown>>
  readonly claims: Readonly<Record<string, unknown>>
}

/**
 * Options shared by the JWT assertion methods.
 *
 * @since 0.2.0
 * @category models
 */
export interface AssertionOptions {
  /** The `aud` claim; default `"token_endpoint"` (see {@link AssertionAudience}). */
  readonly audience?: AssertionAudience | undefined
  /** `exp` − `iat`; default 60 seconds, at most 5 minutes. */
  readonly lifetime?: Duration.DurationInput | undefined
  /**
   * Changes the header and claims before each signature, for servers with quirks (a `typ`, an `x5t`, an `nbf`, a
   * second audience). The header's `alg` stays the key's.
   */
  readonly modifyAssertion?: ((assertion: Assertion) => Assertion) | undefined
}

/**
 * The asymmetric algorithms `privateKeyJwt` signs with (RFC 7518 §3, RFC 8037).
 *
 * @since 0.2.0
 * @category models
 */
export type PrivateKeyAlgorithm = jwt.PrivateKeyAlgorithm

/**
 * A private key: a WebCrypto `CryptoKey` (non-extractable keys work), or, `Redacted`, a JWK object or a text that
 * holds a PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`) or a JWK as JSON.
 *
 * @since 0.2.0
 * @category models
 */
export type PrivateKey = jwt.PrivateKeyInput

/**
 * Options of {@link privateKeyJwt}.
 *
 * @since 0.2.0
 * @category models
 */
export interface PrivateKeyJwtOptions extends AssertionOptions {
  readonly key: PrivateKey
  /**
   * The signing algorithm; default taken from the key: RSA → RS256, RSA-PSS → PS256, EC P-256 → ES256, P-384 →
   * ES384, P-521 → ES512, Ed25519 → EdDSA (a JWK's own `alg` first). A value that does not fit the key is a
   * `ConfigurationError`.
   */
  readonly alg?: PrivateKeyAlgorithm | undefined
  /** The `kid` header, the id under which the server holds the public key; default the JWK's `kid`, else none. */
  readonly kid?: string | undefined
}

/**
 * `private_key_jwt` (RFC 7523 §2.2 and §3, RFC 7521 §4.2, OpenID Connect Core §9): the client signs a JWT with its
 * private key, and the server checks it against the public key registered for the client. No secret is shared and
 * nothing secret is sent.
 *
 * The body carries `client_id`, `client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer` and
 * `client_assertion`: a JWT with `iss` = `sub` = the client id, `aud` (the token endpoint URL by default), a new
 * random `jti`, `iat` and `exp` = `iat` + 60 s, times read from `Clock`. Every attempt, retries included, signs a
 * new assertion, because servers refuse a replayed `jti`.
 *
 * The key is imported and checked when the client is built: a public key, a key that does not fit `alg`, an RSA key
 * under 2048 bits or malformed PEM fail the layer (or `ClientCredentials.make`) with a `ConfigurationError`. The
 * key never appears in any output.
 *
 * @example
 * ```ts
 * import { ClientAuth, ClientCredentials } from "@effect-oauth2/core"
 * import { Redacted } from "effect"
 *
 * declare const pem: string // -----BEGIN PRIVATE KEY----- ...
 *
 * const grant = ClientCredentials.grant({
 *   tokenUrl: "https://login.example.com/oauth2/token",
 *   clientId: "reporting-service",
 *   auth: ClientAuth.privateKeyJwt({ key: Redacted.make(pem), kid: "2026-11" })
 * })
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const privateKeyJwt = (options: PrivateKeyJwtOptions): ClientAuth =>
  assertion.make(
    "private_key_jwt",
    options,
    () => jwt.importPrivateKey(options.key, { what: "private_key_jwt key", alg: options.alg, kid: options.kid })
  )

/**
 * Options of {@link clientSecretJwt}.
 *
 * @since 0.2.0
 * @category models
 */
export interface ClientSecretJwtOptions extends AssertionOptions {
  /** HS256 (default), HS384 or HS512. The secret must have at least 32, 48 or 64 bytes (RFC 7518 §3.2). */
  readonly alg?: "HS256" | "HS384" | "HS512" | undefined
}

/**
 * `client_secret_jwt` (RFC 7523 §2.2, OpenID Connect Core §9): the client signs the assertion of
 * {@link privateKeyJwt} with HMAC over its `clientSecret`, so the secret itself is never sent. The same claims, the
 * same new `jti` per attempt.
 *
 * @example
 * ```ts
 * import { ClientAuth, ClientCredentials } from "@effect-oauth2/core"
 * import { Redacted } from "effect"
 *
 * const grant = ClientCredentials.grant({
 *   tokenUrl: "https://auth.example.com/oauth2/token",
 *   clientId: "reporting-service",
 *   clientSecret: Redacted.make("a-secret-of-at-least-32-bytes-for-HS256"),
 *   auth: ClientAuth.clientSecretJwt()
 * })
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const clientSecretJwt = (options: ClientSecretJwtOptions = {}): ClientAuth =>
  assertion.make("client_secret_jwt", options, (context) =>
    context.clientSecret === undefined
      ? Effect.fail(
        new ConfigurationError({ reason: "client_secret_jwt needs a clientSecret (the HMAC key of the assertion)" })
      )
      : jwt.hmacSigner(context.clientSecret, { what: "client_secret_jwt", alg: options.alg }))

const clientIdOnly = (method: string): ClientAuth =>
  make(method, (request) =>
    request.clientId === undefined
      ? Effect.fail(new ConfigurationError({ reason: `${method} needs a clientId` }))
      : Effect.succeed({ ...request, body: [...request.body, ["client_id", request.clientId]] }))

/**
 * `tls_client_auth` (RFC 8705 §2.1): the client proves itself with a certificate issued by a CA the server
 * trusts, presented in the TLS handshake; the request carries only `client_id`. The certificate lives in the
 * platform HttpClient, which must serve the token and the API requests alike (a certificate-bound token, RFC 8705
 * §3, is only accepted with the same certificate): on Node, `NodeOAuth2.layer({ ..., tls: { cert, key } })`.
 * With `issuer`, the token endpoint is taken from the metadata's `mtls_endpoint_aliases` when present.
 *
 * @since 0.2.0
 * @category constructors
 */
export const tlsClientAuth: ClientAuth = clientIdOnly("tls_client_auth")

/**
 * `self_signed_tls_client_auth` (RFC 8705 §2.2): as {@link tlsClientAuth}, with a self-signed certificate whose key
 * the server knows from the client's registered JWK Set.
 *
 * @since 0.2.0
 * @category constructors
 */
export const selfSignedTlsClientAuth: ClientAuth = clientIdOnly("self_signed_tls_client_auth")

/**
 * Whether a method authenticates the client with its TLS certificate (RFC 8705 §2).
 *
 * @since 0.2.0
 * @category predicates
 */
export const isMutualTls = (auth: ClientAuth): boolean =>
  auth.method === "tls_client_auth" || auth.method === "self_signed_tls_client_auth"
