/**
 * OAuth2HttpClient.config: which variable each option is read from, how lists and URLs are parsed, and what a
 * missing or malformed variable's ConfigError names.
 */
import { OAuth2HttpClient } from "@effect-oauth2/core"
import { assert, describe, it } from "@effect/vitest"
import { deepStrictEqual, strictEqual } from "@effect/vitest/utils"
import type * as ConfigError from "effect/ConfigError"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"

const tokenUrl = "https://as.example/token"

const env = (map: Record<string, string>) =>
  Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(map))))

const read = (map: Record<string, string>, prefix?: string) =>
  OAuth2HttpClient.config(prefix).pipe(Effect.provide(env(map)))

const readError = (map: Record<string, string>) => Effect.flip(read(map))

/** The InvalidData or MissingData error's op, path and message. */
const described = (error: ConfigError.ConfigError) => {
  if (error._op !== "InvalidData" && error._op !== "MissingData") return assert.fail(`unexpected ${String(error)}`)
  return [error._op, error.path, error.message]
}

describe("OAuth2HttpClient.config: variables", () => {
  it.effect("neither OAUTH2_TOKEN_URL nor OAUTH2_ISSUER: MissingData at OAUTH2_TOKEN_URL that names both", () =>
    Effect.gen(function*() {
      deepStrictEqual(described(yield* readError({ OAUTH2_CLIENT_ID: "svc" })), [
        "MissingData",
        ["OAUTH2_TOKEN_URL"],
        "Expected OAUTH2_TOKEN_URL (the token endpoint) or OAUTH2_ISSUER (to discover it) to be set"
      ])
    }))

  it.effect("a malformed origin is InvalidData at OAUTH2_ORIGINS, saying what was expected", () =>
    Effect.gen(function*() {
      const error = yield* readError({ OAUTH2_TOKEN_URL: tokenUrl, OAUTH2_ORIGINS: "https://api.example nope" })
      deepStrictEqual(described(error), [
        "InvalidData",
        ["OAUTH2_ORIGINS"],
        "Expected an absolute http(s) URL, got 4 characters that are not one"
      ])
    }))

  it.effect("URL variables take http and https URLs only", () =>
    Effect.gen(function*() {
      strictEqual(
        (yield* read({ OAUTH2_TOKEN_URL: "http://127.0.0.1:8080/token" })).tokenUrl,
        "http://127.0.0.1:8080/token"
      )
      deepStrictEqual(described(yield* readError({ OAUTH2_TOKEN_URL: "ftp://as.example/token" })), [
        "InvalidData",
        ["OAUTH2_TOKEN_URL"],
        "Expected an absolute http(s) URL, got 22 characters that are not one"
      ])
    }))

  it.effect("lists split on white space and commas, with no empty items from leading or repeated separators", () =>
    Effect.gen(function*() {
      const options = yield* read({ OAUTH2_TOKEN_URL: tokenUrl, OAUTH2_SCOPES: " a, b,,c " })
      deepStrictEqual(options.scopes, ["a", "b", "c"])
    }))

  it.effect("an empty prefix reads the bare names", () =>
    Effect.gen(function*() {
      const options = yield* read({ TOKEN_URL: tokenUrl, CLIENT_ID: "svc", TIMEOUT: "5 seconds" }, "")
      strictEqual(options.tokenUrl, tokenUrl)
      strictEqual(options.clientId, "svc")
    }))

  it.effect("OAUTH2_TIMEOUT is the timeout", () =>
    Effect.gen(function*() {
      const options = yield* read({ OAUTH2_TOKEN_URL: tokenUrl, OAUTH2_TIMEOUT: "10 seconds" })
      strictEqual(Duration.toMillis(options.timeout!), 10_000)
    }))

  it.effect("OAUTH2_DPOP=true sets dpop: true; false or unset leaves dpop out", () =>
    Effect.gen(function*() {
      strictEqual((yield* read({ OAUTH2_TOKEN_URL: tokenUrl, OAUTH2_DPOP: "true" })).dpop, true)
      assert.isFalse("dpop" in (yield* read({ OAUTH2_TOKEN_URL: tokenUrl, OAUTH2_DPOP: "false" })))
      assert.isFalse("dpop" in (yield* read({ OAUTH2_TOKEN_URL: tokenUrl })))
    }))

  it.effect("no secret, no key, no certificate and no method: auth is left out (the grant's default applies)", () =>
    Effect.gen(function*() {
      const options = yield* read({ OAUTH2_TOKEN_URL: tokenUrl, OAUTH2_CLIENT_ID: "svc" })
      // Left out, not undefined: spread over other options, the read ones do not erase their auth.
      assert.isFalse("auth" in options)
    }))
})
