/**
 * Helpers for the tests of internal/jwt.ts: what importing a key gives, as one comparable text, and PEM texts built
 * around hand-made DER bytes.
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import type { Signer } from "../../src/internal/jwt.js"
import type { ConfigurationError } from "../../src/OAuth2Error.js"

/**
 * `signs <alg>` for a signer, the reason of a ConfigurationError, or `defect: …` for anything else (a thrown
 * exception), so that a test compares one exact text.
 */
export const outcomeOf = (effect: Effect.Effect<Signer, ConfigurationError>): Effect.Effect<string> =>
  Effect.map(
    Effect.exit(effect),
    Exit.match({
      onSuccess: (signer) => `signs ${signer.alg}`,
      onFailure: (cause) =>
        Option.match(Cause.failureOption(cause), {
          onNone: () => `defect: ${Cause.pretty(cause)}`,
          onSome: (error) => error._tag === "ConfigurationError" ? error.reason : `not a ConfigurationError: ${error}`
        })
    })
  )

/** A PKCS#8 PEM text whose body is the base64 of `der`. */
export const pemOf = (der: Uint8Array | ReadonlyArray<number>): string =>
  `-----BEGIN PRIVATE KEY-----\n${Buffer.from(Uint8Array.from(der)).toString("base64")}\n-----END PRIVATE KEY-----\n`

/** The bytes of a hex text (spaces allowed). */
export const bytes = (hex: string): Uint8Array => Uint8Array.from(Buffer.from(hex.replace(/\s+/g, ""), "hex"))
