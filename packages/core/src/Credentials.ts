/**
 * The token as data: what a token request produced, with every secret {@link Redacted}.
 *
 * `expiresAt` is the Clock time read *before* the request plus `expires_in`, minus a grace period (10 s by default,
 * as in the Dart package, and never more than half the lifetime), so a token is retired before the server does.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import type * as ParseResult from "effect/ParseResult"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"

/**
 * Credentials obtained from a token endpoint.
 *
 * The Schema's encoded form writes the tokens in clear text: use it only to persist credentials somewhere as
 * private as the client secret.
 *
 * @since 0.1.0
 * @category models
 */
export class Credentials extends Schema.Class<Credentials>("@effect-oauth2/core/Credentials")({
  accessToken: Schema.Redacted(Schema.String),
  /** As the server sent it (`Bearer`, `bearer`, ...). */
  tokenType: Schema.String,
  /** Epoch milliseconds after which the token is no longer used; absent when the server sent no `expires_in`. */
  expiresAt: Schema.optionalWith(Schema.Number, { exact: true }),
  /** Epoch milliseconds read before the token request was sent; absent for credentials loaded from elsewhere. */
  issuedAt: Schema.optionalWith(Schema.Number, { exact: true }),
  /** The server's `expires_in`, in seconds, as sent. */
  expiresIn: Schema.optionalWith(Schema.Number, { exact: true }),
  /** The granted scopes: the response's `scope`, or the requested scopes when the server omitted it. */
  scopes: Schema.Array(Schema.String),
  refreshToken: Schema.optionalWith(Schema.Redacted(Schema.String), { exact: true }),
  idToken: Schema.optionalWith(Schema.Redacted(Schema.String), { exact: true }),
  tokenEndpoint: Schema.String,
  /**
   * For a DPoP-bound token (`tokenType` `DPoP`, RFC 9449): the RFC 7638 thumbprint of the key it is bound to. Such
   * a token is only ever used with that key.
   *
   * @since 0.2.0
   */
  dpopJkt: Schema.optionalWith(Schema.String, { exact: true }),
  /**
   * The `cnf.jkt` claim of a DPoP-bound token that is a JWT (RFC 9449 §6.1): equal to `dpopJkt`.
   *
   * @since 0.2.0
   */
  cnfJkt: Schema.optionalWith(Schema.String, { exact: true }),
  /** Every response field the RFC does not name. */
  extra: Schema.optionalWith(Schema.Record({ key: Schema.String, value: Schema.Unknown }), { default: () => ({}) })
}) {
  /**
   * Whether the credentials are expired at `now` (epoch milliseconds): strictly after `expiresAt`, as in the Dart
   * package. Credentials without `expiresAt` never expire by themselves.
   *
   * @since 0.1.0
   */
  isExpired(now: number): boolean {
    return this.expiresAt !== undefined && now > this.expiresAt
  }

  /**
   * The usable lifetime in milliseconds (`expiresAt − issuedAt`), when both are known.
   *
   * @since 0.1.0
   */
  get lifetimeMillis(): number | undefined {
    return this.expiresAt !== undefined && this.issuedAt !== undefined ? this.expiresAt - this.issuedAt : undefined
  }
}

/**
 * Whether the credentials are expired at `now` (epoch milliseconds).
 *
 * @since 0.1.0
 * @category predicates
 */
export const isExpired = (self: Credentials, now: number): boolean => self.isExpired(now)

/**
 * Whether the credentials are expired by the current `Clock`.
 *
 * @since 0.1.0
 * @category predicates
 */
export const isExpiredNow = (self: Credentials): Effect.Effect<boolean> =>
  Effect.map(Effect.clockWith((clock) => clock.currentTimeMillis), (now) => self.isExpired(now))

/**
 * The Dart `oauth2` package's credentials JSON object (`Credentials.toJson()`), keys in its order, nulls explicit,
 * `expiration` in epoch milliseconds.
 *
 * @since 0.1.0
 * @category schemas
 */
export const DartCredentialsJson = Schema.Struct({
  accessToken: Schema.String,
  refreshToken: Schema.optionalWith(Schema.NullOr(Schema.String), { default: () => null }),
  idToken: Schema.optionalWith(Schema.NullOr(Schema.String), { default: () => null }),
  tokenEndpoint: Schema.optionalWith(Schema.NullOr(Schema.String), { default: () => null }),
  scopes: Schema.optionalWith(Schema.NullOr(Schema.Array(Schema.String)), { default: () => [] }),
  expiration: Schema.optionalWith(Schema.NullOr(Schema.Int), { default: () => null })
})

/**
 * Reads and writes the Dart `oauth2` package's credentials JSON string, so a file written by a Dart program
 * loads, and one written here loads in Dart. The Dart format has no token type (Bearer is assumed), no issue time
 * and no extra fields.
 *
 * @example
 * ```ts
 * import { Credentials } from "@effect-oauth2/core"
 * import { Schema } from "effect"
 *
 * const credentials = Schema.decodeUnknownSync(Credentials.FromDartJson)(
 *   `{"accessToken":"t","refreshToken":null,"idToken":null,"tokenEndpoint":"https://as.example/token","scopes":[],"expiration":1767225600000}`
 * )
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const FromDartJson: Schema.Schema<Credentials, string> = Schema.transform(
  Schema.parseJson(DartCredentialsJson),
  Schema.typeSchema(Credentials),
  {
    strict: true,
    decode: (json) =>
      new Credentials({
        accessToken: Redacted.make(json.accessToken),
        tokenType: "Bearer",
        scopes: json.scopes ?? [],
        tokenEndpoint: json.tokenEndpoint ?? "",
        extra: {},
        ...(json.expiration !== null ? { expiresAt: json.expiration } : {}),
        ...(json.refreshToken !== null ? { refreshToken: Redacted.make(json.refreshToken) } : {}),
        ...(json.idToken !== null ? { idToken: Redacted.make(json.idToken) } : {})
      }),
    encode: (credentials) => ({
      accessToken: Redacted.value(credentials.accessToken),
      refreshToken: credentials.refreshToken !== undefined ? Redacted.value(credentials.refreshToken) : null,
      idToken: credentials.idToken !== undefined ? Redacted.value(credentials.idToken) : null,
      tokenEndpoint: credentials.tokenEndpoint.length > 0 ? credentials.tokenEndpoint : null,
      scopes: credentials.scopes,
      expiration: credentials.expiresAt !== undefined ? Math.floor(credentials.expiresAt) : null
    })
  }
)

/**
 * Loads credentials from the Dart package's JSON.
 *
 * @since 0.1.0
 * @category conversions
 */
export const fromDartJson: (json: string) => Effect.Effect<Credentials, ParseResult.ParseError> = Schema.decode(
  FromDartJson
)

/**
 * Writes credentials as the Dart package's JSON (tokens in clear text).
 *
 * @since 0.1.0
 * @category conversions
 */
export const toDartJson: (credentials: Credentials) => Effect.Effect<string, ParseResult.ParseError> = Schema.encode(
  FromDartJson
)

/**
 * This library's own JSON for credentials (every field, tokens in clear text), as used by token stores.
 *
 * @since 0.1.0
 * @category schemas
 */
export const FromJson: Schema.Schema<Credentials, string> = Schema.parseJson(Credentials)
