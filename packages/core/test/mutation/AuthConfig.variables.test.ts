/**
 * The client authentication chosen from configuration variables (internal/authConfig.ts): the private key from
 * `<prefix>_PRIVATE_KEY` or a second source (platform-node's key file), never both; the method implied by a key or a
 * client certificate; and each ConfigError's path and text, which name the variable to set (and the key file when
 * there is one).
 */
import { OAuth2HttpClient } from "@effect-oauth2/core"
import { assert, describe, it } from "@effect/vitest"
import { deepStrictEqual, strictEqual } from "@effect/vitest/utils"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as crypto from "node:crypto"
import * as authConfig from "../../src/internal/authConfig.js"
import { failure, tokenUrl } from "../utils/Grant.js"

const pair = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" })
const pem = pair.privateKey.export({ format: "pem", type: "pkcs8" }) as string

const keyFile = "OAUTH2_PRIVATE_KEY_FILE"
const name = (key: string) => `OAUTH2_${key}`

/** A second key source, as platform-node's key file: set (to `value`) or not. */
const fileSource = (value: string | undefined) => ({
  name: keyFile,
  config: Config.succeed(value === undefined ? Option.none() : Option.some(Redacted.make(value)))
})

const withEnv = (variables: Record<string, string>) =>
  Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(variables))))

/** The key read by `authConfig.privateKey`, as text (or "none"). */
const keyRead = (variables: Record<string, string>, file: string | undefined) =>
  Effect.map(
    authConfig.privateKey(name("PRIVATE_KEY"), fileSource(file)).pipe(withEnv(variables)),
    (option) => Option.match(option, { onNone: () => "none", onSome: Redacted.value })
  )

const nothing = {
  authMethod: Option.none(),
  clientSecret: Option.none(),
  privateKey: Option.none(),
  keyId: Option.none(),
  clientCertificate: false
} as const

type Read = Parameters<typeof authConfig.auth>[2]

/** The ConfigError of `authConfig.auth`, as its kind, path and message. */
const errorOf = (file: string | undefined, read: Partial<Read>) => {
  const result = authConfig.auth(name, file, { ...nothing, ...read })
  if (Either.isRight(result)) return assert.fail(`expected a ConfigError, got ${result.right?.method}`)
  const error = result.left
  assert.isTrue(error._op === "MissingData" || error._op === "InvalidData", error._op)
  const { _op, message, path } = error as ConfigError.MissingData | ConfigError.InvalidData
  return { _op, path, message }
}

/** The method `authConfig.auth` chooses (undefined: left to the grant). */
const methodOf = (read: Partial<Read>) => {
  const result = authConfig.auth(name, undefined, { ...nothing, ...read })
  if (Either.isLeft(result)) return assert.fail(`expected a method, got ${String(result.left)}`)
  return result.right?.method
}

const secret = Option.some(Redacted.make("client-secret"))
const key = Option.some(Redacted.make(pem))

