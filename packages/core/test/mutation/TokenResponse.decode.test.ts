/**
 * The token endpoint's answer decoded exactly (TokenResponse.ts, RFC 6749 §5.1 / §5.2, RFC 6750, RFC 9449): the
 * whole decoded value on the fast path and on the Schema path (which must agree), the exact reason of every
 * InvalidResponse (one message per field, token values never quoted, nested values never walked), the redirect and
 * non-200 reasons, the clipping bounds, a hook that throws something unprintable, the built-in parser's result, and
 * the messages of the exported SuccessBody / ErrorBody schemas.
 */
import { type OAuth2Error, TokenResponse } from "@effect-oauth2/core"
import { assert, describe, it } from "@effect/vitest"
import { deepStrictEqual, strictEqual } from "@effect/vitest/utils"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as ParseResult from "effect/ParseResult"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { failure } from "../utils/Grant.js"

const tokenEndpoint = "https://as.example.com/oauth2/token"

type Options = Partial<TokenResponse.DecodeOptions>

const run = (response: TokenResponse.RawResponse, options: Options = {}) =>
  Effect.runSyncExit(TokenResponse.decode(response, { tokenEndpoint, ...options }))

const json = (body: unknown, status = 200) => ({
  status,
  contentType: "application/json",
  body: typeof body === "string" ? body : JSON.stringify(body)
})

/** The decoded token response with its secrets revealed, for a whole-value comparison. */
const decoded = (response: TokenResponse.RawResponse, options: Options = {}) => {
  const exit = run(response, options)
  if (Exit.isFailure(exit)) return assert.fail(`expected a token response, got ${String(failure(exit))}`)
  const r = exit.value
  const reveal = (value: Redacted.Redacted<string> | undefined) =>
    value === undefined ? undefined : { redacted: Redacted.isRedacted(value), value: Redacted.value(value) }
  return {
    accessToken: reveal(r.accessToken),
    tokenType: r.tokenType,
    expiresIn: r.expiresIn,
    refreshToken: reveal(r.refreshToken),
    idToken: reveal(r.idToken),
    scope: r.scope,
    extra: r.extra
  }
}

const invalidOf = (response: TokenResponse.RawResponse, options: Options = {}): OAuth2Error.InvalidResponse => {
  const error = failure(run(response, options))
  strictEqual(error._tag, "InvalidResponse")
  return error as OAuth2Error.InvalidResponse
}

const reasonOf = (response: TokenResponse.RawResponse, options: Options = {}) => invalidOf(response, options).reason

const errorOf = (response: TokenResponse.RawResponse): OAuth2Error.ErrorResponse => {
  const error = failure(run(response))
  strictEqual(error._tag, "ErrorResponse")
  return error as OAuth2Error.ErrorResponse
}

const bearer = { access_token: "at-1", token_type: "Bearer" }
const redacted = (value: string) => ({ redacted: true, value })
const nothing = { expiresIn: undefined, refreshToken: undefined, idToken: undefined, scope: undefined }

