/**
 * A testkit for your own tests: an in-memory authorization server, served through an in-memory `HttpClient`, that
 * you provide under `OAuth2HttpClient.layer` (or `ClientCredentials.grant`) in place of the network.
 *
 * - **A token endpoint** that behaves like a real one: it checks client authentication (`client_secret_basic` with
 *   the RFC 6749 §2.3.1 form-decoding, `client_secret_post`, `none`, and any {@link Authenticator} you add),
 *   answers refusals with RFC 6749 §5.2 error bodies (`invalid_client` as 401, `invalid_scope`, ...), and issues
 *   opaque or JWT access tokens with `expires_in` per client.
 * - **Your fake API**: every request that is not a token request goes to your {@link Handler}, which is told
 *   whether the request's Bearer token is valid, for which client and scopes ({@link TokenCheck}).
 * - **Scripted failures in Clock time**: fail the next N token requests with a status, an error or `Retry-After`,
 *   drop the connection, or delay the answer with `Effect.sleep`, so `TestClock` drives it.
 * - **A record** of each token request (its parsed form, client, method, outcome) and each API request.
 *
 * Time is read only through `Clock`: under `TestClock` a token expires when the test adjusts the clock past it.
 *
 * @example
 * ```ts
 * import { OAuth2HttpClient, Testing } from "@effect-oauth2/core"
 * import { HttpClient } from "@effect/platform"
 * import { assert, it } from "@effect/vitest"
 * import { Effect, Layer, Redacted } from "effect"
 *
 * const Server = Testing.layer({ clients: [{ id: "svc", secret: "s3cret", scopes: ["reports:read"] }] })
 * const Auth = OAuth2HttpClient.layer({
 *   tokenUrl: Testing.defaultTokenUrl,
 *   clientId: "svc",
 *   clientSecret: Redacted.make("s3cret"),
 *   scopes: ["reports:read"],
 *   origins: ["https://api.test"]
 * }).pipe(Layer.provideMerge(Server))
 *
 * it.effect("calls the API with a token", () =>
 *   Effect.gen(function*() {
 *     const response = yield* HttpClient.get("https://api.test/reports")
 *     assert.strictEqual(response.status, 200)
 *     const server = yield* Testing.AuthServer
 *     assert.strictEqual((yield* server.tokenRequests).length, 1)
 *   }).pipe(Effect.provide(Auth)))
 * ```
 *
 * @since 0.2.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Redacted from "effect/Redacted"
import * as internal from "./internal/testing.js"

/**
 * The token URL the server answers at when {@link Options.tokenUrl} is not given:
 * `https://auth.test/oauth2/token`.
 *
 * @since 0.2.0
 * @category constants
 */
export const defaultTokenUrl: string = internal.defaultTokenUrl

/**
 * A registered client.
 *
 * @since 0.2.0
 * @category models
 */
export interface Client {
  readonly id: string
  /** The client secret; a plain string is fine in a test. */
  readonly secret?: Redacted.Redacted<string> | string | undefined
  /**
   * The `token_endpoint_auth_method` (RFC 7591 §2) the client is registered with; a request that authenticates
   * another way is refused with `invalid_client`. Default `client_secret_basic` with a secret, `none` without.
   */
  readonly authMethod?: AuthMethod | undefined
  /**
   * How the server reads `client_secret_basic` credentials: `"form"` (default) form-decodes the id and secret as
   * RFC 6749 §2.3.1 requires; `"none"` takes them as they are, like the servers that skip the decoding (for which
   * `ClientAuth.clientSecretBasicWith("none")` exists).
   */
  readonly basicDecoding?: "form" | "none" | undefined
  /**
   * The scopes the client may request (a request for another is refused with `invalid_scope`); all of them are
   * granted when the request names none. Default: any scope, and none granted when none is requested.
   */
  readonly scopes?: ReadonlyArray<string> | undefined
  /** The `expires_in` of the client's tokens; default 1 hour. `null` sends no `expires_in` (the token never expires). */
  readonly expiresIn?: Duration.DurationInput | null | undefined
  /**
   * `"opaque"` (default): `tok-1`, `tok-2`, ... in the order the server issues them. `"jwt"`: an RFC 9068 JWT
   * (`iss`, `sub`, `client_id`, `aud`, `iat`, `exp`, `jti`, `scope`) signed with HS256 under a key of the server.
   */
  readonly tokenFormat?: "opaque" | "jwt" | undefined
}

