// The layer under success and failure, with every span attribute, span event, log line and error rendering captured:
// none may hold the client secret or a token.
import { OAuth2Client, OAuth2HttpClient } from "@effect-oauth2/core"
import { HttpClient } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, Layer, Logger, Redacted, TestClock } from "effect"
import * as util from "node:util"
import * as RecordingTracer from "./utils/RecordingTracer.js"
import * as TestHttp from "./utils/TestHttp.js"

const SECRET = "LAYER-SECRET-5f2e9c"
const TOKENS = ["LAYER-TOKEN-ONE-8a1b", "LAYER-TOKEN-TWO-4c7d"]
const BASIC = Buffer.from(`svc:${SECRET}`).toString("base64")
const forbidden = [SECRET, ...TOKENS, BASIC]
const api = "https://api.example"

type TokenReply = (n: number) => TestHttp.Reply

const scenarios: ReadonlyArray<{
  readonly name: string
  readonly token: TokenReply
  readonly apiStatus?: number
  readonly fails?: boolean
}> = [
  { name: "success", token: (n) => TestHttp.token(TOKENS[(n - 1) % 2]!, 3600) },
  {
    name: "a 401 invalid_token, replayed with a new token",
    token: (n) => TestHttp.token(TOKENS[(n - 1) % 2]!, 3600),
    apiStatus: 401
  },
  {
    name: "invalid_client",
    token: () => ({ status: 401, json: { error: "invalid_client", error_description: SECRET } }),
    fails: true
  },
  {
    name: "an HTML page that echoes the credentials",
    token: () => ({ status: 500, text: `<pre>Authorization: Basic ${BASIC}\nclient_secret=${SECRET}</pre>` }),
    fails: true
  },
  {
    name: "a token with an unsupported type",
    token: () => ({ json: { access_token: TOKENS[0], token_type: "mac", expires_in: 60 } }),
    fails: true
  },
  {
    name: "a 503 retried, then given up",
    token: () => ({ status: 503, json: { error: "temporarily_unavailable" } }),
    fails: true
  }
]

describe("no secret in spans, logs or errors of the layer", () => {
  for (const scenario of scenarios) {
    it.effect(scenario.name, () =>
      Effect.gen(function*() {
        const recording = RecordingTracer.make()
        const logs: Array<string> = []
        const logger = Logger.make(({ cause, message }) => {
          logs.push(`${util.inspect(message, { depth: 8 })} ${Cause.pretty(cause)}`)
        })
        let tokens = 0
        let apiCalls = 0
        const http = TestHttp.make((request) => {
          if (request.url.pathname === "/token") return scenario.token(++tokens)
          apiCalls++
          return scenario.apiStatus !== undefined && apiCalls === 1
            ? {
              status: scenario.apiStatus,
              json: {},
              headers: { "www-authenticate": "Bearer error=\"invalid_token\"" }
            }
            : { json: { ok: true } }
        })
        const layer = OAuth2HttpClient.layer({
          tokenUrl: "https://as.example/token",
          clientId: "svc",
          clientSecret: Redacted.make(SECRET),
          origins: [api],
          retry: { budget: "10 seconds" }
        }).pipe(Layer.provide(http.layer))

        const program = Effect.gen(function*() {
          const client = yield* HttpClient.HttpClient
          const typed = (yield* OAuth2Client.OAuth2Client).typedHttpClient
          const one = yield* Effect.exit(client.get(`${api}/x`))
          const two = yield* Effect.exit(typed.get(`${api}/y`))
          return [one, two] as const
        }).pipe(
          Effect.provide(layer),
          Effect.withSpan("test-root"),
          Effect.withTracer(recording.tracer),
          Effect.provide(Logger.replace(Logger.defaultLogger, logger))
        )
        const fiber = yield* Effect.fork(program)
        yield* TestClock.adjust("1 minute") // lets the retries of the 503 case run out
        const exits = yield* fiber.await.pipe(Effect.flatten)

        const renderings: Array<string> = [recording.exported(), ...logs]
        // The errors are ours to keep clean; a successful response is the application's own data. Both requests
        // of a failing scenario fail, so that the checks below do look at the errors.
        assert.deepStrictEqual(
          exits.map((exit) => exit._tag),
          scenario.fails === true ? ["Failure", "Failure"] : [
            "Success",
            "Success"
          ]
        )
        for (const exit of exits) {
          if (Exit.isFailure(exit)) {
            renderings.push(util.inspect(exit, { depth: 8 }))
            renderings.push(Cause.pretty(exit.cause))
            const error = Cause.squash(exit.cause) as Error
            renderings.push(error.message, String(error), JSON.stringify(error), util.inspect(error, { depth: 8 }))
          }
        }
        assert.isTrue(recording.spans.some((span) => span.name === "OAuth2.tokenRequest"), "the token span is there")
        const text = renderings.join("\n")
        for (const value of forbidden) assert.notInclude(text, value, `a rendering holds ${value}`)
      }))
  }
})
