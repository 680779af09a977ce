/**
 * The client's one asynchronous construction step, before `prepare`: discovery turns an `issuer` into the token
 * URL (and informs the choice of client authentication), and the auth method's `resolve` imports and checks its key.
 * After it the options name a token URL and an auth method ready for every attempt.
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Effect from "effect/Effect"
import * as ClientAuth from "../ClientAuth.js"
import type * as ClientCredentials from "../ClientCredentials.js"
import * as Discovery from "../Discovery.js"
import * as OAuth2Error from "../OAuth2Error.js"
import { discover, issuerString } from "./discovery.js"
import * as dpop from "./dpop.js"
import { display, parseEndpoint } from "./url.js"

/**
 * Options after resolution: a token URL is set.
 *
 * @internal
 */
export type Resolved = ClientCredentials.Options & {
  readonly tokenUrl: string | URL
  /** DPoP: the key's hooks, made once per client (`dpop` option). */
  readonly dpopHooks?: dpop.Hooks | undefined
}

/**
 * The auth method to use with a discovered server: when a secret is given without `auth`, `client_secret_basic`
 * unless the server lists only `client_secret_post` (RFC 8414 §2: basic is the default when the list is absent).
 * An explicit method the server does not list is logged and still tried.
 */
const chooseAuth = (
  options: ClientCredentials.Options,
  metadata: Discovery.Metadata
): Effect.Effect<ClientAuth.ClientAuth | undefined> => {
  const supported = metadata.token_endpoint_auth_methods_supported
  const listed = supported === undefined ? "" : ` (it lists ${supported.join(", ") || "none"})`
  if (options.auth !== undefined) {
    return supported === undefined || supported.includes(options.auth.method)
      ? Effect.succeed(options.auth)
      : Effect.as(
        Effect.logWarning(
          `OAuth2: the authorization server ${metadata.issuer} does not list ${options.auth.method} in ` +
            `token_endpoint_auth_methods_supported${listed}; trying it anyway`
        ),
        options.auth
      )
  }
  if (options.clientSecret === undefined || supported === undefined || supported.includes("client_secret_basic")) {
    return Effect.succeed(undefined)
  }
  if (supported.includes("client_secret_post")) return Effect.succeed(ClientAuth.clientSecretPost)
  return Effect.as(
    Effect.logWarning(
      `OAuth2: the authorization server ${metadata.issuer} lists neither client_secret_basic nor ` +
        `client_secret_post${listed}; using client_secret_basic. Set auth to the method the client is registered for`
    ),
    undefined
  )
}

/**
 * Resolves the options: discovery when `issuer` is given without `tokenUrl`, then the auth method's one-time work.
 *
 * @internal
 */
export const resolve = (
  options: ClientCredentials.Options
): Effect.Effect<Resolved, OAuth2Error.ConfigurationError | OAuth2Error.DiscoveryError, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    let tokenUrl = options.tokenUrl
    let issuer = options.issuer === undefined ? undefined : issuerString(options.issuer)
    let auth = options.auth
    let dpopAlgorithms: ReadonlyArray<string> | undefined
    if (tokenUrl === undefined) {
      if (options.issuer === undefined) {
        return yield* new OAuth2Error.ConfigurationError({
          reason: "set tokenUrl (the token endpoint) or issuer (to discover it, RFC 8414)"
        })
      }
      const found = yield* discover(options.issuer, {
        allowInsecureHttp: options.allowInsecureHttp,
        timeout: options.timeout,
        retry: options.retry,
        maxResponseBytes: options.maxResponseBytes
      })
      const metadata = found.metadata
      issuer = metadata.issuer
      dpopAlgorithms = metadata.dpop_signing_alg_values_supported
      const mutualTls = options.useMtlsEndpointAliases ?? (auth !== undefined && ClientAuth.isMutualTls(auth))
      const endpoint = Discovery.tokenEndpoint(metadata, { mutualTls })
      // The location whose answer ended discovery: the OpenID Connect one when the RFC 8414 one was not found.
      const where = found.url.href
      if (endpoint === undefined) {
        return yield* new OAuth2Error.DiscoveryError({
          issuer,
          url: where,
          kind: "NoTokenEndpoint",
          reason: "the metadata has no token_endpoint"
        })
      }
      const parsed = parseEndpoint(endpoint, { allowInsecureHttp: options.allowInsecureHttp, what: "token_endpoint" })
      if (parsed instanceof OAuth2Error.ConfigurationError) {
        return yield* new OAuth2Error.DiscoveryError({
          issuer,
          url: where,
          kind: "Insecure",
          reason: `the metadata's token endpoint is unusable: ${parsed.reason}`
        })
      }
      tokenUrl = endpoint
      auth = yield* chooseAuth(options, metadata)
      yield* Effect.logDebug(`OAuth2: discovered the token endpoint ${display(parsed)} of ${issuer}`)
    }
    if (auth?.resolve !== undefined) {
      const url = parseEndpoint(tokenUrl, { allowInsecureHttp: options.allowInsecureHttp, what: "tokenUrl" })
      if (url instanceof OAuth2Error.ConfigurationError) return yield* url
      auth = yield* auth.resolve({
        tokenEndpoint: url,
        issuer,
        clientId: options.clientId,
        clientSecret: options.clientSecret
      })
    }
    // DPoP: the key is generated or imported, and its thumbprint computed, once per client.
    const dpopKey = yield* dpop.resolveKey(options.dpop)
    if (dpopKey !== undefined && dpopAlgorithms !== undefined && !dpopAlgorithms.includes(dpopKey.alg)) {
      yield* Effect.logWarning(
        `OAuth2: the authorization server ${issuer} does not list ${dpopKey.alg} in dpop_signing_alg_values_supported ` +
          `(it lists ${dpopAlgorithms.join(", ") || "none"}); trying it anyway`
      )
    }
    return { ...options, tokenUrl, auth, ...(dpopKey !== undefined ? { dpopHooks: dpop.make(dpopKey) } : {}) }
  })