/**
 * A `token_endpoint_auth_method` name: the built-in ones, or the `method` of an {@link Authenticator} you add.
 *
 * @since 0.2.0
 * @category models
 */
export type AuthMethod = "client_secret_basic" | "client_secret_post" | "none" | (string & {})

/**
 * A token request as the server received it, for {@link Authenticator}s.
 *
 * @since 0.2.0
 * @category models
 */
export interface IncomingTokenRequest {
  readonly method: string
  readonly url: URL
  /** Lower-case names. */
  readonly headers: Readonly<Record<string, string>>
  readonly form: URLSearchParams
}

/**
 * A client authentication method the server understands. The server asks every authenticator whether a request
 * uses its method (`identify`); more than one is an `invalid_request` (RFC 6749 §2.3), none leaves `none` (a
 * `client_id` in the body). The client named must be registered with this `method`, and `verify` must accept the
 * request, or the answer is `invalid_client`. Built in: {@link clientSecretBasic}, {@link clientSecretPost},
 * {@link none}; add others (`private_key_jwt`, `tls_client_auth`, ...) with {@link Options.authenticators}.
 *
 * @since 0.2.0
 * @category models
 */
export interface Authenticator {
  readonly method: AuthMethod
  /**
   * The client id the request claims with this method; `undefined` when the request does not use the method;
   * `{ error }` for a malformed attempt (answered with `invalid_request`).
   */
  readonly identify: (
    request: IncomingTokenRequest,
    clients: ReadonlyMap<string, Client>
  ) => { readonly clientId: string } | { readonly error: string } | undefined
  /** Whether the request proves it is `client`. */
  readonly verify: (client: Client, request: IncomingTokenRequest) => Effect.Effect<boolean>
}

/**
 * `client_secret_basic` (RFC 6749 §2.3.1): base64 of UTF-8 `id:secret`, each part form-decoded (unless the client
 * is registered with `basicDecoding: "none"`).
 *
 * @since 0.2.0
 * @category authenticators
 */
export const clientSecretBasic: Authenticator = internal.clientSecretBasic

/**
 * `client_secret_post` (RFC 6749 §2.3.1): `client_id` and `client_secret` in the form body.
 *
 * @since 0.2.0
 * @category authenticators
 */
export const clientSecretPost: Authenticator = internal.clientSecretPost

/**
 * `none`: a `client_id` in the body and nothing else; the client must be registered with `authMethod: "none"`.
 *
 * @since 0.2.0
 * @category authenticators
 */
export const none: Authenticator = internal.none

/**
 * What a handler answers: a web `Response`, or a description of one (`json` sets `Content-Type:
 * application/json`).
 *
 * @since 0.2.0
 * @category models
 */
export type Reply =
  | Response
  | {
    readonly status?: number | undefined
    readonly json?: unknown
    readonly text?: string | undefined
    readonly headers?: Readonly<Record<string, string>> | undefined
  }

/**
 * The server's view of a Bearer token, at the Clock time of the request.
 *
 * @since 0.2.0
 * @category models
 */
export type TokenCheck =
  | {
    readonly _tag: "Valid"
    readonly clientId: string
    readonly scopes: ReadonlyArray<string>
    /** Clock milliseconds; `undefined` for a token without `expires_in`. */
    readonly expiresAt: number | undefined
  }
  | {
    readonly _tag: "Invalid"
    /** `missing`: no Bearer token; `unknown`: not issued here; `expired`; `revoked`. */
    readonly reason: "missing" | "unknown" | "expired" | "revoked"
    readonly clientId?: string | undefined
  }

/**
 * A request to your fake API, with its Bearer token already checked.
 *
 * @since 0.2.0
 * @category models
 */
export interface ApiRequest {
  readonly method: string
  readonly url: URL
  /** Lower-case names. */
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
  readonly token: TokenCheck
}

/**
 * Your fake API. It may answer at once or with an Effect (to sleep in Clock time, to read a `Ref`, ...).
 *
 * @since 0.2.0
 * @category models
 */
export type Handler = (request: ApiRequest) => Reply | Effect.Effect<Reply>

/**
 * A token the server issued.
 *
 * @since 0.2.0
 * @category models
 */
