import { ClientCredentials, Credentials, OAuth2Error, TokenResponse } from "@effect-oauth2/core"
import * as HttpClient from "@effect/platform/HttpClient"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FastCheck from "effect/FastCheck"
import * as Redacted from "effect/Redacted"
import * as TestHttp from "./utils/TestHttp.js"

const tokenEndpoint = "https://as.example.com/oauth2/token"

// ---------------------------------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------------------------------

const interestingKeys = FastCheck.constantFrom(
  "access_token",
  "token_type",
  "expires_in",
  "refresh_token",
  "id_token",
  "scope",
  "error",
  "error_description",
  "error_uri",
  "__proto__",
  "constructor",
  "toString",
  "hasOwnProperty",
  "valueOf",
  ""
)

const interestingStrings = FastCheck.constantFrom(
  "bearer",
  "Bearer",
  "BEARER",
  "mac",
  "DPoP",
  "",
  "3600",
  " 110 ",
  "3599.9",
  "1e3",
  "1e400",
  "-1",
  "NaN",
  "Infinity",
  "0x10",
  "12abc",
  "invalid_client",
  "temporarily_unavailable",
  "a b  c",
  "\u0000",
  "\uD800"
)

const scalar: FastCheck.Arbitrary<unknown> = FastCheck.oneof(
  FastCheck.string(),
  FastCheck.string({ unit: "binary" }),
  interestingStrings,
  FastCheck.integer(),
  FastCheck.integer({ min: -10, max: 100_000 }),
  FastCheck.double(),
  FastCheck.boolean(),
  FastCheck.constant(null)
)

const value: FastCheck.Arbitrary<unknown> = FastCheck.oneof(
  { arbitrary: scalar, weight: 6 },
  { arbitrary: FastCheck.array(scalar, { maxLength: 3 }), weight: 1 },
  { arbitrary: FastCheck.dictionary(FastCheck.string(), scalar, { maxKeys: 2 }), weight: 1 },
  { arbitrary: FastCheck.jsonValue({ maxDepth: 2 }), weight: 1 }
)

const key = FastCheck.oneof({ arbitrary: interestingKeys, weight: 3 }, { arbitrary: FastCheck.string(), weight: 1 })

