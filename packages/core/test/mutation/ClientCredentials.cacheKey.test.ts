/**
 * ClientCredentials.cacheKey before the client is built: the two cases that have no key yet say why and where to
 * read it instead.
 */
import { ClientCredentials, OAuth2Error } from "@effect-oauth2/core"
import { assert, describe, it } from "@effect/vitest"
import { strictEqual } from "@effect/vitest/utils"
import { Effect } from "effect"

const reasonOf = (options: ClientCredentials.Options) =>
  Effect.map(Effect.flip(ClientCredentials.cacheKey(options)), (error) => {
    assert.isTrue(OAuth2Error.isConfigurationError(error))
    return error.reason
  })

describe("ClientCredentials.cacheKey", () => {
  it.effect("with issuer and no tokenUrl: the token endpoint is known only once discovered", () =>
    Effect.gen(function*() {
      strictEqual(
        yield* reasonOf({ issuer: "https://as.example.com", clientId: "svc" }),
        "cacheKey names the token endpoint: with issuer and no tokenUrl it is known only once discovered; " +
          "read cacheKey from the built OAuth2Client"
      )
    }))

  it.effect("with dpop: true: the DPoP key is generated when the client is built", () =>
    Effect.gen(function*() {
      strictEqual(
        yield* reasonOf({ tokenUrl: "https://as.example.com/token", clientId: "svc", dpop: true }),
        "cacheKey names the DPoP key: with dpop: true it is generated when the client is built; " +
          "read cacheKey from the built OAuth2Client"
      )
    }))
})
