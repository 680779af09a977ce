/**
 * Discovery (internal/discovery.ts) at one location and across both: what each answer of the server becomes (which
 * DiscoveryError kind, which reason, whether the other location is tried), the checks of the options, the debug line
 * for metadata sent with a content type that is not JSON, and the span. All on the in-memory HttpClient and the
 * TestClock.
 */
import { Discovery, OAuth2Error } from "@effect-oauth2/core"
import * as HttpClientError from "@effect/platform/HttpClientError"
import { assert, describe, it } from "@effect/vitest"
import { deepStrictEqual, strictEqual } from "@effect/vitest/utils"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as LogLevel from "effect/LogLevel"
import * as TestClock from "effect/TestClock"
import * as Tracer from "effect/Tracer"
import { failure, success } from "../utils/Grant.js"
import { captureLogs } from "../utils/Logs.js"
import * as RecordingTracer from "../utils/RecordingTracer.js"
import * as TestHttp from "../utils/TestHttp.js"

const issuer = "https://as.example.com"
const oauthLocation = `${issuer}/.well-known/oauth-authorization-server`
const oidcLocation = `${issuer}/.well-known/openid-configuration`

const document = (extra: Record<string, unknown> = {}) => ({ issuer, token_endpoint: `${issuer}/token`, ...extra })

/** Answers `replies[url]` (a reply or a function making one), 404 elsewhere. */
const server = (replies: Record<string, TestHttp.Reply | (() => TestHttp.Reply)>) =>
  TestHttp.make((request) => {
    const reply = replies[request.url.href]
    if (reply === undefined) return { status: 404, json: { error: "not_found" } }
    return typeof reply === "function" ? reply() : reply
  })

const urls = (http: ReturnType<typeof TestHttp.make>) => http.requests.map((r) => r.url.href)

const run = (http: ReturnType<typeof TestHttp.make>, options: Discovery.Options = {}, iss: string | URL = issuer) =>
  Effect.exit(Discovery.discover(iss, { retry: false, ...options }).pipe(Effect.provide(http.layer)))

/** The RFC 8414 location alone: no fallback in the way of the answer's own error. */
const only = { location: "oauth-authorization-server" } as const

/** One answer at the RFC 8414 location, read there alone: its DiscoveryError. */
const errorFor = (reply: TestHttp.Reply, options: Discovery.Options = {}) =>
  Effect.map(run(server({ [oauthLocation]: reply }), { ...only, ...options }), discoveryError)

const discoveryError = <A>(exit: Exit.Exit<A, unknown>) => {
  const error = failure(exit)
  assert.isTrue(OAuth2Error.isDiscoveryError(error), `expected a DiscoveryError, got ${String(error)}`)
  return error as OAuth2Error.DiscoveryError
}

const configurationReason = <A>(exit: Exit.Exit<A, unknown>) => {
  const error = failure(exit)
  assert.isTrue(OAuth2Error.isConfigurationError(error), `expected a ConfigurationError, got ${String(error)}`)
  return (error as OAuth2Error.ConfigurationError).reason
}

describe("discovery: the issuer", () => {
  it.effect("an issuer given as a URL is the URL's href: its metadata must name that href", () =>
    Effect.gen(function*() {
      const http = server({ [oauthLocation]: { json: document({ issuer: `${issuer}/` }) } })
      strictEqual(success(yield* run(http, {}, new URL(issuer))).issuer, `${issuer}/`)
      deepStrictEqual(urls(http), [oauthLocation])
    }))

  it.effect("an issuer that is not a URL, or has a query, is a ConfigurationError that says so", () =>
    Effect.gen(function*() {
      const http = server({})
      strictEqual(
        configurationReason(yield* run(http, {}, "as.example.com")),
        "issuer is not an absolute URL (14 characters); expected https://host/path"
      )
      strictEqual(
        configurationReason(yield* run(http, {}, `${issuer}?tenant=a`)),
        "issuer must not have a query (RFC 8414 §2)"
      )
      strictEqual(http.requests.length, 0)
    }))

  it("metadataUrl drops every trailing slash of the issuer's path", () => {
    strictEqual(
      Discovery.metadataUrl(new URL(`${issuer}/tenant//`), "oauth-authorization-server").href,
      `${issuer}/.well-known/oauth-authorization-server/tenant`
    )
    strictEqual(
      Discovery.metadataUrl(new URL(`${issuer}/tenant//`), "openid-configuration").href,
      `${issuer}/tenant/.well-known/openid-configuration`
    )
  })
})

