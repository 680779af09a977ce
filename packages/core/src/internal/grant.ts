import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Chunk from "effect/Chunk"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import type * as ClientAuth from "../ClientAuth.js"
import { defaultFor, formUrlEncode } from "../ClientAuth.js"
import type * as ClientCredentials from "../ClientCredentials.js"
import type { Options as ClientCredentialsOptions } from "../ClientCredentials.js"
import { Credentials } from "../Credentials.js"
import * as OAuth2Error from "../OAuth2Error.js"
import * as TokenResponse from "../TokenResponse.js"
import type * as dpop from "./dpop.js"
import * as metrics from "./metrics.js"
import { type Policy, retrying } from "./retry.js"
import { parseRetryAfter } from "./retryAfter.js"
import { timeoutFail } from "./timeout.js"
import { hasLoneSurrogate } from "./unicode.js"
import { display, parseEndpoint } from "./url.js"

/** The options after resolution (`internal/resolve.ts`): a token URL is set. @internal */
export type GrantOptions = ClientCredentialsOptions & {
  readonly tokenUrl: string | URL
  readonly dpopHooks?: dpop.Hooks | undefined
}
/** @internal */
export type ParamValue = ClientCredentials.ParamValue

/** @internal */
export interface Prepared {
  readonly url: URL
  readonly endpoint: string
  readonly clientId: string | undefined
  readonly clientSecret: Redacted.Redacted<string> | undefined
  readonly scopes: ReadonlyArray<string>
  readonly delimiter: string
  readonly auth: ClientAuth.ClientAuth
  readonly params: ReadonlyArray<readonly [string, string]>
  readonly headers: Readonly<Record<string, string>>
  readonly parseResponse: TokenResponse.ParseResponse | undefined
  readonly graceMillis: number
  readonly timeoutMillis: number
  readonly retry: Policy | undefined
  readonly maxResponseBytes: number
  readonly cacheKey: string
  /** DPoP: the client's key and nonces (RFC 9449), when the `dpop` option is on. */
  readonly dpop: dpop.Hooks | undefined
  /** Values masked in any excerpt: the secret as sent, and as it appears in an echoed form body. */
  readonly secrets: ReadonlyArray<string>
}

/** @internal */
export const defaults = {
  scopeDelimiter: " ",
  expiryGrace: Duration.seconds(10),
  timeout: Duration.seconds(30),
  retryAfterCap: Duration.seconds(30),
  budget: Duration.seconds(60),
  maxResponseBytes: 1024 * 1024,
  schedule: Schedule.exponential(Duration.millis(250), 2).pipe(
    Schedule.jittered,
    Schedule.intersect(Schedule.recurs(3))
  ) as Schedule.Schedule<unknown, unknown>
}

const reserved = new Set([
  "grant_type",
  "client_id",
  "client_secret",
  "client_assertion",
  "client_assertion_type",
  "scope"
])

// Duration reads a negative amount (-5, -5n, "-5 seconds", [-5, 0]) as zero, so the sign is read from the input.
const negative = (input: unknown): boolean =>
  typeof input === "number" || typeof input === "bigint"
    ? input < 0
    : typeof input === "string"
    ? input.startsWith("-")
    : Array.isArray(input) && input.some((part) => typeof part === "number" && part < 0)

/**
 * A duration option in milliseconds, or the ConfigurationError that names it: not a duration (`NaN` included),
 * or negative (which Duration alone would read as zero).
 *
 * @internal
 */
export const millis = (input: Duration.DurationInput, what: string): number | OAuth2Error.ConfigurationError => {
  const decoded = Number.isNaN(input) ? Option.none() : Duration.decodeUnknown(input)
  if (Option.isNone(decoded)) return new OAuth2Error.ConfigurationError({ reason: `${what} is not a duration` })
  if (negative(input)) return new OAuth2Error.ConfigurationError({ reason: `${what} must not be negative` })
  return Duration.toMillis(decoded.value)
}

/**
 * Checks the options once, before any request: every mistake is a ConfigurationError here rather than a failed
 * request later.
 *
 * @internal
 */
