import { Credentials } from "@effect-oauth2/core"
import { assert, describe, it } from "@effect/vitest"
import { deepStrictEqual, strictEqual } from "@effect/vitest/utils"
import * as Effect from "effect/Effect"
import * as Inspectable from "effect/Inspectable"
import * as ParseResult from "effect/ParseResult"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as util from "node:util"
import { make } from "./utils/Credentials.js"
import { failure } from "./utils/Grant.js"

const full = () =>
  make({
    accessToken: Redacted.make("ACCESS-TOKEN-VALUE"),
    refreshToken: Redacted.make("REFRESH-TOKEN-VALUE"),
    idToken: Redacted.make("ID-TOKEN-VALUE"),
    tokenEndpoint: "https://as.example.com/oauth2/token",
    scopes: ["openid", "api:read"],
    expiresAt: 1_767_225_600_000,
    issuedAt: 1_767_222_010_000,
    expiresIn: 3600,
    extra: { session_state: "s" }
  })

describe("Credentials", () => {
  describe("the Dart package's JSON", () => {
    it.effect("writes Credentials('access token') exactly as Dart's toJson does", () =>
      Effect.gen(function*() {
        strictEqual(
          yield* Credentials.toDartJson(make()),
          `{"accessToken":"access token","refreshToken":null,"idToken":null,"tokenEndpoint":null,"scopes":[],` +
            `"expiration":null}`
        )
      }))

    it.effect("writes every field, keys in Dart's order", () =>
      Effect.gen(function*() {
        const json = yield* Credentials.toDartJson(full())
        strictEqual(
          json,
          `{"accessToken":"ACCESS-TOKEN-VALUE","refreshToken":"REFRESH-TOKEN-VALUE","idToken":"ID-TOKEN-VALUE",` +
            `"tokenEndpoint":"https://as.example.com/oauth2/token","scopes":["openid","api:read"],` +
            `"expiration":1767225600000}`
        )
        deepStrictEqual(Object.keys(JSON.parse(json)), [
          "accessToken",
          "refreshToken",
          "idToken",
          "tokenEndpoint",
          "scopes",
          "expiration"
        ])
      }))

    it.effect("writes expiration as whole milliseconds", () =>
      Effect.gen(function*() {
        const json = JSON.parse(yield* Credentials.toDartJson(make({ expiresAt: 1234.7 })))
        strictEqual(json.expiration, 1234)
      }))

    it.effect("round-trips", () =>
      Effect.gen(function*() {
        const original = full()
        const loaded = yield* Credentials.fromDartJson(yield* Credentials.toDartJson(original))
        strictEqual(Redacted.value(loaded.accessToken), "ACCESS-TOKEN-VALUE")
        strictEqual(Redacted.value(loaded.refreshToken!), "REFRESH-TOKEN-VALUE")
        strictEqual(Redacted.value(loaded.idToken!), "ID-TOKEN-VALUE")
        strictEqual(loaded.tokenEndpoint, original.tokenEndpoint)
        deepStrictEqual(loaded.scopes, original.scopes)
        strictEqual(loaded.expiresAt, original.expiresAt)
        strictEqual(loaded.tokenType, "Bearer")
        strictEqual(yield* Credentials.toDartJson(loaded), yield* Credentials.toDartJson(original))

        const minimal = yield* Credentials.fromDartJson(yield* Credentials.toDartJson(make()))
        strictEqual(minimal.expiresAt, undefined)
        strictEqual(minimal.refreshToken, undefined)
        strictEqual(minimal.idToken, undefined)
        strictEqual(minimal.tokenEndpoint, "")
      }))

    it.effect("loads a file written by Dart", () =>
      Effect.gen(function*() {
        // as `File(path).writeAsString(client.credentials.toJson())` leaves it
        const file = "{\"accessToken\":\"ya29.a0AfB_byC-dart\",\"refreshToken\":\"1//0gRefresh\",\"idToken\":null," +
          "\"tokenEndpoint\":\"https://oauth2.googleapis.com/token\",\"scopes\":[\"openid\",\"email\"]," +
          "\"expiration\":1767225600123}"
        const credentials = yield* Credentials.fromDartJson(file)
        strictEqual(Redacted.value(credentials.accessToken), "ya29.a0AfB_byC-dart")
        strictEqual(Redacted.value(credentials.refreshToken!), "1//0gRefresh")
        strictEqual(credentials.idToken, undefined)
        strictEqual(credentials.tokenEndpoint, "https://oauth2.googleapis.com/token")
        deepStrictEqual(credentials.scopes, ["openid", "email"])
        strictEqual(credentials.expiresAt, 1767225600123)
        strictEqual(credentials.tokenType, "Bearer")
        assert.isFalse(credentials.isExpired(1767225600123))
        assert.isTrue(credentials.isExpired(1767225600124))
        // and it is written back byte for byte
        strictEqual(yield* Credentials.toDartJson(credentials), file)
      }))

    it.effect("loads pretty-printed JSON and the shortest form", () =>
      Effect.gen(function*() {
        const pretty = yield* Credentials.fromDartJson(`{
  "accessToken": "t",
  "refreshToken": null,
  "idToken": null,
  "tokenEndpoint": null,
  "scopes": [],
  "expiration": null
}`)
        strictEqual(Redacted.value(pretty.accessToken), "t")
        const shortest = yield* Credentials.fromDartJson(`{"accessToken":"t"}`)
        deepStrictEqual(shortest.scopes, [])
        strictEqual(shortest.expiresAt, undefined)
      }))

    it.effect("malformed JSON is a ParseError, not a throw", () =>
      Effect.gen(function*() {
        const inputs = [
          "",
          "not json",
          "null",
          "[]",
          "\"accessToken\"",
          "{}",
          `{"accessToken":1}`,
          `{"accessToken":null}`,
          `{"accessToken":"t","refreshToken":5}`,
          `{"accessToken":"t","idToken":{}}`,
          `{"accessToken":"t","tokenEndpoint":true}`,
          `{"accessToken":"t","scopes":"a b"}`,
          `{"accessToken":"t","scopes":[1]}`,
          `{"accessToken":"t","expiration":"1767225600000"}`,
          `{"accessToken":"t","expiration":1.5}`
        ]
        for (const input of inputs) {
          const exit = yield* Effect.exit(Effect.suspend(() => Credentials.fromDartJson(input)))
          const error = failure(exit)
          assert.isTrue(ParseResult.isParseError(error), input)
        }
      }))
  })

  describe("this library's JSON", () => {
    it.effect("round-trips every field", () =>
      Effect.gen(function*() {
        const original = full()
        const json = yield* Schema.encode(Credentials.FromJson)(original)
        const loaded = yield* Schema.decode(Credentials.FromJson)(json)
        strictEqual(Redacted.value(loaded.accessToken), "ACCESS-TOKEN-VALUE")
        strictEqual(loaded.issuedAt, original.issuedAt)
        strictEqual(loaded.expiresIn, 3600)
        deepStrictEqual(loaded.extra, { session_state: "s" })
        strictEqual(loaded.lifetimeMillis, original.lifetimeMillis)
      }))
  })

  describe("output never shows a token", () => {
    it("String, toString, toJSON, JSON.stringify and inspect", () => {
      const credentials = full()
      const outputs = [
        String(credentials),
        `${credentials}`,
        credentials.toString(),
        JSON.stringify(credentials),
        Inspectable.format(credentials),
        util.inspect(credentials),
        util.inspect(credentials, { depth: Infinity, showHidden: true }),
        util.format("%o %O %s %j", credentials, credentials, credentials, credentials)
      ]
      for (const output of outputs) {
        assert.notInclude(output, "ACCESS-TOKEN-VALUE")
        assert.notInclude(output, "REFRESH-TOKEN-VALUE")
        assert.notInclude(output, "ID-TOKEN-VALUE")
      }
      assert.include(String(credentials), "<redacted>")
      assert.include(util.inspect(credentials), "<redacted>")
    })
  })

  describe("isExpired", () => {
    it("is strictly after expiresAt; credentials without expiresAt never expire", () => {
      const credentials = make({ expiresAt: 1000, issuedAt: 0 })
      assert.isFalse(credentials.isExpired(999))
      assert.isFalse(credentials.isExpired(1000))
      assert.isTrue(credentials.isExpired(1001))
      assert.isTrue(Credentials.isExpired(credentials, 1001))
      strictEqual(credentials.lifetimeMillis, 1000)
      assert.isFalse(make().isExpired(Number.MAX_SAFE_INTEGER))
      strictEqual(make().lifetimeMillis, undefined)
    })
  })
})