export interface IssuedToken {
  readonly accessToken: Redacted.Redacted<string>
  readonly clientId: string
  readonly scopes: ReadonlyArray<string>
  /** Clock milliseconds. */
  readonly issuedAt: number
  /** Clock milliseconds; `undefined` when the client's tokens have no `expires_in`. */
  readonly expiresAt: number | undefined
}

/**
 * One token request, as recorded. `client_secret` and `client_assertion` values are recorded as `[redacted]`, and
 * no header is kept, so a record never holds a secret.
 *
 * @since 0.2.0
 * @category models
 */
export interface TokenRequestRecord {
  /** Clock milliseconds when the request arrived. */
  readonly at: number
  /** The client the request authenticated as (or claimed to be, when refused); `undefined` when unknown. */
  readonly clientId: string | undefined
  /** The client authentication method the request used, when the client was identified. */
  readonly authMethod: string | undefined
  /** The form body: every value of every field, in order. */
  readonly form: Readonly<Record<string, ReadonlyArray<string>>>
  /** The requested scopes. */
  readonly scopes: ReadonlyArray<string>
  /** The HTTP status of the answer; 0 for a dropped connection. */
  readonly status: number
  /** `issued`, `refused` (a §5.2 error), `scripted` (a scripted status or error), `dropped`. */
  readonly outcome: "issued" | "refused" | "scripted" | "dropped"
  /** The §5.2 `error` code of a refusal or a scripted error. */
  readonly error?: string | undefined
}

/**
 * One request to the fake API, as recorded.
 *
 * @since 0.2.0
 * @category models
 */
export interface ApiRequestRecord {
  readonly at: number
  readonly method: string
  readonly url: URL
  readonly token: TokenCheck
  readonly status: number
}

/**
 * What the next token request meets instead of (or before) the normal answer. Made with {@link status},
 * {@link error}, {@link drop} and {@link delay}.
 *
 * @since 0.2.0
 * @category models
 */
export type Step =
  | {
    readonly _tag: "Status"
    readonly status: number
    readonly body?: string | undefined
    readonly contentType?: string | undefined
    readonly retryAfter?: Duration.DurationInput | undefined
  }
  | {
    readonly _tag: "Error"
    readonly status: number
    readonly error: string
    readonly description?: string | undefined
    readonly retryAfter?: Duration.DurationInput | undefined
  }
  | { readonly _tag: "Drop" }
  | { readonly _tag: "Delay"; readonly duration: Duration.DurationInput }

/**
 * Answer with a bare status (an HTML page, a gateway error, a 429): a body and its content type, and `Retry-After`
 * in whole seconds.
 *
 * @since 0.2.0
 * @category scripting
 */
export const status = (
  status: number,
  options: {
    readonly body?: string | undefined
    readonly contentType?: string | undefined
    readonly retryAfter?: Duration.DurationInput | undefined
  } = {}
): Step => ({ _tag: "Status", status, ...options })

/**
 * Answer with an RFC 6749 §5.2 error body (`error`, `error_description`), HTTP 400 unless `status` says otherwise;
 * `Retry-After` in whole seconds.
 *
 * @since 0.2.0
 * @category scripting
 */
export const error = (
  error: string,
  options: {
    readonly status?: number | undefined
    readonly description?: string | undefined
    readonly retryAfter?: Duration.DurationInput | undefined
  } = {}
): Step => ({ _tag: "Error", error, ...options, status: options.status ?? 400 })

/**
 * Drop the connection: the request fails as the platform clients report a reset connection
 * (`RequestError`, reason `Transport`).
 *
 * @since 0.2.0
 * @category scripting
 */
export const drop: Step = { _tag: "Drop" }

/**
 * Answer normally after `duration` of Clock time (`Effect.sleep`): under `TestClock` the request waits until the
 * test adjusts the clock, so timeouts and slow servers are tested without waiting.
 *
 * @since 0.2.0
 * @category scripting
 */
export const delay = (duration: Duration.DurationInput): Step => ({ _tag: "Delay", duration })

/**
 * The server's options.
 *
 * @since 0.2.0
 * @category models
 */
