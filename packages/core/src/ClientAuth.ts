/**
 * How the client proves who it is at the token endpoint (RFC 6749 §2.3). A `ClientAuth` is a value that turns
 * a {@link TokenRequest} into an authenticated one, so methods beyond the built-in ones plug in the same way
 * (`private_key_jwt`, mTLS through the platform HttpClient, ...).
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Encoding from "effect/Encoding"
import * as Redacted from "effect/Redacted"
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
 * A client authentication method.
 *
 * @since 0.1.0
 * @category models
 */
export interface ClientAuth {
  /** The `token_endpoint_auth_method` name (RFC 7591 §2), part of the token cache key. */
  readonly method: string
  readonly authenticate: (request: TokenRequest) => Effect.Effect<TokenRequest, OAuth2Error>
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
export const clientSecretBasicWith = (encoding: BasicEncoding): ClientAuth =>
  make("client_secret_basic", (request) => {
    if (request.clientId === undefined) return Effect.fail(missing("a client id", "client_secret_basic"))
    if (request.clientSecret === undefined) return Effect.fail(missing("a client secret", "client_secret_basic"))
    return Effect.map(basicHeader(request.clientId, request.clientSecret, encoding), (header) => ({
      ...request,
      headers: { ...request.headers, authorization: Redacted.value(header) }
    }))
  })

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
