/**
 * The redirect guard: a token this client attached never travels to an origin it was not meant for.
 *
 * A request can come back to the request path already carrying one of this client's tokens: a redirect followed
 * downstream (`HttpClient.followRedirects` inside `transformClient` re-sends the authorized request), or a request
 * the caller copied from a response. The guard recognises the tokens it issued and decides whether such a request
 * may keep its header:
 *
 * - with explicit origins, when the origin policy allows the request's origin;
 * - under the `"*"` default, where every https origin is allowed, only where that token has already been sent
 *   (a cross-origin redirect would otherwise carry it to any https host). Cross-origin redirect targets seen in
 *   responses are also remembered, so that a follower re-sending the original request there gets no token on the
 *   way (RFC 9110 §15.4 lets a client re-send a request to the `Location`; the credentials must not go with it).
 *
 * Each record is bounded: 16 tokens and 256 redirect targets, the oldest first out; 64 origins per token, after
 * which a token's further origins are not recorded (a re-sent request to one of them loses the token: the safe way).
 */
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import type { OriginPolicy } from "./origins.js"
import { prefixOf } from "./origins.js"
import type { Scheme } from "./scheme.js"
import { withoutAuthorization } from "./scheme.js"

/** @internal */
export interface RedirectGuard {
  /** Records that `token` is attached to a request to `url`. */
  readonly issue: (token: string, url: string) => void
  /** The token in `request`'s `Authorization` header when it is one this client issued. */
  readonly ours: (request: HttpClientRequest.HttpClientRequest) => string | undefined
  /** The request without its `Authorization` header when it carries one of our tokens where it may not go. */
  readonly guard: (request: HttpClientRequest.HttpClientRequest) => HttpClientRequest.HttpClientRequest
  /** Whether a request to `url` is the re-send of a cross-origin redirect seen before (consumed once). */
  readonly isRedirectTarget: (url: string) => boolean
  /** Records the target of a cross-origin redirect in a 3xx response (under `"*"` only). */
  readonly remember: (response: HttpClientResponse.HttpClientResponse) => void
}

const maxTokens = 16
const maxOriginsPerToken = 64
const maxTargets = 256

/** @internal */
export const make = (policy: OriginPolicy, scheme: Scheme): RedirectGuard => {
  const issued = new Set<string>()
  let lastIssued: string | undefined
  // Under "*" only: the origins (URL prefixes) each token was sent to, and the targets of cross-origin redirects.
  const sentTo = new Map<string, Set<string>>()
  const targets = new Set<string>()

  const issue = (token: string, url: string): void => {
    if (token !== lastIssued) {
      lastIssued = token
      if (!issued.has(token)) {
        if (issued.size >= maxTokens) {
          const oldest = issued.values().next().value!
          issued.delete(oldest)
          sentTo.delete(oldest)
        }
        issued.add(token)
      }
    }
    if (policy.explicit) return
    const prefix = prefixOf(url)
    if (prefix === undefined) return
    let origins = sentTo.get(token)
    if (origins === undefined) sentTo.set(token, origins = new Set())
    if (origins.size < maxOriginsPerToken) origins.add(prefix)
  }

  const ours = (request: HttpClientRequest.HttpClientRequest): string | undefined => {
    if (issued.size === 0) return undefined
    const used = scheme.tokenOf(request)
    return used !== undefined && issued.has(used) ? used : undefined
  }

  const mayKeep = (url: string, used: string): boolean => {
    if (policy.allows(url) !== true) return false
    if (policy.explicit) return true
    const prefix = prefixOf(url)
    return prefix !== undefined && sentTo.get(used)?.has(prefix) === true
  }

  const guard = (request: HttpClientRequest.HttpClientRequest): HttpClientRequest.HttpClientRequest => {
    const used = ours(request)
    return used !== undefined && !mayKeep(request.url, used) ? withoutAuthorization(request) : request
  }

  const isRedirectTarget = (url: string): boolean => {
    if (targets.size === 0) return false
    try {
      const parsed = new URL(url)
      return targets.delete(parsed.origin + parsed.pathname)
    } catch {
      return false
    }
  }

  const remember = (response: HttpClientResponse.HttpClientResponse): void => {
    if (policy.explicit) return
    const location = response.headers["location"]
    if (location === undefined) return
    try {
      const from = new URL(response.request.url)
      const to = new URL(location, from)
      if (to.origin !== from.origin) {
        if (targets.size >= maxTargets) targets.delete(targets.values().next().value!)
        targets.add(to.origin + to.pathname)
      }
    } catch {
      // an unparsable Location: nothing will follow it
    }
  }

  return { issue, ours, guard, isRedirectTarget, remember }
}
