import * as Effect from "effect/Effect"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"

/**
 * Runs `effect` with its log lines captured as `"<LEVEL> <message>"`, from `minimum` up (Effect's default, Info,
 * unless given).
 */
export const captureLogs = <A, E, R>(effect: Effect.Effect<A, E, R>, minimum: LogLevel.LogLevel = LogLevel.Info) =>
  Effect.suspend(() => {
    const logs: Array<string> = []
    const logger = Logger.make(({ logLevel, message }) => {
      logs.push(`${logLevel.label} ${Array.isArray(message) ? message.join(" ") : String(message)}`)
    })
    return Effect.map(
      effect.pipe(Effect.provide(Logger.replace(Logger.defaultLogger, logger)), Logger.withMinimumLogLevel(minimum)),
      (value) => ({ value, logs })
    )
  })
