import * as Effect from "effect/Effect"

/** Writes to stdout as is (no newline added), so a body is printed byte for byte. @internal */
export const stdout = (text: string): Effect.Effect<void> => Effect.sync(() => void process.stdout.write(text))

/** One line on stderr. @internal */
export const stderrLine = (text: string): Effect.Effect<void> =>
  Effect.sync(() => void process.stderr.write(`${text}\n`))