describe("discovery: the options", () => {
  it.effect("a bad timeout, maxResponseBytes or retry duration is a ConfigurationError naming it; nothing is sent", () =>
    Effect.gen(function*() {
      const http = server({ [oauthLocation]: { json: document() } })
      strictEqual(
        configurationReason(yield* run(http, { timeout: "soon" as Duration.DurationInput })),
        "timeout is not a duration"
      )
      strictEqual(configurationReason(yield* run(http, { timeout: 0 })), "timeout must be positive")
      for (const maxResponseBytes of [0, -5, 1.5]) {
        strictEqual(
          configurationReason(yield* run(http, { maxResponseBytes })),
          "maxResponseBytes must be a positive whole number",
          String(maxResponseBytes)
        )
      }
      strictEqual(
        configurationReason(yield* run(http, { retry: { retryAfterCap: "later" as Duration.DurationInput } })),
        "retry.retryAfterCap is not a duration"
      )
      strictEqual(configurationReason(yield* run(http, { retry: { budget: -1 } })), "retry.budget must not be negative")
      strictEqual(http.requests.length, 0)
    }))

  it.effect("location \"auto\" reads the RFC 8414 location first, as when it is left out", () =>
    Effect.gen(function*() {
      const http = server({ [oauthLocation]: { json: document() } })
      strictEqual(success(yield* run(http, { location: "auto" })).issuer, issuer)
      deepStrictEqual(urls(http), [oauthLocation])
    }))
})

