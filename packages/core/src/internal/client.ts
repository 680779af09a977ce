import * as Headers from "@effect/platform/Headers"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import type * as AccessTokenModule from "../AccessToken.js"
import * as OAuth2Error from "../OAuth2Error.js"
import * as WwwAuthenticate from "../WwwAuthenticate.js"
import * as accessToken from "./accessToken.js"
import * as grant from "./grant.js"
import { isLoopbackHost } from "./url.js"

/** @internal */
export interface ClientOptions extends grant.GrantOptions, accessToken.Options {
  readonly origins?: ReadonlyArray<string | URL> | "*" | undefined
  readonly replayOn401?: "invalid_token" | "always" | "never" | undefined
  readonly failOnChallenge?: boolean | undefined
  readonly transformClient?: ((client: HttpClient.HttpClient) => HttpClient.HttpClient) | undefined
}

/** @internal */
export interface Service {
  readonly httpClient: HttpClient.HttpClient
  readonly typedHttpClient: HttpClient.HttpClient.With<HttpClientError.HttpClientError | OAuth2Error.OAuth2Error>
  readonly token: AccessTokenModule.AccessToken
  readonly cacheKey: string
}

const bearerOf = (request: HttpClientRequest.HttpClientRequest): string | undefined => {
  const header = request.headers["authorization"]
  return header !== undefined && /^bearer /i.test(header) ? header.slice(7) : undefined
}

const withoutAuthorization = (request: HttpClientRequest.HttpClientRequest): HttpClientRequest.HttpClientRequest =>
  HttpClientRequest.make(request.method as "POST")(request.url, {
    urlParams: request.urlParams,
    hash: Option.getOrUndefined(request.hash),
    headers: Headers.remove(request.headers, "authorization"),
    body: request.body
  })

/** @internal */
export const allowedOrigin = (
  origins: ReadonlyArray<string | URL> | "*" | undefined,
  allowInsecureHttp: boolean
): Either.Either<(url: URL) => boolean, OAuth2Error.ConfigurationError> => {
  const secure = (url: URL) => url.protocol === "https:" || allowInsecureHttp || isLoopbackHost(url.hostname)
  if (origins === undefined || origins === "*") return Either.right(secure)
  const set = new Set<string>()
  for (const origin of origins) {
    let url: URL
    try {
      url = new URL(origin)
    } catch {
      return Either.left(
        new OAuth2Error.ConfigurationError({ reason: `origins: ${JSON.stringify(String(origin))} is not a URL` })
      )
    }
    set.add(url.origin)
  }
  return Either.right((url) => set.has(url.origin) && secure(url))
}

/** @internal */
export const make = (
  options: ClientOptions
): Effect.Effect<Service, OAuth2Error.ConfigurationError, HttpClient.HttpClient | Scope.Scope> =>
  Effect.gen(function*() {
    const prepared = yield* Effect.suspend(() => grant.prepare(options))
    const allowed = yield* allowedOrigin(options.origins, options.allowInsecureHttp === true)
    const base = yield* HttpClient.HttpClient
    const token = yield* accessToken.make(grant.request(prepared, base), {
      ...options,
      storeKey: options.storeKey ?? prepared.cacheKey
    })
    const api = options.transformClient !== undefined ? options.transformClient(base) : base
    const replayOn401 = options.replayOn401 ?? "invalid_token"
    // Tokens this client attached, so that a header it set is removed when the request moves to another origin.
    const issued = new Set<string>()

    const authorize = (
      request: HttpClientRequest.HttpClientRequest
    ): Effect.Effect<HttpClientRequest.HttpClientRequest, OAuth2Error.OAuth2Error> => {
      let url: URL
      try {
        url = new URL(request.url)
      } catch {
        return Effect.succeed(request)
      }
      if (!allowed(url)) {
        const used = bearerOf(request)
        return Effect.succeed(
          used !== undefined && issued.has(used) ? withoutAuthorization(request) : request
        )
      }
      return Effect.map(token.get, (credentials) => {
        const value = Redacted.value(credentials.accessToken)
        if (!issued.has(value)) {
          if (issued.size >= 16) issued.delete(issued.values().next().value!)
          issued.add(value)
        }
        return HttpClientRequest.setHeader(request, "authorization", `Bearer ${value}`)
      })
    }

    const shouldReplay = (response: HttpClientResponse.HttpClientResponse): boolean => {
      if (response.status !== 401 || replayOn401 === "never") return false
      if (replayOn401 === "always") return true
      return WwwAuthenticate.bearerError(response.headers["www-authenticate"])?.error === "invalid_token"
    }

    const execute = (
      request: HttpClientRequest.HttpClientRequest
    ): Effect.Effect<
      HttpClientResponse.HttpClientResponse,
      HttpClientError.HttpClientError | OAuth2Error.OAuth2Error
    > =>
      Effect.gen(function*() {
        const authorized = yield* authorize(request)
        let response = yield* api.execute(authorized)
        const used = bearerOf(authorized)
        if (used !== undefined && issued.has(used) && shouldReplay(response) && request.body._tag !== "Stream") {
          // RFC 6750 §3.1 invalid_token: this token is dead. Drop it (only if still current), replay once.
          yield* token.invalidate(used)
          yield* Effect.annotateCurrentSpan("oauth2.replayed", true)
          response = yield* api.execute(yield* authorize(request))
        }
        if (options.failOnChallenge === true && response.status === 401) {
          const challenge = WwwAuthenticate.bearerError(response.headers["www-authenticate"])
          if (challenge !== undefined) {
            return yield* Effect.fail(
              new HttpClientError.ResponseError({
                request: response.request,
                response,
                reason: "StatusCode",
                description: `the resource server refused the token: ${challenge.error}${
                  challenge.errorDescription !== undefined ? ` (${challenge.errorDescription})` : ""
                }`
              })
            )
          }
        }
        return response
      })

    const typedHttpClient = HttpClient.makeWith(
      (effect: Effect.Effect<HttpClientRequest.HttpClientRequest>) => Effect.flatMap(effect, execute),
      Effect.succeed
    )
    const httpClient: HttpClient.HttpClient = HttpClient.makeWith(
      (effect: Effect.Effect<HttpClientRequest.HttpClientRequest>) =>
        Effect.flatMap(effect, (request) =>
          Effect.catchIf(
            execute(request),
            OAuth2Error.isOAuth2Error,
            (error) =>
              Effect.fail(
                new HttpClientError.RequestError({
                  request,
                  // Transient token failures read as transport errors (retryTransient retries them); definite
                  // refusals as Encode, which no transient retry repeats.
                  reason: OAuth2Error.isRetryable(error) ? "Transport" : "Encode",
                  cause: error,
                  description: `could not obtain an OAuth 2.0 access token: ${error.message}`
                })
              )
          )),
      Effect.succeed
    )
    return { httpClient, typedHttpClient, token, cacheKey: prepared.cacheKey }
  })
