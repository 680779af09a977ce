import type { OAuth2Client } from "@effect-oauth2/core"
import { OAuth2HttpClient } from "@effect-oauth2/core"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as fs from "node:fs"
import type { TlsOptions } from "./tls.js"

/**
 * The text of the file a variable names. A missing, unreadable or empty file is a ConfigError naming the variable
 * and the path (never the content).
 *
 * @internal
 */
export const file = (name: string): Config.Config<Option.Option<string>> =>
  Config.option(Config.nonEmptyString(name)).pipe(
    Config.mapOrFail((path) => {
      if (Option.isNone(path)) return Either.right(Option.none())
      try {
        const text = fs.readFileSync(path.value, "utf8")
        return text.trim().length === 0
          ? Either.left(ConfigError.InvalidData([name], `The file ${path.value} is empty`))
          : Either.right(Option.some(text))
      } catch (error) {
        const code = (error as { code?: unknown }).code
        return Either.left(
          ConfigError.InvalidData(
            [name],
            `Cannot read the file ${path.value} (${typeof code === "string" ? code : "unreadable"})`
          )
        )
      }
    })
  )

/**
 * The client certificate from `<prefix>_TLS_CERT_FILE`, `<prefix>_TLS_KEY_FILE` and `<prefix>_TLS_CA_FILE`.
 *
 * @internal
 */
export const tls = (name: (key: string) => string): Config.Config<TlsOptions | undefined> =>
  Config.all({ cert: file(name("TLS_CERT_FILE")), key: file(name("TLS_KEY_FILE")), ca: file(name("TLS_CA_FILE")) })
    .pipe(
      Config.mapOrFail(({ ca, cert, key }): Either.Either<TlsOptions | undefined, ConfigError.ConfigError> => {
        if (Option.isSome(cert) && Option.isSome(key)) {
          return Either.right({
            cert: cert.value,
            key: Redacted.make(key.value),
            ...(Option.isSome(ca) ? { ca: ca.value } : {})
          })
        }
        if (Option.isSome(cert)) {
          return Either.left(
            ConfigError.MissingData([name("TLS_KEY_FILE")], `${name("TLS_CERT_FILE")} needs the certificate's key`)
          )
        }
        if (Option.isSome(key)) {
          return Either.left(
            ConfigError.MissingData([name("TLS_CERT_FILE")], `${name("TLS_KEY_FILE")} needs its certificate`)
          )
        }
        if (Option.isSome(ca)) {
          return Either.left(
            ConfigError.InvalidData(
              [name("TLS_CA_FILE")],
              `${name("TLS_CA_FILE")} goes with ${name("TLS_CERT_FILE")} and ${name("TLS_KEY_FILE")}; ` +
                "to trust another CA without a client certificate, use NODE_EXTRA_CA_CERTS"
            )
          )
        }
        return Either.right(undefined)
      })
    )

/**
 * The core configuration plus what only Node reads: the private key from a file, and the client certificate.
 *
 * @internal
 */
export const config = <Options extends OAuth2Client.Options & { readonly tls?: TlsOptions | undefined }>(
  prefix: string,
  overrides: Partial<Options>
): Config.Config<Options> => {
  const name = (key: string) => (prefix.length > 0 ? `${prefix}_${key}` : key)
  const keyFile = name("PRIVATE_KEY_FILE")
  return Config.all({
    tls: tls(name),
    core: OAuth2HttpClient.config(prefix, overrides, {
      privateKey: { name: keyFile, config: Config.map(file(keyFile), Option.map(Redacted.make)) },
      clientCertificate: Config.map(Config.option(Config.nonEmptyString(name("TLS_CERT_FILE"))), Option.isSome)
    })
  }).pipe(
    Config.map(({ core, tls }) => {
      const chosen = overrides.tls ?? tls
      return (chosen !== undefined ? { ...core, tls: chosen } : core) as Options
    })
  )
}
