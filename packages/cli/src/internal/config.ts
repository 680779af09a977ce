import { NodeOAuth2 } from "@effect-oauth2/platform-node"
import * as Options from "@effect/cli/Options"
import * as Prompt from "@effect/cli/Prompt"
import * as FileSystem from "@effect/platform/FileSystem"
import type * as Terminal from "@effect/platform/Terminal"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { UsageError } from "./errors.js"
import { canPrompt } from "./terminal.js"
import { overridable } from "./variables.js"

/**
 * The flags every command shares: each one overrides the `<prefix>_*` variable of `OAuth2HttpClient.config` named
 * beside it. The secret has no flag: a flag's value is visible to every user of the machine (`ps`), so it comes
 * from the environment, a file, or a prompt.
 *
 * @internal
 */
export const flags = {
  prefix: Options.text("env-prefix").pipe(
    Options.withDefault("OAUTH2"),
    Options.withDescription("the prefix of the environment variables read (OAUTH2_TOKEN_URL, ...)")
  ),
  tokenUrl: variable("token-url", "TOKEN_URL", "the token endpoint"),
  issuer: variable("issuer", "ISSUER", "the issuer: the token endpoint is discovered from its metadata (RFC 8414)"),
  clientId: variable("client-id", "CLIENT_ID", "the client id"),
  scopes: variable("scopes", "SCOPES", "the scopes to request, space or comma separated"),
  audience: variable("audience", "AUDIENCE", "the audience parameter"),
  resource: variable("resource", "RESOURCE", "resource indicators (RFC 8707), space or comma separated"),
  authMethod: variable(
    "auth-method",
    "AUTH_METHOD",
    "client authentication: client_secret_basic, client_secret_post, client_secret_jwt, private_key_jwt, " +
      "tls_client_auth, self_signed_tls_client_auth or none"
  ),
  origins: variable("origins", "ORIGINS", "the origins that get the token, space or comma separated"),
  timeout: variable("timeout", "TIMEOUT", "the timeout of one token request, such as \"10 seconds\""),
  secretFile: Options.file("client-secret-file", { exists: "yes" }).pipe(
    Options.optional,
    Options.withDescription("read the client secret from this file (one trailing newline is dropped)")
  ),
  promptSecret: Options.boolean("prompt-secret").pipe(
    Options.withDescription("ask for the client secret on the terminal (input hidden)")
  )
}

function variable(flag: string, key: string, what: string) {
  return Options.text(flag).pipe(Options.optional, Options.withDescription(`${what} (overrides <prefix>_${key})`))
}

/** The parsed shared flags. @internal */
export interface Flags {
  readonly prefix: string
  readonly tokenUrl: Option.Option<string>
  readonly issuer: Option.Option<string>
  readonly clientId: Option.Option<string>
  readonly scopes: Option.Option<string>
  readonly audience: Option.Option<string>
  readonly resource: Option.Option<string>
  readonly authMethod: Option.Option<string>
  readonly origins: Option.Option<string>
  readonly timeout: Option.Option<string>
  readonly secretFile: Option.Option<string>
  readonly promptSecret: boolean
}

const secretFlag = /^--client-secret(?:=|$)/

/**
 * Refuses a secret given as a flag value before anything parses (and prints) the command line.
 *
 * @internal
 */
export const refuseSecretFlags = (args: ReadonlyArray<string>): Effect.Effect<void, UsageError> =>
  args.some((arg) => secretFlag.test(arg))
    ? Effect.fail(
      new UsageError({
        message: "the client secret is never taken from a flag value (every user of the machine can read it with " +
          "ps): set OAUTH2_CLIENT_SECRET, or use --client-secret-file PATH or --prompt-secret"
      })
    )
    : Effect.void

const readSecretFile = (path: string) =>
  Effect.flatMap(FileSystem.FileSystem, (fs) => fs.readFileString(path)).pipe(
    Effect.map((text) => text.replace(/\r?\n$/, "")),
    Effect.mapError(() => new UsageError({ message: `cannot read the client secret file ${path}` }))
  )

const promptSecret = (clientId: string | undefined) =>
  Prompt.password({ message: `Client secret${clientId !== undefined ? ` of ${clientId}` : ""}` }).pipe(
    Effect.map(Redacted.value)
  )

const needsSecret = new Set(["client_secret_basic", "client_secret_post", "client_secret_jwt"])

/**
 * The options the commands run with: `NodeOAuth2.config(prefix)` (the variables of `OAuth2HttpClient.config` and the
 * files only Node reads: `<prefix>_PRIVATE_KEY_FILE`, `<prefix>_TLS_*_FILE`) read from the flags first, then the
 * environment, with the secret from the environment, `--client-secret-file` or a prompt.
 *
 * @internal
 */
export const resolve = (
  flags: Flags
): Effect.Effect<NodeOAuth2.Options, unknown, FileSystem.FileSystem | Terminal.Terminal> =>
  Effect.gen(function*() {
    const name = (key: string) => (flags.prefix.length > 0 ? `${flags.prefix}_${key}` : key)
    // One source: the environment, with the flags laid over it.
    const variables = new Map<string, string>()
    for (const [key, value] of Object.entries(process.env)) if (value !== undefined) variables.set(key, value)
    for (const [field, key] of overridable) {
      const value = flags[field]
      if (Option.isSome(value)) variables.set(name(key), value.value)
    }
    const method = variables.get(name("AUTH_METHOD"))
    if (Option.isSome(flags.secretFile)) {
      variables.set(name("CLIENT_SECRET"), yield* readSecretFile(flags.secretFile.value))
    } else if (
      flags.promptSecret || (!variables.has(name("CLIENT_SECRET")) && method !== undefined && needsSecret.has(method))
    ) {
      if (!canPrompt()) {
        return yield* new UsageError({
          message: flags.promptSecret
            ? `--prompt-secret needs a terminal, and there is none: set ${
              name("CLIENT_SECRET")
            } or use --client-secret-file PATH`
            : `${method} needs a client secret and none was given: set ${
              name("CLIENT_SECRET")
            }, use --client-secret-file PATH, or run in a terminal to be asked for it`
        })
      }
      variables.set(name("CLIENT_SECRET"), yield* promptSecret(variables.get(name("CLIENT_ID"))))
    }
    // Read as ConfigProvider.fromEnv reads the environment.
    const provider = ConfigProvider.fromMap(variables, { pathDelim: "_", seqDelim: "," })
    return yield* Effect.withConfigProvider(NodeOAuth2.config(flags.prefix), provider)
  })
