import { OAuth2Error } from "@effect-oauth2/core"
import * as ValidationError from "@effect/cli/ValidationError"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as Terminal from "@effect/platform/Terminal"
import * as ConfigError from "effect/ConfigError"
import * as Data from "effect/Data"
import { explain } from "./variables.js"

/**
 * A mistake in how the command was called or configured, found before anything was sent: exit code 2.
 *
 * @internal
 */
export class UsageError extends Data.TaggedError("UsageError")<{ readonly message: string }> {}

/**
 * A failure after the configuration was accepted (a refusal, a transport error, a token that is not a JWT, an
 * HTTP error status with `--fail`): exit code 1.
 *
 * @internal
 */
export class CommandFailed extends Data.TaggedError("CommandFailed")<{ readonly message: string }> {}

/** @internal */
export const exitCodes = { ok: 0, failure: 1, configuration: 2 } as const

/**
 * The exit code of a failure and the message to print on stderr (`undefined` when @effect/cli has printed it).
 *
 * @internal
 */
export const describe = (error: unknown): { readonly code: number; readonly message: string | undefined } => {
  if (ValidationError.isValidationError(error)) return { code: exitCodes.configuration, message: undefined }
  if (error instanceof UsageError) return { code: exitCodes.configuration, message: error.message }
  if (ConfigError.isConfigError(error)) {
    return { code: exitCodes.configuration, message: `invalid configuration: ${explain(error)}` }
  }
  if (OAuth2Error.isOAuth2Error(error)) {
    return {
      code: error._tag === "ConfigurationError" ? exitCodes.configuration : exitCodes.failure,
      message: error.message
    }
  }
  if (HttpClientError.isHttpClientError(error)) return { code: exitCodes.failure, message: error.message }
  if (Terminal.isQuitException(error)) return { code: exitCodes.failure, message: "cancelled" }
  if (error instanceof CommandFailed) return { code: exitCodes.failure, message: error.message }
  return { code: exitCodes.failure, message: error instanceof Error ? error.message : String(error) }
}
