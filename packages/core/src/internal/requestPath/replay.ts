/**
 * The 401 replay rule: when an API answer of 401 is replayed, once, with a fresh token.
 *
 * RFC 6750 §3.1: a Bearer challenge with `error="invalid_token"` says the token is expired, revoked or otherwise
 * dead. The token is then dropped (compare-and-swap: only if it is still the current one, so a late 401 cannot
 * throw away a newer token) and the request replayed once with the next one. `replayOn401` chooses the trigger:
 * `"invalid_token"` (default), `"always"` (servers that send no challenge) or `"never"`.
 *
 * A scheme may ask for one more replay of its own, with the token kept (DPoP's `use_dpop_nonce`): see
 * `scheme.ts`. Each kind of replay happens at most once per request.
 *
 * Nothing is replayed when:
 * - the request did not carry this client's token (the caller set its own header, or the guard removed ours);
 * - the server that answered did not see that token (a redirect followed inside `transformClient` went to a
 *   request without it);
 * - the body is a stream, which the first attempt has consumed.
 */
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import type { Scheme } from "./scheme.js"

/** @internal */
export type Mode = "invalid_token" | "always" | "never"

/**
 * - `"invalidate"`: drop the token that was sent, then replay with a fresh one;
 * - `"again"`: replay with the same token (the scheme's own reason);
 * - `"none"`: the 401 is the answer.
 *
 * @internal
 */
export type Decision = "invalidate" | "again" | "none"

/** The replays a request has had so far. @internal */
export interface Replayed {
  readonly invalidated: boolean
  readonly again: boolean
}

/** @internal */
export const initial: Replayed = { invalidated: false, again: false }

/** @internal */
export type ReplayRule = (
  request: HttpClientRequest.HttpClientRequest,
  used: string | undefined,
  response: HttpClientResponse.HttpClientResponse,
  replayed: Replayed
) => Decision

/**
 * The rule for a mode and a scheme. `request` is the caller's request (before authorization), `used` the token of
 * ours the authorized request carried.
 *
 * @internal
 */
export const make = (mode: Mode, scheme: Scheme): ReplayRule => (request, used, response, replayed) => {
  if (used === undefined || request.body._tag === "Stream" || scheme.tokenOf(response.request) !== used) {
    return "none"
  }
  if (!replayed.again && scheme.replayOn401 !== undefined && scheme.replayOn401(response)) return "again"
  if (replayed.invalidated || mode === "never") return "none"
  return mode === "always" || scheme.challenge(response)?.error === "invalid_token" ? "invalidate" : "none"
}
