/**
 * The Layer: provide it and every `HttpClient.HttpClient` request downstream carries
 * `Authorization: Bearer <token>`, with the token obtained, cached, refreshed ahead of expiry and replaced after a
 * 401 `invalid_token`, and no token code in the application.
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import * as authConfig from "./internal/authConfig.js"
import { OAuth2Client } from "./OAuth2Client.js"
import * as OAuth2ClientModule from "./OAuth2Client.js"
import type * as OAuth2Error from "./OAuth2Error.js"

/**
 * The layer's options: the grant's, the lifecycle's, and how the token is attached (see `OAuth2Client.Options`).
 *
 * @since 0.1.0
 * @category models
 */
export type Options = OAuth2ClientModule.Options

/**
 * Replaces the ambient `HttpClient` with an authenticated one, and provides the {@link OAuth2Client} tag beside
 * it. The ambient client is still used, unauthenticated, for the token requests. Closing the layer stops
 * background refreshes.
 *
 * The layer fails with a `ConfigurationError` when the options cannot work (an insecure or unparsable token URL,
 * a secret without a client id, a key that cannot sign, ...), before any request is made; with `issuer` instead of
 * `tokenUrl`, the metadata is read once here (RFC 8414) and a failure is a `DiscoveryError`.
 *
 * @example
 * ```ts
 * import { OAuth2HttpClient } from "@effect-oauth2/core"
 * import { FetchHttpClient, HttpClient } from "@effect/platform"
 * import { Effect, Layer, Redacted } from "effect"
 *
 * const Auth = OAuth2HttpClient.layer({
 *   tokenUrl: "https://auth.example.com/oauth2/token",
 *   clientId: "reporting-service",
 *   clientSecret: Redacted.make(process.env.CLIENT_SECRET!),
 *   scopes: ["reports:read"],
 *   origins: ["https://api.example.com"]
 * }).pipe(Layer.provide(FetchHttpClient.layer))
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
  options: Options
): Layer.Layer<
  HttpClient.HttpClient | OAuth2Client,
  OAuth2Error.ConfigurationError | OAuth2Error.DiscoveryError,
  HttpClient.HttpClient
> =>
  Layer.scopedContext(
    Effect.map(
      OAuth2ClientModule.make(options),
      (service) => Context.make(OAuth2Client, service).pipe(Context.add(HttpClient.HttpClient, service.httpClient))
    )
  )

/**
 * {@link layer} with options read from `Config`: each option may be a `Config` (secrets through
 * `Config.redacted`), or a plain value wrapped with `Config.succeed`.
 *
 * @example
 * ```ts
 * import { OAuth2HttpClient } from "@effect-oauth2/core"
 * import { Config } from "effect"
 *
 * const Auth = OAuth2HttpClient.layerConfig({
 *   tokenUrl: Config.string("TOKEN_URL"),
 *   clientId: Config.string("CLIENT_ID"),
 *   clientSecret: Config.redacted("CLIENT_SECRET"),
 *   scopes: Config.succeed(["api:read"])
 * })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  config: Config.Config.Wrap<Options>
): Layer.Layer<
  HttpClient.HttpClient | OAuth2Client,
  OAuth2Error.ConfigurationError | OAuth2Error.DiscoveryError | ConfigError.ConfigError,
  HttpClient.HttpClient
> => Layer.unwrapEffect(Effect.map(Config.unwrap(config), layer))

// A URL variable is checked when it is read, so a malformed value is a ConfigError naming the variable. The value is
// not repeated in the message: a secret pasted into the wrong variable must not reach a log.
const absoluteUrl = (name: string, path: ReadonlyArray<string> = [name]) =>
(
  value: string
): Either.Either<string, ConfigError.ConfigError> => {
  try {
    const url = new URL(value)
    if (url.protocol === "https:" || url.protocol === "http:") return Either.right(value)
  } catch {
    // reported below
  }
  return Either.left(
    ConfigError.InvalidData(
      [...path],
      `Expected an absolute http(s) URL, got ${value.length} characters that are not one`
    )
  )
}

const urls = (name: string) => (values: ReadonlyArray<string>): Either.Either<Array<string>, ConfigError.ConfigError> =>
  Either.all(values.map(absoluteUrl(name)))

const list = (name: string) =>
  Config.string(name).pipe(
    Config.map((value) => value.split(/[\s,]+/).filter((item) => item.length > 0)),
    Config.option
  )

/**
 * Where a platform reads more of the configuration (see {@link config}): platform-node reads
 * `<prefix>_PRIVATE_KEY_FILE` and the `<prefix>_TLS_*_FILE` variables this way.
 *
 * @since 0.2.0
 * @category config
 */
export interface ConfigSources {
  /** Another source of the private key, used when `<prefix>_PRIVATE_KEY` is not set; both set is a ConfigError. */
  readonly privateKey?: {
    /** The variable it reads, for messages. */
    readonly name: string
    readonly config: Config.Config<Option.Option<Redacted.Redacted<string>>>
  } | undefined
  /** Whether the platform's HttpClient presents a client certificate (then `tls_client_auth` is the default method). */
  readonly clientCertificate?: Config.Config<boolean> | undefined
}

