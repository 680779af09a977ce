/**
 * Authorization server metadata discovery (RFC 8414, with OpenID Connect Discovery 1.0 as the fallback location):
 * GET the well-known document, with the token requests' timeout and retry policy and a bounded body, check that it
 * is metadata of exactly the issuer asked for (RFC 8414 §3.3), and return it.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import type * as Discovery from "../Discovery.js"
import * as OAuth2Error from "../OAuth2Error.js"
import { defaults, millis } from "./grant.js"
import { excerpt } from "./redact.js"
import { type Policy, retrying } from "./retry.js"
import { parseEndpoint } from "./url.js"

/** @internal */
export type Location = "oauth-authorization-server" | "openid-configuration"

const strings = Schema.Array(Schema.String)

/** Known members the client does not use: a value of the wrong type is dropped instead of failing discovery. */
const lenient = {
  authorization_endpoint: Schema.String,
  jwks_uri: Schema.String,
  registration_endpoint: Schema.String,
  scopes_supported: strings,
  response_types_supported: strings,
  response_modes_supported: strings,
  grant_types_supported: strings,
  token_endpoint_auth_signing_alg_values_supported: strings,
  service_documentation: Schema.String,
  revocation_endpoint: Schema.String,
  revocation_endpoint_auth_methods_supported: strings,
  introspection_endpoint: Schema.String,
  introspection_endpoint_auth_methods_supported: strings,
  code_challenge_methods_supported: strings,
  tls_client_certificate_bound_access_tokens: Schema.Boolean,
  dpop_signing_alg_values_supported: strings,
  userinfo_endpoint: Schema.String
}

const optionalFields = <F extends Record<string, Schema.Schema.Any>>(
  fields: F
): { readonly [K in keyof F]: Schema.optionalWith<F[K], { exact: true }> } =>
  Object.fromEntries(
    Object.entries(fields).map(([name, schema]) => [name, Schema.optionalWith(schema, { exact: true })])
  ) as any

/**
 * The metadata document of RFC 8414 §2 (see `Discovery.Metadata`).
 *
 * @internal
 */
export const Metadata = Schema.Struct(
  {
    issuer: Schema.String,
    ...optionalFields({
      token_endpoint: Schema.String,
      token_endpoint_auth_methods_supported: strings,
      mtls_endpoint_aliases: Schema.Record({ key: Schema.String, value: Schema.String })
    }),
    ...optionalFields(lenient)
  },
  Schema.Record({ key: Schema.String, value: Schema.Unknown })
)

/** @internal */
export type Metadata = Schema.Schema.Type<typeof Metadata>

/**
 * The issuer identifier as compared with the metadata's: a string exactly as given, a URL as its `href`.
 *
 * @internal
 */
export const issuerString = (issuer: string | URL): string => typeof issuer === "string" ? issuer : issuer.href

/**
 * Checks an issuer identifier (RFC 8414 §2: https, no query, no fragment; http on loopback hosts or with
 * `allowInsecureHttp`, as for the token URL).
 *
 * @internal
 */
export const parseIssuer = (
  issuer: string | URL,
  allowInsecureHttp: boolean | undefined
): URL | OAuth2Error.ConfigurationError => {
  const url = parseEndpoint(issuer, { allowInsecureHttp, what: "issuer" })
  if (url instanceof OAuth2Error.ConfigurationError) return url
  if (url.search !== "") {
    return new OAuth2Error.ConfigurationError({ reason: "issuer must not have a query (RFC 8414 §2)" })
  }
  return url
}

/**
 * The metadata URL of an issuer: RFC 8414 §3.1 inserts `/.well-known/oauth-authorization-server` between the host
 * and the issuer's path (its trailing `/` removed); OpenID Connect Discovery §4 appends
 * `/.well-known/openid-configuration` to the issuer.
 *
 * @internal
 */
export const metadataUrl = (issuer: URL, location: Location): URL => {
  const path = issuer.pathname.replace(/\/+$/, "")
  return new URL(
    location === "oauth-authorization-server"
      ? `${issuer.origin}/.well-known/oauth-authorization-server${path}`
      : `${issuer.origin}${path}/.well-known/openid-configuration`
  )
}

interface Request {
  readonly issuer: string
  readonly client: HttpClient.HttpClient
  readonly timeoutMillis: number
  readonly maxResponseBytes: number
  readonly retry: Policy | undefined
}

const failure = (
  request: Request,
  url: URL,
  kind: OAuth2Error.DiscoveryFailure,
  reason: string,
  status?: number
) =>
  new OAuth2Error.DiscoveryError({
    issuer: request.issuer,
    url: url.href,
    kind,
    reason,
    ...(status !== undefined ? { status } : {})
  })

