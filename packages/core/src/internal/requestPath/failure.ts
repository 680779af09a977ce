/**
 * How the request path reports failures to users of the platform's `HttpClient` error type.
 *
 * - A token failure becomes an `HttpClientError.RequestError` (the request was never sent) whose `cause` is the
 *   OAuth2Error. @effect/platform 0.97 offers three reasons: `Transport`, `Encode` and `InvalidUrl`.
 *   `HttpClient.retryTransient` repeats `Transport` only, so a transient failure (the endpoint down, a timeout,
 *   the retry budget spent during an outage) is `Transport`, and a definite one (`invalid_client`,
 *   `invalid_scope`, an unusable answer) is `Encode`, the reason for a request that could not be prepared: its
 *   description says plainly that the request was not sent, why, and that repeating it will not help.
 * - `failOnChallenge`: a final 401 with a challenge of the scheme becomes a `ResponseError` (reason `StatusCode`)
 *   whose description carries the challenge (RFC 6750 §3).
 */
import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Effect from "effect/Effect"
import * as OAuth2Error from "../../OAuth2Error.js"
import type { Scheme } from "./scheme.js"

/**
 * Whether a token failure may pass when the request is repeated later: a transient failure, and a retry budget
 * spent during an outage (each attempt failed transiently).
 *
 * @internal
 */
export const isTransient = (error: OAuth2Error.OAuth2Error): boolean =>
  OAuth2Error.isRetryable(error) || error._tag === "TimeoutError"

/** @internal */
export const describe = (error: OAuth2Error.OAuth2Error): string =>
  isTransient(error)
    ? `request not sent: could not obtain an OAuth 2.0 access token (a transient failure; repeating the request ` +
      `later may succeed): ${error.message}`
    : `request not sent: it could not be authorized, because the token request failed for good (repeating it will ` +
      `not help until the cause below is fixed): ${error.message}`

/**
 * The token failure of `request` as the platform's RequestError.
 *
 * @internal
 */
export const toRequestError = (
  request: HttpClientRequest.HttpClientRequest,
  error: OAuth2Error.OAuth2Error
): HttpClientError.RequestError =>
  new HttpClientError.RequestError({
    request,
    reason: isTransient(error) ? "Transport" : "Encode",
    cause: error,
    description: describe(error)
  })

/**
 * `failOnChallenge`: the final 401 as a ResponseError when it carries a challenge of the scheme with an `error`.
 *
 * @internal
 */
export const challengeError = (
  scheme: Scheme,
  response: HttpClientResponse.HttpClientResponse
): Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.ResponseError> => {
  const challenge = scheme.challenge(response)
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