export const prepare = (options: GrantOptions): Either.Either<Prepared, OAuth2Error.ConfigurationError> => {
  const fail = (reason: string) => Either.left(new OAuth2Error.ConfigurationError({ reason }))
  const url = parseEndpoint(options.tokenUrl, { allowInsecureHttp: options.allowInsecureHttp, what: "tokenUrl" })
  if (url instanceof OAuth2Error.ConfigurationError) return Either.left(url)
  if (options.clientSecret !== undefined && !Redacted.isRedacted(options.clientSecret)) {
    return fail("clientSecret must be a Redacted value (Redacted.make(secret) or Config.redacted)")
  }
  if (options.clientId === undefined && options.clientSecret !== undefined) {
    return fail("a clientSecret was given without a clientId")
  }
  if (options.clientId !== undefined && options.clientId.length === 0) return fail("clientId must not be empty")
  if (
    (options.clientId !== undefined && hasLoneSurrogate(options.clientId)) ||
    (options.clientSecret !== undefined && hasLoneSurrogate(Redacted.value(options.clientSecret)))
  ) {
    return fail("the client id or secret holds an unpaired UTF-16 surrogate; it cannot be sent as UTF-8 unchanged")
  }
  const delimiter = options.scopeDelimiter ?? defaults.scopeDelimiter
  if (delimiter.length === 0) return fail("scopeDelimiter must not be empty")
  const scopes = (typeof options.scopes === "string" ? options.scopes.split(delimiter) : options.scopes ?? [])
    .filter((scope) => scope.length > 0)

  const params: Array<readonly [string, string]> = []
  for (const [key, value] of Object.entries(options.params ?? {})) {
    if (reserved.has(key)) {
      return fail(`params may not set "${key}"; it is set by ${key === "scope" ? "scopes" : "the grant or auth"}`)
    }
    const values = value === undefined || value === null ? [] : Array.isArray(value) ? value : [String(value)]
    for (const item of values as ReadonlyArray<string>) {
      if (item.length > 0) params.push([key, item])
    }
  }

  const grace = millis(options.expiryGrace ?? defaults.expiryGrace, "expiryGrace")
  if (typeof grace !== "number") return Either.left(grace)
  const timeout = millis(options.timeout ?? defaults.timeout, "timeout")
  if (typeof timeout !== "number") return Either.left(timeout)
  if (timeout === 0) return fail("timeout must be positive")
  const maxResponseBytes = options.maxResponseBytes ?? defaults.maxResponseBytes
  if (!Number.isSafeInteger(maxResponseBytes) || maxResponseBytes <= 0) {
    return fail("maxResponseBytes must be a positive whole number")
  }

  let retry: Prepared["retry"] = undefined
  if (options.retry !== false) {
    const cap = millis(options.retry?.retryAfterCap ?? defaults.retryAfterCap, "retry.retryAfterCap")
    if (typeof cap !== "number") return Either.left(cap)
    const budget = millis(options.retry?.budget ?? defaults.budget, "retry.budget")
    if (typeof budget !== "number") return Either.left(budget)
    retry = {
      schedule: options.retry?.schedule ?? defaults.schedule,
      while: options.retry?.while ?? OAuth2Error.isRetryable,
      retryAfterCapMillis: cap,
      budgetMillis: budget
    }
  }

  // DPoP: resolve() turns the option into hooks; without them (options not resolved) the key is unknown.
  if (options.dpop !== undefined && options.dpop !== false && options.dpopHooks === undefined) {
    return fail("dpop: the key is imported when the client is built (ClientCredentials.make, OAuth2Client.make)")
  }
  const auth = options.auth ?? defaultFor(options)
  const headers: Record<string, string> = {}
  for (const [key, value] of Object.entries(options.headers ?? {})) headers[key.toLowerCase()] = value

  return Either.right({
    url,
    endpoint: display(url),
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    scopes,
    delimiter,
    auth,
    params,
    headers,
    parseResponse: options.parseResponse,
    graceMillis: grace,
    timeoutMillis: timeout,
    retry,
    maxResponseBytes,
    dpop: options.dpopHooks,
    secrets: options.clientSecret !== undefined
      ? [Redacted.value(options.clientSecret), formUrlEncode(Redacted.value(options.clientSecret))]
      : [],
    cacheKey: JSON.stringify([
      url.href,
      options.clientId ?? null,
      auth.method,
      [...scopes].sort(),
      [...params].sort(([a, x], [b, y]) => a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0),
      // DPoP: a token bound to one key is cached and stored apart from any other key's.
      ...(options.dpopHooks !== undefined ? [{ dpop: options.dpopHooks.key.jkt }] : [])
    ])
  })
}

