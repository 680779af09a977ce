import * as Metric from "effect/Metric"

/** @internal */
export const tokenRequests = Metric.counter("oauth2_token_requests", {
  description: "Token requests made (each attempt), tagged by outcome",
  incremental: true
})

const byOutcome = new Map<string, Metric.Metric.Counter<number>>()

/** The token request counter tagged with an outcome, built once per outcome. @internal */
export const tokenRequestsBy = (outcome: string): Metric.Metric.Counter<number> => {
  let counter = byOutcome.get(outcome)
  if (counter === undefined) byOutcome.set(outcome, counter = Metric.tagged(tokenRequests, "outcome", outcome))
  return counter
}

/** @internal */
export const cacheHits = Metric.counter("oauth2_token_cache_hits", {
  description: "Callers served a cached token without waiting",
  incremental: true
})

/** @internal */
export const joinedWaiters = Metric.counter("oauth2_token_joined_waiters", {
  description: "Callers that joined a token request already in flight",
  incremental: true
})

/** @internal */
export const backgroundRefreshFailures = Metric.counter("oauth2_background_refresh_failures", {
  description: "Background (refresh-ahead) token fetches that failed",
  incremental: true
})
