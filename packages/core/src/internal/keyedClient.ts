import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as MutableHashMap from "effect/MutableHashMap"
import * as Option from "effect/Option"
import * as RcMap from "effect/RcMap"
import type * as Scope from "effect/Scope"
import type { ClientError, KeyedClient, Options } from "../KeyedClient.js"
import * as OAuth2Client from "../OAuth2Client.js"

/** @internal */
export const defaults = {
  capacity: 1000,
  idleTimeToLive: Duration.minutes(15)
}

/**
 * When each key was last used, for the least-recently-used choice when the map is full. A key whose client was
 * closed by idle time keeps its record until it is the oldest; then it is dropped, or its client closed. No
 * finalizer is registered per client for this (a finalizer per RcMap entry kept ~1.5 KiB per closed client alive).
 */
interface Recency<K> {
  readonly lastUsed: MutableHashMap.MutableHashMap<K, number>
  seq: number
}

const leastRecent = <K>(recency: Recency<K>): Option.Option<K> => {
  let oldest: K | undefined
  let seq = Infinity
  for (const [key, used] of recency.lastUsed) {
    if (used < seq) {
      seq = used
      oldest = key
    }
  }
  return seq === Infinity ? Option.none() : Option.some(oldest as K)
}

/** @internal */
export const make = <K, E = never, R = never>(
  options: Options<K, E, R>
): Effect.Effect<KeyedClient<K, E>, never, HttpClient.HttpClient | Scope.Scope | R> =>
  Effect.gen(function*() {
    const capacity = Math.max(1, options.capacity ?? defaults.capacity)
    const recency: Recency<K> = { lastUsed: MutableHashMap.empty(), seq: 0 }

    const lookup = (
      key: K
    ): Effect.Effect<
      OAuth2Client.Service,
      ClientError | E,
      Scope.Scope | HttpClient.HttpClient | R
    > =>
      Effect.gen(function*() {
        const given = options.options(key)
        return yield* OAuth2Client.make(Effect.isEffect(given) ? yield* given : given)
      })

    const map = yield* RcMap.make({
      lookup,
      idleTimeToLive: options.idleTimeToLive ?? defaults.idleTimeToLive
    })

    // Closes the least recently used clients until there is room for one more. A client in use is taken out of
    // the map at once and closed when its last user is done.
    const makeRoom = Effect.gen(function*() {
      while (MutableHashMap.size(recency.lastUsed) >= capacity) {
        const oldest = leastRecent(recency)
        if (Option.isNone(oldest)) return
        MutableHashMap.remove(recency.lastUsed, oldest.value)
        yield* RcMap.invalidate(map, oldest.value)
      }
    })

    // One caller at a time makes room and records its key, so concurrent first uses of new keys cannot overshoot
    // the capacity while their clients are being made.
    const admission = yield* Effect.makeSemaphore(1)
    const admit = (key: K) =>
      admission.withPermits(1)(Effect.gen(function*() {
        if (!(yield* RcMap.has(map, key))) yield* makeRoom
        MutableHashMap.set(recency.lastUsed, key, ++recency.seq)
      }))

    const get = (key: K): Effect.Effect<OAuth2Client.Service, ClientError | E, Scope.Scope> =>
      Effect.zipRight(
        admit(key),
        RcMap.get(map, key).pipe(
          // A client that could not be made is not kept: the next use tries again.
          Effect.tapError(() => RcMap.invalidate(map, key))
        )
      )

    const httpClient = (key: K): HttpClient.HttpClient =>
      HttpClient.makeWith(
        (request: Effect.Effect<HttpClientRequest.HttpClientRequest>) =>
          Effect.flatMap(request, (req) =>
            Effect.scoped(
              Effect.flatMap(
                Effect.mapError(get(key), (cause) =>
                  new HttpClientError.RequestError({
                    request: req,
                    reason: "Encode",
                    cause,
                    description: `the OAuth 2.0 client of this key could not be made: ${
                      cause instanceof Error ? cause.message : String(cause)
                    }`
                  })),
                (service) => service.httpClient.execute(req)
              )
            )),
        Effect.succeed
      )

    return {
      get,
      httpClient,
      invalidate: (key) =>
        Effect.zipRight(
          Effect.sync(() => MutableHashMap.remove(recency.lastUsed, key)),
          RcMap.invalidate(map, key)
        ),
      keys: RcMap.keys(map)
    }
  })