const readText = (
  request: Request,
  url: URL,
  response: HttpClientResponse.HttpClientResponse
): Effect.Effect<string, OAuth2Error.DiscoveryError> => {
  const max = request.maxResponseBytes
  const tooLarge = () =>
    failure(request, url, "InvalidMetadata", `the body is larger than maxResponseBytes (${max} bytes)`, 200)
  const declared = Number(response.headers["content-length"])
  if (Number.isFinite(declared) && declared > max) return Effect.fail(tooLarge())
  return response.stream.pipe(
    Stream.decodeText(),
    Stream.mapError((error) =>
      failure(request, url, "Transport", `the body could not be read (${error.description ?? error.reason})`)
    ),
    Stream.runFoldEffect(
      "",
      (text, chunk): Effect.Effect<string, OAuth2Error.DiscoveryError> =>
        text.length + chunk.length > max ? Effect.fail(tooLarge()) : Effect.succeed(text + chunk)
    )
  )
}

const isJsonType = (contentType: string): boolean => {
  const type = contentType.split(";")[0]!.trim().toLowerCase()
  return type === "application/json" || type.endsWith("+json")
}

/** Metadata fields the client uses: a wrong type here makes the document unusable. */
const Essential = Schema.Struct({
  issuer: Schema.String,
  token_endpoint: Schema.optionalWith(Schema.String, { exact: true, nullable: true }),
  token_endpoint_auth_methods_supported: Schema.optionalWith(Schema.Array(Schema.String), {
    exact: true,
    nullable: true
  }),
  mtls_endpoint_aliases: Schema.optionalWith(Schema.Record({ key: Schema.String, value: Schema.String }), {
    exact: true,
    nullable: true
  })
})

/**
 * Decodes a metadata document: the fields the client uses must have their RFC types; any other known field of the
 * wrong type (some servers send a string for a list) is dropped rather than failing discovery; unknown fields are
 * kept.
 *
 * @internal
 */
export const decodeMetadata = (body: Record<string, unknown>): Either.Either<Metadata, string> => {
  const essential = Schema.decodeUnknownEither(Essential)(body)
  if (Either.isLeft(essential)) {
    return Either.left(
      ParseResult.ArrayFormatter.formatErrorSync(essential.left).map((issue) =>
        `${issue.path.length > 0 ? `"${issue.path.join(".")}": ` : ""}${issue.message}`
      ).slice(0, 3).join("; ")
    )
  }
  const pruned: Record<string, unknown> = { ...body }
  for (const [field, schema] of Object.entries(lenient)) {
    const value = pruned[field]
    if (value === null || (value !== undefined && !Schema.is(schema as Schema.Schema<unknown>)(value))) {
      delete pruned[field]
    }
  }
  for (const field of ["token_endpoint", "token_endpoint_auth_methods_supported", "mtls_endpoint_aliases"]) {
    if (pruned[field] === null) delete pruned[field]
  }
  return Either.mapLeft(Schema.decodeUnknownEither(Metadata)(pruned), () => "the document does not decode")
}

const fetchOnce = (request: Request, url: URL): Effect.Effect<Metadata, OAuth2Error.DiscoveryError> =>
  Effect.gen(function*() {
    const response = yield* request.client.execute(
      HttpClientRequest.get(url, { headers: { accept: "application/json" } })
    ).pipe(
      Effect.mapError((error) =>
        failure(
          request,
          url,
          "Transport",
          error.description ?? (error.cause instanceof Error ? error.cause.message : "the connection failed")
        )
      )
    )
    const status = response.status
    const contentType = response.headers["content-type"] ?? ""
    if (status !== 200) {
      yield* Effect.ignore(readText(request, url, response))
      if (status === 404 || status === 410) {
        return yield* failure(request, url, "NotFound", `HTTP ${status}, no metadata there`, status)
      }
      const location = response.headers["location"]
      return yield* failure(
        request,
        url,
        "Status",
        status >= 300 && status < 400 && location !== undefined
          ? `HTTP ${status}, a redirect (metadata is served at its location, not redirected)`
          : `HTTP ${status}`,
        status
      )
    }
    const text = yield* readText(request, url, response)
    const start = text.trimStart()
    if (/html/i.test(contentType) || start.startsWith("<")) {
      return yield* failure(
        request,
        url,
        "NotJson",
        `an HTML page instead of JSON metadata (content type ${contentType || "none"}; it starts ${
          JSON.stringify(excerpt(text, [], 60))
        })`,
        status
      )
    }
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      return yield* failure(
        request,
        url,
        "NotJson",
        `a body that is not JSON (content type ${contentType || "none"}; it starts ${
          JSON.stringify(excerpt(text, [], 60))
        })`,
        status
      )
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      return yield* failure(request, url, "InvalidMetadata", "JSON that is not an object", status)
    }
    if (contentType !== "" && !isJsonType(contentType)) {
      yield* Effect.logDebug(`OAuth2 discovery: ${url.href} sent metadata as ${contentType}; read as JSON`)
    }
    const metadata = decodeMetadata(parsed as Record<string, unknown>)
    if (Either.isLeft(metadata)) {
      return yield* failure(
        request,
        url,
        "InvalidMetadata",
        `JSON that is not RFC 8414 metadata (${metadata.left})`,
        status
      )
    }
    // RFC 8414 §3.3 (and OpenID Connect Discovery §4.3): the issuer must be identical, not merely equivalent.
    if (metadata.right.issuer !== request.issuer) {
      return yield* failure(
        request,
        url,
        "IssuerMismatch",
        `the metadata's issuer is ${JSON.stringify(metadata.right.issuer)}, not the ${
          JSON.stringify(request.issuer)
        } asked for`,
        status
      )
    }
    return metadata.right
  })

