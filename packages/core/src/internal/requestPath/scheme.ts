/**
 * How a token goes on an API request: the authentication scheme.
 *
 * The request path (`../client.ts`) asks its scheme four things, and these are the extension points a scheme
 * other than Bearer plugs into (DPoP, RFC 9449, is the one planned):
 *
 * 1. `authorize` (a, b): the request with the token on it. Bearer sets `Authorization: Bearer <token>`
 *    (RFC 6750 §2.1). A scheme may use its own prefix (`Authorization: DPoP <token>`, RFC 9449 §7.1) and add
 *    headers computed per request, effectfully (a signed `DPoP` proof with `htm`, `htu`, `ath`): `authorize`
 *    returns an Effect, and may fail with an OAuth2Error.
 * 2. `tokenOf`: the token in a request's `Authorization` header when it is in this scheme, so that the path can
 *    tell its own token from one the caller set, and strip it on a redirect to another origin.
 * 3. `observe` (c), optional: sees every API response, 401s included (to learn a `DPoP-Nonce` for the next
 *    proof). Left `undefined` when a scheme has nothing to learn, so the path pays nothing for it.
 * 4. `replayOn401` (d), optional: asks for one replay of a 401 for a reason of the scheme's own, with the token
 *    kept (DPoP's `use_dpop_nonce`, RFC 9449 §9). This replay is separate from the `invalid_token` one of
 *    `replay.ts`, which drops the token; each happens at most once per request.
 *
 * `challenge` reads the scheme's own `WWW-Authenticate` challenge (RFC 6750 §3 for Bearer): the `invalid_token`
 * rule and `failOnChallenge` use it.
 */
import * as Headers from "@effect/platform/Headers"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type { Credentials } from "../../Credentials.js"
import type * as OAuth2Error from "../../OAuth2Error.js"
import * as WwwAuthenticate from "../../WwwAuthenticate.js"
import type * as Dpop from "../dpop.js"
import { challenge as dpopChallenge } from "../dpop.js"

/** @internal */
export interface Scheme {
  /** The scheme name as it starts the `Authorization` header: `"Bearer"`, `"DPoP"`. */
  readonly name: string
  /**
   * The request with `token` (the value of `credentials.accessToken`) on it: the `Authorization` header, and any
   * header the scheme computes per request.
   */
  readonly authorize: (
    request: HttpClientRequest.HttpClientRequest,
    token: string,
    credentials: Credentials
  ) => Effect.Effect<HttpClientRequest.HttpClientRequest, OAuth2Error.OAuth2Error>
  /** The token in `request`'s `Authorization` header when it uses this scheme. */
  readonly tokenOf: (request: HttpClientRequest.HttpClientRequest) => string | undefined
  /** The error of this scheme's challenge in a `WWW-Authenticate` header, if any. */
  readonly challenge: (response: HttpClientResponse.HttpClientResponse) => WwwAuthenticate.BearerError | undefined
  /** Learns from each API response (a nonce). `undefined`: nothing to learn. */
  readonly observe?: ((response: HttpClientResponse.HttpClientResponse) => Effect.Effect<void>) | undefined
  /** Whether a 401 deserves one replay with the same token, for a reason of this scheme. `undefined`: never. */
  readonly replayOn401?: ((response: HttpClientResponse.HttpClientResponse) => boolean) | undefined
}

/**
 * The token in an `Authorization` header of scheme `name` (case-insensitive, RFC 9110 §11.1), or `undefined`.
 *
 * @internal
 */
export const tokenIn = (header: string | undefined, name: string): string | undefined => {
  if (header === undefined || header.length <= name.length + 1 || header.charCodeAt(name.length) !== 32) {
    return undefined
  }
  const given = header.slice(0, name.length)
  return given === name || given.toLowerCase() === name.toLowerCase() ? header.slice(name.length + 1) : undefined
}

/**
 * The request without its `Authorization` header and any `DPoP` proof (a token must not follow a request to another
 * origin).
 *
 * @internal
 */
export const withoutAuthorization = (
  request: HttpClientRequest.HttpClientRequest
): HttpClientRequest.HttpClientRequest =>
  HttpClientRequest.make(request.method as "POST")(request.url, {
    urlParams: request.urlParams,
    hash: Option.getOrUndefined(request.hash),
    // A DPoP proof is bound to the token (its ath): it goes with it.
    headers: Headers.remove(Headers.remove(request.headers, "authorization"), "dpop"),
    body: request.body
  })

/**
 * `Authorization: Bearer <token>` (RFC 6750 §2.1), nothing to observe, no replay of its own.
 *
 * @internal
 */
export const bearer: Scheme = {
  name: "Bearer",
  authorize: (request, token) =>
    Effect.succeed(HttpClientRequest.setHeader(request, "authorization", `Bearer ${token}`)),
  tokenOf: (request) => tokenIn(request.headers["authorization"], "Bearer"),
  challenge: (response) => WwwAuthenticate.bearerError(response.headers["www-authenticate"]),
  observe: undefined,
  replayOn401: undefined
}

/**
 * DPoP (RFC 9449) over a client's key: a token bound to the key goes as `Authorization: DPoP <token>` with a new
 * proof per request (`htm`, `htu`, `iat`, `jti`, `ath`, and the origin's nonce when one is known, §7.1); a Bearer
 * token the server issued instead (§5 allows it) goes as Bearer. Every response's `DPoP-Nonce` is learned, and a 401
 * `use_dpop_nonce` challenge is replayed once with the nonce and the token kept (§9). `invalid_token` and
 * `failOnChallenge` read the DPoP challenge as they read Bearer's.
 *
 * @internal
 */
export const dpop = (hooks: Dpop.Hooks): Scheme => ({
  name: "DPoP",
  authorize: (request, token, credentials) =>
    credentials.dpopJkt === undefined ? bearer.authorize(request, token, credentials) : hooks.authorize(request, token),
  tokenOf: (request) => {
    const header = request.headers["authorization"]
    return tokenIn(header, "DPoP") ?? tokenIn(header, "Bearer")
  },
  challenge: (response) => {
    const header = response.headers["www-authenticate"]
    return dpopChallenge(header) ?? WwwAuthenticate.bearerError(header)
  },
  observe: (response) => Effect.sync(() => hooks.learn(response.request.url, response.headers)),
  replayOn401: (response) => hooks.isNonceChallenge(response)
})
