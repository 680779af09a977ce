/**
 * The request path of an authenticated client, top to bottom:
 *
 * 1. `requestPath/origins.ts`: may this URL carry the token?
 * 2. `requestPath/redirectGuard.ts`: a request already carrying one of our tokens keeps it only where it may go.
 * 3. the token lifecycle (`accessToken.ts`): the cached token, or a grant.
 * 4. `requestPath/scheme.ts`: the token goes on the request (`Authorization: Bearer`, or `Authorization: DPoP` with a
 *    new proof per request when the client has a DPoP key, RFC 9449 §7.1).
 * 5. the ambient client (through `transformClient`, guarded) sends it.
 * 6. `requestPath/replay.ts`: a 401 may drop the token and replay the request once; `requestPath/unsent.ts`: a 401
 *    to a request the policy left without a token is explained, once per origin.
 * 7. `requestPath/failure.ts`: token failures as the platform's `RequestError`; `failOnChallenge`.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import type { Options as OAuth2ClientOptions, Service as OAuth2ClientService } from "../OAuth2Client.js"
import type * as OAuth2Error from "../OAuth2Error.js"
import * as accessToken from "./accessToken.js"
import * as dpop from "./dpop.js"
import * as grant from "./grant.js"
import * as failure from "./requestPath/failure.js"
import * as origins from "./requestPath/origins.js"
import * as redirectGuard from "./requestPath/redirectGuard.js"
import * as replay from "./requestPath/replay.js"
import * as scheme from "./requestPath/scheme.js"
import * as unsent from "./requestPath/unsent.js"
import { resolve } from "./resolve.js"

/** @internal */
export type ClientOptions = OAuth2ClientOptions

/** @internal */
export type Service = OAuth2ClientService

/** The token lifecycle's durations, which AccessToken.make takes as they come (Duration reads a negative one as 0). */
const lifecycleDurations = [
  "refreshMargin",
  "refreshAhead",
  "defaultLifetime",
  "backgroundBackoff",
  "leaseTtl"
] as const

/** A client's lifecycle durations checked as the grant's are: negative or not a duration is a ConfigurationError. */
const checkLifecycle = (options: ClientOptions): Effect.Effect<void, OAuth2Error.ConfigurationError> => {
  for (const name of lifecycleDurations) {
    const input = options[name]
    const checked = input === undefined ? 0 : grant.millis(input, name)
    if (typeof checked !== "number") return Effect.fail(checked)
  }
  return Effect.void
}

/** @internal */
export const make = (
  options: ClientOptions
): Effect.Effect<
  Service,
  OAuth2Error.ConfigurationError | OAuth2Error.DiscoveryError,
  HttpClient.HttpClient | Scope.Scope
> =>
  Effect.gen(function*() {
    const prepared = yield* Effect.flatMap(resolve(options), grant.prepare)
    yield* checkLifecycle(options)
    const policy = yield* origins.make(options.origins, options.allowInsecureHttp === true)
    const base = yield* HttpClient.HttpClient
    // DPoP (RFC 9449): a stored token bound to another key (or to none this client has) is a miss.
    const token = yield* accessToken.make(grant.request(prepared, base), {
      ...options,
      storeKey: options.storeKey ?? prepared.cacheKey
    }, dpop.usableWith(prepared.dpop?.key))
    const path = requestPath({
      token,
      policy,
      scheme: prepared.dpop === undefined ? scheme.bearer : scheme.dpop(prepared.dpop),
      replayOn401: options.replayOn401 ?? "invalid_token",
      failOnChallenge: options.failOnChallenge === true,
      base,
      transformClient: options.transformClient
    })
    return { ...path, token, cacheKey: prepared.cacheKey }
  })

/** @internal */
export interface PathOptions {
  readonly token: accessToken.AccessToken
  readonly policy: origins.OriginPolicy
  readonly scheme: scheme.Scheme
  readonly replayOn401: replay.Mode
  readonly failOnChallenge: boolean
  readonly base: HttpClient.HttpClient
  readonly transformClient?: ((client: HttpClient.HttpClient) => HttpClient.HttpClient) | undefined
}

type Request = HttpClientRequest.HttpClientRequest
type Response = HttpClientResponse.HttpClientResponse

/**
 * The two authenticated clients over one request path; they differ only in how a token failure is reported.
 *
 * @internal
 */