/** One location: attempts with the per-attempt timeout, retried as token requests are, inside the budget. */
const fetchLocation = (request: Request, url: URL): Effect.Effect<Metadata, OAuth2Error.DiscoveryError> => {
  const once = fetchOnce(request, url).pipe(
    Effect.timeoutFail({
      duration: Duration.millis(request.timeoutMillis),
      onTimeout: () =>
        failure(request, url, "Timeout", `no answer within ${Duration.format(Duration.millis(request.timeoutMillis))}`)
    })
  )
  const retry = request.retry
  if (retry === undefined) return once
  return retrying(once, retry, "discovery request").pipe(
    Effect.timeoutFail({
      duration: Duration.millis(retry.budgetMillis),
      onTimeout: () =>
        failure(
          request,
          url,
          "Timeout",
          `no metadata within the retry budget of ${Duration.format(Duration.millis(retry.budgetMillis))}`
        )
    })
  )
}

/** Failures after which the other location is tried: this one serves no metadata, the next one may. */
const fallsBack = (error: OAuth2Error.DiscoveryError): boolean =>
  error.kind === "NotFound" || error.kind === "NotJson" || error.kind === "InvalidMetadata" ||
  (error.kind === "Status" && error.status !== undefined && error.status < 500 && error.status !== 408 &&
    error.status !== 429)

/** A duration option as an Effect: its milliseconds, or the ConfigurationError that names it. */
const duration = (input: Duration.DurationInput, what: string) =>
  Effect.suspend(() => {
    const ms = millis(input, what)
    return typeof ms === "number" ? Effect.succeed(ms) : Effect.fail(ms)
  })

/**
 * Discovery: the metadata, and the URL it was read from.
 *
 * @internal
 */
export const discover = (
  issuerInput: string | URL,
  options: Discovery.Options
): Effect.Effect<
  { readonly metadata: Metadata; readonly url: URL },
  OAuth2Error.DiscoveryError | OAuth2Error.ConfigurationError,
  HttpClient.HttpClient
> =>
  Effect.gen(function*() {
    const issuerUrl = parseIssuer(issuerInput, options.allowInsecureHttp)
    if (issuerUrl instanceof OAuth2Error.ConfigurationError) return yield* issuerUrl
    const timeoutMillis = yield* duration(options.timeout ?? defaults.timeout, "timeout")
    if (timeoutMillis === 0) return yield* new OAuth2Error.ConfigurationError({ reason: "timeout must be positive" })
    const maxResponseBytes = options.maxResponseBytes ?? defaults.maxResponseBytes
    if (!Number.isSafeInteger(maxResponseBytes) || maxResponseBytes <= 0) {
      return yield* new OAuth2Error.ConfigurationError({ reason: "maxResponseBytes must be a positive whole number" })
    }
    const retry: Policy | undefined = options.retry === false ? undefined : {
      schedule: options.retry?.schedule ?? defaults.schedule,
      while: options.retry?.while ?? OAuth2Error.isRetryable,
      retryAfterCapMillis: yield* duration(
        options.retry?.retryAfterCap ?? defaults.retryAfterCap,
        "retry.retryAfterCap"
      ),
      budgetMillis: yield* duration(options.retry?.budget ?? defaults.budget, "retry.budget")
    }
    const request: Request = {
      issuer: issuerString(issuerInput),
      client: yield* HttpClient.HttpClient,
      timeoutMillis,
      maxResponseBytes,
      retry
    }
    const order: ReadonlyArray<Location> = options.location === undefined || options.location === "auto"
      ? ["oauth-authorization-server", "openid-configuration"]
      : [options.location]
    const tried: Array<string> = []
    for (let i = 0; i < order.length; i++) {
      const url = metadataUrl(issuerUrl, order[i]!)
      const result = yield* Effect.either(fetchLocation(request, url))
      if (Either.isRight(result)) return { metadata: result.right, url }
      const error = result.left
      if (i === order.length - 1 || !fallsBack(error)) {
        return yield* new OAuth2Error.DiscoveryError({
          issuer: error.issuer,
          url: error.url,
          kind: error.kind,
          reason: error.reason,
          ...(error.status !== undefined ? { status: error.status } : {}),
          ...(tried.length > 0 ? { tried } : {})
        })
      }
      tried.push(`${url.href}: ${error.reason}`)
    }
    return yield* Effect.dieMessage("unreachable: no discovery location")
  }).pipe(
    Effect.withSpan("OAuth2.discovery", {
      captureStackTrace: false,
      kind: "client",
      attributes: { "oauth2.issuer": issuerString(issuerInput) }
    })
  )
