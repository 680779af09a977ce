import { ClientAuth, ClientCredentials, OAuth2Error, TokenResponse } from "@effect-oauth2/core"
import { assert, describe, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Inspectable from "effect/Inspectable"
import * as Logger from "effect/Logger"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import * as util from "node:util"
import { failure, tokenUrl } from "./utils/Grant.js"
import * as TestHttp from "./utils/TestHttp.js"

const SECRET = "SUPER-SECRET-VALUE-123"
const ACCESS = "LEAKY-TOKEN-456"
const REFRESH = "LEAKY-REFRESH-789"
const ID = "LEAKY-ID-TOKEN-000"
const BASIC = `Basic ${Buffer.from(`client:${SECRET}`).toString("base64")}`

/** Every value that must never appear, and prefixes of them (a secret cut in half still leaks). */
const forbidden = [
  SECRET,
  SECRET.slice(0, 8),
  SECRET.slice(-8),
  ACCESS,
  REFRESH,
  ID,
  BASIC.slice("Basic ".length),
  Buffer.from(SECRET).toString("base64").slice(0, 16)
]

interface Case {
  readonly name: string
  readonly handler?: TestHttp.Handler
  readonly options?: Partial<ClientCredentials.Options>
  /** Whether the failure is retried (and so logged). */
  readonly logs?: boolean
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) => ({
  status,
  text: typeof body === "string" ? body : JSON.stringify(body),
  headers: { "content-type": "application/json", ...headers }
})

const html = (status: number, body: string) => ({ status, text: body, headers: { "content-type": "text/html" } })

const tokens = { access_token: ACCESS, refresh_token: REFRESH, id_token: ID }

const cases: ReadonlyArray<Case> = [
  // invalid success responses that carry tokens
  { name: "token_type mac", handler: () => json(200, { ...tokens, token_type: "mac", expires_in: 3600 }) },
  { name: "token_type DPoP", handler: () => json(200, { ...tokens, token_type: "DPoP" }) },
  { name: "missing token_type", handler: () => json(200, tokens) },
  { name: "invalid expires_in", handler: () => json(200, { ...tokens, token_type: "bearer", expires_in: "soon" }) },
  { name: "negative expires_in", handler: () => json(200, { ...tokens, token_type: "bearer", expires_in: -5 }) },
  { name: "scope as an array", handler: () => json(200, { ...tokens, token_type: "bearer", scope: ["a"] }) },
  {
    name: "tokens of the wrong type",
    handler: () =>
      json(200, { access_token: [ACCESS], refresh_token: { value: REFRESH }, id_token: [ID], token_type: "bearer" })
  },
  {
    name: "a token of the wrong type next to a valid one",
    handler: () => json(200, { access_token: ACCESS, refresh_token: [REFRESH], token_type: "bearer" })
  },
  { name: "a 201 with tokens", handler: () => json(201, { ...tokens, token_type: "bearer" }) },
  {
    name: "a 200 carrying error and tokens",
    handler: () => json(200, { ...tokens, token_type: "bearer", error: "server_error" })
  },
  { name: "a 200 error that is not §5.2", handler: () => json(200, { ...tokens, error: 42 }) },
  { name: "invalid JSON with a token", handler: () => json(200, `{"access_token":"${ACCESS}","token_type":`) },
  { name: "truncated JSON inside a token", handler: () => json(200, `{"access_token":"${ACCESS}`) },
  { name: "JSON array with tokens", handler: () => json(200, [{ ...tokens, token_type: "bearer" }]) },
  {
    name: "tokens without a content type",
    handler: () => TestHttp.raw(JSON.stringify({ ...tokens, token_type: "bearer" }))
  },
  {
    name: "tokens as text/html",
    handler: () => html(200, `<html><script>var t = {"access_token": "${ACCESS}", "id_token": "${ID}"}</script></html>`)
  },
  {
    name: "a form body with tokens and token_type mac",
    handler: () => ({
      text: `access_token=${ACCESS}&refresh_token=${REFRESH}&id_token=${ID}&token_type=mac`,
      headers: { "content-type": "application/x-www-form-urlencoded" }
    })
  },
  {
    name: "a token behind a long prefix",
    handler: () => json(200, `{"padding":"${" ".repeat(1180)}","access_token":"${ACCESS}","token_type":"mac"}`)
  },
  // error responses that echo the client credentials
  {
    name: "a 400 HTML page echoing the secret",
    handler: () => html(400, `<html><body><p>Invalid client secret: ${SECRET}</p></body></html>`)
  },
  {
    name: "a 400 HTML page echoing the Authorization header",
    handler: (request) => html(400, `<pre>Authorization: ${request.headers["authorization"]}</pre>`)
  },
  {
    name: "a 400 page echoing the secret after a long prefix",
    handler: () => html(400, `${" ".repeat(1190)}${SECRET} is wrong`)
  },
  {
    name: "a 500 page echoing the form body (client_secret_post)",
    handler: (request) => html(500, `<pre>${request.body}</pre>`),
    options: { auth: ClientAuth.clientSecretPost },
    logs: true
  },
  {
    name: "a 401 §5.2 error whose description echoes the secret",
    handler: () =>
      json(401, {
        error: "invalid_client",
        error_description: `client secret ${SECRET} does not match`,
        error_uri: `https://as.example.com/errors?client_secret=${SECRET}`
      })
  },
  {
    name: "a 503 §5.2 error echoing the secret (retried)",
    handler: () => json(503, { error: "temporarily_unavailable", error_description: `for secret ${SECRET}` }),
    logs: true
  },
  {
    name: "a 429 with Retry-After and a token in the body (retried)",
    handler: () => json(429, { ...tokens, error: "slow_down" }, { "retry-after": "1" }),
    logs: true
  },
  {
    name: "a 502 HTML page with the secret (retried)",
    handler: () => html(502, `Bad gateway for ${SECRET}`),
    logs: true
  },
  {
    name: "a redirect whose Location carries the secret and a token",
    handler: () => ({
      status: 302,
      headers: {
        location: `https://as.example.com/cb?client_secret=${SECRET}#access_token=${ACCESS}&token_type=bearer`
      }
    })
  },
  {
    name: "a parseResponse hook whose error quotes the body",
    handler: () => json(200, { ...tokens, token_type: "bearer" }),
    options: {
      parseResponse: (_, body) => {
        throw new Error(`cannot parse ${body} (secret ${SECRET})`)
      }
    }
  },
  {
    name: "a parseResponse hook returning a non-object",
    handler: () => json(200, { ...tokens, token_type: "bearer" }),
    options: { parseResponse: () => [ACCESS] }
  },
  {
    name: "a body over maxResponseBytes",
    handler: () => json(200, { ...tokens, token_type: "bearer", pad: "x".repeat(2000) }),
    options: { maxResponseBytes: 1000 }
  },
  // transport and timeouts
  { name: "a transport error", handler: () => TestHttp.transportError("connect ECONNREFUSED"), logs: true },
  {
    name: "an attempt timeout",
    handler: () => Effect.as(Effect.sleep(Duration.minutes(1)), TestHttp.token(ACCESS)),
    options: { retry: false }
  },
  {
    name: "the retry budget",
    handler: () => Effect.as(Effect.sleep(Duration.minutes(1)), TestHttp.token(ACCESS)),
    logs: true
  },
  // configuration errors
  { name: "a reserved param holding the secret", options: { params: { client_secret: SECRET } } },
  { name: "a scope param holding the secret", options: { params: { scope: SECRET } } },
  { name: "a token URL with user info", options: { tokenUrl: `https://client:${SECRET}@as.example.com/token` } },
  { name: "an http token URL", options: { tokenUrl: `http://as.example.com/token?client_secret=${SECRET}` } },
  { name: "an ftp token URL", options: { tokenUrl: `ftp://client:${SECRET}@as.example.com/token` } },
  { name: "a token URL with a fragment", options: { tokenUrl: `${tokenUrl}#${SECRET}` } },
  { name: "a garbage token URL", options: { tokenUrl: "not a url" } },
  { name: "a secret without a client id", options: { clientId: undefined } },
  { name: "a lone surrogate in the secret", options: { clientSecret: Redacted.make(`${SECRET}\uD800`) } },
  {
    name: "a secret that is not Redacted",
    options: { clientSecret: SECRET as unknown as Redacted.Redacted<string> }
  },
  {
    name: "client_secret_post without a client id",
    options: { clientId: undefined, clientSecret: undefined, auth: ClientAuth.clientSecretPost }
  }
]

const outputsOf = (exit: Exit.Exit<unknown, unknown>, logs: ReadonlyArray<string>) => {
  const error = failure(exit)
  if (!OAuth2Error.isOAuth2Error(error)) return assert.fail(`not an OAuth2Error: ${String(error)}`)
  const cause = Exit.isFailure(exit) ? exit.cause : Cause.empty
  return {
    message: error.message,
    string: String(error),
    json: JSON.stringify(error),
    jsonCause: JSON.stringify(cause),
    inspect: util.inspect(error, { depth: Infinity }),
    inspectHidden: util.inspect(error, { depth: Infinity, showHidden: true }),
    inspectable: Inspectable.format(error),
    stack: error.stack ?? "",
    pretty: Cause.pretty(cause),
    prettyErrors: Cause.prettyErrors(cause).map((e) => `${e.message}\n${e.stack}`).join("\n"),
    logs: logs.join("\n")
  }
}

const assertClean = (outputs: Record<string, string>) => {
  for (const [kind, output] of Object.entries(outputs)) {
    for (const value of forbidden) {
      assert.isFalse(output.includes(value), `${kind} contains ${value}:\n${output}`)
    }
  }
}

describe("no secret or token leaks from a failure", () => {
  for (const testCase of cases) {
    it.effect(testCase.name, () =>
      Effect.gen(function*() {
        const logs: Array<string> = []
        const logger = Logger.make((options) => {
          logs.push(Logger.stringLogger.log(options))
          logs.push(Logger.logfmtLogger.log(options))
          logs.push(Logger.jsonLogger.log(options))
          logs.push(Logger.structuredLogger.log(options) === undefined ? "" : JSON.stringify(options.message))
        })
        const http = TestHttp.make(testCase.handler ?? (() => TestHttp.token(ACCESS)))
        const fiber = yield* ClientCredentials.grant({
          tokenUrl,
          clientId: "client",
          clientSecret: Redacted.make(SECRET),
          ...testCase.options
        }).pipe(
          Effect.provide(http.layer),
          Effect.exit,
          Effect.provide(Logger.replace(Logger.defaultLogger, logger)),
          Effect.fork
        )
        yield* TestClock.adjust(Duration.minutes(5))
        const exit = yield* Fiber.join(fiber)
        assertClean(outputsOf(exit, logs))
        if (testCase.logs === true) assert.isAbove(logs.length, 0, "the retries were logged")
      }))
  }

  it.effect("TokenResponse.decode masks the given secrets", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(
        TokenResponse.decode(
          { status: 400, contentType: "text/html", body: `echo ${SECRET} ${"x".repeat(500)}` },
          { tokenEndpoint: tokenUrl, secrets: [SECRET] }
        )
      )
      assertClean(outputsOf(exit, []))
    }))

  it.effect("a successful grant logs nothing with a token", () =>
    Effect.gen(function*() {
      const logs: Array<string> = []
      const logger = Logger.make((options) => {
        logs.push(Logger.logfmtLogger.log(options))
      })
      const http = TestHttp.make((_, index) =>
        index === 0 ? json(503, { error: "temporarily_unavailable" }) : json(200, { ...tokens, token_type: "bearer" })
      )
      const fiber = yield* ClientCredentials.grant({
        tokenUrl,
        clientId: "client",
        clientSecret: Redacted.make(SECRET)
      })
        .pipe(Effect.provide(http.layer), Effect.provide(Logger.replace(Logger.defaultLogger, logger)), Effect.fork)
      yield* TestClock.adjust(Duration.minutes(1))
      const credentials = yield* Fiber.join(fiber)
      assert.isAbove(logs.length, 0)
      assertClean({
        logs: logs.join("\n"),
        credentials: String(credentials),
        inspect: util.inspect(credentials, { depth: Infinity }),
        json: JSON.stringify(credentials)
      })
    }))
})
