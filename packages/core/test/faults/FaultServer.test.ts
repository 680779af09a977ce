/**
 * The grant over real loopback sockets (undici) against the fault-injecting token endpoint: every fault of issue 5
 * ends as the right typed error, or as a success after the retries, with the expected number of attempts, in
 * bounded time and memory. Time is real here (`it.live`), on a machine that may be loaded: a time rule is checked
 * as a lower bound (a wait is never shorter than the rule says) or as an upper bound with a wide margin (it does not
 * hang), and an attempt count only where the load cannot change it. The exact timings are Retry.test.ts's job, on
 * the TestClock.
 */
import { ClientCredentials, type Credentials, OAuth2Error } from "@effect-oauth2/core"
import type { Fault, FaultServer } from "@effect-oauth2/testing"
import { FetchHttpClient, type HttpClient } from "@effect/platform"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { assert, describe, it } from "@effect/vitest"
import type { Layer } from "effect"
import { Cause, Effect, Exit, Logger, Option, Redacted } from "effect"
import * as v8 from "node:v8"
import * as vm from "node:vm"
import { faultServer, loopback } from "./utils.js"

const SECRET = "fault-suite-SECRET-4f9c1e"
const CLIENT_ID = "fault-client"

// ---------------------------------------------------------------------------------------------------------------
// Servers, closed with the test's scope
// ---------------------------------------------------------------------------------------------------------------

interface Hit {
  readonly method: string
  readonly url: string
  readonly authorization: string | undefined
  readonly body: string
}

interface Recorder {
  readonly url: string
  readonly hits: Array<Hit>
}

/** A plain loopback server that records every request and answers 200 with a valid token body. */
const recorder = Effect.gen(function*() {
  const hits: Array<Hit> = []
  const { url } = yield* loopback((req, res) => {
    const chunks: Array<Buffer> = []
    req.on("data", (chunk: Buffer) => chunks.push(chunk))
    req.on("end", () => {
      hits.push({
        method: req.method ?? "",
        url: req.url ?? "",
        authorization: req.headers.authorization,
        body: Buffer.concat(chunks).toString("utf8")
      })
      const body = JSON.stringify({ access_token: "stolen-redirect-token", token_type: "Bearer" })
      res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) })
      res.end(body)
    })
  })
  return { url, hits } satisfies Recorder
})

// ---------------------------------------------------------------------------------------------------------------
// Running the grant
// ---------------------------------------------------------------------------------------------------------------

const undici = NodeHttpClient.layerUndici
const fetchLayer = FetchHttpClient.layer

interface Run {
  readonly exit: Exit.Exit<Credentials.Credentials, OAuth2Error.OAuth2Error>
  /** `Date.now()` just before the grant started. */
  readonly start: number
  /** Requests the fault server received during this run. */
  readonly attempts: number
  /** Arrival times (ms) of those requests. */
  readonly times: ReadonlyArray<number>
  readonly elapsed: number
  readonly logs: ReadonlyArray<string>
}

/**
 * One grant against `server` with the default retry schedule, a 5 s attempt timeout and a 30 s budget (unless
 * overridden: the tests about timeouts set their own; these defaults are wide so that a slow machine never times out
 * an attempt the test expects to be answered), over undici (unless another client layer is given). Log lines are captured, not printed.
 */
const grant = (
  server: FaultServer,
  options: Partial<ClientCredentials.Options> = {},
  client: Layer.Layer<HttpClient.HttpClient> = undici
): Effect.Effect<Run> =>
  Effect.gen(function*() {
    const logs: Array<string> = []
    const logger = Logger.make((entry) => {
      logs.push(Logger.logfmtLogger.log(entry))
    })
    const before = server.requests().length
    const start = Date.now()
    const exit = yield* ClientCredentials.grant({
      tokenUrl: server.tokenUrl,
      clientId: CLIENT_ID,
      clientSecret: Redacted.make(SECRET),
      timeout: "5 seconds",
      retry: { budget: "30 seconds" },
      ...options
    }).pipe(Effect.provide(client), Effect.provide(Logger.replace(Logger.defaultLogger, logger)), Effect.exit)
    const elapsed = Date.now() - start
    const requests = server.requests().slice(before)
    assertNoSecret(exit, logs)
    return { exit, start, attempts: requests.length, times: requests.map((r) => r.time), elapsed, logs }
  })

