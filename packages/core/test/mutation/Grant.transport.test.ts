/**
 * How the grant (internal/grant.ts) sends the token request and reads its answer: the transport errors it reports
 * (description and the sanitized cause), the bounded body read (Content-Length, Content-Encoding, chunks), the
 * `redirect: "manual"` it asks of the fetch client, and redirects an ambient client followed anyway.
 */
import { ClientCredentials } from "@effect-oauth2/core"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { assert, describe, it } from "@effect/vitest"
import { deepStrictEqual, strictEqual } from "@effect/vitest/utils"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import { failureOf, run, success, tokenUrl } from "../utils/Grant.js"
import * as TestHttp from "../utils/TestHttp.js"

const tokenJson = JSON.stringify({ access_token: "at", token_type: "Bearer", expires_in: 3600 })

/** A request error as a platform client reports it, with only the given fields. */
const requestError = (fields: { readonly reason: "Transport" | "Encode" | "InvalidUrl"; readonly cause?: unknown }) =>
  Effect.fail(new HttpClientError.RequestError({ request: HttpClientRequest.post(tokenUrl), ...fields }))

/** A response whose body stream fails after the headers arrived. */
const brokenBody = (headers: Record<string, string>) =>
  new Response(
    new ReadableStream<Uint8Array>({
      start(controller) {
        controller.error(new Error("connection reset"))
      }
    }),
    { status: 200, headers }
  )

/** A body delivered in several chunks, without Content-Length. */
const chunked = (text: string, size: number) => {
  const bytes = new TextEncoder().encode(text)
  let offset = 0
  return new Response(
    new ReadableStream<Uint8Array>({
      pull(controller) {
        if (offset >= bytes.length) return controller.close()
        controller.enqueue(bytes.slice(offset, offset + size))
        offset += size
      }
    }),
    { status: 200, headers: { "content-type": "application/json" } }
  )
}

/** The reason, endpoint-free cause of a TransportError's cause (a sanitized RequestError). */
const causeOf = (cause: unknown) => {
  assert.instanceOf(cause, HttpClientError.RequestError)
  const error = cause as HttpClientError.RequestError
  return { reason: error.reason, description: error.description, url: error.request.url }
}

