/**
 * The client authentication method chosen from configuration variables (`<prefix>_AUTH_METHOD`, the secret, the
 * private key, a client certificate): each method's requirements are checked when the configuration is read, so a
 * missing piece is a ConfigError that names its variable.
 */
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import * as ClientAuth from "../ClientAuth.js"

/** @internal */
export const methods = [
  "client_secret_basic",
  "client_secret_post",
  "client_secret_jwt",
  "private_key_jwt",
  "tls_client_auth",
  "self_signed_tls_client_auth",
  "none"
] as const

/** @internal */
export type Method = typeof methods[number]

/**
 * The private key from `<prefix>_PRIVATE_KEY` or, when that is not set, from another source (a file on Node);
 * both set is a ConfigError.
 *
 * @internal
 */
export const privateKey = (
  name: string,
  other: { readonly name: string; readonly config: Config.Config<Option.Option<Redacted.Redacted<string>>> } | undefined
): Config.Config<Option.Option<Redacted.Redacted<string>>> => {
  const direct = Config.option(Config.redacted(name))
  if (other === undefined) return direct
  return Config.all([direct, other.config]).pipe(
    Config.mapOrFail(([fromValue, fromOther]) =>
      Option.isSome(fromValue) && Option.isSome(fromOther)
        ? Either.left(ConfigError.InvalidData([name], `Set ${name} or ${other.name}, not both`))
        : Either.right(Option.orElse(fromValue, () => fromOther))
    )
  )
}

interface Read {
  readonly authMethod: Option.Option<Method>
  readonly clientSecret: Option.Option<Redacted.Redacted<string>>
  readonly privateKey: Option.Option<Redacted.Redacted<string>>
  readonly keyId: Option.Option<string>
  readonly clientCertificate: boolean
}

/**
 * The method for what was read; `undefined` leaves the choice to the grant (basic with a secret, or what discovery
 * finds; `none` without one).
 *
 * @internal
 */
export const auth = (
  name: (key: string) => string,
  keyFile: string | undefined,
  read: Read
): Either.Either<ClientAuth.ClientAuth | undefined, ConfigError.ConfigError> => {
  const keyVariables = keyFile === undefined ? name("PRIVATE_KEY") : `${name("PRIVATE_KEY")} or ${keyFile}`
  const method = Option.getOrElse(
    read.authMethod,
    (): Method | undefined =>
      Option.isSome(read.privateKey)
        ? "private_key_jwt"
        : Option.isNone(read.clientSecret) && read.clientCertificate
        ? "tls_client_auth"
        : undefined
  )
  if (Option.isSome(read.privateKey) && method !== "private_key_jwt") {
    return Either.left(
      ConfigError.InvalidData(
        [name("AUTH_METHOD")],
        `${keyVariables} is set, but ${name("AUTH_METHOD")} is ${method}; a private key is for private_key_jwt`
      )
    )
  }
  if (Option.isSome(read.keyId) && method !== "private_key_jwt") {
    return Either.left(
      ConfigError.InvalidData([name("KEY_ID")], `${name("KEY_ID")} is set without a private key (${keyVariables})`)
    )
  }
  // The methods that need nothing beyond what the grant checks itself.
  const plain: Partial<Record<Method, ClientAuth.ClientAuth>> = {
    client_secret_basic: ClientAuth.clientSecretBasic,
    client_secret_post: ClientAuth.clientSecretPost,
    none: ClientAuth.none,
    tls_client_auth: ClientAuth.tlsClientAuth,
    self_signed_tls_client_auth: ClientAuth.selfSignedTlsClientAuth
  }
  if (method === undefined || plain[method] !== undefined) return Either.right(method && plain[method])
  if (method === "client_secret_jwt") {
    return Option.isNone(read.clientSecret)
      ? Either.left(
        ConfigError.MissingData(
          [name("CLIENT_SECRET")],
          `${name("AUTH_METHOD")} is client_secret_jwt: set ${name("CLIENT_SECRET")}, the key of the assertion`
        )
      )
      : Either.right(ClientAuth.clientSecretJwt())
  }
  return Option.isNone(read.privateKey)
    ? Either.left(
      ConfigError.MissingData(
        [name("PRIVATE_KEY")],
        `${name("AUTH_METHOD")} is private_key_jwt: set ${keyVariables} (PKCS#8 PEM or a JWK as JSON)`
      )
    )
    : Either.right(ClientAuth.privateKeyJwt({ key: read.privateKey.value, kid: Option.getOrUndefined(read.keyId) }))
}
