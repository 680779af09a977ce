import { type RedisServer, startRedisServer } from "@effect-oauth2/testing"
import * as Effect from "effect/Effect"
import * as Logger from "effect/Logger"
import type * as Scope from "effect/Scope"

/** A redis-server of the test's own (random port, no persistence), stopped with the scope whatever happens. */
export const redisServer: Effect.Effect<RedisServer, never, Scope.Scope> = Effect.acquireRelease(
  Effect.promise(() => startRedisServer()),
  (server) => Effect.promise(() => server.close())
)

/** Runs `effect` with its log lines captured (`LEVEL message`) instead of printed. */
export const captureLogs = <A, E, R>(
  effect: Effect.Effect<A, E, R>
): Effect.Effect<{ readonly value: A; readonly logs: ReadonlyArray<string> }, E, R> =>
  Effect.suspend(() => {
    const logs: Array<string> = []
    const logger = Logger.make(({ logLevel, message }) => {
      logs.push(`${logLevel.label} ${Array.isArray(message) ? message.join(" ") : String(message)}`)
    })
    return effect.pipe(
      Effect.map((value) => ({ value, logs })),
      Effect.provide(Logger.replace(Logger.defaultLogger, logger))
    )
  })