describe("TokenResponse.decode (mutation)", () => {
  describe("success: the whole value, fast path and Schema path alike", () => {
    it("a body with every field and extras: expires_in as a number (fast path) and as a string (Schema) agree", () => {
      const body = {
        ...bearer,
        refresh_token: "rt-1",
        id_token: "id-1",
        scope: "a b",
        session_state: "s",
        "not-before-policy": 0,
        nested: { a: [1] }
      }
      const expected = {
        accessToken: redacted("at-1"),
        tokenType: "Bearer",
        expiresIn: 3600,
        refreshToken: redacted("rt-1"),
        idToken: redacted("id-1"),
        scope: "a b",
        extra: { session_state: "s", "not-before-policy": 0, nested: { a: [1] } }
      }
      deepStrictEqual(decoded(json({ ...body, expires_in: 3600 })), expected)
      deepStrictEqual(decoded(json({ ...body, expires_in: "3600" })), expected)
    })

    it("a form-urlencoded body (always the Schema path) keeps its unknown fields in extra, and only those", () => {
      deepStrictEqual(
        decoded({
          status: 200,
          contentType: "application/x-www-form-urlencoded",
          body: "access_token=gho_1&token_type=bearer&scope=repo&expires_in=28800&refresh_token_expires_in=15897600"
        }),
        {
          accessToken: redacted("gho_1"),
          tokenType: "bearer",
          expiresIn: 28800,
          refreshToken: undefined,
          idToken: undefined,
          scope: "repo",
          extra: { refresh_token_expires_in: "15897600" }
        }
      )
    })

    it("a DPoP token with a DPoP request (RFC 9449 §5) keeps its extras too", () => {
      deepStrictEqual(decoded(json({ ...bearer, token_type: "DPoP", foo: 1 }), { dpop: true }), {
        accessToken: redacted("at-1"),
        tokenType: "DPoP",
        ...nothing,
        extra: { foo: 1 }
      })
    })

    it("the largest safe integer is a valid expires_in; 2^53 and beyond are not integers the Schema takes", () => {
      deepStrictEqual(decoded(json({ ...bearer, expires_in: 2 ** 53 - 1 })).expiresIn, 2 ** 53 - 1)
      strictEqual(
        reasonOf(json({ ...bearer, expires_in: 2 ** 53 })),
        "\"expires_in\": Expected an integer, actual 9007199254740992"
      )
      strictEqual(
        reasonOf(json({ ...bearer, expires_in: "9007199254740992" })),
        "\"expires_in\": Expected an integer, actual 9007199254740992"
      )
    })

    it("a body's \"__proto__\" field does not become the prototype of extra (fast path and Schema path)", () => {
      for (const expires of ["", ",\"expires_in\":60", ",\"expires_in\":\"60\""]) {
        const body = `{"access_token":"a","token_type":"Bearer"${expires},"__proto__":{"polluted":1}}`
        const { extra } = decoded(json(body))
        strictEqual(Object.getPrototypeOf(extra), Object.prototype, body)
        strictEqual((extra as Record<string, unknown>).polluted, undefined, body)
        deepStrictEqual(extra, {})
      }
    })

    it("parameters from a hook that are not plain objects decode as the Schema reads them", () => {
      class Parameters {
        readonly token_type = "Bearer"
        readonly extra_field = 1
        get access_token() {
          return "from-getter"
        }
      }
      const nullProto = Object.assign(Object.create(null) as Record<string, unknown>, bearer, { other: "o" })
      const inherited = Object.assign(Object.create({ access_token: "inherited", scope: "s" }), {
        token_type: "bearer"
      })
      const schemaOf = (value: unknown) => {
        const body = Either.getOrThrow(
          Schema.decodeUnknownEither(TokenResponse.SuccessBody, { onExcessProperty: "preserve" })(value)
        )
        return { token: Redacted.value(body.access_token), type: body.token_type, scope: body.scope }
      }
      for (
        const [value, extra] of [[new Parameters(), { extra_field: 1 }], [nullProto, { other: "o" }], [inherited, {}]]
      ) {
        const result = decoded(json("{}"), { parseResponse: () => value })
        const schema = schemaOf(value)
        deepStrictEqual({ token: result.accessToken?.value, type: result.tokenType, scope: result.scope }, schema)
        deepStrictEqual({ ...result.extra }, extra)
      }
    })
  })

  describe("refused success bodies: the exact reason", () => {
    it("an empty refresh_token or id_token is refused (a token is a non-empty string)", () => {
      strictEqual(
        reasonOf(json({ ...bearer, refresh_token: "", id_token: "id" })),
        "\"refresh_token\" must be a non-empty string"
      )
      strictEqual(
        reasonOf(json({ ...bearer, refresh_token: "rt", id_token: "" })),
        "\"id_token\" must be a non-empty string"
      )
      strictEqual(
        reasonOf(json({ ...bearer, refresh_token: "", id_token: "" })),
        "\"refresh_token\" must be a non-empty string; \"id_token\" must be a non-empty string"
      )
    })

    it("a token field of the wrong type is refused without quoting its value", () => {
      strictEqual(
        reasonOf(json({ ...bearer, refresh_token: 12, id_token: "id" })),
        "\"refresh_token\" must be a non-empty string"
      )
      strictEqual(
        reasonOf(json({ ...bearer, refresh_token: "rt", id_token: true })),
        "\"id_token\" must be a non-empty string"
      )
      strictEqual(
        reasonOf(json({ access_token: 4711, token_type: "Bearer" })),
        "\"access_token\" must be a non-empty string"
      )
    })

    it("token_type and scope of the wrong type: the field's own message, once", () => {
      strictEqual(reasonOf(json({ access_token: "a", token_type: 42 })), "\"token_type\" must be a string")
      strictEqual(reasonOf(json({ ...bearer, scope: 12 })), "\"scope\" must be a string")
      strictEqual(reasonOf(json({ ...bearer, scope: ["a", "b"] })), "\"scope\" must be a string")
    })

    it("several problems: every field named once, joined by \"; \"", () => {
      strictEqual(
        reasonOf(json({})),
        "required parameter \"access_token\" is missing; required parameter \"token_type\" is missing"
      )
      strictEqual(
        reasonOf(json({ access_token: "", token_type: 1, scope: { a: 1 } })),
        "\"access_token\" must be a non-empty string; \"token_type\" must be a string; \"scope\" must be a string"
      )
    })

    it("expires_in that is not a non-negative number of seconds: the value is quoted", () => {
      strictEqual(
        reasonOf(json({ ...bearer, expires_in: "abc" })),
        "\"expires_in\": expires_in must be a non-negative number of seconds, was \"abc\""
      )
      strictEqual(
        reasonOf(json({ ...bearer, expires_in: -1 })),
        "\"expires_in\": expires_in must be a non-negative number of seconds, was -1"
      )
      strictEqual(
        reasonOf(json({ ...bearer, expires_in: "-3600" })),
        "\"expires_in\": expires_in must be a non-negative number of seconds, was \"-3600\""
      )
    })

    it("a nested value in a known field is not walked: the reason shows an empty stand-in, whatever the depth", () => {
      strictEqual(reasonOf(json({ ...bearer, expires_in: [3600] })), "\"expires_in\": Expected number, actual []")
      strictEqual(reasonOf(json({ ...bearer, expires_in: { s: 3600 } })), "\"expires_in\": Expected number, actual {}")
      const depth = 200_000
      const deep = `{"access_token":"a","token_type":"Bearer","expires_in":${"[".repeat(depth)}${"]".repeat(depth)}}`
      strictEqual(reasonOf(json(deep)), "\"expires_in\": Expected number, actual []")
      const deepObject = `{"access_token":"a","token_type":"Bearer","scope":${"{\"a\":".repeat(depth)}1${
        "}".repeat(depth)
      }}`
      strictEqual(reasonOf(json(deepObject)), "\"scope\" must be a string")
    })

    it("DPoP without the dpop option is refused by its own reason, not as an unsupported type", () => {
      strictEqual(
        reasonOf(json({ ...bearer, token_type: "dpop" })),
        "token_type \"DPoP\": the server issued a DPoP-bound token (RFC 9449), but this client has no DPoP key to use " +
          "it with; set the dpop option"
      )
    })
  })

  describe("error bodies (RFC 6749 §5.2)", () => {
    it("a §5.2 body of the wrong shape: the exact reason", () => {
      const prefix = "an error response that is not RFC 6749 §5.2: "
      strictEqual(reasonOf(json({ error: 12 }, 400)), `${prefix}"error" must be a string`)
      strictEqual(
        reasonOf(json({ error: "invalid_client", error_description: 5 }, 401)),
        `${prefix}"error_description" must be a string`
      )
      strictEqual(
        reasonOf(json({ error: "invalid_client", error_uri: ["x"] }, 401)),
        `${prefix}"error_uri" must be a string`
      )
      strictEqual(
        reasonOf(json({ error: "invalid_client", error_description: { text: "x" }, error_uri: 1 }, 400)),
        `${prefix}"error_description" must be a string; "error_uri" must be a string`
      )
    })

    it("error is clipped beyond 200 characters and error_description beyond 1000, not at them", () => {
      const exact = errorOf(json({ error: "e".repeat(200), error_description: "d".repeat(1000) }, 400))
      strictEqual(exact.error, "e".repeat(200))
      strictEqual(exact.errorDescription, "d".repeat(1000))
      const longer = errorOf(json({ error: "e".repeat(201), error_description: "d".repeat(1001) }, 400))
      strictEqual(longer.error, `${"e".repeat(200)}…`)
      strictEqual(longer.errorDescription, `${"d".repeat(1000)}…`)
    })
  })

  describe("statuses", () => {
    const redirect =
      "; token requests never follow redirects, so that credentials are not sent elsewhere: use the final URL"

    it("status 0 (an opaque redirect) and every 3xx from 300 on are redirects; the target is named when known", () => {
      strictEqual(
        reasonOf({ status: 0, contentType: undefined, body: "" }),
        `the token endpoint answered with a redirect${redirect}`
      )
      strictEqual(reasonOf(json(bearer, 300)), `the token endpoint answered with a redirect${redirect}`)
      strictEqual(reasonOf(json(bearer, 302)), `the token endpoint answered with a redirect${redirect}`)
      strictEqual(
        reasonOf({ ...json(bearer, 307), location: "https://login.example.com/" }),
        `the token endpoint answered with a redirect to https://login.example.com/${redirect}`
      )
    })

    it("a non-200 whose body is JSON but not an object: the status is the reason", () => {
      strictEqual(reasonOf(json([], 500)), "the request failed with HTTP status 500")
      strictEqual(reasonOf(json("oops", 400)), "the request failed with HTTP status 400")
      strictEqual(
        reasonOf(json(null, 401)),
        "the server refused the client with HTTP status 401 and no RFC 6749 §5.2 error body"
      )
      strictEqual(reasonOf(json([], 200)), "the parameters must be a JSON object, were an array")
    })
  })

  describe("parseResponse hook", () => {
    it("a hook that throws something that cannot even be printed is still an InvalidResponse", () => {
      const unprintable = {
        toString() {
          throw new Error("no")
        }
      }
      strictEqual(
        reasonOf(json("{}"), {
          parseResponse: () => {
            throw unprintable
          }
        }),
        "parseResponse threw: a value that cannot be shown"
      )
      const badMessage = new Error("x")
      Object.defineProperty(badMessage, "message", {
        get() {
          throw new Error("no")
        }
      })
      strictEqual(
        reasonOf(json("{}"), {
          parseResponse: () => {
            throw badMessage
          }
        }),
        "parseResponse threw: a value that cannot be shown"
      )
    })
  })

  describe("parseParameters", () => {
    it("JSON and form bodies: the whole result", () => {
      deepStrictEqual(TokenResponse.parseParameters("application/json", "{\"a\":1}"), { _tag: "Ok", value: { a: 1 } })
      deepStrictEqual(TokenResponse.parseParameters("text/plain", "[1]"), { _tag: "Ok", value: [1] })
      deepStrictEqual(
        TokenResponse.parseParameters("application/x-www-form-urlencoded", "a=1&b=x+y"),
        { _tag: "Ok", value: { a: "1", b: "x y" } }
      )
      deepStrictEqual(TokenResponse.parseParameters("application/json", "{"), {
        _tag: "Fail",
        reason: "the body is not valid JSON"
      })
    })

    it("a form parameter sent twice (RFC 6749 §3.1 forbids it) counts once, as URLSearchParams.get reads it: the first", () => {
      const body = "token_type=bearer&access_token=first&access_token=second"
      deepStrictEqual(TokenResponse.parseParameters("application/x-www-form-urlencoded", body), {
        _tag: "Ok",
        value: { token_type: "bearer", access_token: new URLSearchParams(body).get("access_token") }
      })
      strictEqual(
        decoded({ status: 200, contentType: "application/x-www-form-urlencoded", body }).accessToken?.value,
        "first"
      )
    })
  })

  describe("the exported schemas' messages", () => {
    /** The first message of each field, as the decoder shows it. */
    const messages = (schema: Schema.Schema<any, any>, input: unknown) => {
      const result = Schema.decodeUnknownEither(schema, { errors: "all" })(input)
      if (Either.isRight(result)) return assert.fail("expected a decoding failure")
      const byPath: Record<string, string> = {}
      for (const issue of ParseResult.ArrayFormatter.formatErrorSync(result.left)) {
        byPath[issue.path.join(".")] ??= issue.message
      }
      return byPath
    }

    it("SuccessBody names each field in its message", () => {
      deepStrictEqual(
        messages(TokenResponse.SuccessBody, {
          access_token: "",
          token_type: 1,
          expires_in: "soon",
          refresh_token: "",
          id_token: "",
          scope: 2
        }),
        {
          access_token: "\"access_token\" must be a non-empty string",
          token_type: "\"token_type\" must be a string",
          expires_in: "expires_in must be a non-negative number of seconds, was \"soon\"",
          refresh_token: "\"refresh_token\" must be a non-empty string",
          id_token: "\"id_token\" must be a non-empty string",
          scope: "\"scope\" must be a string"
        }
      )
    })

    it("ErrorBody names each field in its message", () => {
      deepStrictEqual(messages(TokenResponse.ErrorBody, { error: 1, error_description: 2, error_uri: 3 }), {
        error: "\"error\" must be a string",
        error_description: "\"error_description\" must be a string",
        error_uri: "\"error_uri\" must be a string"
      })
    })
  })
})