export const requestPath = (options: PathOptions): {
  readonly httpClient: HttpClient.HttpClient
  readonly typedHttpClient: HttpClient.HttpClient.With<HttpClientError.HttpClientError | OAuth2Error.OAuth2Error>
} => {
  const { base, policy, scheme: auth, token } = options
  const guard = redirectGuard.make(policy, auth)
  const notifyUnsent = unsent.make(policy)
  const rule = replay.make(options.replayOn401, auth)
  // The client handed to `transformClient` sees authorized requests; one it re-sends elsewhere (a redirect it
  // follows) loses the token on the way out.
  const api = options.transformClient === undefined ? base : options.transformClient(
    HttpClient.makeWith(
      (effect: Effect.Effect<Request>) => Effect.flatMap(effect, (r) => base.execute(guard.guard(r))),
      Effect.succeed
    )
  )

  // The cached-token path: one step to the token, one to put it on the request. Token failures are mapped once,
  // around both, and not at all for the typed client.
  const authorizeWith = <E>(onTokenFailure?: (request: Request, error: OAuth2Error.OAuth2Error) => E) => {
    const attach = (request: Request): Effect.Effect<Request, OAuth2Error.OAuth2Error> =>
      Effect.flatMap(token.get, (credentials) => {
        const value = Redacted.value(credentials.accessToken)
        guard.issue(value, request.url)
        return auth.authorize(request, value, credentials)
      })
    return (request: Request): Effect.Effect<Request, E> => {
      const guarded = guard.guard(request)
      if (guarded !== request) return Effect.succeed(guarded)
      if (policy.allows(request.url) !== true || guard.isRedirectTarget(request.url)) return Effect.succeed(request)
      return onTokenFailure === undefined
        ? attach(request) as Effect.Effect<Request, E>
        : Effect.mapError(attach(request), (error) => onTokenFailure(request, error))
    }
  }

  const executeWith = <E>(authorize: (request: Request) => Effect.Effect<Request, E>) => {
    const final = (response: Response) =>
      options.failOnChallenge && response.status === 401
        ? failure.challengeError(auth, response)
        : Effect.succeed(response)
    const send = (
      request: Request,
      replayed: replay.Replayed
    ): Effect.Effect<Response, E | HttpClientError.HttpClientError> =>
      Effect.flatMap(
        authorize(request),
        (authorized) =>
          Effect.flatMap(api.execute(authorized), (response) =>
            auth.observe === undefined
              ? answer(request, authorized, response, replayed)
              // The scheme learns first (a nonce): the replay rule, decided when `answer` runs, reads what it learned.
              : Effect.flatMap(auth.observe(response), () => answer(request, authorized, response, replayed)))
      )
    const answer = (
      request: Request,
      authorized: Request,
      response: Response,
      replayed: replay.Replayed
    ): Effect.Effect<Response, E | HttpClientError.HttpClientError> => {
      if (response.status === 401) {
        const used = guard.ours(authorized)
        switch (rule(request, used, response, replayed)) {
          case "invalidate":
            // RFC 6750 §3.1 invalid_token: this token is dead. Drop it (only if still current) and replay once.
            return token.invalidate(used!).pipe(
              Effect.zipRight(Effect.annotateCurrentSpan("oauth2.replayed", true)),
              Effect.zipRight(send(request, { ...replayed, invalidated: true }))
            )
          case "again":
            return Effect.zipRight(
              Effect.annotateCurrentSpan("oauth2.replayed", true),
              send(request, { ...replayed, again: true })
            )
          case "none":
            // A 401 to a request the policy left without a token: say why, once per origin.
            return used === undefined && authorized.headers["authorization"] === undefined
              ? Effect.zipRight(notifyUnsent(request.url), final(response))
              : final(response)
        }
      }
      if (response.status >= 300 && response.status < 400) guard.remember(response)
      return Effect.succeed(response)
    }
    return (request: Request) => send(request, replay.initial)
  }

  const typedExecute = executeWith(authorizeWith<OAuth2Error.OAuth2Error>())
  const platformExecute = executeWith(authorizeWith(failure.toRequestError))
  return {
    typedHttpClient: HttpClient.makeWith(
      (effect: Effect.Effect<Request>) => Effect.flatMap(effect, typedExecute),
      Effect.succeed
    ),
    httpClient: HttpClient.makeWith(
      (effect: Effect.Effect<Request>) => Effect.flatMap(effect, platformExecute),
      Effect.succeed
    )
  }
}