describe("discovery: the answer at one location", () => {
  it.effect("410 is NotFound, like 404", () =>
    Effect.gen(function*() {
      const error = yield* errorFor({ status: 410, text: "gone" })
      deepStrictEqual([error.kind, error.status, error.reason], ["NotFound", 410, "HTTP 410, no metadata there"])
    }))

  it.effect("a 3xx with a Location is named a redirect; other statuses are named by their number", () =>
    Effect.gen(function*() {
      const redirect = "a redirect (metadata is served at its location, not redirected)"
      const location = { location: `${issuer}/elsewhere` }
      const cases: ReadonlyArray<[number, Record<string, string>, string]> = [
        [302, location, `HTTP 302, ${redirect}`],
        [300, location, `HTTP 300, ${redirect}`],
        [399, location, `HTTP 399, ${redirect}`],
        [302, {}, "HTTP 302"],
        [201, location, "HTTP 201"],
        [400, location, "HTTP 400"],
        [500, {}, "HTTP 500"]
      ]
      for (const [status, headers, reason] of cases) {
        const error = yield* errorFor({ status, text: "", headers })
        deepStrictEqual([error.kind, error.status, error.reason], ["Status", status, reason], `${status}`)
      }
    }))

  it.effect("an error at the only location has no tried list", () =>
    Effect.gen(function*() {
      const error = yield* errorFor({ status: 404, text: "" })
      strictEqual(error.tried, undefined)
      assert.isFalse("tried" in error)
    }))

  it.effect("a page that starts with <, after white space, or is served as HTML, is an HTML page", () =>
    Effect.gen(function*() {
      const html = (contentType: string, text: string) =>
        `an HTML page instead of JSON metadata (content type ${contentType}; it starts ${JSON.stringify(text)})`
      const padded = yield* errorFor({ status: 200, text: "  <html>", headers: { "content-type": "application/json" } })
      deepStrictEqual([padded.kind, padded.reason], ["NotJson", html("application/json", "<html>")])
      const body = JSON.stringify({ issuer })
      const served = yield* errorFor({ status: 200, text: body, headers: { "content-type": "text/html" } })
      deepStrictEqual([served.kind, served.reason], ["NotJson", html("text/html", body)])
      const untyped = discoveryError(yield* run(server({ [oauthLocation]: TestHttp.raw("<p>") }), only))
      strictEqual(untyped.reason, html("none", "<p>"))
    }))

  it.effect("a body that is not JSON names its content type, or none", () =>
    Effect.gen(function*() {
      const typed = yield* errorFor({ status: 200, text: "issuer=x", headers: { "content-type": "text/plain" } })
      deepStrictEqual(
        [typed.kind, typed.reason],
        ["NotJson", "a body that is not JSON (content type text/plain; it starts \"issuer=x\")"]
      )
      const untyped = discoveryError(yield* run(server({ [oauthLocation]: TestHttp.raw("issuer=x") }), only))
      strictEqual(untyped.reason, "a body that is not JSON (content type none; it starts \"issuer=x\")")
    }))

  it.effect("JSON that is not an object (a list, null, a number, a string) is InvalidMetadata", () =>
    Effect.gen(function*() {
      for (const text of ["[1,2]", "null", "42", "\"issuer\""]) {
        const error = yield* errorFor({ status: 200, text, headers: { "content-type": "application/json" } })
        deepStrictEqual([error.kind, error.status, error.reason], [
          "InvalidMetadata",
          200,
          "JSON that is not an object"
        ], text)
      }
    }))

  it.effect("a wrongly typed nested member is named by its dotted path, the issues joined by \"; \"", () =>
    Effect.gen(function*() {
      const error = yield* errorFor({ json: document({ mtls_endpoint_aliases: { token_endpoint: 5 } }) })
      strictEqual(error.kind, "InvalidMetadata")
      strictEqual(
        error.reason,
        "JSON that is not RFC 8414 metadata (\"mtls_endpoint_aliases.token_endpoint\": Expected string, actual 5; " +
          "\"mtls_endpoint_aliases\": Expected null, actual {\"token_endpoint\":5})"
      )
    }))

  it.effect("null for a member the client uses counts as absent", () =>
    Effect.gen(function*() {
      const http = server({
        [oauthLocation]: {
          json: {
            issuer,
            token_endpoint: null,
            token_endpoint_auth_methods_supported: null,
            mtls_endpoint_aliases: null
          }
        }
      })
      const found = success(yield* run(http, only))
      deepStrictEqual(Object.keys(found), ["issuer"])
    }))

  it.effect("a declared Content-Length over maxResponseBytes is refused before the body is read; up to it is read", () =>
    Effect.gen(function*() {
      const body = JSON.stringify(document())
      const over = yield* errorFor(
        { status: 200, text: body, headers: { "content-type": "application/json", "content-length": "5000" } },
        { maxResponseBytes: 1000 }
      )
      deepStrictEqual(
        [over.kind, over.status, over.reason],
        ["InvalidMetadata", 200, "the body is larger than maxResponseBytes (1000 bytes)"]
      )
      // A body exactly maxResponseBytes long, declared or not, is read.
      for (const headers of [{ "content-length": String(body.length) }, {}]) {
        const http = server({
          [oauthLocation]: { status: 200, text: body, headers: { "content-type": "application/json", ...headers } }
        })
        strictEqual(success(yield* run(http, { ...only, maxResponseBytes: body.length })).issuer, issuer)
      }
    }))

  it.effect("a body that breaks off is a Transport error saying it could not be read", () =>
    Effect.gen(function*() {
      const broken = () =>
        new Response(
          new ReadableStream<Uint8Array>({
            pull(controller) {
              controller.error(new Error("connection reset"))
            }
          }),
          { status: 200, headers: { "content-type": "application/json" } }
        )
      const error = discoveryError(yield* run(server({ [oauthLocation]: broken }), only))
      deepStrictEqual([error.kind, error.reason], ["Transport", "the body could not be read (Decode)"])
    }))

  it.effect("a transport failure without a description: the cause's message, or that the connection failed", () =>
    Effect.gen(function*() {
      const failing = (cause: unknown) =>
        TestHttp.make(() =>
          Effect.fail(new HttpClientError.RequestError({ request: undefined as never, reason: "Transport", cause }))
        )
      const plain = discoveryError(yield* run(failing("reset"), only))
      deepStrictEqual([plain.kind, plain.reason], ["Transport", "the connection failed"])
      strictEqual(discoveryError(yield* run(failing(new Error("socket hang up")), only)).reason, "socket hang up")
    }))

  it.effect("a server that never answers, retried: Timeout at the end of the retry budget", () =>
    Effect.gen(function*() {
      const http = TestHttp.make(() => Effect.never)
      const fiber = yield* Effect.fork(
        Effect.exit(
          Discovery.discover(issuer, { ...only, timeout: "10 seconds", retry: { budget: "15 seconds" } }).pipe(
            Effect.provide(http.layer)
          )
        )
      )
      yield* TestClock.adjust(Duration.seconds(14))
      strictEqual((yield* Fiber.poll(fiber))._tag, "None")
      yield* TestClock.adjust(Duration.seconds(1))
      const error = discoveryError(yield* Fiber.join(fiber))
      deepStrictEqual([error.kind, error.url, error.reason], [
        "Timeout",
        oauthLocation,
        "no metadata within the retry budget of 15s"
      ])
    }))
})

