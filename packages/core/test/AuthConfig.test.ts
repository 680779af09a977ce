import { OAuth2Client, OAuth2HttpClient } from "@effect-oauth2/core"
import { assert, describe, it } from "@effect/vitest"
import { deepStrictEqual, strictEqual } from "@effect/vitest/utils"
import * as ConfigError from "effect/ConfigError"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as jose from "jose"
import * as crypto from "node:crypto"
import { failure, tokenUrl } from "./utils/Grant.js"
import * as TestHttp from "./utils/TestHttp.js"

const env = (map: Record<string, string>) =>
  Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(map))))

const pair = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" })
const pem = pair.privateKey.export({ format: "pem", type: "pkcs8" }) as string
const jwk = JSON.stringify(pair.privateKey.export({ format: "jwk" }))

const read = (variables: Record<string, string>) => OAuth2HttpClient.config().pipe(Effect.provide(env(variables)))

/** The ConfigError of reading `variables`, as text. */
const configError = (variables: Record<string, string>) =>
  Effect.gen(function*() {
    const error = failure(yield* Effect.exit(read(variables)))
    assert.isTrue(ConfigError.isConfigError(error), String(error))
    const text = String(error)
    assert.notInclude(text, pem.split("\n")[1]!)
    assert.notInclude(text, JSON.parse(jwk).d)
    return text
  })

describe("configuration of client authentication and discovery (OAUTH2_*)", () => {
  it.effect("OAUTH2_ISSUER replaces OAUTH2_TOKEN_URL", () =>
    Effect.gen(function*() {
      const options = yield* read({ OAUTH2_ISSUER: "https://as.example.com", OAUTH2_CLIENT_ID: "svc" })
      strictEqual(options.issuer, "https://as.example.com")
      strictEqual(options.tokenUrl, undefined)
    }))

  it.effect("neither OAUTH2_TOKEN_URL nor OAUTH2_ISSUER: a ConfigError naming both", () =>
    Effect.gen(function*() {
      const text = yield* configError({ OAUTH2_CLIENT_ID: "svc" })
      assert.include(text, "OAUTH2_TOKEN_URL")
      assert.include(text, "OAUTH2_ISSUER")
    }))

  it.effect("a malformed OAUTH2_ISSUER is a ConfigError naming it", () =>
    Effect.gen(function*() {
      assert.include(yield* configError({ OAUTH2_ISSUER: "as.example.com" }), "OAUTH2_ISSUER")
    }))

  it.effect("OAUTH2_PRIVATE_KEY (PEM or JWK JSON) gives private_key_jwt, OAUTH2_KEY_ID its kid", () =>
    Effect.gen(function*() {
      for (const key of [pem, jwk]) {
        const options = yield* read({
          OAUTH2_TOKEN_URL: tokenUrl,
          OAUTH2_CLIENT_ID: "svc",
          OAUTH2_PRIVATE_KEY: key,
          OAUTH2_KEY_ID: "kid-from-env"
        })
        strictEqual(options.auth?.method, "private_key_jwt")
        strictEqual(options.clientSecret, undefined)
        const http = TestHttp.make(() => TestHttp.token("at"))
        yield* Effect.scoped(
          Effect.flatMap(OAuth2Client.make(options), (client) => client.token.get)
        ).pipe(Effect.provide(http.layer))
        const request = http.requests[0]!
        const assertion = request.form.get("client_assertion")!
        deepStrictEqual(jose.decodeProtectedHeader(assertion), { alg: "ES256", kid: "kid-from-env" })
        yield* Effect.promise(() => jose.compactVerify(assertion, pair.publicKey))
        strictEqual(request.headers["authorization"], undefined)
      }
    }))

  it.effect("OAUTH2_AUTH_METHOD takes the new methods", () =>
    Effect.gen(function*() {
      const methodOf = (variables: Record<string, string>) =>
        Effect.map(read({ OAUTH2_TOKEN_URL: tokenUrl, OAUTH2_CLIENT_ID: "svc", ...variables }), (o) => o.auth?.method)
      strictEqual(yield* methodOf({ OAUTH2_AUTH_METHOD: "tls_client_auth" }), "tls_client_auth")
      strictEqual(
        yield* methodOf({ OAUTH2_AUTH_METHOD: "self_signed_tls_client_auth" }),
        "self_signed_tls_client_auth"
      )
      strictEqual(
        yield* methodOf({ OAUTH2_AUTH_METHOD: "client_secret_jwt", OAUTH2_CLIENT_SECRET: "s".repeat(32) }),
        "client_secret_jwt"
      )
      strictEqual(
        yield* methodOf({ OAUTH2_AUTH_METHOD: "private_key_jwt", OAUTH2_PRIVATE_KEY: pem }),
        "private_key_jwt"
      )
      // Without a method, a secret leaves the choice to the grant (basic, or what discovery finds).
      strictEqual(yield* methodOf({ OAUTH2_CLIENT_SECRET: "x" }), undefined)
    }))

  it.effect("a method without what it needs is a ConfigError naming the missing variable", () =>
    Effect.gen(function*() {
      const base = { OAUTH2_TOKEN_URL: tokenUrl, OAUTH2_CLIENT_ID: "svc" }
      const noKey = yield* configError({ ...base, OAUTH2_AUTH_METHOD: "private_key_jwt" })
      assert.include(noKey, "OAUTH2_PRIVATE_KEY")
      const noSecret = yield* configError({ ...base, OAUTH2_AUTH_METHOD: "client_secret_jwt" })
      assert.include(noSecret, "OAUTH2_CLIENT_SECRET")
    }))

  it.effect("a private key with another method, or a key id without a key, is a ConfigError", () =>
    Effect.gen(function*() {
      const base = { OAUTH2_TOKEN_URL: tokenUrl, OAUTH2_CLIENT_ID: "svc" }
      const other = yield* configError({ ...base, OAUTH2_PRIVATE_KEY: pem, OAUTH2_AUTH_METHOD: "client_secret_basic" })
      assert.include(other, "OAUTH2_AUTH_METHOD")
      assert.include(other, "a private key is for private_key_jwt")
      const kid = yield* configError({ ...base, OAUTH2_KEY_ID: "k" })
      assert.include(kid, "OAUTH2_KEY_ID")
    }))

  it.effect("an unusable OAUTH2_PRIVATE_KEY fails the layer with a ConfigurationError that does not quote it", () =>
    Effect.gen(function*() {
      const publicPem = pair.publicKey.export({ format: "pem", type: "spki" }) as string
      const http = TestHttp.make(() => TestHttp.token("at"))
      const exit = yield* Layer.build(
        OAuth2HttpClient.layerFromEnv().pipe(
          Layer.provide(http.layer),
          Layer.provide(env({ OAUTH2_TOKEN_URL: tokenUrl, OAUTH2_CLIENT_ID: "svc", OAUTH2_PRIVATE_KEY: publicPem }))
        )
      ).pipe(Effect.scoped, Effect.exit)
      const error = failure(exit)
      strictEqual(error._tag, "ConfigurationError")
      assert.include(error.message, "the PEM holds a public key")
      assert.notInclude(error.message, publicPem.split("\n")[1]!)
      strictEqual(http.requests.length, 0)
    }))

  it.effect("the prefix applies to the new variables", () =>
    Effect.gen(function*() {
      const options = yield* OAuth2HttpClient.config("BILLING").pipe(
        Effect.provide(env({ BILLING_ISSUER: "https://as.example.com", BILLING_PRIVATE_KEY: pem }))
      )
      strictEqual(options.issuer, "https://as.example.com")
      strictEqual(options.auth?.method, "private_key_jwt")
    }))
})