/**
 * The options as a `Config` read from variables named `<prefix>_...` (default prefix `OAUTH2`):
 *
 * | variable | option |
 * | --- | --- |
 * | `OAUTH2_TOKEN_URL` | `tokenUrl` (this or `OAUTH2_ISSUER` is required) |
 * | `OAUTH2_ISSUER` | `issuer`: the token endpoint is discovered (RFC 8414) |
 * | `OAUTH2_CLIENT_ID` | `clientId` |
 * | `OAUTH2_CLIENT_SECRET` | `clientSecret` (Redacted) |
 * | `OAUTH2_PRIVATE_KEY` | the `private_key_jwt` key: PKCS#8 PEM or a JWK as JSON (Redacted) |
 * | `OAUTH2_KEY_ID` | the `kid` of that key |
 * | `OAUTH2_SCOPES` | `scopes` (space or comma separated) |
 * | `OAUTH2_AUDIENCE` | `params.audience` |
 * | `OAUTH2_RESOURCE` | `params.resource` (space or comma separated, repeated) |
 * | `OAUTH2_AUTH_METHOD` | `auth`: `client_secret_basic`, `client_secret_post`, `client_secret_jwt`, `private_key_jwt`, `tls_client_auth`, `self_signed_tls_client_auth`, `none` |
 * | `OAUTH2_ORIGINS` | `origins` (space or comma separated) |
 * | `OAUTH2_TIMEOUT` | `timeout` (a duration: `10 seconds`) |
 * | `OAUTH2_DPOP` | `dpop: true` when `true`: DPoP (RFC 9449) with a key pair generated when the layer is built (since 0.2.0) |
 *
 * Without `OAUTH2_AUTH_METHOD`: `private_key_jwt` when a private key is set; with a secret, `client_secret_basic`
 * (or what discovery finds the server supports); with a client certificate (platform-node's TLS variables),
 * `tls_client_auth`; otherwise `none`. A method that lacks what it needs (`private_key_jwt` without a key,
 * `client_secret_jwt` without a secret) is a ConfigError naming the missing variable. `overrides` are merged over
 * what is read (functions such as `parseResponse`, a `store`, ...); `sources` are for platform packages.
 *
 * @since 0.1.0
 * @category config
 */
export const config = (
  prefix = "OAUTH2",
  overrides: Partial<Options> = {},
  sources: ConfigSources = {}
): Config.Config<Options> => {
  const name = (key: string) => (prefix.length > 0 ? `${prefix}_${key}` : key)
  // Config.mapOrFail on a named primitive prefixes the error's path with the name itself: an empty path here.
  const url = (key: string) =>
    Config.option(Config.string(name(key)).pipe(Config.mapOrFail(absoluteUrl(name(key), []))))
  return Config.all({
    tokenUrl: url("TOKEN_URL"),
    issuer: url("ISSUER"),
    clientId: Config.option(Config.nonEmptyString(name("CLIENT_ID"))),
    clientSecret: Config.option(Config.redacted(name("CLIENT_SECRET"))),
    scopes: list(name("SCOPES")),
    audience: Config.option(Config.nonEmptyString(name("AUDIENCE"))),
    resource: list(name("RESOURCE")),
    authMethod: Config.option(Config.literal(...authConfig.methods)(name("AUTH_METHOD"))),
    privateKey: authConfig.privateKey(name("PRIVATE_KEY"), sources.privateKey),
    keyId: Config.option(Config.nonEmptyString(name("KEY_ID"))),
    clientCertificate: sources.clientCertificate ?? Config.succeed(false),
    origins: list(name("ORIGINS")).pipe(
      Config.mapOrFail((option) =>
        Option.isNone(option) ? Either.right(option) : Either.map(urls(name("ORIGINS"))(option.value), Option.some)
      )
    ),
    timeout: Config.option(Config.duration(name("TIMEOUT"))),
    dpop: Config.option(Config.boolean(name("DPOP")))
  }).pipe(
    Config.mapOrFail((read) => {
      if (Option.isNone(read.tokenUrl) && Option.isNone(read.issuer)) {
        return Either.left(
          ConfigError.MissingData(
            [name("TOKEN_URL")],
            `Expected ${name("TOKEN_URL")} (the token endpoint) or ${name("ISSUER")} (to discover it) to be set`
          )
        )
      }
      return Either.map(authConfig.auth(name, sources.privateKey?.name, read), (auth) => ({ read, auth }))
    }),
    Config.map(({ auth, read }): Options => {
      const some = <A>(option: Option.Option<A>) => Option.getOrUndefined(option)
      const secret: Redacted.Redacted<string> | undefined = some(read.clientSecret)
      // Parameters merge: the environment's audience and resource, then the overrides' own parameters.
      const params = {
        ...(Option.isSome(read.audience) ? { audience: read.audience.value } : {}),
        ...(Option.isSome(read.resource) ? { resource: read.resource.value } : {}),
        ...overrides.params
      }
      return {
        tokenUrl: some(read.tokenUrl),
        issuer: some(read.issuer),
        clientId: some(read.clientId),
        clientSecret: secret,
        scopes: some(read.scopes),
        origins: some(read.origins),
        timeout: some(read.timeout),
        ...(Option.isSome(read.dpop) && read.dpop.value ? { dpop: true } : {}),
        ...(auth !== undefined ? { auth } : {}),
        ...overrides,
        params
      }
    })
  )
}

/**
 * {@link layer} with options from environment variables (see {@link config}).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerFromEnv = (
  prefix = "OAUTH2",
  overrides: Partial<Options> = {}
): Layer.Layer<
  HttpClient.HttpClient | OAuth2Client,
  OAuth2Error.ConfigurationError | OAuth2Error.DiscoveryError | ConfigError.ConfigError,
  HttpClient.HttpClient
> => Layer.unwrapEffect(Effect.map(config(prefix, overrides), layer))
