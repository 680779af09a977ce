import { OAuth2Error, TokenResponse } from "@effect-oauth2/core"
import { assert, describe, it } from "@effect/vitest"
import { deepStrictEqual, strictEqual } from "@effect/vitest/utils"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Redacted from "effect/Redacted"
import { failure, success } from "./utils/Grant.js"

const tokenEndpoint = "https://as.example.com/oauth2/token"

const decode = (
  status: number,
  contentType: string | undefined,
  body: string,
  options: Partial<TokenResponse.DecodeOptions> & { readonly location?: string } = {}
) =>
  Effect.exit(
    TokenResponse.decode(
      { status, contentType, body, ...(options.location !== undefined ? { location: options.location } : {}) },
      { tokenEndpoint, ...options }
    )
  )

const json = (body: unknown, status = 200) => decode(status, "application/json", JSON.stringify(body))

const valid = { access_token: "at-1", token_type: "Bearer", expires_in: 3600 }

type DecodeExit = Exit.Exit<TokenResponse.TokenResponse, OAuth2Error.ErrorResponse | OAuth2Error.InvalidResponse>

const invalid = (exit: DecodeExit) => {
  const error = failure(exit)
  assert.isTrue(OAuth2Error.isInvalidResponse(error), `expected InvalidResponse, got ${String(error)}`)
  return error as OAuth2Error.InvalidResponse
}

const refused = (exit: DecodeExit) => {
  const error = failure(exit)
  assert.isTrue(OAuth2Error.isErrorResponse(error), `expected ErrorResponse, got ${String(error)}`)
  return error as OAuth2Error.ErrorResponse
}