describe("discovery: metadata sent with a content type that is not JSON is logged at debug level", () => {
  const debugLines = (reply: TestHttp.Reply) =>
    Effect.gen(function*() {
      const { logs, value } = yield* captureLogs(run(server({ [oauthLocation]: reply }), only), LogLevel.Debug)
      strictEqual(success(value).issuer, issuer)
      return logs.filter((line) => line.includes("sent metadata as"))
    })
  const body = JSON.stringify(document())

  it.effect("JSON types (any case, with parameters, +json) and no content type: no line", () =>
    Effect.gen(function*() {
      for (
        const contentType of ["application/json", "Application/JSON ; charset=utf-8", "application/jrd+json"]
      ) {
        deepStrictEqual(
          yield* debugLines({ status: 200, text: body, headers: { "content-type": contentType } }),
          [],
          contentType
        )
      }
      deepStrictEqual(yield* debugLines(TestHttp.raw(body)), [])
    }))

  it.effect("another type: one debug line naming the URL and the type", () =>
    Effect.gen(function*() {
      deepStrictEqual(yield* debugLines({ status: 200, text: body, headers: { "content-type": "text/plain" } }), [
        `DEBUG OAuth2 discovery: ${oauthLocation} sent metadata as text/plain; read as JSON`
      ])
    }))
})

describe("discovery: which failures try the other location", () => {
  const withFirst = (reply: TestHttp.Reply) =>
    Effect.gen(function*() {
      const http = server({ [oauthLocation]: reply, [oidcLocation]: { json: document() } })
      return { exit: yield* run(http), urls: urls(http) }
    })

  it.effect("InvalidMetadata and a 4xx other than 408 and 429: the OpenID Connect location is tried", () =>
    Effect.gen(function*() {
      for (const reply of [{ json: [1, 2] }, { status: 400, text: "" }, { status: 403, text: "" }]) {
        const { exit, urls } = yield* withFirst(reply)
        strictEqual(success(exit).issuer, issuer)
        deepStrictEqual(urls, [oauthLocation, oidcLocation])
      }
    }))

  it.effect("408, 429 and 5xx: the error itself, the other location untried", () =>
    Effect.gen(function*() {
      for (const status of [408, 429, 500]) {
        const { exit, urls } = yield* withFirst({ status, text: "" })
        const error = discoveryError(exit)
        deepStrictEqual([error.kind, error.status, error.url], ["Status", status, oauthLocation])
        deepStrictEqual(urls, [oauthLocation])
      }
    }))
})

describe("discovery: span and tokenEndpoint", () => {
  it.effect("discovery runs in a client span OAuth2.discovery with the issuer as oauth2.issuer", () => {
    const recording = RecordingTracer.make()
    const kinds: Array<[string, Tracer.SpanKind]> = []
    const tracer = Tracer.make({
      span: (name, parent, context, links, startTime, kind, options) => {
        kinds.push([name, kind])
        return recording.tracer.span(name, parent, context, links, startTime, kind, options)
      },
      context: recording.tracer.context
    })
    return Effect.gen(function*() {
      success(yield* run(server({ [oauthLocation]: { json: document() } })))
      // The first span is discovery's own; the HttpClient's request span is its child.
      deepStrictEqual(kinds[0], ["OAuth2.discovery", "client"])
      deepStrictEqual(Object.fromEntries(recording.spans[0]!.attributes), { "oauth2.issuer": issuer })
    }).pipe(Effect.withTracer(tracer))
  })

  it("tokenEndpoint under mutual TLS without mtls_endpoint_aliases is the token_endpoint", () => {
    strictEqual(Discovery.tokenEndpoint(document(), { mutualTls: true }), `${issuer}/token`)
  })
})
