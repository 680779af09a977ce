/**
 * The notice for a token that was not sent: a 401 answers a request this client left without a token because the
 * origin policy refused its URL (an origin missing from `origins`, or plain http off loopback). Without it the
 * API's 401 is all the user sees. Logged once per origin (a bounded set), at warning level; the message names the
 * origin and the rule, never a token.
 */
import * as Effect from "effect/Effect"
import type { OriginPolicy } from "./origins.js"
import { prefixOf } from "./origins.js"

/** At most this many origins are remembered as already reported. */
const reportedSize = 256

/**
 * A function for the path to call on a 401 that carried none of this client's tokens: it logs once per origin
 * when the policy refused the request's URL, and does nothing otherwise.
 *
 * @internal
 */
export const make = (policy: OriginPolicy) => {
  const reported = new Set<string>()
  return (requestUrl: string): Effect.Effect<void> => {
    if (policy.allows(requestUrl) !== false) return Effect.void
    const origin = prefixOf(requestUrl)
    if (origin === undefined || reported.has(origin)) return Effect.void
    if (reported.size >= reportedSize) reported.delete(reported.values().next().value!)
    reported.add(origin)
    const insecure = origin.toLowerCase().startsWith("http:")
    return Effect.logWarning(
      `OAuth2: ${origin} answered 401 to a request sent without an access token: ${
        policy.explicit
          ? `its origin is not in the client's origins${insecure ? ", or it is plain http off loopback" : ""}`
          : "plain http off loopback never gets the token"
      }. Add it to origins (https, or allowInsecureHttp for http) if it should get the token. ` +
        "(Logged once per origin.)"
    )
  }
}
