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
import type { Options as OAuth2ClientOptions, Service as OAuth2ClientService } from "../OAuth2Client.js"
import * as OAuth2Error from "../OAuth2Error.js"
import * as WwwAuthenticate from "../WwwAuthenticate.js"
import * as accessToken from "./accessToken.js"
import * as dpop from "./dpop.js"
import * as grant from "./grant.js"
import { resolve } from "./resolve.js"
import { isLoopbackHost } from "./url.js"

/** @internal */
export type ClientOptions = OAuth2ClientOptions

/** @internal */
export type Service = OAuth2ClientService

// DPoP: the token of a Bearer or a DPoP Authorization header.
const bearerOf = (request: HttpClientRequest.HttpClientRequest): string | undefined =>
  dpop.tokenOfAuthorization(request.headers["authorization"])

const withoutAuthorization = (request: HttpClientRequest.HttpClientRequest): HttpClientRequest.HttpClientRequest =>
  HttpClientRequest.make(request.method as "POST")(request.url, {
    urlParams: request.urlParams,
    hash: Option.getOrUndefined(request.hash),
    // DPoP: the proof goes with the token.
    headers: dpop.removeProof(Headers.remove(request.headers, "authorization")),
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
): Effect.Effect<
  Service,
  OAuth2Error.ConfigurationError | OAuth2Error.DiscoveryError,
  HttpClient.HttpClient | Scope.Scope
> =>
  Effect.gen(function*() {
    const prepared = yield* Effect.flatMap(resolve(options), grant.prepare)
    const allowed = yield* allowedOrigin(options.origins, options.allowInsecureHttp === true)
    const base = yield* HttpClient.HttpClient
    // DPoP: the key's hooks (RFC 9449), when the dpop option is on; a stored token bound to another key is a miss.
    const dpopHooks = prepared.dpop
    const token = yield* accessToken.make(grant.request(prepared, base), {
      ...options,
      storeKey: options.storeKey ?? prepared.cacheKey
    }, dpop.usableWith(dpopHooks?.key))
    const replayOn401 = options.replayOn401 ?? "invalid_token"
    // Tokens this client attached, so that a header it set is removed when the request moves to another origin.
    const issued = new Set<string>()
    let lastIssued: string | undefined
    // Under the default origins ("*"), the origins each token was sent to: a request that arrives already carrying
    // one of our tokens is a re-send (a redirect followed downstream) and keeps it only where it has already gone.
    const sentTo = new Map<string, Set<string>>()
    const explicitOrigins = options.origins !== undefined && options.origins !== "*"
    // Under "*", the targets of cross-origin redirects this client has seen (origin + path): a follower downstream
    // (HttpClient.followRedirects) re-sends the original request there, which must not get a token on the way.
    const redirectTargets = new Set<string>()
    const remember = (response: HttpClientResponse.HttpClientResponse) => {
      const location = response.headers["location"]
      if (location === undefined) return response
      try {
        const from = new URL(response.request.url)
        const to = new URL(location, from)
        if (to.origin !== from.origin) {
          if (redirectTargets.size >= 256) redirectTargets.delete(redirectTargets.values().next().value!)
          redirectTargets.add(to.origin + to.pathname)
        }
      } catch {
        // an unparsable Location: nothing will follow it
      }
      return response
    }
    const isRedirectTarget = (requestUrl: string): boolean => {
      if (redirectTargets.size === 0) return false
      try {
        const url = new URL(requestUrl)
        return redirectTargets.delete(url.origin + url.pathname)
      } catch {
        return false
      }
    }
    // The origin decision per "scheme://authority" prefix, so the hot path parses no URL.
    const decisions = new Map<string, boolean | undefined>()
    const prefixOf = (requestUrl: string) => /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(requestUrl)?.[0]
    const decide = (requestUrl: string): boolean | undefined => {
      const prefix = prefixOf(requestUrl)
      const cached = prefix !== undefined ? decisions.get(prefix) : undefined
      if (cached !== undefined || (prefix !== undefined && decisions.has(prefix))) return cached
      let decision: boolean | undefined
      try {
        decision = allowed(new URL(requestUrl))
      } catch {
        decision = undefined // not an absolute URL: left as it is, the platform client reports it
      }
      if (prefix !== undefined) {
        if (decisions.size >= 256) decisions.delete(decisions.keys().next().value!)
        decisions.set(prefix, decision)
      }
      return decision
    }

    const attach = (
      request: HttpClientRequest.HttpClientRequest,
      credentials: { readonly accessToken: Redacted.Redacted<string> }
    ) => {
      const value = Redacted.value(credentials.accessToken)
      if (value !== lastIssued) {
        lastIssued = value
        if (!issued.has(value)) {
          if (issued.size >= 16) {
            const oldest = issued.values().next().value!
            issued.delete(oldest)
            sentTo.delete(oldest)
          }
          issued.add(value)
        }
      }
      if (!explicitOrigins) {
        const prefix = prefixOf(request.url)
        if (prefix !== undefined) {
          let origins = sentTo.get(value)
          if (origins === undefined) sentTo.set(value, origins = new Set())
          if (origins.size < 64) origins.add(prefix)
        }
      }
      return HttpClientRequest.setHeader(request, "authorization", `Bearer ${value}`)
    }

    /** Whether a request that carries one of our tokens may keep it (a re-send: a redirect, a copied request). */
    const mayKeep = (request: HttpClientRequest.HttpClientRequest, used: string): boolean => {
      if (decide(request.url) !== true) return false
      if (explicitOrigins) return true
      const prefix = prefixOf(request.url)
      return prefix !== undefined && sentTo.get(used)?.has(prefix) === true
    }

    const ourBearer = (request: HttpClientRequest.HttpClientRequest): string | undefined => {
      if (issued.size === 0) return undefined
      const used = bearerOf(request)
      return used !== undefined && issued.has(used) ? used : undefined
    }

    const authorize = (
      request: HttpClientRequest.HttpClientRequest
    ): Effect.Effect<HttpClientRequest.HttpClientRequest, OAuth2Error.OAuth2Error> => {
      const used = ourBearer(request)
      if (used !== undefined && !mayKeep(request, used)) return Effect.succeed(withoutAuthorization(request))
      if (decide(request.url) !== true || (!explicitOrigins && isRedirectTarget(request.url))) {
        return Effect.succeed(request)
      }
      // DPoP: a token bound to the key goes as `Authorization: DPoP` with a new proof (RFC 9449 §7.1).
      return Effect.flatMap(token.get, (credentials) =>
        dpopHooks !== undefined && credentials.dpopJkt !== undefined
          ? dpopHooks.authorize(attach(request, credentials), Redacted.value(credentials.accessToken))
          : Effect.succeed(attach(request, credentials)))
    }

    // The client handed to `transformClient` sees requests after this client attached the token; if that client
    // re-sends one elsewhere (HttpClient.followRedirects), the token is removed on the way out.
    const guardedBase: HttpClient.HttpClient = HttpClient.makeWith(
      (effect: Effect.Effect<HttpClientRequest.HttpClientRequest>) =>
        Effect.flatMap(effect, (request) => {
          const used = ourBearer(request)
          return base.execute(used !== undefined && !mayKeep(request, used) ? withoutAuthorization(request) : request)
        }),
      Effect.succeed
    )
    const api = options.transformClient !== undefined ? options.transformClient(guardedBase) : base

    const shouldReplay = (response: HttpClientResponse.HttpClientResponse): boolean => {
      if (replayOn401 === "never") return false
      if (replayOn401 === "always") return true
      return WwwAuthenticate.bearerError(response.headers["www-authenticate"])?.error === "invalid_token" ||
        // DPoP: the same rule for a DPoP challenge.
        (dpopHooks !== undefined && dpop.challengeError(response.headers["www-authenticate"]) === "invalid_token")
    }

    const challengeError = (response: HttpClientResponse.HttpClientResponse) => {
      const challenge = WwwAuthenticate.bearerError(response.headers["www-authenticate"]) ??
        // DPoP: a DPoP challenge's error counts as well (RFC 9449 §7.1).
        (dpopHooks !== undefined ? dpop.challenge(response.headers["www-authenticate"]) : undefined)
      return challenge === undefined ? Effect.succeed(response) : Effect.fail(
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

    // One pipeline for both clients; `auth` decides how a token failure is reported.
    const executeWith = <E>(
      auth: (request: HttpClientRequest.HttpClientRequest) => Effect.Effect<HttpClientRequest.HttpClientRequest, E>
    ) => {
      const final = (response: HttpClientResponse.HttpClientResponse) =>
        options.failOnChallenge === true && response.status === 401
          ? challengeError(response)
          : Effect.succeed(response)
      const on401 = (
        request: HttpClientRequest.HttpClientRequest,
        authorized: HttpClientRequest.HttpClientRequest,
        response: HttpClientResponse.HttpClientResponse,
        nonceReplayed = false
      ): Effect.Effect<HttpClientResponse.HttpClientResponse, E | HttpClientError.HttpClientError> => {
        // Only a 401 for the token we sent counts: after a redirect followed by a transformClient, the answering
        // server may never have seen it.
        const used = ourBearer(authorized)
        if (used === undefined || bearerOf(response.request) !== used || request.body._tag === "Stream") {
          return final(response)
        }
        // DPoP: a use_dpop_nonce challenge is answered once with a new proof that carries the nonce (RFC 9449 §9);
        // the token stays.
        if (dpopHooks !== undefined && !nonceReplayed && dpopHooks.isNonceChallenge(response)) {
          return Effect.flatMap(auth(request), (again) =>
            Effect.flatMap(api.execute(again), (next) => {
              dpopHooks.learn(next.request.url, next.headers)
              return next.status === 401 ? on401(request, again, next, true) : Effect.succeed(next)
            }))
        }
        if (!shouldReplay(response)) return final(response)
        // RFC 6750 §3.1 invalid_token: this token is dead. Drop it (only if still current) and replay once.
        return token.invalidate(used).pipe(
          Effect.zipRight(Effect.annotateCurrentSpan("oauth2.replayed", true)),
          Effect.zipRight(auth(request)),
          Effect.flatMap(api.execute),
          Effect.flatMap(final)
        )
      }
      return (request: HttpClientRequest.HttpClientRequest) =>
        Effect.flatMap(
          auth(request),
          (authorized) =>
            Effect.flatMap(api.execute(authorized), (response) => {
              // DPoP: learn the nonce of any response (RFC 9449 §9).
              if (dpopHooks !== undefined) dpopHooks.learn(response.request.url, response.headers)
              return response.status === 401
                ? on401(request, authorized, response)
                : response.status >= 300 && response.status < 400 && !explicitOrigins
                ? Effect.sync(() => remember(response))
                : Effect.succeed(response)
            })
        )
    }

    const typedExecute = executeWith(authorize)
    const typedHttpClient = HttpClient.makeWith(
      (effect: Effect.Effect<HttpClientRequest.HttpClientRequest>) => Effect.flatMap(effect, typedExecute),
      Effect.succeed
    )
    const platformExecute = executeWith((request) =>
      Effect.mapError(authorize(request), (error) =>
        new HttpClientError.RequestError({
          request,
          // Transient token failures (an exhausted retry budget included) read as transport errors, which
          // retryTransient retries; definite refusals as Encode, which no transient retry repeats.
          reason: OAuth2Error.isRetryable(error) || error._tag === "TimeoutError" ? "Transport" : "Encode",
          cause: error,
          description: `could not obtain an OAuth 2.0 access token: ${error.message}`
        }))
    )
    const httpClient: HttpClient.HttpClient = HttpClient.makeWith(
      (effect: Effect.Effect<HttpClientRequest.HttpClientRequest>) => Effect.flatMap(effect, platformExecute),
      Effect.succeed
    )
    return { httpClient, typedHttpClient, token, cacheKey: prepared.cacheKey }
  })