/** A JSON object written by hand, so that `__proto__` and duplicate keys survive into the text. */
const jsonObject = FastCheck.array(FastCheck.tuple(key, value), { maxLength: 6 }).map((entries) =>
  `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v) ?? "null"}`).join(",")}}`
)

/** A body that is nearly a valid token response, with one field changed. */
const mutatedToken = FastCheck.tuple(
  FastCheck.record({
    access_token: FastCheck.oneof(FastCheck.string({ minLength: 1 }), value),
    token_type: FastCheck.oneof(FastCheck.constantFrom("bearer", "Bearer", "BEARER"), value),
    expires_in: FastCheck.oneof(FastCheck.integer({ min: 0, max: 100_000 }), value),
    refresh_token: value,
    id_token: value,
    scope: value,
    error: value
  }, { requiredKeys: ["access_token", "token_type"] })
).map(([record]) => JSON.stringify(record))

const formBody = FastCheck.array(FastCheck.tuple(key, FastCheck.oneof(FastCheck.string(), interestingStrings)), {
  maxLength: 6
}).map((entries) => new URLSearchParams(entries).toString())

const garbage = FastCheck.oneof(
  FastCheck.string(),
  FastCheck.string({ unit: "binary" }),
  FastCheck.constantFrom("", "{", "}", "[", "null", "[]", "0", "-1", "\"x\"", "true", "<html></html>", "\uFEFF{}"),
  FastCheck.json({ maxDepth: 2 })
)

/** A long body: up to `max` characters of one repeated unit (huge ones only now and then, they cost time). */
const huge = (max: number) =>
  FastCheck.tuple(
    FastCheck.oneof(
      { arbitrary: FastCheck.integer({ min: 1_000, max: 20_000 }), weight: 4 },
      { arbitrary: FastCheck.integer({ min: 20_000, max }), weight: 1 }
    ),
    FastCheck.constantFrom("x", " ", "{", "\"access_token\":\"", "é", "a=b&", "[")
  ).map(([length, unit]) => unit.repeat(Math.ceil(length / unit.length)))

const body = (hugeMax: number) =>
  FastCheck.oneof(
    { arbitrary: jsonObject, weight: 10 },
    { arbitrary: mutatedToken, weight: 10 },
    { arbitrary: FastCheck.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)), weight: 4 },
    { arbitrary: formBody, weight: 4 },
    { arbitrary: garbage, weight: 4 },
    { arbitrary: huge(hugeMax), weight: 1 }
  )

const contentType = FastCheck.option(
  FastCheck.oneof(
    FastCheck.constantFrom(
      "application/json",
      "application/json; charset=utf-8",
      "APPLICATION/JSON;charset=UTF-8",
      "text/javascript",
      "application/problem+json",
      "text/plain",
      "text/plain;charset=UTF-8",
      "text/html",
      "application/x-www-form-urlencoded",
      "",
      ";",
      "application/",
      "/json"
    ),
    FastCheck.string()
  ),
  { nil: undefined }
)

// ---------------------------------------------------------------------------------------------------------------
// The property: a result or a typed OAuth2Error, never a defect
// ---------------------------------------------------------------------------------------------------------------

const assertTyped = <A>(exit: Exit.Exit<A, unknown>, onSuccess: (value: A) => void) => {
  if (Exit.isSuccess(exit)) {
    onSuccess(exit.value)
    return
  }
  assert.isFalse(Cause.isDie(exit.cause), `a defect: ${Cause.pretty(exit.cause)}`)
  assert.isFalse(Cause.isInterrupted(exit.cause), "interrupted")
  assert.isTrue(Cause.isFailType(exit.cause), `not a single typed failure: ${Cause.pretty(exit.cause)}`)
  const error = (exit.cause as Cause.Fail<unknown>).error
  assert.isTrue(OAuth2Error.isOAuth2Error(error), `not an OAuth2Error: ${String(error)}`)
  // the error can be shown
  assert.isString((error as OAuth2Error.OAuth2Error).message)
}

const assertToken = (status: number, response: TokenResponse.TokenResponse) => {
  assert.strictEqual(status, 200)
  assert.isTrue(Redacted.isRedacted(response.accessToken))
  assert.isAbove(Redacted.value(response.accessToken).length, 0)
  assert.strictEqual(response.tokenType.toLowerCase(), "bearer")
  if (response.expiresIn !== undefined) {
    assert.isTrue(Number.isSafeInteger(response.expiresIn) && response.expiresIn >= 0, String(response.expiresIn))
  }
}

describe("TokenResponse property", () => {
  // Thousands of errors are made here and none is shown: capturing their stack traces would be most of the time.
  let stackTraceLimit = Error.stackTraceLimit
  beforeAll(() => {
    stackTraceLimit = Error.stackTraceLimit
    Error.stackTraceLimit = 0
  })
  afterAll(() => {
    Error.stackTraceLimit = stackTraceLimit
  })

  it.prop(
    "decode: any (status, content type, body) gives a TokenResponse or a typed error",
    {
      status: FastCheck.oneof(
        FastCheck.constantFrom(200, 200, 200, 201, 204, 302, 400, 401, 429, 500, 503),
        FastCheck.integer({ min: -1, max: 999 })
      ),
      contentType,
      body: body(100_000),
      parse: FastCheck.constantFrom("default", "default", "default", "hook", "throwing")
    },
    ({ body, contentType, parse, status }) => {
      const options: TokenResponse.DecodeOptions = {
        tokenEndpoint,
        secrets: ["secret"],
        ...(parse === "hook"
          ? { parseResponse: (_, text) => JSON.parse(text) }
          : parse === "throwing"
          ? {
            parseResponse: () => {
              throw null
            }
          }
          : {})
      }
      const exit = Effect.runSyncExit(TokenResponse.decode({ status, contentType, body }, options))
      assertTyped(exit, (response) => assertToken(status, response))
    },
    { fastCheck: { numRuns: 10_000 } }
  )

  it("grant: any response from the in-memory token endpoint gives Credentials or a typed error", async () => {
    const response = FastCheck.record({
      status: FastCheck.oneof(
        FastCheck.constantFrom(200, 200, 200, 201, 204, 302, 400, 401, 429, 500, 503),
        FastCheck.integer({ min: 200, max: 599 })
      ),
      contentType,
      // beyond the default maxResponseBytes (1 MiB) now and then
      body: body(1_500_000),
      retryAfter: FastCheck.option(FastCheck.oneof(FastCheck.string(), FastCheck.constantFrom("7", "-1", "1e9")), {
        nil: undefined
      }),
      contentLength: FastCheck.option(FastCheck.constantFrom("", "0", "-1", "abc", "1", "99999999999"), {
        nil: undefined
      }),
      maxResponseBytes: FastCheck.option(FastCheck.integer({ min: 1, max: 4096 }), { nil: undefined, freq: 4 })
    })
    await FastCheck.assert(
      FastCheck.asyncProperty(
        response,
        async ({ body, contentLength, contentType, maxResponseBytes, retryAfter, status }) => {
          const headers: Record<string, string> = {}
          if (contentType !== undefined) headers["content-type"] = contentType
          if (retryAfter !== undefined) headers["retry-after"] = retryAfter
          if (contentLength !== undefined) headers["content-length"] = contentLength
          if (status >= 300 && status < 400) headers["location"] = "https://elsewhere.example.com/"
          const nullBody = status === 204 || status === 205 || status === 304
          const http = TestHttp.make(() =>
            new Response(nullBody ? null : new TextEncoder().encode(body), { status, headers })
          )
          const before = Date.now()
          const exit = await Effect.runPromise(
            ClientCredentials.grant({
              tokenUrl: tokenEndpoint,
              clientId: "client",
              clientSecret: Redacted.make("secret"),
              scopes: ["a", "b"],
              retry: false,
              ...(maxResponseBytes !== undefined ? { maxResponseBytes } : {})
            }).pipe(Effect.provideService(HttpClient.HttpClient, http.client), Effect.exit)
          )
          assert.strictEqual(http.requests.length, 1)
          assertTyped(exit, (credentials) => {
            assert.strictEqual(status, 200)
            assert.instanceOf(credentials, Credentials.Credentials)
            assert.isAbove(Redacted.value(credentials.accessToken).length, 0)
            assert.isAtLeast(credentials.issuedAt!, before)
            if (credentials.expiresAt !== undefined) assert.isAtLeast(credentials.expiresAt, credentials.issuedAt!)
            for (const scope of credentials.scopes) assert.isAbove(scope.length, 0)
          })
        }
      ),
      { numRuns: 2_000 }
    )
    // a limit against a hang, not a speed check: 2,000 grants with bodies up to 1.5 MB take ~10 s on an idle
    // machine, several times that on a loaded one
  }, 300_000)
})