const sanitize = (endpoint: string, error: HttpClientError.HttpClientError): OAuth2Error.TransportError => {
  const description = error.description ??
    (error.cause instanceof Error
      ? error.cause.message
      : error.reason === "Transport"
      ? "connection failed"
      : error.reason)
  // The original error holds the request, whose body and headers carry the client credentials: keep only the cause.
  const cause = new HttpClientError.RequestError({
    request: HttpClientRequest.post(endpoint),
    reason: error._tag === "RequestError" ? error.reason : "Transport",
    cause: error.cause,
    description
  })
  return new OAuth2Error.TransportError({
    tokenEndpoint: endpoint,
    description: error._tag === "ResponseError"
      ? `the response body could not be read (${description})`
      : `${error.reason === "Transport" ? "" : `${error.reason}: `}${description}`,
    cause
  })
}

interface BodyState {
  readonly chunks: Chunk.Chunk<Uint8Array>
  readonly size: number
}

const readBody = (
  prepared: Prepared,
  response: HttpClientResponse.HttpClientResponse,
  status: number,
  contentType: string | undefined
): Effect.Effect<string, OAuth2Error.OAuth2Error> => {
  const tooLarge = (what: string) =>
    new OAuth2Error.InvalidResponse({
      tokenEndpoint: prepared.endpoint,
      reason: `the body is larger than maxResponseBytes (${prepared.maxResponseBytes} bytes${what}); it was not read`,
      status,
      bodyExcerpt: "",
      ...(contentType !== undefined ? { contentType } : {})
    })
  const declared = Number(response.headers["content-length"])
  if (Number.isFinite(declared) && declared > prepared.maxResponseBytes) {
    // Start the body and drop it at once: that releases the connection now instead of when the response is
    // garbage-collected.
    return Effect.zipRight(
      Effect.ignore(Stream.runDrain(Stream.take(response.stream, 1))),
      Effect.fail(tooLarge(`; Content-Length says ${declared}`))
    )
  }
  if (Number.isFinite(declared) && response.headers["content-encoding"] === undefined) {
    // A declared, acceptable length: read the text in one go (the stream fold below costs far more per response).
    return Effect.mapError(response.text, (error) => sanitize(prepared.endpoint, error))
  }
  return response.stream.pipe(
    Stream.mapError((error) => sanitize(prepared.endpoint, error)),
    Stream.runFoldEffect(
      { chunks: Chunk.empty<Uint8Array>(), size: 0 } as BodyState,
      (state: BodyState, chunk: Uint8Array): Effect.Effect<BodyState, OAuth2Error.OAuth2Error> => {
        const size = state.size + chunk.length
        return size > prepared.maxResponseBytes
          ? Effect.fail(tooLarge(""))
          : Effect.succeed({ chunks: Chunk.append(state.chunks, chunk), size })
      }
    ),
    Effect.map(({ chunks, size }) => {
      const bytes = new Uint8Array(size)
      let offset = 0
      for (const chunk of chunks) {
        bytes.set(chunk, offset)
        offset += chunk.length
      }
      return new TextDecoder("utf-8").decode(bytes)
    })
  )
}

// The caller's context with `redirect: "manual"` added to the fetch client's RequestInit. Contexts are immutable
// and the callers of one runtime share theirs, so the last one built is kept: most token requests add nothing.
let manualIn: Context.Context<never> | undefined
let manualOut: Context.Context<never> | undefined
const manualContext = (context: Context.Context<never>): Context.Context<never> => {
  if (context !== manualIn) {
    const init = Context.getOption(context, FetchHttpClient.RequestInit)
    manualOut = Context.add(context, FetchHttpClient.RequestInit, {
      ...Option.getOrElse(init, () => ({})),
      redirect: "manual"
    })
    manualIn = context
  }
  return manualOut!
}

const manualRedirects = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.contextWithEffect((context: Context.Context<never>) => Effect.provide(effect, manualContext(context)))

/**
 * One token request: build, authenticate, send, read (bounded), decode. No retry.
 *
 * @internal
 */
