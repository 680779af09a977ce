import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as MutableHashMap from "effect/MutableHashMap"
import * as Option from "effect/Option"
import * as RcMap from "effect/RcMap"
import type * as Scope from "effect/Scope"
import type { KeyedClient, Options } from "../KeyedClient.js"
import * as OAuth2Client from "../OAuth2Client.js"
import type * as OAuth2Error from "../OAuth2Error.js"

/** @internal */
export const defaults = {
  capacity: 1000,
  idleTimeToLive: Duration.minutes(15)
}

/**
 * Which keys hold a client and when each was last used: the least recently used one makes room when the map is
 * full. An entry belongs to one generation of a key's client, so the finalizer of a closed client never removes
 * the record of the client made after it.
 */
interface Recency<K> {
  readonly entries: MutableHashMap.MutableHashMap<K, { seq: number; readonly generation: number }>
  seq: number
  generations: number
}

const leastRecent = <K>(recency: Recency<K>): Option.Option<K> => {
  let oldest: K | undefined
  let seq = Infinity
  for (const [key, entry] of recency.entries) {
    if (entry.seq < seq) {
      seq = entry.seq
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
    const recency: Recency<K> = { entries: MutableHashMap.empty(), seq: 0, generations: 0 }

    const lookup = (
      key: K
    ): Effect.Effect<
      OAuth2Client.Service,
      OAuth2Error.ConfigurationError | E,
      Scope.Scope | HttpClient.HttpClient | R
    > =>
      Effect.gen(function*() {
        const generation = ++recency.generations
        MutableHashMap.set(recency.entries, key, { seq: ++recency.seq, generation })
        yield* Effect.addFinalizer(() =>
          Effect.sync(() => {
            const entry = MutableHashMap.get(recency.entries, key)
            if (Option.isSome(entry) && entry.value.generation === generation) {
              MutableHashMap.remove(recency.entries, key)
            }
          })
        )
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
      while (MutableHashMap.size(recency.entries) >= capacity) {
        const oldest = leastRecent(recency)
        if (Option.isNone(oldest)) return
        MutableHashMap.remove(recency.entries, oldest.value)
        yield* RcMap.invalidate(map, oldest.value)
      }
    })

    const get = (key: K): Effect.Effect<OAuth2Client.Service, OAuth2Error.ConfigurationError | E, Scope.Scope> =>
      Effect.gen(function*() {
        if (!(yield* RcMap.has(map, key))) yield* makeRoom
        const service = yield* RcMap.get(map, key).pipe(
          // A client that could not be made is not kept: the next use tries again.
          Effect.tapError(() => RcMap.invalidate(map, key))
        )
        const entry = MutableHashMap.get(recency.entries, key)
        if (Option.isSome(entry)) entry.value.seq = ++recency.seq
        return service
      })

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
          Effect.sync(() => MutableHashMap.remove(recency.entries, key)),
          RcMap.invalidate(map, key)
        ),
      keys: RcMap.keys(map)
    }
  })