export interface Options {
  /** The registered clients. */
  readonly clients: ReadonlyArray<Client>
  /** Where the token endpoint answers; default {@link defaultTokenUrl}. Every other URL goes to `api`. */
  readonly tokenUrl?: string | undefined
  /**
   * Your fake API. Default: {@link protect}(`echo`): 401 without a valid token, otherwise 200 with
   * `{ path, client_id, scope }`.
   */
  readonly api?: Handler | undefined
  /** More client authentication methods, asked before the built-in ones. */
  readonly authenticators?: ReadonlyArray<Authenticator> | undefined
  /** The `iss` of JWT access tokens; default the token URL's origin. */
  readonly issuer?: string | undefined
}

/**
 * The running server: what it recorded, its script, and its tokens.
 *
 * @since 0.2.0
 * @category models
 */
export interface Service {
  readonly tokenUrl: string
  /** Every token request so far, in order. */
  readonly tokenRequests: Effect.Effect<ReadonlyArray<TokenRequestRecord>>
  /** The token requests of one client. */
  readonly tokenRequestsOf: (clientId: string) => Effect.Effect<ReadonlyArray<TokenRequestRecord>>
  /** Every API request so far, in order. */
  readonly apiRequests: Effect.Effect<ReadonlyArray<ApiRequestRecord>>
  /** Every token issued so far, in order. */
  readonly issued: Effect.Effect<ReadonlyArray<IssuedToken>>
  /** The next `count` token requests meet `step` (after any already scripted), one each. */
  readonly scriptNext: (count: number, step: Step) => Effect.Effect<void>
  /** Forgets what is scripted and not yet used. */
  readonly clearScript: Effect.Effect<void>
  /** Whether a token is valid now (Clock time), and for which client and scopes. */
  readonly check: (token: string | Redacted.Redacted<string> | undefined) => Effect.Effect<TokenCheck>
  /** Revokes one token: the API sees it as `revoked` from now on. */
  readonly revoke: (token: string | Redacted.Redacted<string>) => Effect.Effect<void>
  /** Revokes every token issued so far (a key rotation, a server restart). */
  readonly revokeAll: Effect.Effect<void>
}

/**
 * The tag of the running server ({@link Service}), provided by {@link layer}.
 *
 * @since 0.2.0
 * @category tags
 */
export class AuthServer extends Context.Tag("@effect-oauth2/core/Testing/AuthServer")<AuthServer, Service>() {}

/**
 * Makes a server and the in-memory `HttpClient` that reaches it. Each call starts with an empty record; a client
 * id registered twice is a defect.
 *
 * @since 0.2.0
 * @category constructors
 */
export const make: (
  options: Options
) => Effect.Effect<{ readonly server: Service; readonly client: HttpClient.HttpClient }> = internal.make

/**
 * A layer of the in-memory `HttpClient` and the {@link AuthServer} tag. Put it under the layer you test with
 * `Layer.provideMerge`, so the test sees both the authenticated `HttpClient` and the server. Each build of the
 * layer is a new server (`Effect.provide` in each test: a fresh one per test).
 *
 * @example
 * ```ts
 * import { OAuth2HttpClient, Testing } from "@effect-oauth2/core"
 * import { Layer, Redacted } from "effect"
 *
 * const Auth = OAuth2HttpClient.layer({
 *   tokenUrl: Testing.defaultTokenUrl,
 *   clientId: "svc",
 *   clientSecret: Redacted.make("s3cret")
 * }).pipe(Layer.provideMerge(Testing.layer({ clients: [{ id: "svc", secret: "s3cret" }] })))
 * ```
 *
 * @since 0.2.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<HttpClient.HttpClient | AuthServer> =>
  Layer.effectContext(
    Effect.map(
      internal.make(options),
      ({ client, server }) => Context.make(AuthServer, server).pipe(Context.add(HttpClient.HttpClient, client))
    )
  )

/**
 * Wraps a handler so it answers as a protected resource (RFC 6750 §3.1) would: 401 with a
 * `WWW-Authenticate: Bearer` challenge (`error="invalid_token"` for an unknown, expired or revoked token; no error
 * code when there was no token), 403 `insufficient_scope` when the token lacks one of `scopes`, and `handler`
 * otherwise.
 *
 * @since 0.2.0
 * @category api
 */
export const protect: (
  handler: Handler,
  options?: { readonly scopes?: ReadonlyArray<string> | undefined }
) => Handler = internal.protect

/**
 * A handler that answers 200 with `{ path, client_id, scope }` (the client and scopes of a valid token).
 *
 * @since 0.2.0
 * @category api
 */
export const echo: Handler = internal.echo