describe("grant transport (mutation)", () => {
  describe("transport errors", () => {
    it.effect("a refused connection's description is the whole description, without a prefix", () =>
      Effect.gen(function*() {
        const { exit } = yield* run(() => TestHttp.transportError("connection refused"))
        const error = failureOf(exit, "TransportError")
        strictEqual(error.description, "connection refused")
        deepStrictEqual(causeOf(error.cause), { reason: "Transport", description: "connection refused", url: tokenUrl })
      }))

    it.effect("a transport error with neither description nor cause is described as \"connection failed\"", () =>
      Effect.gen(function*() {
        const { exit } = yield* run(() => requestError({ reason: "Transport" }))
        const error = failureOf(exit, "TransportError")
        strictEqual(error.description, "connection failed")
        deepStrictEqual(causeOf(error.cause), { reason: "Transport", description: "connection failed", url: tokenUrl })
      }))

    it.effect("a request error of another kind is prefixed with its kind and keeps it in the cause", () =>
      Effect.gen(function*() {
        const bare = failureOf((yield* run(() => requestError({ reason: "Encode" }))).exit, "TransportError")
        strictEqual(bare.description, "Encode: Encode")
        deepStrictEqual(causeOf(bare.cause), { reason: "Encode", description: "Encode", url: tokenUrl })
        const caused = failureOf(
          (yield* run(() => requestError({ reason: "InvalidUrl", cause: new Error("bad host") }))).exit,
          "TransportError"
        )
        strictEqual(caused.description, "InvalidUrl: bad host")
        deepStrictEqual(causeOf(caused.cause), { reason: "InvalidUrl", description: "bad host", url: tokenUrl })
      }))

    it.effect("a body that fails while streamed (no Content-Length) is a TransportError: the body could not be read", () =>
      Effect.gen(function*() {
        const { exit } = yield* run(() => brokenBody({ "content-type": "application/json" }))
        const error = failureOf(exit, "TransportError")
        assert.match(error.description, /^the response body could not be read \(.+\)$/)
        strictEqual(causeOf(error.cause).reason, "Transport")
      }))

    it.effect("a body with a Content-Length that fails while read is a TransportError: the body could not be read", () =>
      Effect.gen(function*() {
        const { exit } = yield* run(() => brokenBody({ "content-type": "application/json", "content-length": "100" }))
        const error = failureOf(exit, "TransportError")
        assert.match(error.description, /^the response body could not be read \(.+\)$/)
        strictEqual(causeOf(error.cause).reason, "Transport")
      }))
  })

  describe("the bounded body", () => {
    it.effect("a body declared by Content-Length under or exactly at maxResponseBytes is read", () =>
      Effect.gen(function*() {
        const headers = { "content-type": "application/json", "content-length": String(tokenJson.length) }
        for (const maxResponseBytes of [tokenJson.length, tokenJson.length + 1, 1024 * 1024]) {
          const { exit } = yield* run(() => TestHttp.raw(tokenJson, { headers }), { maxResponseBytes })
          strictEqual(Redacted.value(success(exit).accessToken), "at")
        }
      }))

    it.effect("a body refused for its Content-Length keeps the response's content type, and has none without one", () =>
      Effect.gen(function*() {
        const typed = yield* run(
          () => TestHttp.raw(tokenJson, { headers: { "content-type": "application/json", "content-length": "5000" } }),
          {
            maxResponseBytes: 4000
          }
        )
        const error = failureOf(typed.exit, "InvalidResponse")
        strictEqual(
          error.reason,
          "the body is larger than maxResponseBytes (4000 bytes; Content-Length says 5000); it was not read"
        )
        strictEqual(error.contentType, "application/json")
        const untyped = yield* run(() => TestHttp.raw(tokenJson, { headers: { "content-length": "5000" } }), {
          maxResponseBytes: 4000
        })
        const bare = failureOf(untyped.exit, "InvalidResponse")
        assert.isFalse("contentType" in bare)
        strictEqual(bare.contentType, undefined)
      }))

    it.effect("a compressed body is counted as decoded: a small Content-Length with Content-Encoding is not trusted", () =>
      Effect.gen(function*() {
        const large = JSON.stringify({ access_token: "a".repeat(500), token_type: "Bearer" })
        const { exit } = yield* run(() =>
          TestHttp.raw(large, {
            headers: { "content-type": "application/json", "content-length": "40", "content-encoding": "gzip" }
          }), { maxResponseBytes: 100 })
        const error = failureOf(exit, "InvalidResponse")
        strictEqual(error.reason, "the body is larger than maxResponseBytes (100 bytes); it was not read")
        strictEqual(error.status, 200)
        strictEqual(error.bodyExcerpt, "")
        strictEqual(error.contentType, "application/json")
      }))

    it.effect("a body in many chunks is put together in order", () =>
      Effect.gen(function*() {
        const text = JSON.stringify({ access_token: "0123456789abcdefghij", token_type: "Bearer", note: "ünï" })
        const { exit } = yield* run(() => chunked(text, 7))
        const credentials = success(exit)
        strictEqual(Redacted.value(credentials.accessToken), "0123456789abcdefghij")
        deepStrictEqual(credentials.extra, { note: "ünï" })
      }))
  })

  describe("redirects", () => {
    it.effect("the fetch client is asked not to follow redirects, and the caller's RequestInit is kept", () =>
      Effect.gen(function*() {
        const inits: Array<RequestInit | undefined> = []
        const fetch = (_input: RequestInfo | URL, init?: RequestInit) => {
          inits.push(init)
          return Promise.resolve(
            new Response(tokenJson, { status: 200, headers: { "content-type": "application/json" } })
          )
        }
        const credentials = yield* ClientCredentials.grant({ tokenUrl, clientId: "svc", retry: false }).pipe(
          Effect.provide(FetchHttpClient.layer),
          Effect.provideService(FetchHttpClient.Fetch, fetch as typeof globalThis.fetch),
          Effect.provideService(FetchHttpClient.RequestInit, { keepalive: true })
        )
        strictEqual(Redacted.value(credentials.accessToken), "at")
        strictEqual(inits.length, 1)
        strictEqual(inits[0]?.redirect, "manual")
        strictEqual(inits[0]?.keepalive, true)
      }))

    /** A client that answers as if it had followed a redirect to `to`. */
    const followedTo = (to: string, reply: Response) =>
      Layer.succeed(
        HttpClient.HttpClient,
        HttpClient.make((request) =>
          Effect.sync(() => HttpClientResponse.fromWeb(HttpClientRequest.setUrl(request, to), reply))
        )
      )

    it.effect("an answer from the same origin after a followed redirect is used", () =>
      Effect.gen(function*() {
        const reply = new Response(tokenJson, { status: 200, headers: { "content-type": "application/json" } })
        const credentials = yield* ClientCredentials.grant({ tokenUrl, clientId: "svc", retry: false }).pipe(
          Effect.provide(followedTo("https://as.example.com/v2/oauth2/token", reply))
        )
        strictEqual(Redacted.value(credentials.accessToken), "at")
      }))

    it.effect("an answer from another origin after a followed redirect is an InvalidResponse that says why", () =>
      Effect.gen(function*() {
        const reply = new Response(tokenJson, { status: 200, headers: { "content-type": "application/json" } })
        const exit = yield* ClientCredentials.grant({ tokenUrl, clientId: "svc", retry: false }).pipe(
          Effect.provide(followedTo("https://elsewhere.example.net/token", reply)),
          Effect.exit
        )
        const error = failureOf(exit, "InvalidResponse")
        strictEqual(
          error.reason,
          "the HttpClient followed a redirect of the token request to another origin; token requests must not " +
            "follow redirects (the credentials go with them): remove followRedirects from the client used for tokens"
        )
        strictEqual(error.status, 200)
        strictEqual(error.bodyExcerpt, "")
        strictEqual(error.tokenEndpoint, tokenUrl)
      }))
  })
})
