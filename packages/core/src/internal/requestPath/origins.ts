/**
 * The origin policy: which request URLs may carry this client's token.
 *
 * - explicit origins (`origins: ["https://api.example.com"]`): exactly those origins, and only over https (or
 *   loopback http, or any http with `allowInsecureHttp`);
 * - `"*"` (the default): every https origin and loopback http. A token that has been sent somewhere is then only
 *   kept on a re-sent request to where it already went (see `redirectGuard.ts`).
 *
 * The decision is cached per `scheme://authority` prefix of the URL string, so the hot path parses no URL.
 */
import * as Either from "effect/Either"
import * as OAuth2Error from "../../OAuth2Error.js"
import { isLoopbackHost } from "../url.js"

/** @internal */
export interface OriginPolicy {
  /** Whether the origins were listed (`false` under the `"*"` default). */
  readonly explicit: boolean
  /**
   * Whether a request to `url` may carry the token: `true`, `false`, or `undefined` when `url` is not an absolute
   * URL (such a request is left as it is; the platform client reports it).
   */
  readonly allows: (url: string) => boolean | undefined
}

// The authority must be non-empty and free of the characters the URL parser skips or reads as a path separator
// (backslash, tab, CR, LF): "https:///evil.test" and "https://\t/evil.test" are https://evil.test to the parser, so a
// prefix like "https://" would stand for every host. Such URLs get no prefix (their decision is not cached).
const prefixPattern = /^[a-z][a-z0-9+.-]*:\/\/[^/?#\\\t\n\r]+(?=[/?#]|$)/i

/**
 * The `scheme://authority` prefix of an absolute URL string, or `undefined`. The same prefix means the same origin
 * decision; it is the key of the policy's cache and of the redirect guard's records.
 *
 * @internal
 */
export const prefixOf = (url: string): string | undefined => prefixPattern.exec(url)?.[0]

/** At most this many prefixes are remembered; the oldest goes first. */
const cacheSize = 256

/**
 * Reads the `origins` option once: a value that is not a URL is a ConfigurationError before any request.
 *
 * @internal
 */
export const make = (
  origins: ReadonlyArray<string | URL> | "*" | undefined,
  allowInsecureHttp: boolean
): Either.Either<OriginPolicy, OAuth2Error.ConfigurationError> => {
  const secure = (url: URL) => url.protocol === "https:" || allowInsecureHttp || isLoopbackHost(url.hostname)
  const explicit = origins !== undefined && origins !== "*"
  let check: (url: URL) => boolean = secure
  if (explicit) {
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
    check = (url) => set.has(url.origin) && secure(url)
  }
  const decisions = new Map<string, boolean | undefined>()
  const allows = (url: string): boolean | undefined => {
    const prefix = prefixOf(url)
    if (prefix !== undefined) {
      const cached = decisions.get(prefix)
      if (cached !== undefined || decisions.has(prefix)) return cached
    }
    let decision: boolean | undefined
    try {
      decision = check(new URL(url))
    } catch {
      decision = undefined
    }
    if (prefix !== undefined) {
      if (decisions.size >= cacheSize) decisions.delete(decisions.keys().next().value!)
      decisions.set(prefix, decision)
    }
    return decision
  }
  return Either.right({ explicit, allows })
}