describe("authConfig (mutation)", () => {
  describe("the private key from the variable or a second source", () => {
    it.effect("either source alone gives its key; neither gives none", () =>
      Effect.gen(function*() {
        strictEqual(yield* keyRead({}, "FROM-FILE"), "FROM-FILE")
        strictEqual(yield* keyRead({ OAUTH2_PRIVATE_KEY: "FROM-VARIABLE" }, undefined), "FROM-VARIABLE")
        strictEqual(yield* keyRead({}, undefined), "none")
      }))

    it.effect("both set is a ConfigError on the variable that names both", () =>
      Effect.gen(function*() {
        const exit = yield* Effect.exit(keyRead({ OAUTH2_PRIVATE_KEY: "FROM-VARIABLE" }, "FROM-FILE"))
        const error = failure(exit)
        assert.isTrue(ConfigError.isConfigError(error))
        strictEqual(error._op, "InvalidData")
        const invalid = error as ConfigError.InvalidData
        deepStrictEqual(invalid.path, ["OAUTH2_PRIVATE_KEY"])
        strictEqual(invalid.message, "Set OAUTH2_PRIVATE_KEY or OAUTH2_PRIVATE_KEY_FILE, not both")
      }))

    it.effect("a key from the second source alone makes OAuth2HttpClient.config choose private_key_jwt", () =>
      Effect.gen(function*() {
        const options = yield* OAuth2HttpClient.config("OAUTH2", {}, { privateKey: fileSource(pem) }).pipe(
          withEnv({ OAUTH2_TOKEN_URL: tokenUrl, OAUTH2_CLIENT_ID: "svc" })
        )
        strictEqual(options.auth?.method, "private_key_jwt")
      }))
  })

  describe("the method implied by what is set", () => {
    it("a client certificate without a secret is tls_client_auth; with a secret, or without both, the grant chooses", () => {
      strictEqual(methodOf({ clientCertificate: true }), "tls_client_auth")
      strictEqual(methodOf({ clientCertificate: true, clientSecret: secret }), undefined)
      strictEqual(methodOf({ clientSecret: secret }), undefined)
      strictEqual(methodOf({}), undefined)
      strictEqual(methodOf({ privateKey: key, clientCertificate: true }), "private_key_jwt")
    })

    it.effect("through OAuth2HttpClient.config: a client certificate source gives tls_client_auth", () =>
      Effect.gen(function*() {
        const options = yield* OAuth2HttpClient.config("OAUTH2", {}, { clientCertificate: Config.succeed(true) }).pipe(
          withEnv({ OAUTH2_TOKEN_URL: tokenUrl, OAUTH2_CLIENT_ID: "svc" })
        )
        strictEqual(options.auth?.method, "tls_client_auth")
      }))
  })

  describe("each ConfigError names the variable to set", () => {
    it("a private key with another method: on AUTH_METHOD", () => {
      for (const [file, keys] of [[undefined, "OAUTH2_PRIVATE_KEY"], [keyFile, `OAUTH2_PRIVATE_KEY or ${keyFile}`]]) {
        deepStrictEqual(
          errorOf(file, { privateKey: key, authMethod: Option.some("client_secret_post") }),
          {
            _op: "InvalidData",
            path: ["OAUTH2_AUTH_METHOD"],
            message:
              `${keys} is set, but OAUTH2_AUTH_METHOD is client_secret_post; a private key is for private_key_jwt`
          }
        )
      }
    })

    it("a key id without a key: on KEY_ID, naming the key variables", () => {
      deepStrictEqual(errorOf(undefined, { keyId: Option.some("kid-1") }), {
        _op: "InvalidData",
        path: ["OAUTH2_KEY_ID"],
        message: "OAUTH2_KEY_ID is set without a private key (OAUTH2_PRIVATE_KEY)"
      })
      deepStrictEqual(errorOf(keyFile, { keyId: Option.some("kid-1") }), {
        _op: "InvalidData",
        path: ["OAUTH2_KEY_ID"],
        message: `OAUTH2_KEY_ID is set without a private key (OAUTH2_PRIVATE_KEY or ${keyFile})`
      })
    })

    it("client_secret_jwt without a secret: on CLIENT_SECRET", () => {
      deepStrictEqual(errorOf(undefined, { authMethod: Option.some("client_secret_jwt") }), {
        _op: "MissingData",
        path: ["OAUTH2_CLIENT_SECRET"],
        message: "OAUTH2_AUTH_METHOD is client_secret_jwt: set OAUTH2_CLIENT_SECRET, the key of the assertion"
      })
    })

    it("private_key_jwt without a key: on PRIVATE_KEY, naming the key file when there is one", () => {
      deepStrictEqual(errorOf(undefined, { authMethod: Option.some("private_key_jwt") }), {
        _op: "MissingData",
        path: ["OAUTH2_PRIVATE_KEY"],
        message: "OAUTH2_AUTH_METHOD is private_key_jwt: set OAUTH2_PRIVATE_KEY (PKCS#8 PEM or a JWK as JSON)"
      })
      deepStrictEqual(errorOf(keyFile, { authMethod: Option.some("private_key_jwt") }), {
        _op: "MissingData",
        path: ["OAUTH2_PRIVATE_KEY"],
        message:
          `OAUTH2_AUTH_METHOD is private_key_jwt: set OAUTH2_PRIVATE_KEY or ${keyFile} (PKCS#8 PEM or a JWK as JSON)`
      })
    })
  })
})
