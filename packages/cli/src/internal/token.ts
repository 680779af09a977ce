import type { Credentials } from "@effect-oauth2/core"
import { OAuth2Client } from "@effect-oauth2/core"
import { NodeOAuth2 } from "@effect-oauth2/platform-node"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { decodeJwt, decodeProtectedHeader } from "jose"
import { flags, resolve } from "./config.js"
import { CommandFailed } from "./errors.js"
import { stdout } from "./output.js"

/**
 * The credentials as JSON, with the names of the RFC 6749 §5.1 response: the token included, `expires_at` as an
 * ISO time (the server's expiry: issue time + `expires_in`).
 *
 * @internal
 */
export const toJson = (credentials: Credentials.Credentials): Record<string, unknown> => ({
  access_token: Redacted.value(credentials.accessToken),
  token_type: credentials.tokenType,
  ...(credentials.expiresIn !== undefined ? { expires_in: credentials.expiresIn } : {}),
  ...(credentials.expiresIn !== undefined && credentials.issuedAt !== undefined
    ? { expires_at: new Date(credentials.issuedAt + credentials.expiresIn * 1000).toISOString() }
    : {}),
  scope: credentials.scopes.join(" "),
  ...(credentials.refreshToken !== undefined ? { refresh_token: Redacted.value(credentials.refreshToken) } : {}),
  ...(credentials.idToken !== undefined ? { id_token: Redacted.value(credentials.idToken) } : {}),
  token_endpoint: credentials.tokenEndpoint,
  ...(Object.keys(credentials.extra).length > 0 ? { extra: credentials.extra } : {})
})

/**
 * A JWT's header and claims, read without checking the signature, and marked so.
 *
 * @internal
 */
export const decode = (token: Redacted.Redacted<string>): Effect.Effect<Record<string, unknown>, CommandFailed> =>
  Effect.try({
    try: () => {
      const value = Redacted.value(token)
      return {
        verified: false,
        note: "UNVERIFIED: decoded without checking the signature; do not trust these claims",
        header: decodeProtectedHeader(value),
        claims: decodeJwt(value)
      }
    },
    catch: () =>
      new CommandFailed({
        message: "--decode: the access token is not a JWT (it is opaque to the client); nothing to decode"
      })
  })

/**
 * `effect-oauth2 token`: one client-credentials grant through the layer, the access token alone on stdout.
 *
 * @internal
 */
export const command = Command.make(
  "token",
  {
    ...flags,
    json: Options.boolean("json").pipe(
      Options.withDescription("print the credentials as JSON (the token included, expires_at as an ISO time)")
    ),
    decode: Options.boolean("decode").pipe(
      Options.withDescription("print the JWT access token's header and claims, unverified")
    )
  },
  (input) =>
    Effect.gen(function*() {
      const options = yield* resolve(input)
      const credentials = yield* Effect.flatMap(OAuth2Client.OAuth2Client, (client) => client.token.get).pipe(
        Effect.provide(NodeOAuth2.layer(options))
      )
      const decoded = input.decode ? yield* decode(credentials.accessToken) : undefined
      if (input.json) {
        const json = { ...toJson(credentials), ...(decoded !== undefined ? { decoded } : {}) }
        return yield* stdout(`${JSON.stringify(json, null, 2)}\n`)
      }
      if (decoded !== undefined) return yield* stdout(`${JSON.stringify(decoded, null, 2)}\n`)
      yield* stdout(`${Redacted.value(credentials.accessToken)}\n`)
    })
).pipe(
  Command.withDescription(
    "Get an access token with the client credentials grant (RFC 6749 §4.4) and print it alone on stdout"
  )
)
