import * as Metric from "effect/Metric"

/** @internal */
export const tokenRequests = Metric.counter("oauth2_token_requests", {
  description: "Token requests made (each attempt), tagged by outcome",
  incremental: true
})

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