describe("TokenResponse.decode", () => {
  it.effect("an error response's fields are clipped: a megabyte of description does not reach every log line", () =>
    Effect.gen(function*() {
      const description = "d".repeat(1_000_000)
      const error = refused(
        yield* json({ error: "invalid_request", error_description: description, error_uri: "u".repeat(5000) }, 400)
      )
      strictEqual(error.error, "invalid_request")
      strictEqual(error.errorDescription, `${"d".repeat(1000)}…`)
      strictEqual(error.errorUri, `${"u".repeat(1000)}…`)
      assert.isBelow(error.message.length, 3000)
      const long = refused(yield* json({ error: "e".repeat(500) }, 400))
      strictEqual(long.error, `${"e".repeat(200)}…`)
      // A short description is kept whole.
      strictEqual(
        refused(yield* json({ error: "invalid_scope", error_description: "nope" }, 400)).errorDescription,
        "nope"
      )
    }))

  describe("success (RFC 6749 §5.1)", () => {
    it.effect("decodes a 200 JSON body", () =>
      Effect.gen(function*() {
        const response = success(
          yield* json({ ...valid, refresh_token: "rt-1", id_token: "id-1", scope: "a b" })
        )
        strictEqual(Redacted.value(response.accessToken), "at-1")
        strictEqual(response.tokenType, "Bearer")
        strictEqual(response.expiresIn, 3600)
        strictEqual(Redacted.value(response.refreshToken!), "rt-1")
        strictEqual(Redacted.value(response.idToken!), "id-1")
        strictEqual(response.scope, "a b")
        deepStrictEqual(response.extra, {})
      }))

    it.effect("accepts a content type with parameters", () =>
      Effect.gen(function*() {
        const response = success(yield* decode(200, "application/json; charset=utf-8", JSON.stringify(valid)))
        strictEqual(Redacted.value(response.accessToken), "at-1")
        success(yield* decode(200, "Application/JSON;charset=UTF-8", JSON.stringify(valid)))
      }))

    it.effect("accepts the other JSON media types and JSON sent as text/plain", () =>
      Effect.gen(function*() {
        for (const type of ["text/javascript", "application/javascript", "text/json", "application/vnd.x+json"]) {
          strictEqual(Redacted.value(success(yield* decode(200, type, JSON.stringify(valid))).accessToken), "at-1")
        }
        strictEqual(
          Redacted.value(success(yield* decode(200, "text/plain; charset=utf-8", JSON.stringify(valid))).accessToken),
          "at-1"
        )
      }))

    it.effect("accepts a form-urlencoded 200 body (GitHub style)", () =>
      Effect.gen(function*() {
        const response = success(
          yield* decode(
            200,
            "application/x-www-form-urlencoded; charset=utf-8",
            "access_token=gho_16C7e42F292c6912E7710c838347Ae178B4a&scope=repo%2Cgist&token_type=bearer&expires_in=28800"
          )
        )
        strictEqual(Redacted.value(response.accessToken), "gho_16C7e42F292c6912E7710c838347Ae178B4a")
        strictEqual(response.tokenType, "bearer")
        strictEqual(response.scope, "repo,gist")
        strictEqual(response.expiresIn, 28800)
      }))

    it.effect("token_type is case-insensitive: bearer, Bearer, BEARER", () =>
      Effect.gen(function*() {
        for (const tokenType of ["bearer", "Bearer", "BEARER", "bEaReR"]) {
          strictEqual(success(yield* json({ ...valid, token_type: tokenType })).tokenType, tokenType)
        }
      }))

    it.effect("keeps unknown fields in extra", () =>
      Effect.gen(function*() {
        const response = success(
          yield* json({ ...valid, "not-before-policy": 0, session_state: "abc", nested: { a: [1, 2] } })
        )
        deepStrictEqual(response.extra, { "not-before-policy": 0, session_state: "abc", nested: { a: [1, 2] } })
      }))

    it.effect("refresh_token and id_token are Redacted", () =>
      Effect.gen(function*() {
        const response = success(yield* json({ ...valid, refresh_token: "RT-VALUE", id_token: "ID-VALUE" }))
        assert.isTrue(Redacted.isRedacted(response.accessToken))
        assert.isTrue(Redacted.isRedacted(response.refreshToken))
        assert.isTrue(Redacted.isRedacted(response.idToken))
        assert.notInclude(String(response.refreshToken), "RT-VALUE")
        assert.notInclude(String(response.idToken), "ID-VALUE")
      }))

    it.effect("null expires_in, refresh_token, id_token and scope count as absent", () =>
      Effect.gen(function*() {
        const response = success(
          yield* json({ ...valid, expires_in: null, refresh_token: null, id_token: null, scope: null })
        )
        strictEqual(response.expiresIn, undefined)
        strictEqual(response.refreshToken, undefined)
        strictEqual(response.idToken, undefined)
        strictEqual(response.scope, undefined)
        deepStrictEqual(response.extra, {})
      }))
  })

  describe("expires_in", () => {
    const cases: ReadonlyArray<readonly [unknown, number]> = [
      [3600, 3600],
      [0, 0],
      ["3600", 3600],
      [" 110 ", 110],
      ["3599.9", 3599],
      [3599.9, 3599],
      ["1e3", 1000],
      ["+60", 60],
      [".5", 0],
      ["5.", 5]
    ]
    for (const [input, expected] of cases) {
      it.effect(`${JSON.stringify(input)} → ${expected}`, () =>
        Effect.gen(function*() {
          strictEqual(success(yield* json({ ...valid, expires_in: input })).expiresIn, expected)
        }))
    }

    const invalids: ReadonlyArray<unknown> = [
      "",
      "   ",
      "0x10",
      "12abc",
      "NaN",
      "Infinity",
      "-Infinity",
      "1,000",
      -1,
      "-3600",
      true,
      [3600],
      { seconds: 3600 }
    ]
    for (const input of invalids) {
      it.effect(`${JSON.stringify(input)} → InvalidResponse`, () =>
        Effect.gen(function*() {
          const error = invalid(yield* json({ ...valid, expires_in: input }))
          assert.include(error.reason, "expires_in")
          strictEqual(error.status, 200)
        }))
    }

    it.effect("a huge JSON number beyond Number range is rejected", () =>
      Effect.gen(function*() {
        const error = invalid(
          yield* decode(200, "application/json", `{"access_token":"a","token_type":"bearer","expires_in":1e400}`)
        )
        assert.include(error.reason, "expires_in")
      }))
  })

  describe("invalid responses", () => {
    it.effect("a missing content type", () =>
      Effect.gen(function*() {
        const error = invalid(yield* decode(200, undefined, JSON.stringify(valid)))
        assert.include(error.reason, "no Content-Type")
        strictEqual(error.contentType, undefined)
        const empty = invalid(yield* decode(200, "", JSON.stringify(valid)))
        assert.include(empty.reason, "no Content-Type")
      }))

    it.effect("text/html, with a reason naming the content type", () =>
      Effect.gen(function*() {
        const error = invalid(yield* decode(200, "text/html; charset=utf-8", "<html><body>Login</body></html>"))
        assert.include(error.reason, "text/html")
        assert.include(error.reason, "application/json")
        strictEqual(error.contentType, "text/html; charset=utf-8")
        assert.include(error.message, "text/html")
        assert.include(error.bodyExcerpt, "Login")
      }))

    it.effect("invalid JSON", () =>
      Effect.gen(function*() {
        for (const body of ["", "{", "{\"access_token\":", "not json", "{'a':1}"]) {
          const error = invalid(yield* decode(200, "application/json", body))
          assert.include(error.reason, "not valid JSON")
        }
      }))

    it.effect("JSON that is not an object: array, null, number, string, boolean", () =>
      Effect.gen(function*() {
        const expected: ReadonlyArray<readonly [string, string]> = [
          ["[]", "an array"],
          [`[${JSON.stringify(valid)}]`, "an array"],
          ["null", "null"],
          ["42", "number"],
          ["\"token\"", "string"],
          ["true", "boolean"]
        ]
        for (const [body, what] of expected) {
          const error = invalid(yield* decode(200, "application/json", body))
          assert.include(error.reason, "must be a JSON object")
          assert.include(error.reason, what)
        }
      }))

    it.effect("a missing access_token or token_type is named", () =>
      Effect.gen(function*() {
        const noToken = invalid(yield* json({ token_type: "Bearer" }))
        assert.include(noToken.reason, "access_token")
        assert.include(noToken.reason, "missing")
        const noType = invalid(yield* json({ access_token: "at" }))
        assert.include(noType.reason, "token_type")
        assert.include(noType.reason, "missing")
        const neither = invalid(yield* json({}))
        assert.include(neither.reason, "access_token")
        assert.include(neither.reason, "token_type")
      }))

    it.effect("a non-string access_token or token_type is named", () =>
      Effect.gen(function*() {
        for (const value of [42, null, true, ["at"], { v: "at" }]) {
          const token = invalid(yield* json({ access_token: value, token_type: "Bearer" }))
          assert.include(token.reason, "access_token")
          const type = invalid(yield* json({ access_token: "at", token_type: value }))
          assert.include(type.reason, "token_type")
        }
      }))

    it.effect("an empty access_token is rejected", () =>
      Effect.gen(function*() {
        const error = invalid(yield* json({ ...valid, access_token: "" }))
        assert.include(error.reason, "access_token")
        assert.include(error.reason, "non-empty")
      }))

    it.effect("non-string refresh_token / id_token / scope are rejected", () =>
      Effect.gen(function*() {
        for (const field of ["refresh_token", "id_token", "scope"]) {
          const error = invalid(yield* json({ ...valid, [field]: 12 }))
          assert.include(error.reason, field)
        }
      }))

    it.effect("scope as a JSON array (Twitch) is rejected", () =>
      Effect.gen(function*() {
        const error = invalid(yield* json({ ...valid, scope: ["a", "b"] }))
        assert.include(error.reason, "scope")
        assert.include(error.reason, "string")
      }))

    it.effect("mac and other token types are rejected with a clear reason", () =>
      Effect.gen(function*() {
        for (const tokenType of ["mac", "N_A", ""]) {
          const error = invalid(yield* json({ ...valid, token_type: tokenType }))
          assert.include(error.reason, `unsupported token_type "${tokenType}"`)
          assert.include(error.reason, "Bearer")
        }
      }))

    it.effect("a DPoP token without a DPoP key is refused, naming the dpop option (RFC 9449 §5)", () =>
      Effect.gen(function*() {
        const error = invalid(yield* json({ ...valid, token_type: "DPoP" }))
        assert.include(error.reason, `token_type "DPoP"`)
        assert.include(error.reason, "set the dpop option")
      }))

    it.effect("with a DPoP request, DPoP and Bearer token types are accepted; others are not", () =>
      Effect.gen(function*() {
        const withDpop = (tokenType: string) =>
          Effect.exit(
            TokenResponse.decode(
              {
                status: 200,
                contentType: "application/json",
                body: JSON.stringify({ ...valid, token_type: tokenType })
              },
              { tokenEndpoint: "https://as.example/token", dpop: true }
            )
          )
        for (const tokenType of ["DPoP", "dpop", "Bearer"]) {
          const exit = yield* withDpop(tokenType)
          assert.isTrue(Exit.isSuccess(exit) && exit.value.tokenType === tokenType, tokenType)
        }
        assert.include(invalid(yield* withDpop("mac")).reason, `unsupported token_type "mac"`)
      }))

    it.effect("a 201 with a token is not a success (only 200 is, as in Dart)", () =>
      Effect.gen(function*() {
        const error = invalid(yield* json(valid, 201))
        strictEqual(error.status, 201)
        assert.include(error.reason, "HTTP status 201")
        const noContent = invalid(yield* decode(204, undefined, ""))
        strictEqual(noContent.status, 204)
      }))

    it.effect("a 500 HTML page keeps its status", () =>
      Effect.gen(function*() {
        const error = invalid(
          yield* decode(500, "text/html", "<html><h1>500 Internal Server Error</h1></html>")
        )
        strictEqual(error.status, 500)
        assert.include(error.reason, "HTTP status 500")
        assert.include(error.message, "HTTP 500")
        assert.include(error.bodyExcerpt, "500 Internal Server Error")
      }))

    it.effect("a 400 without a §5.2 body is an InvalidResponse with its status", () =>
      Effect.gen(function*() {
        const html = invalid(yield* decode(400, "text/html", "<h1>Bad Request</h1>"))
        strictEqual(html.status, 400)
        const noError = invalid(yield* json({ message: "nope" }, 401))
        strictEqual(noError.status, 401)
        assert.include(noError.reason, "HTTP status 401")
        const noType = invalid(yield* decode(400, undefined, "{\"error\":\"invalid_client\"}"))
        strictEqual(noType.status, 400)
      }))

    it.effect("a redirect is an InvalidResponse mentioning the redirect and its target", () =>
      Effect.gen(function*() {
        const error = invalid(yield* decode(302, "text/html", "", { location: "https://login.example.com/" }))
        strictEqual(error.status, 302)
        assert.include(error.reason, "redirect")
        assert.include(error.reason, "https://login.example.com/")
        for (const status of [301, 303, 307, 308]) {
          assert.include(invalid(yield* json(valid, status)).reason, "redirect")
        }
      }))

    it.effect("the body excerpt is bounded", () =>
      Effect.gen(function*() {
        const error = invalid(yield* decode(200, "text/html", "x".repeat(100_000)))
        assert.isAtMost(error.bodyExcerpt.length, 301)
      }))
  })

  describe("error responses (RFC 6749 §5.2)", () => {
    it.effect("400 and 401 with a §5.2 body", () =>
      Effect.gen(function*() {
        for (const status of [400, 401]) {
          const error = refused(
            yield* json({
              error: "invalid_client",
              error_description: "Client authentication failed",
              error_uri: "https://as.example.com/docs/errors#invalid_client"
            }, status)
          )
          strictEqual(error.status, status)
          strictEqual(error.error, "invalid_client")
          strictEqual(error.errorDescription, "Client authentication failed")
          strictEqual(error.errorUri, "https://as.example.com/docs/errors#invalid_client")
          strictEqual(error.tokenEndpoint, tokenEndpoint)
        }
      }))

    it.effect("only error is required; null description and uri count as absent", () =>
      Effect.gen(function*() {
        const error = refused(yield* json({ error: "invalid_scope", error_description: null, error_uri: null }, 400))
        strictEqual(error.error, "invalid_scope")
        strictEqual(error.errorDescription, undefined)
        strictEqual(error.errorUri, undefined)
        assert.isFalse("errorDescription" in error)
      }))

    it.effect("a 200 that carries error is an ErrorResponse", () =>
      Effect.gen(function*() {
        const error = refused(yield* json({ error: "bad_verification_code", error_description: "expired" }))
        strictEqual(error.status, 200)
        strictEqual(error.error, "bad_verification_code")
        const withToken = refused(yield* json({ ...valid, error: "server_error" }))
        strictEqual(withToken.error, "server_error")
      }))

    it.effect("a form-urlencoded error body (GitHub style)", () =>
      Effect.gen(function*() {
        const error = refused(
          yield* decode(
            200,
            "application/x-www-form-urlencoded",
            "error=incorrect_client_credentials&error_description=The+client_id+and%2For+client_secret+passed+are+incorrect."
          )
        )
        strictEqual(error.error, "incorrect_client_credentials")
        strictEqual(error.errorDescription, "The client_id and/or client_secret passed are incorrect.")
      }))

    it.effect("a non-string error is an InvalidResponse", () =>
      Effect.gen(function*() {
        for (const value of [12, true, ["invalid_client"], { code: "x" }]) {
          const error = invalid(yield* json({ error: value }, 400))
          strictEqual(error.status, 400)
          assert.include(error.reason, "error")
          assert.include(error.reason, "§5.2")
        }
        // "error": null counts as absent, as null does for every field: a 400 without an error code
        const absent = invalid(yield* json({ error: null }, 400))
        assert.include(absent.reason, "HTTP status 400")
        const description = invalid(yield* json({ error: "invalid_client", error_description: 5 }, 401))
        assert.include(description.reason, "error_description")
        const uri = invalid(yield* json({ error: "invalid_client", error_uri: ["x"] }, 401))
        assert.include(uri.reason, "error_uri")
      }))

    it.effect("any status with a §5.2 body is an ErrorResponse (503 server_error)", () =>
      Effect.gen(function*() {
        const error = refused(yield* json({ error: "temporarily_unavailable" }, 503))
        strictEqual(error.status, 503)
      }))

    it.effect("the server's Retry-After is kept on the error", () =>
      Effect.gen(function*() {
        const exit = yield* Effect.exit(
          TokenResponse.decode(
            { status: 429, contentType: "application/json", body: "{\"error\":\"slow_down\"}", retryAfter: 7000 },
            { tokenEndpoint }
          )
        )
        strictEqual(refused(exit).retryAfter, 7000)
      }))
  })

  describe("parseResponse hook", () => {
    it.effect("replaces the parser and receives the content type and the body", () =>
      Effect.gen(function*() {
        const calls: Array<readonly [string | undefined, string]> = []
        const parseResponse = (contentType: string | undefined, body: string) => {
          calls.push([contentType, body])
          const [token, type] = body.split("|")
          return { access_token: token, token_type: type }
        }
        const response = success(yield* decode(200, "text/x-custom; v=1", "T-1|bearer", { parseResponse }))
        strictEqual(Redacted.value(response.accessToken), "T-1")
        deepStrictEqual(calls, [["text/x-custom; v=1", "T-1|bearer"]])
      }))

    it.effect("is called without a content type, and for error statuses", () =>
      Effect.gen(function*() {
        const parseResponse = (contentType: string | undefined, body: string) =>
          contentType === undefined ? { error: body } : {}
        const error = refused(yield* decode(400, undefined, "invalid_client", { parseResponse }))
        strictEqual(error.error, "invalid_client")
      }))

    it.effect("a throwing hook is an InvalidResponse", () =>
      Effect.gen(function*() {
        const error = invalid(
          yield* decode(200, "application/json", "{}", {
            parseResponse: () => {
              throw new Error("cannot read this")
            }
          })
        )
        assert.include(error.reason, "parseResponse threw")
        assert.include(error.reason, "cannot read this")
        const thrownString = invalid(
          yield* decode(200, "application/json", "{}", {
            parseResponse: () => {
              throw "plain string"
            }
          })
        )
        assert.include(thrownString.reason, "plain string")
      }))

    it.effect("a hook returning a non-object is an InvalidResponse", () =>
      Effect.gen(function*() {
        for (const value of [null, undefined, 42, "token", ["a"]]) {
          const error = invalid(yield* decode(200, "application/json", "{}", { parseResponse: () => value }))
          assert.include(error.reason, "must be a JSON object")
        }
      }))
  })

  describe("mediaType", () => {
    it("lower-cases type/subtype and drops parameters", () => {
      strictEqual(TokenResponse.mediaType("Application/JSON; charset=UTF-8"), "application/json")
      strictEqual(TokenResponse.mediaType(" text/html "), "text/html")
      strictEqual(TokenResponse.mediaType(""), undefined)
      strictEqual(TokenResponse.mediaType(";charset=utf-8"), undefined)
      strictEqual(TokenResponse.mediaType(undefined), undefined)
    })
  })
})
