/**
 * The token endpoint's answer: Schemas for the RFC 6749 §5.1 success body and the §5.2 error body, and a decoder
 * from (status, content type, body) to a {@link TokenResponse} or a typed error.
 *
 * The decoder is strict where the RFC protects the client and lenient where real servers deviate:
 * - `expires_in` may be a JSON number or a numeric string (Azure v1, PayPal, ...); fractions are truncated toward
 *   zero; a negative value, `NaN` or `Infinity` is an error; `0` means the token is already expired.
 * - `token_type` is compared case-insensitively (RFC 6749 §5.1); only `Bearer` (RFC 6750) is accepted.
 * - `refresh_token`, `id_token`, `scope` and `expires_in` sent as JSON `null` count as absent.
 * - Fields the RFC does not name are kept in `extra`.
 * - Bodies are read as JSON (`application/json`, `text/javascript`, `+json`, and JSON sent as `text/plain`) or as
 *   `application/x-www-form-urlencoded` (GitHub); a `parseResponse` hook replaces the parser (the Dart package's
 *   `getParameters`).
 * - A 200 that carries `error` is an error response.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as ParseResult from "effect/ParseResult"
import * as Predicate from "effect/Predicate"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { excerpt, mask } from "./internal/redact.js"
import { ErrorResponse, InvalidResponse, isRefusalStatus } from "./OAuth2Error.js"

const numeric = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/

const toSeconds = (n: number): number | undefined => Number.isFinite(n) && n >= 0 ? Math.trunc(n) : undefined

/**
 * `expires_in` (RFC 6749 §5.1): a JSON number or a numeric string, decoded to whole seconds (truncated toward
 * zero). Negative, non-finite and non-numeric values are rejected.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ExpiresIn: Schema.Schema<number, number | string> = Schema.transformOrFail(
  Schema.Union(Schema.Number, Schema.String),
  Schema.Int.pipe(Schema.nonNegative()),
  {
    strict: true,
    decode: (input, _, ast) => {
      const text = typeof input === "string" ? input.trim() : undefined
      const value = text === undefined
        ? toSeconds(input as number)
        : numeric.test(text)
        ? toSeconds(Number(text))
        : undefined
      return value === undefined
        ? ParseResult.fail(
          new ParseResult.Type(
            ast,
            input,
            `expires_in must be a non-negative number of seconds, was ${JSON.stringify(input)}`
          )
        )
        : ParseResult.succeed(value)
    },
    encode: (n) => ParseResult.succeed(n)
  }
)

const secretString = (name: string) =>
  Schema.String.pipe(Schema.minLength(1)).annotations({ message: () => `"${name}" must be a non-empty string` })

const optionalNullable = <S extends Schema.Schema.Any>(schema: S) =>
  Schema.optionalWith(schema, { exact: true, nullable: true })

/**
 * The RFC 6749 §5.1 success body, as the server sends it (snake_case keys), with unknown fields kept.
 *
 * @since 0.1.0
 * @category schemas
 */
export const SuccessBody = Schema.Struct(
  {
    access_token: Schema.Redacted(secretString("access_token")),
    token_type: Schema.String.annotations({ message: () => `"token_type" must be a string` }),
    expires_in: optionalNullable(ExpiresIn),
    refresh_token: optionalNullable(Schema.Redacted(secretString("refresh_token"))),
    id_token: optionalNullable(Schema.Redacted(secretString("id_token"))),
    scope: optionalNullable(Schema.String.annotations({ message: () => `"scope" must be a string` }))
  },
  Schema.Record({ key: Schema.String, value: Schema.Unknown })
)

/**
 * The RFC 6749 §5.2 error body.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ErrorBody = Schema.Struct(
  {
    error: Schema.String.annotations({ message: () => `"error" must be a string` }),
    error_description: optionalNullable(
      Schema.String.annotations({ message: () => `"error_description" must be a string` })
    ),
    error_uri: optionalNullable(Schema.String.annotations({ message: () => `"error_uri" must be a string` }))
  },
  Schema.Record({ key: Schema.String, value: Schema.Unknown })
)

/**
 * A decoded success response.
 *
 * @since 0.1.0
 * @category models
 */