/** No error message, rendering or log line of a run holds the client secret. */
const assertNoSecret = (exit: Exit.Exit<unknown, unknown>, logs: ReadonlyArray<string>) => {
  const outputs = [logs.join("\n")]
  if (Exit.isFailure(exit)) {
    outputs.push(Cause.pretty(exit.cause))
    const error = Cause.failureOption(exit.cause)
    if (Option.isSome(error)) outputs.push(String(error.value), JSON.stringify(error.value))
  }
  for (const output of outputs) assert.notInclude(output, SECRET)
}

const failureOf = <Tag extends OAuth2Error.OAuth2Error["_tag"]>(
  run: Run,
  tag: Tag
): Extract<OAuth2Error.OAuth2Error, { readonly _tag: Tag }> => {
  const { exit } = run
  if (Exit.isSuccess(exit)) return assert.fail(`expected ${tag}, got a success`)
  assert.isFalse(Cause.isDie(exit.cause), `a defect: ${Cause.pretty(exit.cause)}`)
  assert.isFalse(Cause.isInterrupted(exit.cause), `interrupted: ${Cause.pretty(exit.cause)}`)
  const error = Option.getOrThrow(Cause.failureOption(exit.cause))
  assert.isTrue(OAuth2Error.isOAuth2Error(error), `not an OAuth2Error: ${String(error)}`)
  assert.strictEqual(error._tag, tag, `expected ${tag}, got ${error._tag}: ${error.message}`)
  return error as Extract<OAuth2Error.OAuth2Error, { readonly _tag: Tag }>
}

const successOf = (run: Run): Credentials.Credentials => {
  if (Exit.isFailure(run.exit)) return assert.fail(`expected a success, got ${Cause.pretty(run.exit.cause)}`)
  return run.exit.value
}

const gaps = (times: ReadonlyArray<number>) => times.slice(1).map((time, i) => time - times[i]!)

const status = (code: number): Fault =>
  code === 502
    ? { kind: "raw", status: 502, body: "<html><body>Bad Gateway</body></html>", contentType: "text/html" }
    : { kind: "json", status: code, body: { error: "server_error", error_description: `HTTP ${code}` } }

// ---------------------------------------------------------------------------------------------------------------
// Memory
// ---------------------------------------------------------------------------------------------------------------

/** `global.gc`, or one obtained through V8 flags when the process was not started with --expose-gc. */
const gc: () => void = (() => {
  const exposed = (globalThis as { gc?: () => void }).gc
  if (typeof exposed === "function") return exposed
  try {
    v8.setFlagsFromString("--expose-gc")
    const fromContext = vm.runInNewContext("gc") as unknown
    if (typeof fromContext === "function") return fromContext as () => void
  } catch {
    // no GC available: the measurement is looser
  }
  return () => {}
})()

const heapUsed = Effect.sync(() => {
  gc()
  gc()
  return process.memoryUsage().heapUsed
})

const MB = 1024 * 1024

// ---------------------------------------------------------------------------------------------------------------

