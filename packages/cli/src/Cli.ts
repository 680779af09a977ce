/**
 * The `effect-oauth2` command: a client-credentials token from the shell with the same configuration a service
 * uses (`NodeOAuth2.config`, the `OAUTH2_*` variables), and one authenticated request.
 *
 * - `effect-oauth2 token [--json] [--decode]`: the access token alone on stdout, so `$(effect-oauth2 token)` works.
 * - `effect-oauth2 call URL [-X METHOD] [-H header]... [-d body] [-i] [-f]`: the response body on stdout.
 * - `effect-oauth2 discover [ISSUER] [--issuer URL] [--location ...] [--mtls]`: the server's RFC 8414 metadata as JSON.
 *
 * Flags override the variables; the client secret comes from `OAUTH2_CLIENT_SECRET`, `--client-secret-file` or a
 * prompt, never from a flag value. On an error the message goes to stderr and nothing to stdout; the exit code is
 * 2 for configuration errors and 1 for refusals and transport errors.
 *
 * @since 0.1.0
 */
import type * as CliApp from "@effect/cli/CliApp"
import * as Command from "@effect/cli/Command"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Logger from "effect/Logger"
import * as call from "./internal/call.js"
import { refuseSecretFlags } from "./internal/config.js"
import * as discover from "./internal/discover.js"
import { describe, exitCodes as codes } from "./internal/errors.js"
import { stderrLine } from "./internal/output.js"
import * as token from "./internal/token.js"

/**
 * The exit codes: `ok` 0, `failure` 1 (a refusal, a transport error, an HTTP error with `--fail`),
 * `configuration` 2 (a missing or malformed variable or flag, found before any request).
 *
 * @since 0.1.0
 * @category constants
 */
export const exitCodes: { readonly ok: 0; readonly failure: 1; readonly configuration: 2 } = codes

/**
 * The command tree. Each subcommand is a module of its own in `internal/`, sharing the flags of
 * `internal/config.ts`.
 *
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make("effect-oauth2").pipe(
  Command.withDescription("OAuth 2.0 client credentials from the shell, configured like NodeOAuth2.layerFromEnv"),
  Command.withSubcommands([token.command, call.command, discover.command])
)

/**
 * Runs the command line (`process.argv`: runtime, script, then the arguments) and gives the exit code. Every
 * failure is printed here, on stderr; nothing fails past it.
 *
 * @since 0.1.0
 * @category running
 */
export const run = (argv: ReadonlyArray<string>): Effect.Effect<number, never, CliApp.CliApp.Environment> =>
  refuseSecretFlags(argv.slice(2)).pipe(
    Effect.zipRight(Command.run(command, { name: "effect-oauth2", version: "0.1.0" })(argv)),
    Effect.as<number>(exitCodes.ok),
    Effect.catchAll((error) => {
      const { code, message } = describe(error)
      return Effect.as(message !== undefined ? stderrLine(`effect-oauth2: ${message}`) : Effect.void, code)
    }),
    Effect.catchAllCause((cause) =>
      Effect.as(stderrLine(`effect-oauth2: unexpected error: ${Cause.pretty(cause)}`), exitCodes.failure)
    ),
    // Log lines (a retried token request, a failed background refresh) go to stderr: stdout is the command's output.
    Effect.provide(Logger.replace(Logger.defaultLogger, Logger.prettyLogger({ stderr: true })))
  )