export interface TokenResponse {
  readonly accessToken: Redacted.Redacted<string>
  /** As sent by the server; compare case-insensitively. */
  readonly tokenType: string
  /** Whole seconds, as sent by the server; `undefined` when the server did not say. */
  readonly expiresIn: number | undefined
  readonly refreshToken: Redacted.Redacted<string> | undefined
  readonly idToken: Redacted.Redacted<string> | undefined
  /** The raw `scope` string, `undefined` when absent. */
  readonly scope: string | undefined
  /** Every other field of the body. */
  readonly extra: Readonly<Record<string, unknown>>
}

/**
 * A user hook that turns a response body into parameters, replacing the built-in JSON / form parser (the Dart
 * package's `getParameters`). It may throw; the error becomes an {@link InvalidResponse}.
 *
 * @since 0.1.0
 * @category models
 */
export type ParseResponse = (contentType: string | undefined, body: string) => unknown

/**
 * What the decoder needs of an HTTP response.
 *
 * @since 0.1.0
 * @category models
 */
export interface RawResponse {
  readonly status: number
  /** The `Content-Type` header, as sent. */
  readonly contentType: string | undefined
  readonly body: string
  /** `Retry-After`, already turned into milliseconds. */
  readonly retryAfter?: number | undefined
  /** `Location`, for redirects. */
  readonly location?: string | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface DecodeOptions {
  readonly tokenEndpoint: string
  readonly parseResponse?: ParseResponse | undefined
  /** Values to mask in any body excerpt (the client secret). */
  readonly secrets?: ReadonlyArray<string> | undefined
  /**
   * The request carried a DPoP proof (RFC 9449 §5): a `DPoP` token type is accepted as well as `Bearer`.
   *
   * @since 0.2.0
   */
  readonly dpop?: boolean | undefined
}

const knownFields = new Set(["access_token", "token_type", "expires_in", "refresh_token", "id_token", "scope"])

/**
 * The lower-cased `type/subtype` of a `Content-Type` value, parameters dropped; `undefined` if there is none.
 *
 * @since 0.1.0
 * @category parsing
 */
export const mediaType = (contentType: string | undefined): string | undefined => {
  if (contentType === undefined) return undefined
  const type = contentType.split(";")[0]!.trim().toLowerCase()
  return type.length > 0 ? type : undefined
}

const isJsonType = (type: string) =>
  type === "application/json" || type === "text/javascript" || type === "application/javascript" ||
  type === "text/json" || type.endsWith("+json")

/**
 * The built-in body parser: JSON for JSON media types and `text/plain`, form parameters for
 * `application/x-www-form-urlencoded`. Returns the reason as a string when the body cannot be read.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseParameters = (
  contentType: string | undefined,
  body: string
): { readonly _tag: "Ok"; readonly value: unknown } | { readonly _tag: "Fail"; readonly reason: string } => {
  const type = mediaType(contentType)
  if (type === undefined) return { _tag: "Fail", reason: "the response has no Content-Type" }
  if (type === "application/x-www-form-urlencoded") {
    const params: Record<string, string> = {}
    for (const [key, value] of new URLSearchParams(body)) {
      if (!Object.prototype.hasOwnProperty.call(params, key)) params[key] = value
    }
    return { _tag: "Ok", value: params }
  }
  if (isJsonType(type) || type === "text/plain") {
    try {
      return { _tag: "Ok", value: JSON.parse(body) }
    } catch {
      return { _tag: "Fail", reason: "the body is not valid JSON" }
    }
  }
  return { _tag: "Fail", reason: `Content-Type was "${type}", expected "application/json"` }
}

// Fields whose value must not be quoted in a reason, even when it has the wrong type ("Expected string, actual ...").
const tokenFields = new Set(["access_token", "refresh_token", "id_token"])

const formatIssues = (error: ParseResult.ParseError): string => {
  // One message per field: a nullable field otherwise reports both "must be a string" and "Expected null".
  const byPath = new Map<string, string>()
  for (const issue of ParseResult.ArrayFormatter.formatErrorSync(error)) {
    const path = issue.path.length > 0 ? issue.path.map(String).join(".") : ""
    if (byPath.has(path)) continue
    if (issue._tag === "Missing" && path !== "") byPath.set(path, `required parameter "${path}" is missing`)
    else if (tokenFields.has(path)) byPath.set(path, `"${path}" must be a non-empty string`)
    else {byPath.set(
        path,
        issue.message.includes(`"${path}"`) || path === "" ? issue.message : `"${path}": ${issue.message}`
      )}
  }
  return Array.from(byPath.values(), (message) => clip(message, 200)).join("; ")
}

const errorFields = new Set(["error", "error_description", "error_uri"])

/**
 * The known fields with any object or array value replaced by an empty one: no known field accepts either, so the
 * outcome is the same, and the error formatter never walks a value nested thousands of levels deep.
 */
const shallow = (parameters: Record<string, unknown>, fields: ReadonlySet<string>): Record<string, unknown> => {
  let copy: Record<string, unknown> | undefined
  for (const field of fields) {
    const value = parameters[field]
    if (typeof value === "object" && value !== null) {
      copy ??= { ...parameters }
      copy[field] = Array.isArray(value) ? [] : {}
    }
  }
  return copy ?? parameters
}

/** The reason for a non-200 answer without a §5.2 body: a 401 or 403 is the server refusing the client. */
const failedWith = (status: number): string =>
  isRefusalStatus(status)
    ? `the server refused the client with HTTP status ${status} and no RFC 6749 §5.2 error body`
    : `the request failed with HTTP status ${status}`

/** A quoted value in a reason is cut, so that a huge field does not make a huge message. */
const clip = (text: string, max = 100): string => (text.length > max ? `${text.slice(0, max)}…` : text)

/** What a hook threw, described without trusting it: `toString` or `message` may themselves throw. */
const describeThrown = (error: unknown): string => {
  try {
    const text = error instanceof Error ? String(error.message) : String(error)
    return clip(text, 200)
  } catch {
    return "a value that cannot be shown"
  }
}

const decodeSuccess = Schema.decodeUnknownEither(SuccessBody, { errors: "all", onExcessProperty: "preserve" })
const decodeError = Schema.decodeUnknownEither(ErrorBody, { errors: "all", onExcessProperty: "preserve" })

/** A present value: neither absent nor `null` (null counts as absent, as `optionalNullable` says). */
const present = (value: unknown): boolean => value !== undefined && value !== null

const nonEmptyOrAbsent = (value: unknown): boolean => !present(value) || (typeof value === "string" && value.length > 0)

/**
 * The common success body, decoded without Schema: what {@link SuccessBody} gives for the same input when every
 * field has its usual shape (a Bearer token, `expires_in` as a number). Anything else, every error included, is
 * left to the Schema (`undefined`), which reports it. A property test holds the two to the same answers.
 */
const fastSuccess = (parameters: Record<string, unknown>): TokenResponse | undefined => {
  const proto = Object.getPrototypeOf(parameters)
  if (proto !== Object.prototype && proto !== null) return undefined
  const accessToken = parameters.access_token
  const tokenType = parameters.token_type
  if (typeof accessToken !== "string" || accessToken.length === 0 || typeof tokenType !== "string") return undefined
  if (tokenType.toLowerCase() !== "bearer") return undefined
  const expires = parameters.expires_in
  let expiresIn: number | undefined
  if (present(expires)) {
    if (typeof expires !== "number") return undefined
    expiresIn = toSeconds(expires)
    // Schema.Int takes safe integers only: beyond 2^53 the Schema reports it.
    if (expiresIn === undefined || !Number.isSafeInteger(expiresIn)) return undefined
  }
  const refreshToken = parameters.refresh_token
  const idToken = parameters.id_token
  const scope = parameters.scope
  if (!nonEmptyOrAbsent(refreshToken) || !nonEmptyOrAbsent(idToken) || (present(scope) && typeof scope !== "string")) {
    return undefined
  }
  const extra: Record<string, unknown> = {}
  for (const key of Object.keys(parameters)) {
    if (knownFields.has(key)) continue
    if (key === "__proto__") return undefined
    extra[key] = parameters[key]
  }
  return {
    accessToken: Redacted.make(accessToken),
    tokenType,
    expiresIn,
    refreshToken: present(refreshToken) ? Redacted.make(refreshToken as string) : undefined,
    idToken: present(idToken) ? Redacted.make(idToken as string) : undefined,
    scope: present(scope) ? scope as string : undefined,
    extra
  }
}

/**
 * Decodes a token endpoint response (RFC 6749 §5.1 and §5.2).
 *
 * - 200 with a usable body and a Bearer `token_type` → the {@link TokenResponse}.
 * - Any status with a body that carries a string `error` (200 included) → {@link ErrorResponse}.
 * - Anything else (3xx, other statuses, missing or unexpected content type, invalid JSON, missing or mistyped
 *   fields, another token type) → {@link InvalidResponse} with the reason and a masked excerpt of the body.
 *
 * @since 0.1.0
 * @category decoding
 */
export const decode = (
  response: RawResponse,
  options: DecodeOptions
): Effect.Effect<TokenResponse, ErrorResponse | InvalidResponse> =>
  Effect.suspend((): Effect.Effect<TokenResponse, ErrorResponse | InvalidResponse> => {
    const invalid = (reason: string) =>
      Effect.fail(
        new InvalidResponse({
          tokenEndpoint: options.tokenEndpoint,
          reason: mask(reason, options.secrets),
          status: response.status,
          bodyExcerpt: excerpt(response.body, options.secrets),
          ...(response.contentType !== undefined
            ? { contentType: clip(mask(response.contentType, options.secrets)) }
            : {}),
          ...(response.retryAfter !== undefined ? { retryAfter: response.retryAfter } : {})
        })
      )
    const status = response.status
    if (status === 0 || (status >= 300 && status < 400)) {
      return invalid(
        `the token endpoint answered with a redirect${
          response.location !== undefined ? ` to ${response.location}` : ""
        }; token requests never follow redirects, so that credentials are not sent elsewhere: use the final URL`
      )
    }

    let parameters: unknown
    if (options.parseResponse !== undefined) {
      try {
        parameters = options.parseResponse(response.contentType, response.body)
      } catch (error) {
        return invalid(`parseResponse threw: ${describeThrown(error)}`)
      }
    } else {
      const parsed = parseParameters(response.contentType, response.body)
      if (parsed._tag === "Fail") {
        return invalid(status === 200 ? parsed.reason : failedWith(status))
      }
      parameters = parsed.value
    }
    if (!Predicate.isRecord(parameters)) {
      return invalid(
        status === 200
          ? `the parameters must be a JSON object, were ${
            parameters === null ? "null" : Array.isArray(parameters) ? "an array" : typeof parameters
          }`
          : failedWith(status)
      )
    }

    // A success body that carries "error": null is still a success (null counts as absent everywhere).
    if (parameters.error !== undefined && parameters.error !== null) {
      const decoded = decodeError(shallow(parameters, errorFields))
      if (decoded._tag === "Left") {
        return invalid(`an error response that is not RFC 6749 §5.2: ${formatIssues(decoded.left)}`)
      }
      const body = decoded.right
      return Effect.fail(
        new ErrorResponse({
          tokenEndpoint: options.tokenEndpoint,
          status,
          // Clipped: a server (or a proxy) that answers with a megabyte of description must not make every log line
          // that holds the error a megabyte long.
          error: clip(mask(body.error, options.secrets), 200),
          ...(body.error_description !== undefined
            ? { errorDescription: clip(mask(body.error_description, options.secrets), 1000) }
            : {}),
          ...(body.error_uri !== undefined ? { errorUri: clip(mask(body.error_uri, options.secrets), 1000) } : {}),
          ...(response.retryAfter !== undefined ? { retryAfter: response.retryAfter } : {})
        })
      )
    }
    if (status !== 200) return invalid(failedWith(status))

    const fast = fastSuccess(parameters)
    if (fast !== undefined) return Effect.succeed(fast)
    const decoded = decodeSuccess(shallow(parameters, knownFields))
    if (decoded._tag === "Left") return invalid(formatIssues(decoded.left))
    const body = decoded.right
    const tokenType = body.token_type.toLowerCase()
    if (tokenType === "dpop" && options.dpop !== true) {
      return invalid(
        `token_type "DPoP": the server issued a DPoP-bound token (RFC 9449), but this client has no DPoP key to use ` +
          `it with; set the dpop option`
      )
    }
    if (tokenType !== "bearer" && !(tokenType === "dpop" && options.dpop === true)) {
      return invalid(`unsupported token_type "${clip(body.token_type)}"; only Bearer tokens (RFC 6750) are supported`)
    }
    const extra: Record<string, unknown> = {}
    for (const key of Object.keys(body)) {
      if (!knownFields.has(key)) extra[key] = body[key]
    }
    return Effect.succeed<TokenResponse>({
      accessToken: body.access_token,
      tokenType: body.token_type,
      expiresIn: body.expires_in,
      refreshToken: body.refresh_token,
      idToken: body.id_token,
      scope: body.scope,
      extra
    })
  })