describe("the grant over undici against the fault server", () => {
  describe("transport faults", () => {
    it.scopedLive("a dropped connection is retried: success on the 2nd attempt", () =>
      Effect.gen(function*() {
        const server = yield* faultServer
        server.script({ kind: "drop" })
        const run = yield* grant(server)
        assert.strictEqual(Redacted.value(successOf(run).accessToken), "fault-token-1")
        assert.strictEqual(run.attempts, 2)
        assert.isAtLeast(run.logs.length, 1, "the retry is logged")
      }), 30_000)

    it.scopedLive("a connection dropped every time: TransportError after 4 attempts", () =>
      Effect.gen(function*() {
        const server = yield* faultServer
        server.setDefault({ kind: "drop" })
        const run = yield* grant(server)
        const error = failureOf(run, "TransportError")
        assert.strictEqual(error.tokenEndpoint, server.tokenUrl)
        assert.strictEqual(run.attempts, 4)
        // backoff 250, 500, 1000 ms, each ±20 %
        assert.isAtLeast(run.elapsed, 0.8 * 1750)
        assert.isBelow(run.elapsed, 15_000)
      }), 30_000)

    it.scopedLive("a body cut off mid-stream: TransportError, retried, then success", () =>
      Effect.gen(function*() {
        const server = yield* faultServer
        server.script({ kind: "truncated" })
        const run = yield* grant(server)
        successOf(run)
        assert.strictEqual(run.attempts, 2)

        server.setDefault({ kind: "truncated" })
        const failed = yield* grant(server, { retry: false })
        const error = failureOf(failed, "TransportError")
        assert.include(error.description, "could not be read")
        assert.strictEqual(failed.attempts, 1)
      }), 30_000)

    it.scopedLive("a stalled attempt times out and is retried", () =>
      Effect.gen(function*() {
        const server = yield* faultServer
        server.script({ kind: "stall", ms: 20_000 })
        // 1 s: the stalled first attempt must time out, the second must not (a loaded machine may be slow)
        const run = yield* grant(server, { timeout: "1 second" })
        successOf(run)
        assert.strictEqual(run.attempts, 2)
        // the timeout (1 s) plus the first backoff (250 ms ± 20 %), counted from the start of the grant: the
        // timeout starts on the client, so the first attempt may reach the server late on a loaded machine and the
        // gap between the two arrivals can be shorter (a CI run saw 1,165 ms)
        assert.isAtLeast(run.times[1]! - run.start, 1_000 + 200 - 5)
        assert.isBelow(run.elapsed, 15_000)
      }), 30_000)

    it.scopedLive(
      "a stall with retry: false: TimeoutError stage attempt after 300 ms, one attempt",
      () =>
        Effect.gen(function*() {
          const server = yield* faultServer
          server.setDefault({ kind: "stall" })
          const run = yield* grant(server, { retry: false, timeout: "300 millis" })
          const error = failureOf(run, "TimeoutError")
          assert.strictEqual(error.stage, "attempt")
          assert.strictEqual(error.timeoutMillis, 300)
          assert.strictEqual(run.attempts, 1)
          assert.isAtLeast(run.elapsed, 290)
          assert.isBelow(run.elapsed, 10_000)
        }),
      30_000
    )

    it.scopedLive("stalls past the budget: TimeoutError stage budget, on time", () =>
      Effect.gen(function*() {
        const server = yield* faultServer
        server.setDefault({ kind: "stall" })
        const run = yield* grant(server, { timeout: "300 millis", retry: { budget: "1 second" } })
        const error = failureOf(run, "TimeoutError")
        assert.strictEqual(error.stage, "budget")
        assert.strictEqual(error.timeoutMillis, 1_000)
        // attempt (300) + backoff (≥ 200) + attempt (300) + backoff (≥ 400) > 1 s: at most 2 attempts fit in the
        // budget (fewer on a slow machine, never more)
        assert.isAtLeast(run.attempts, 1)
        assert.isAtMost(run.attempts, 2)
        assert.isAtLeast(run.elapsed, 990)
        assert.isBelow(run.elapsed, 10_000)
      }), 30_000)
  })

  describe("transient statuses", () => {
    for (const code of [500, 502, 503, 504]) {
      it.scopedLive(`${code} twice, then a token: success on the 3rd attempt`, () =>
        Effect.gen(function*() {
          const server = yield* faultServer
          server.script(status(code), status(code))
          const run = yield* grant(server)
          assert.strictEqual(Redacted.value(successOf(run).accessToken), "fault-token-1")
          assert.strictEqual(run.attempts, 3)
          const [first, second] = gaps(run.times)
          assert.isAtLeast(first!, 200 - 20)
          assert.isAtLeast(second!, 400 - 20)
        }), 30_000)
    }

    it.scopedLive("503 every time (§5.2 body): ErrorResponse after 4 attempts", () =>
      Effect.gen(function*() {
        const server = yield* faultServer
        server.setDefault(status(503))
        const run = yield* grant(server)
        const error = failureOf(run, "ErrorResponse")
        assert.strictEqual(error.status, 503)
        assert.strictEqual(error.error, "server_error")
        assert.strictEqual(run.attempts, 4)
      }), 30_000)

    it.scopedLive("the last failed attempt is not logged as \"retrying\"", () =>
      Effect.gen(function*() {
        const server = yield* faultServer
        server.setDefault(status(503))
        const run = yield* grant(server)
        assert.strictEqual(run.attempts, 4)
        assert.strictEqual(run.logs.length, 3, "one \"retrying\" line per retry")
        for (const line of run.logs) assert.include(line, "retrying")
      }), 30_000)

    it.scopedLive(
      "502 HTML every time: InvalidResponse with the status after 4 attempts",
      () =>
        Effect.gen(function*() {
          const server = yield* faultServer
          server.setDefault(status(502))
          const run = yield* grant(server)
          const error = failureOf(run, "InvalidResponse")
          assert.strictEqual(error.status, 502)
          assert.include(error.reason, "502")
          assert.include(error.bodyExcerpt, "Bad Gateway")
          assert.strictEqual(run.attempts, 4)
        }),
      30_000
    )
  })

  describe("Retry-After", () => {
    it.scopedLive("429 with Retry-After: 1 waits at least 1 s", () =>
      Effect.gen(function*() {
        const server = yield* faultServer
        server.script({ kind: "retryAfter", status: 429, retryAfter: "1" })
        const run = yield* grant(server)
        successOf(run)
        assert.strictEqual(run.attempts, 2)
        assert.isAtLeast(gaps(run.times)[0]!, 1_000 - 30)
        assert.isBelow(gaps(run.times)[0]!, 10_000)
      }), 30_000)

    it.scopedLive("503 with Retry-After: 1 waits at least 1 s", () =>
      Effect.gen(function*() {
        const server = yield* faultServer
        server.script({ kind: "retryAfter", status: 503, retryAfter: "1" })
        const run = yield* grant(server)
        successOf(run)
        assert.strictEqual(run.attempts, 2)
        assert.isAtLeast(gaps(run.times)[0]!, 1_000 - 30)
      }), 30_000)

    it.scopedLive(
      "429 with Retry-After as an HTTP date ~2 s ahead: the next attempt comes at that date",
      () =>
        Effect.gen(function*() {
          const server = yield* faultServer
          // HTTP dates have whole seconds: take the next whole second at least 2 s ahead
          const at = Math.ceil((Date.now() + 2_000) / 1_000) * 1_000
          server.script({ kind: "retryAfter", status: 429, retryAfter: new Date(at).toUTCString() })
          const run = yield* grant(server)
          successOf(run)
          assert.strictEqual(run.attempts, 2)
          // not before the date (the first attempt may reach the server late on a loaded machine, so the gap
          // between the two attempts can be shorter than 2 s: the date is what counts)
          assert.isAtLeast(run.times[1]!, at - 30)
          assert.isBelow(run.times[1]!, at + 10_000)
        }),
      30_000
    )

    it.scopedLive(
      "Retry-After: 3600 with retryAfterCap 500 ms waits ~500 ms, not an hour",
      () =>
        Effect.gen(function*() {
          const server = yield* faultServer
          server.script({ kind: "retryAfter", status: 429, retryAfter: "3600" })
          const run = yield* grant(server, { retry: { retryAfterCap: "500 millis", budget: "5 seconds" } })
          successOf(run)
          assert.strictEqual(run.attempts, 2)
          assert.isAtLeast(gaps(run.times)[0]!, 500 - 30)
          assert.isBelow(gaps(run.times)[0]!, 10_000) // not the hour
        }),
      30_000
    )

    it.scopedLive(
      "a Retry-After longer than the budget left: the server's answer at once, no wait",
      () =>
        Effect.gen(function*() {
          const server = yield* faultServer
          server.setDefault({ kind: "retryAfter", status: 429, retryAfter: "5" })
          const run = yield* grant(server, { retry: { budget: "2 seconds" } })
          const error = failureOf(run, "ErrorResponse")
          assert.strictEqual(error.status, 429)
          assert.strictEqual(error.retryAfter, 5_000)
          assert.strictEqual(run.attempts, 1)
          assert.isBelow(run.elapsed, 4_000) // a wait would take 5 s
        }),
      30_000
    )

    it.scopedLive(
      "stalls, then a Retry-After beyond what the budget has left: no attempt past the budget",
      () =>
        Effect.gen(function*() {
          const server = yield* faultServer
          server.script({ kind: "stall" }, { kind: "retryAfter", status: 503, retryAfter: "10" })
          const run = yield* grant(server, { timeout: "300 millis", retry: { budget: "6 seconds" } })
          // 300 ms timeout + ~250 ms backoff + a 503 asking for 10 s more: past the budget, so the 503 is the result
          const error = failureOf(run, "ErrorResponse")
          assert.strictEqual(error.status, 503)
          assert.strictEqual(run.attempts, 2)
          assert.isBelow(run.elapsed, 6_000) // within the budget: no wait for the Retry-After
        }),
      30_000
    )
  })

  describe("bodies that are not a token response", () => {
    it.scopedLive("truncated JSON (complete response): InvalidResponse, not retried", () =>
      Effect.gen(function*() {
        const server = yield* faultServer
        server.script({
          kind: "raw",
          status: 200,
          body: "{\"access_token\":\"abc\",\"token_type\":\"Bea",
          contentType: "application/json"
        })
        const run = yield* grant(server)
        const error = failureOf(run, "InvalidResponse")
        assert.include(error.reason, "not valid JSON")
        assert.strictEqual(error.status, 200)
        assert.strictEqual(run.attempts, 1)
      }), 30_000)

    it.scopedLive(
      "a 200 HTML error page: InvalidResponse naming the content type, not retried",
      () =>
        Effect.gen(function*() {
          const server = yield* faultServer
          server.script({ kind: "html" })
          const run = yield* grant(server)
          const error = failureOf(run, "InvalidResponse")
          assert.include(error.reason, "text/html")
          assert.strictEqual(error.contentType, "text/html; charset=utf-8")
          assert.include(error.bodyExcerpt, "502 Bad Gateway")
          assert.isAtMost(error.bodyExcerpt.length, 301)
          assert.strictEqual(run.attempts, 1)
        }),
      30_000
    )

    it.scopedLive("text/plain garbage: InvalidResponse, not retried", () =>
      Effect.gen(function*() {
        const server = yield* faultServer
        server.script({ kind: "raw", status: 200, body: "\u0000\u00ff garbage \ud83d\ude00 }{ ][" })
        const run = yield* grant(server)
        const error = failureOf(run, "InvalidResponse")
        assert.include(error.reason, "not valid JSON")
        assert.strictEqual(run.attempts, 1)
      }), 30_000)

    it.scopedLive("a 200 with error: ErrorResponse with status 200, not retried", () =>
      Effect.gen(function*() {
        const server = yield* faultServer
        server.script({
          kind: "json",
          status: 200,
          body: { error: "invalid_request", error_description: "missing audience", access_token: "x" }
        })
        const run = yield* grant(server)
        const error = failureOf(run, "ErrorResponse")
        assert.strictEqual(error.status, 200)
        assert.strictEqual(error.error, "invalid_request")
        assert.strictEqual(error.errorDescription, "missing audience")
        assert.strictEqual(run.attempts, 1)
      }), 30_000)

    it.scopedLive("a 200 with error temporarily_unavailable is retried", () =>
      Effect.gen(function*() {
        const server = yield* faultServer
        server.script({ kind: "json", status: 200, body: { error: "temporarily_unavailable" } })
        const run = yield* grant(server)
        successOf(run)
        assert.strictEqual(run.attempts, 2)
      }), 30_000)

    const valid = { access_token: "tok", token_type: "Bearer", expires_in: 3600 }
    const wrongTypes: ReadonlyArray<readonly [string, Record<string, unknown>]> = [
      ["access_token", { ...valid, access_token: 42 }],
      ["access_token", { ...valid, access_token: null }],
      ["access_token", { ...valid, access_token: "" }],
      ["access_token", { ...valid, access_token: true }],
      ["access_token", { ...valid, access_token: { value: "x" } }],
      ["access_token", { ...valid, access_token: ["x"] }],
      ["token_type", { ...valid, token_type: 1 }],
      ["token_type", { ...valid, token_type: null }],
      ["token_type", { ...valid, token_type: ["Bearer"] }],
      ["token_type", { ...valid, token_type: "mac" }],
      ["expires_in", { ...valid, expires_in: "soon" }],
      ["expires_in", { ...valid, expires_in: -1 }],
      ["expires_in", { ...valid, expires_in: {} }],
      ["expires_in", { ...valid, expires_in: [3600] }],
      ["expires_in", { ...valid, expires_in: true }],
      ["expires_in", { ...valid, expires_in: "0x10" }],
      ["expires_in", { ...valid, expires_in: "Infinity" }],
      ["refresh_token", { ...valid, refresh_token: 1 }],
      ["refresh_token", { ...valid, refresh_token: "" }],
      ["refresh_token", { ...valid, refresh_token: {} }],
      ["id_token", { ...valid, id_token: 7 }],
      ["id_token", { ...valid, id_token: ["a"] }],
      ["scope", { ...valid, scope: ["a", "b"] }],
      ["scope", { ...valid, scope: 1 }],
      ["scope", { ...valid, scope: { a: 1 } }],
      ["error", { ...valid, error: 42 }],
      ["error_description", { error: "invalid_client", error_description: 42 }],
      ["error_uri", { error: "invalid_client", error_uri: [] }]
    ]

    it.scopedLive(
      "wrong types in every field: InvalidResponse naming the field, one attempt each",
      () =>
        Effect.gen(function*() {
          const server = yield* faultServer
          for (const [field, body] of wrongTypes) {
            server.script({ kind: "json", status: 200, body })
            const run = yield* grant(server)
            const error = failureOf(run, "InvalidResponse")
            assert.include(error.reason, field, JSON.stringify(body))
            assert.strictEqual(run.attempts, 1, JSON.stringify(body))
          }
        }),
      30_000
    )

    it.scopedLive("wrong types in all fields at once: one InvalidResponse naming each", () =>
      Effect.gen(function*() {
        const server = yield* faultServer
        server.script({
          kind: "json",
          status: 200,
          body: { access_token: 1, token_type: 2, expires_in: "x", refresh_token: 3, id_token: 4, scope: 5 }
        })
        const run = yield* grant(server)
        const error = failureOf(run, "InvalidResponse")
        for (const field of ["access_token", "token_type", "expires_in", "refresh_token", "id_token", "scope"]) {
          assert.include(error.reason, field)
        }
        assert.strictEqual(run.attempts, 1)
      }), 30_000)
  })

  describe("a 50 MB body", () => {
    for (const contentLength of [false, true]) {
      it.scopedLive(
        `${contentLength ? "with Content-Length" : "chunked"}: InvalidResponse about maxResponseBytes, fast, ` +
          `bounded heap`,
        () =>
          Effect.gen(function*() {
            const server = yield* faultServer
            server.script({ kind: "huge", bytes: 50 * MB, contentLength })
            const before = yield* heapUsed
            const run = yield* grant(server)
            const after = yield* heapUsed
            const error = failureOf(run, "InvalidResponse")
            assert.include(error.reason, "maxResponseBytes")
            assert.include(error.reason, contentLength ? "Content-Length says 52428800" : "1048576 bytes")
            assert.strictEqual(error.bodyExcerpt, "")
            assert.strictEqual(run.attempts, 1)
            assert.isBelow(run.elapsed, 10_000)
            assert.isBelow(after - before, 20 * MB, `heap grew by ${((after - before) / MB).toFixed(1)} MB`)
          }),
        30_000
      )
    }

    it.scopedLive(
      "a smaller maxResponseBytes cuts a chunked body as soon as it passes the limit",
      () =>
        Effect.gen(function*() {
          const server = yield* faultServer
          server.script({ kind: "huge", bytes: 50 * MB })
          const run = yield* grant(server, { maxResponseBytes: 10_000 })
          assert.include(failureOf(run, "InvalidResponse").reason, "maxResponseBytes (10000 bytes")
          assert.isBelow(run.elapsed, 10_000)
        }),
      30_000
    )
  })

  describe("redirects", () => {
    const clients = [["undici", undici], ["fetch", fetchLayer]] as const
    for (const [name, client] of clients) {
      for (const code of [307, 302, 301, 308] as const) {
        it.scopedLive(
          `${code} to another origin (${name}): InvalidResponse, the other origin is never hit`,
          () =>
            Effect.gen(function*() {
              const server = yield* faultServer
              const elsewhere = yield* recorder
              const location = `${elsewhere.url}/token`
              server.setDefault({ kind: "redirect", status: code, location })
              const run = yield* grant(server, {}, client)
              const error = failureOf(run, "InvalidResponse")
              assert.strictEqual(error.status, code)
              assert.include(error.reason, "redirect")
              assert.include(error.reason, location)
              assert.strictEqual(run.attempts, 1, "a redirect is not retried")
              assert.deepStrictEqual(elsewhere.hits, [], "the redirect target was hit")
            }),
          30_000
        )
      }
    }
  })

  describe("definite refusals", () => {
    const refusals: ReadonlyArray<readonly [number, string]> = [
      [401, "invalid_client"],
      [400, "invalid_client"],
      [400, "invalid_scope"],
      [503, "invalid_client"],
      [429, "invalid_scope"],
      [400, "invalid_grant"],
      [400, "unauthorized_client"],
      [400, "unsupported_grant_type"],
      [400, "invalid_request"]
    ]
    for (const [code, error] of refusals) {
      it.scopedLive(`${code} ${error}: ErrorResponse after exactly one attempt`, () =>
        Effect.gen(function*() {
          const server = yield* faultServer
          server.setDefault({
            kind: "json",
            status: code,
            body: { error, error_description: `refused: ${error}` },
            headers: code === 429 || code === 503 ? { "retry-after": "1" } : {}
          })
          const run = yield* grant(server)
          const failed = failureOf(run, "ErrorResponse")
          assert.strictEqual(failed.error, error)
          assert.strictEqual(failed.status, code)
          assert.strictEqual(run.attempts, 1)
          assert.deepStrictEqual(run.logs, [], "no retry was logged")
          assert.isBelow(run.elapsed, 4_000) // no retry after Retry-After: 1 or a backoff
        }), 30_000)
    }
  })

  it.scopedLive(
    "the request the server saw: POST, Basic credentials, grant_type, Accept",
    () =>
      Effect.gen(function*() {
        const server = yield* faultServer
        successOf(yield* grant(server, { scopes: ["a", "b"] }))
        const [request] = server.requests()
        assert.strictEqual(request!.method, "POST")
        assert.strictEqual(request!.headers["accept"], "application/json")
        assert.match(request!.headers["content-type"]!, /^application\/x-www-form-urlencoded/)
        const basic = Buffer.from(request!.headers["authorization"]!.slice("Basic ".length), "base64").toString()
        assert.strictEqual(basic, `${CLIENT_ID}:${encodeURIComponent(SECRET)}`)
        assert.deepStrictEqual(
          Object.fromEntries(new URLSearchParams(request!.body)),
          { grant_type: "client_credentials", scope: "a b" }
        )
      }),
    30_000
  )
})