export const attempt = (
  prepared: Prepared,
  client: HttpClient.HttpClient
): Effect.Effect<Credentials, OAuth2Error.OAuth2Error> =>
  Effect.gen(function*() {
    const issuedAt = yield* Effect.clockWith((clock) => clock.currentTimeMillis)
    const body: Array<readonly [string, string]> = [["grant_type", "client_credentials"]]
    if (prepared.scopes.length > 0) body.push(["scope", prepared.scopes.join(prepared.delimiter)])
    body.push(...prepared.params)
    const authenticated = yield* prepared.auth.authenticate({
      url: prepared.url,
      headers: { accept: "application/json", ...prepared.headers },
      body,
      clientId: prepared.clientId,
      clientSecret: prepared.clientSecret
    })
    // DPoP: a new proof per attempt (RFC 9449 §5), with the token endpoint's nonce when one is known.
    const request = prepared.dpop === undefined ? authenticated : {
      ...authenticated,
      headers: { ...authenticated.headers, dpop: yield* prepared.dpop.tokenProof(authenticated.url) }
    }
    const sent = HttpClientRequest.post(request.url, {
      headers: request.headers,
      body: undefined
    }).pipe(HttpClientRequest.bodyUrlParams(request.body as ReadonlyArray<[string, string]>))
    const response = yield* client.execute(sent).pipe(
      manualRedirects,
      Effect.catchAll((error) => Effect.fail(sanitize(prepared.endpoint, error)))
    )
    // An ambient client that follows redirects has already sent the credentials to another origin: say so rather
    // than use the answer of a server that was not asked.
    if (response.request.url !== sent.url && originOf(response.request.url) !== request.url.origin) {
      return yield* Effect.fail(
        new OAuth2Error.InvalidResponse({
          tokenEndpoint: prepared.endpoint,
          reason:
            "the HttpClient followed a redirect of the token request to another origin; token requests must not " +
            "follow redirects (the credentials go with them): remove followRedirects from the client used for tokens",
          status: response.status,
          bodyExcerpt: ""
        })
      )
    }
    // Read the status before the body: the XMLHttpRequest client reads it live, and reports 0 once the finished
    // request is released after its body stream ends.
    const status = response.status
    const contentType = response.headers["content-type"]
    // DPoP: learn the token endpoint's nonce from any answer (RFC 9449 §8).
    prepared.dpop?.learn(request.url.href, response.headers)
    const text = yield* readBody(prepared, response, status, contentType)
    const retryAfterHeader = response.headers["retry-after"]
    const now = retryAfterHeader === undefined ? 0 : yield* Effect.clockWith((clock) => clock.currentTimeMillis)
    const decoded = yield* TokenResponse.decode(
      {
        status,
        contentType,
        body: text,
        retryAfter: retryAfterHeader === undefined ? undefined : parseRetryAfter(retryAfterHeader, now),
        location: response.headers["location"]
      },
      {
        tokenEndpoint: prepared.endpoint,
        parseResponse: prepared.parseResponse,
        secrets: prepared.secrets,
        dpop: prepared.dpop !== undefined
      }
    )
    const credentials = toCredentials(prepared, decoded, issuedAt)
    // DPoP: check and record the token's binding to the key (RFC 9449 §5, §6.1).
    return prepared.dpop === undefined ? credentials : yield* prepared.dpop.bind(credentials, prepared.endpoint)
  }).pipe(
    (effect) =>
      timeoutFail(
        effect,
        prepared.timeoutMillis,
        () =>
          new OAuth2Error.TimeoutError({
            tokenEndpoint: prepared.endpoint,
            stage: "attempt",
            timeoutMillis: prepared.timeoutMillis
          })
      ),
    Effect.tapBoth({
      onFailure: (error) => Metric.increment(metrics.tokenRequestsBy(error._tag)),
      onSuccess: () => countSuccess
    })
  )

const countSuccess = Metric.increment(metrics.tokenRequestsBy("success"))

/**
 * Builds Credentials: `expiresAt = issuedAt + expires_in − grace`, the grace never more than half the lifetime.
 *
 * @internal
 */
export const toCredentials = (
  prepared: Prepared,
  response: TokenResponse.TokenResponse,
  issuedAt: number
): Credentials => {
  const lifetime = response.expiresIn !== undefined ? response.expiresIn * 1000 : undefined
  const granted = response.scope !== undefined
    ? response.scope.split(prepared.delimiter).filter((scope) => scope.length > 0)
    : prepared.scopes
  // Every field comes from the decoded response or the checked options: the class need not validate them again.
  return new Credentials({
    accessToken: response.accessToken,
    tokenType: response.tokenType,
    issuedAt,
    scopes: granted,
    tokenEndpoint: prepared.url.href,
    extra: response.extra,
    ...(lifetime !== undefined
      ? {
        expiresAt: issuedAt + lifetime - Math.min(prepared.graceMillis, lifetime / 2),
        expiresIn: lifetime / 1000
      }
      : {}),
    ...(response.refreshToken !== undefined ? { refreshToken: response.refreshToken } : {}),
    ...(response.idToken !== undefined ? { idToken: response.idToken } : {})
  }, true)
}

const originOf = (url: string): string | undefined => {
  try {
    return new URL(url).origin
  } catch {
    return undefined
  }
}

