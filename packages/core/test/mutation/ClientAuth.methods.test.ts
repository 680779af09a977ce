/**
 * The built-in client authentication methods called directly (ClientAuth.ts): their `token_endpoint_auth_method`
 * names, the ConfigurationError of a missing client id or secret (it names the method and the missing piece), the
 * Basic header of the last (id, secret) pair reused only for that same pair, `none` and `client_secret_post` without
 * a client id, the `what` that names the method in key errors, and which methods count as mutual TLS.
 */
import { ClientAuth, OAuth2Error } from "@effect-oauth2/core"
import { assert, describe, it } from "@effect/vitest"
import { deepStrictEqual, strictEqual } from "@effect/vitest/utils"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as crypto from "node:crypto"
import { decodeBasic, failure, tokenUrl } from "../utils/Grant.js"

const grantType = ["grant_type", "client_credentials"] as const

const request = (
  clientId: string | undefined,
  clientSecret: Redacted.Redacted<string> | undefined
): ClientAuth.TokenRequest => ({
  url: new URL(tokenUrl),
  headers: { accept: "application/json" },
  body: [grantType],
  clientId,
  clientSecret
})

/** The reason of the ConfigurationError that `auth` fails `input` with. */
const reasonOf = (auth: ClientAuth.ClientAuth, input: ClientAuth.TokenRequest) =>
  Effect.map(Effect.exit(auth.authenticate(input)), (exit) => {
    const error = failure(exit)
    assert.isTrue(OAuth2Error.isConfigurationError(error), String(error))
    return (error as OAuth2Error.ConfigurationError).reason
  })

const advice = "set clientId and clientSecret, or choose another auth"

describe("ClientAuth methods (mutation)", () => {
  it("each built-in method carries its RFC 7591 token_endpoint_auth_method name", () => {
    strictEqual(ClientAuth.clientSecretBasic.method, "client_secret_basic")
    strictEqual(ClientAuth.clientSecretBasicInterop.method, "client_secret_basic")
    strictEqual(ClientAuth.clientSecretBasicWith("none").method, "client_secret_basic")
    strictEqual(ClientAuth.clientSecretPost.method, "client_secret_post")
    strictEqual(ClientAuth.none.method, "none")
  })

  it("only the two RFC 8705 methods are mutual TLS", () => {
    assert.isTrue(ClientAuth.isMutualTls(ClientAuth.tlsClientAuth))
    assert.isTrue(ClientAuth.isMutualTls(ClientAuth.selfSignedTlsClientAuth))
    for (
      const auth of [
        ClientAuth.clientSecretBasic,
        ClientAuth.clientSecretPost,
        ClientAuth.none,
        ClientAuth.clientSecretJwt(),
        ClientAuth.make("custom", Effect.succeed)
      ]
    ) {
      assert.isFalse(ClientAuth.isMutualTls(auth), auth.method)
    }
  })

  it.effect("client_secret_basic without a client id or a secret: a ConfigurationError naming what is missing", () =>
    Effect.gen(function*() {
      const auth = ClientAuth.clientSecretBasicWith("form")
      strictEqual(
        yield* reasonOf(auth, request(undefined, Redacted.make("client-secret"))),
        `client_secret_basic needs a client id; ${advice}`
      )
      strictEqual(
        yield* reasonOf(auth, request("client", undefined)),
        `client_secret_basic needs a client secret; ${advice}`
      )
    }))

  it.effect("client_secret_post without a client id fails, even with a secret", () =>
    Effect.gen(function*() {
      strictEqual(
        yield* reasonOf(ClientAuth.clientSecretPost, request(undefined, Redacted.make("client-secret"))),
        `client_secret_post needs a client id; ${advice}`
      )
    }))

  it.effect("none without a client id leaves the request as it is", () =>
    Effect.gen(function*() {
      const input = request(undefined, undefined)
      const output = yield* ClientAuth.none.authenticate(input)
      deepStrictEqual(output.body, [grantType])
      deepStrictEqual(output.headers, { accept: "application/json" })
      const withId = yield* ClientAuth.none.authenticate(request("public-client", undefined))
      deepStrictEqual(withId.body, [grantType, ["client_id", "public-client"]])
    }))

  it.effect("client_secret_basic reuses a header only for the same client id and the same secret", () =>
    Effect.gen(function*() {
      const auth = ClientAuth.clientSecretBasicWith("form")
      const secret = Redacted.make("client-secret")
      const other = Redacted.make("other-secret")
      const basic = (clientId: string, clientSecret: Redacted.Redacted<string>) =>
        Effect.map(auth.authenticate(request(clientId, clientSecret)), (output) => {
          deepStrictEqual(output.body, [grantType])
          strictEqual(output.headers["accept"], "application/json")
          return decodeBasic(output.headers["authorization"])
        })
      strictEqual(yield* basic("alice", secret), "alice:client-secret")
      strictEqual(yield* basic("alice", secret), "alice:client-secret")
      // Another id with the same secret, then the same id with another secret: a new header each time.
      strictEqual(yield* basic("bob", secret), "bob:client-secret")
      strictEqual(yield* basic("bob", other), "bob:other-secret")
      strictEqual(yield* basic("alice", other), "alice:other-secret")
      strictEqual(yield* basic("alice", secret), "alice:client-secret")
    }))

  it.effect("a key that cannot sign names private_key_jwt in the error", () =>
    Effect.gen(function*() {
      const pair = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" })
      const publicPem = pair.publicKey.export({ format: "pem", type: "spki" }) as string
      const auth = ClientAuth.privateKeyJwt({ key: Redacted.make(publicPem) })
      const exit = yield* Effect.exit(
        auth.resolve!({ tokenEndpoint: new URL(tokenUrl), issuer: undefined, clientId: "svc", clientSecret: undefined })
      )
      const reason = failure(exit).reason
      assert.isTrue(reason.startsWith("private_key_jwt key: "), reason)
    }))

  it.effect("a too short HMAC secret names client_secret_jwt in the error", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(
        ClientAuth.clientSecretJwt().resolve!({
          tokenEndpoint: new URL(tokenUrl),
          issuer: undefined,
          clientId: "svc",
          clientSecret: Redacted.make("short")
        })
      )
      strictEqual(
        failure(exit).reason,
        "client_secret_jwt: the client secret has 5 bytes; HS256 needs at least 32 (RFC 7518 §3.2)"
      )
    }))
})
