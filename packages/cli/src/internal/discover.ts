import { Discovery } from "@effect-oauth2/core"
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { UsageError } from "./errors.js"
import { stdout } from "./output.js"

/**
 * `effect-oauth2 discover`: the authorization server's metadata (RFC 8414 §3, OpenID Connect Discovery §4 as the
 * fallback) as JSON on stdout, after the §3.3 issuer check; the token endpoint the other commands would use is
 * printed first on stderr. The issuer comes from the argument (`effect-oauth2 discover ISSUER`), `--issuer` or
 * `<prefix>_ISSUER`, in that order. No client credentials are read.
 *
 * @internal
 */
export const command = Command.make(
  "discover",
  {
    positional: Args.text({ name: "ISSUER" }).pipe(
      Args.optional,
      Args.withDescription("the issuer identifier, such as https://auth.example.com (or --issuer, or <prefix>_ISSUER)")
    ),
    prefix: Options.text("env-prefix").pipe(
      Options.withDefault("OAUTH2"),
      Options.withDescription("the prefix of the environment variables read (OAUTH2_ISSUER, ...)")
    ),
    issuer: Options.text("issuer").pipe(
      Options.optional,
      Options.withDescription("the issuer identifier, such as https://auth.example.com (overrides <prefix>_ISSUER)")
    ),
    location: Options.choice("location", ["auto", "oauth-authorization-server", "openid-configuration"]).pipe(
      Options.withDefault("auto" as const),
      Options.withDescription(
        "where the metadata is read: RFC 8414's well-known URI, OpenID Connect's, or the first then the second"
      )
    ),
    mtls: Options.boolean("mtls").pipe(
      Options.withDescription("report the mutual-TLS token endpoint alias (RFC 8705 §5) when the server has one")
    )
  },
  (input) =>
    Effect.gen(function*() {
      const variable = input.prefix.length > 0 ? `${input.prefix}_ISSUER` : "ISSUER"
      if (
        Option.isSome(input.positional) && Option.isSome(input.issuer) && input.positional.value !== input.issuer.value
      ) {
        return yield* new UsageError({ message: "two issuers were given, as the argument and as --issuer: give one" })
      }
      const issuer = Option.getOrUndefined(Option.orElse(input.positional, () => input.issuer)) ?? process.env[variable]
      if (issuer === undefined || issuer.length === 0) {
        return yield* new UsageError({
          message:
            `${variable} is not set (set it, or pass the issuer: effect-oauth2 discover ISSUER, or --issuer ISSUER)`
        })
      }
      const metadata = yield* Discovery.discover(issuer, { location: input.location }).pipe(
        Effect.provide(NodeHttpClient.layerUndici)
      )
      const endpoint = Discovery.tokenEndpoint(metadata, { mutualTls: input.mtls })
      process.stderr.write(
        endpoint !== undefined
          ? `token endpoint: ${endpoint}\n`
          : "the metadata names no token endpoint: set OAUTH2_TOKEN_URL instead of OAUTH2_ISSUER\n"
      )
      yield* stdout(`${JSON.stringify(metadata, null, 2)}\n`)
    })
).pipe(
  Command.withDescription(
    "Read the authorization server's metadata from its issuer (RFC 8414) and print it as JSON"
  )
)
