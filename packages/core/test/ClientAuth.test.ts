import { ClientAuth, OAuth2Error } from "@effect-oauth2/core"
import { assert, describe, it } from "@effect/vitest"
import { deepStrictEqual, strictEqual } from "@effect/vitest/utils"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { decodeBasic, failure, failureOf, run, success } from "./utils/Grant.js"
import * as TestHttp from "./utils/TestHttp.js"

const header = (id: string, secret: string, encoding?: ClientAuth.BasicEncoding) =>
  Effect.map(ClientAuth.basicHeader(id, Redacted.make(secret), encoding), Redacted.value)

const ok = () => TestHttp.token("at")

describe("ClientAuth", () => {
  describe("client_secret_basic (RFC 6749 §2.3.1)", () => {
    it.effect("form-urlencodes the id and the secret before base64", () =>
      Effect.gen(function*() {
        const value = yield* header("weird:client id", "s3cr3t:+/%& =~")
        strictEqual(decodeBasic(value), "weird%3Aclient+id:s3cr3t%3A%2B%2F%25%26+%3D%7E")
      }))

    it.effect("keeps the form encoding's unreserved characters", () =>
      Effect.gen(function*() {
        strictEqual(decodeBasic(yield* header("a-b.c_d*", "AZaz09")), "a-b.c_d*:AZaz09")
        strictEqual(yield* header("client", "secret"), "Basic Y2xpZW50OnNlY3JldA==")
      }))

    it.effect("encodes non-Latin-1 characters as UTF-8", () =>
      Effect.gen(function*() {
        strictEqual(decodeBasic(yield* header("idëntīfier", "sëcret")), "id%C3%ABnt%C4%ABfier:s%C3%ABcret")
        strictEqual(decodeBasic(yield* header("client", "🔑秘密")), "client:%F0%9F%94%91%E7%A7%98%E5%AF%86")
      }))

    it.effect("base64 is taken of the UTF-8 bytes (encoding none)", () =>
      Effect.gen(function*() {
        const value = yield* header("idëntīfier", "sëcret🔑", "none")
        strictEqual(decodeBasic(value), "idëntīfier:sëcret🔑")
        strictEqual(value, `Basic ${Buffer.from("idëntīfier:sëcret🔑", "utf8").toString("base64")}`)
      }))

    it.effect("the interop variant matches the Dart package's vectors", () =>
      Effect.gen(function*() {
        strictEqual(yield* header("client", "secret", "uri"), "Basic Y2xpZW50OnNlY3JldA==")
        strictEqual(yield* header("identifier", "secret", "uri"), "Basic aWRlbnRpZmllcjpzZWNyZXQ=")
        strictEqual(
          yield* header("idëntīfier", "sëcret", "uri"),
          "Basic aWQlQzMlQUJudCVDNCVBQmZpZXI6cyVDMyVBQmNyZXQ="
        )
        strictEqual(yield* header("test", "test^", "uri"), "Basic dGVzdDp0ZXN0JTVF")
      }))

    it.effect("the interop variant is what clientSecretBasicInterop sends", () =>
      Effect.gen(function*() {
        const { exit, requests } = yield* run(ok, {
          clientId: "test",
          clientSecret: Redacted.make("test^"),
          auth: ClientAuth.clientSecretBasicInterop
        })
        success(exit)
        strictEqual(requests[0].headers["authorization"], "Basic dGVzdDp0ZXN0JTVF")
      }))

    it.effect("a lone surrogate is a ConfigurationError, not a throw, in every encoding", () =>
      Effect.gen(function*() {
        for (const encoding of ["form", "uri", "none"] as const) {
          for (const [id, secret] of [["id\uD800", "secret"], ["id", "se\uDC00cret"], ["id", "secret\uD83D"]]) {
            const exit = yield* Effect.exit(header(id, secret, encoding))
            const error = failure(exit)
            assert.isTrue(OAuth2Error.isConfigurationError(error), encoding)
            assert.include(error.message, "surrogate")
          }
        }
        // a well-formed pair is fine
        strictEqual(decodeBasic(yield* header("id", "\uD83D\uDD11", "none")), "id:🔑")
      }))

    it.effect("a lone surrogate in the secret fails the grant before any request", () =>
      Effect.gen(function*() {
        const { exit, requests } = yield* run(ok, { clientSecret: Redacted.make("bad\uD800") })
        failureOf(exit, "ConfigurationError")
        strictEqual(requests.length, 0)
      }))

    it.effect("is sent as the Authorization header of the token request", () =>
      Effect.gen(function*() {
        const { exit, requests } = yield* run(ok, {
          clientId: "weird:client id",
          clientSecret: Redacted.make("s3cr3t:+/%& =~"),
          auth: ClientAuth.clientSecretBasic
        })
        success(exit)
        strictEqual(decodeBasic(requests[0].headers["authorization"]), "weird%3Aclient+id:s3cr3t%3A%2B%2F%25%26+%3D%7E")
        assert.isFalse(requests[0].form.has("client_id"))
        assert.isFalse(requests[0].form.has("client_secret"))
      }))
  })

  describe("formUrlEncode", () => {
    it("encodes as application/x-www-form-urlencoded", () => {
      strictEqual(ClientAuth.formUrlEncode("a b+c/d?e=f&g~h*i"), "a+b%2Bc%2Fd%3Fe%3Df%26g%7Eh*i")
      strictEqual(ClientAuth.formUrlEncode("ë"), "%C3%AB")
    })
  })

  describe("client_secret_post", () => {
    it.effect("puts client_id and client_secret in the body, no Authorization header", () =>
      Effect.gen(function*() {
        const { exit, requests } = yield* run(ok, {
          clientId: "client id",
          clientSecret: Redacted.make("s3cr3t&=+"),
          auth: ClientAuth.clientSecretPost
        })
        success(exit)
        const request = requests[0]
        strictEqual(request.headers["authorization"], undefined)
        deepStrictEqual([...request.form.keys()], ["grant_type", "client_id", "client_secret"])
        strictEqual(request.form.get("client_id"), "client id")
        strictEqual(request.form.get("client_secret"), "s3cr3t&=+")
      }))

    it.effect("needs a secret: ConfigurationError before any request", () =>
      Effect.gen(function*() {
        const { exit, requests } = yield* run(ok, { clientSecret: undefined, auth: ClientAuth.clientSecretPost })
        const error = failureOf(exit, "ConfigurationError")
        assert.include(error.message, "client_secret_post")
        assert.include(error.message, "client secret")
        strictEqual(requests.length, 0)
      }))
  })

  describe("none", () => {
    it.effect("sends only client_id", () =>
      Effect.gen(function*() {
        const { exit, requests } = yield* run(ok, { auth: ClientAuth.none })
        success(exit)
        const request = requests[0]
        strictEqual(request.headers["authorization"], undefined)
        deepStrictEqual([...request.form.entries()], [["grant_type", "client_credentials"], ["client_id", "client"]])
      }))

    it.effect("sends no client_id when there is none", () =>
      Effect.gen(function*() {
        const { exit, requests } = yield* run(ok, { clientId: undefined, clientSecret: undefined })
        success(exit)
        strictEqual(requests[0].headers["authorization"], undefined)
        deepStrictEqual([...requests[0].form.entries()], [["grant_type", "client_credentials"]])
      }))
  })

  describe("missing id or secret", () => {
    it.effect("basic without a secret: ConfigurationError, zero requests", () =>
      Effect.gen(function*() {
        const { exit, requests } = yield* run(ok, { clientSecret: undefined, auth: ClientAuth.clientSecretBasic })
        const error = failureOf(exit, "ConfigurationError")
        assert.include(error.message, "client_secret_basic")
        strictEqual(requests.length, 0)
      }))

    it.effect("basic without a client id: ConfigurationError, zero requests", () =>
      Effect.gen(function*() {
        const { exit, requests } = yield* run(ok, {
          clientId: undefined,
          clientSecret: undefined,
          auth: ClientAuth.clientSecretBasic
        })
        const error = failureOf(exit, "ConfigurationError")
        assert.include(error.message, "client id")
        strictEqual(requests.length, 0)
      }))

    it.effect("post without a client id: ConfigurationError, zero requests", () =>
      Effect.gen(function*() {
        const { exit, requests } = yield* run(ok, {
          clientId: undefined,
          clientSecret: undefined,
          auth: ClientAuth.clientSecretPost
        })
        failureOf(exit, "ConfigurationError")
        strictEqual(requests.length, 0)
      }))

    it.effect("a secret without a client id: ConfigurationError, zero requests", () =>
      Effect.gen(function*() {
        const { exit, requests } = yield* run(ok, { clientId: undefined })
        const error = failureOf(exit, "ConfigurationError")
        assert.include(error.message, "without a clientId")
        strictEqual(requests.length, 0)
      }))

    it.effect("an empty client id: ConfigurationError, zero requests", () =>
      Effect.gen(function*() {
        const { exit, requests } = yield* run(ok, { clientId: "" })
        failureOf(exit, "ConfigurationError")
        strictEqual(requests.length, 0)
      }))
  })

  describe("default", () => {
    it("is client_secret_basic with a secret, none without", () => {
      strictEqual(ClientAuth.defaultFor({ clientSecret: Redacted.make("s") }), ClientAuth.clientSecretBasic)
      strictEqual(ClientAuth.defaultFor({}), ClientAuth.none)
      strictEqual(ClientAuth.clientSecretBasic.method, "client_secret_basic")
      strictEqual(ClientAuth.clientSecretPost.method, "client_secret_post")
      strictEqual(ClientAuth.none.method, "none")
    })

    it.effect("the grant uses Basic when a secret is given", () =>
      Effect.gen(function*() {
        const { exit, requests } = yield* run(ok)
        success(exit)
        strictEqual(requests[0].headers["authorization"], "Basic Y2xpZW50OnNlY3JldA==")
        assert.isFalse(requests[0].form.has("client_id"))
      }))

    it.effect("the grant sends client_id in the body when no secret is given", () =>
      Effect.gen(function*() {
        const { exit, requests } = yield* run(ok, { clientSecret: undefined })
        success(exit)
        strictEqual(requests[0].headers["authorization"], undefined)
        strictEqual(requests[0].form.get("client_id"), "client")
        assert.isFalse(requests[0].form.has("client_secret"))
      }))
  })

  describe("custom methods", () => {
    it.effect("a ClientAuth made with make plugs in", () =>
      Effect.gen(function*() {
        const seen: Array<ClientAuth.TokenRequest> = []
        const assertion = ClientAuth.make("private_key_jwt", (request) =>
          Effect.sync(() => {
            seen.push(request)
            return {
              ...request,
              headers: { ...request.headers, "x-client": request.clientId ?? "" },
              body: [
                ...request.body,
                ["client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"],
                ["client_assertion", "signed.jwt.value"]
              ]
            }
          }))
        const { exit, requests } = yield* run(ok, { auth: assertion, clientSecret: undefined, scopes: ["a"] })
        success(exit)
        strictEqual(seen.length, 1)
        strictEqual(seen[0].clientId, "client")
        strictEqual(seen[0].url.href, "https://as.example.com/oauth2/token")
        deepStrictEqual(seen[0].body, [["grant_type", "client_credentials"], ["scope", "a"]])
        const request = requests[0]
        strictEqual(request.headers["x-client"], "client")
        strictEqual(request.headers["authorization"], undefined)
        strictEqual(request.form.get("client_assertion"), "signed.jwt.value")
        strictEqual(request.form.get("client_assertion_type"), "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
      }))

    it.effect("a custom method's failure ends the grant before any request", () =>
      Effect.gen(function*() {
        const refusing = ClientAuth.make(
          "custom",
          () => Effect.fail(new OAuth2Error.ConfigurationError({ reason: "no key configured" }))
        )
        const { exit, requests } = yield* run(ok, { auth: refusing })
        const error = failureOf(exit, "ConfigurationError")
        assert.include(error.message, "no key configured")
        strictEqual(requests.length, 0)
      }))
  })
})