/** The error a retried token request ends with, told how many attempts it took and over how long. */
const withRetries = (error: OAuth2Error.OAuth2Error, retries: OAuth2Error.Retries): OAuth2Error.OAuth2Error => {
  switch (error._tag) {
    case "ErrorResponse":
      return new OAuth2Error.ErrorResponse({ ...fieldsOf(error), retries })
    case "InvalidResponse":
      return new OAuth2Error.InvalidResponse({ ...fieldsOf(error), retries })
    case "TransportError":
      return new OAuth2Error.TransportError({ ...fieldsOf(error), retries })
    case "TimeoutError":
      return new OAuth2Error.TimeoutError({ ...fieldsOf(error), retries })
    default:
      return error
  }
}

/** An error's own fields, without its tag. */
const fieldsOf = <E extends { readonly _tag: string }>(error: E): Omit<E, "_tag"> => {
  const { _tag, ...fields } = error
  return fields
}

/**
 * The token request with retries (transient failures only, backoff with jitter, `Retry-After` honoured up to a
 * cap) inside an overall budget, traced as one span.
 *
 * @internal
 */
export const request = (
  prepared: Prepared,
  client: HttpClient.HttpClient
): Effect.Effect<Credentials, OAuth2Error.OAuth2Error> => {
  // DPoP: a 400 use_dpop_nonce is retried once at once, with the nonce, outside the retry count (RFC 9449 §8).
  const once = prepared.dpop === undefined
    ? attempt(prepared, client)
    : prepared.dpop.withTokenNonceRetry(attempt(prepared, client), prepared.url)
  const retry = prepared.retry
  // A first attempt that succeeds pays nothing for the retry policy: the schedule and the budget's timer are set
  // up after a first failure that the policy would retry, with the time already spent counted in the budget.
  const budgetTimeout = () =>
    new OAuth2Error.TimeoutError({
      tokenEndpoint: prepared.endpoint,
      stage: "budget",
      timeoutMillis: retry!.budgetMillis
    })
  // A budget shorter than one attempt's timeout bounds the first attempt too.
  const first = retry !== undefined && retry.budgetMillis < prepared.timeoutMillis
    ? timeoutFail(once, retry.budgetMillis, budgetTimeout)
    : once
  const withRetry = retry === undefined ? once : Effect.clockWith((clock) => {
    const start = clock.unsafeCurrentTimeMillis()
    return Effect.catchAll(first, (error) => {
      if (!retry.while(error) || error._tag === "TimeoutError" && error.stage === "budget") return Effect.fail(error)
      const spent = clock.unsafeCurrentTimeMillis() - start
      let attempts = 1
      const counted = Effect.suspend(() => {
        attempts++
        return once
      })
      return timeoutFail(
        retrying(counted, retry, "token request", { first: error, start }),
        Math.max(0, retry.budgetMillis - spent),
        budgetTimeout
      ).pipe(
        Effect.mapError((error) =>
          attempts > 1
            ? withRetries(error, { attempts, elapsedMillis: clock.unsafeCurrentTimeMillis() - start })
            : error
        )
      )
    })
  })
  // A refusal names the auth method it was made with, so its hint says what to check for that method.
  const method = prepared.auth.method
  const withMethod = (error: OAuth2Error.OAuth2Error): OAuth2Error.OAuth2Error =>
    error._tag === "ErrorResponse"
      ? new OAuth2Error.ErrorResponse({ ...fieldsOf(error), authMethod: method })
      : error._tag === "InvalidResponse"
      ? new OAuth2Error.InvalidResponse({ ...fieldsOf(error), authMethod: method })
      : error
  const spanOptions = {
    captureStackTrace: false,
    kind: "client",
    attributes: {
      "oauth2.grant_type": "client_credentials",
      "oauth2.token_endpoint": prepared.endpoint,
      "oauth2.client_id": prepared.clientId ?? "",
      "oauth2.auth_method": prepared.auth.method,
      "oauth2.scopes": prepared.scopes.join(" ")
    }
  } as const
  // The span is at hand, so the outcome goes on it directly rather than through a look-up of the current span.
  return Effect.useSpan("OAuth2.tokenRequest", spanOptions, (span) =>
    Effect.withParentSpan(
      Effect.tapBoth(Effect.mapError(withRetry, withMethod), {
        onFailure: (error) => Effect.sync(() => span.attribute("oauth2.outcome", error._tag)),
        onSuccess: (credentials) =>
          Effect.sync(() => {
            span.attribute("oauth2.outcome", "success")
            span.attribute("oauth2.granted_scopes", credentials.scopes.join(" "))
            if (credentials.expiresIn !== undefined) span.attribute("oauth2.expires_in", credentials.expiresIn)
          })
      }),
      span
    ))
}
