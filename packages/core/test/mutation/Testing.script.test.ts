/**
 * The testkit's scripted answers (Testing.status, Testing.error, Testing.drop) on the wire, and what the server
 * records of each token request (the whole record, scopes parsed from the form).
 */
import { Testing } from "@effect-oauth2/core"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { assert, describe, it } from "@effect/vitest"
import { deepStrictEqual, strictEqual } from "@effect/vitest/utils"
import * as Effect from "effect/Effect"
import { cacheHeaders, noStore, postForm } from "../utils/Testkit.js"

const clients: ReadonlyArray<Testing.Client> = [
  { id: "basic", secret: "basic-secret", scopes: ["read", "write"] },
  { id: "public", authMethod: "none" }
]

const server = Testing.make({ clients })
const publicGrant = "grant_type=client_credentials&client_id=public"

describe("Testing: scripted answers", () => {
  it.effect("status with a body and a content type: both as given, Retry-After in seconds", () =>
    Effect.gen(function*() {
      const made = yield* server
      yield* made.server.scriptNext(
        1,
        Testing.status(503, { body: "<h1>down</h1>", contentType: "text/html", retryAfter: "1500 millis" })
      )
      const answer = yield* postForm(made, publicGrant)
      strictEqual(answer.status, 503)
      strictEqual(answer.text, "<h1>down</h1>")
      strictEqual(answer.headers["content-type"], "text/html")
      strictEqual(answer.headers["retry-after"], "2")
    }))

  it.effect("status alone: an empty body that is not labelled JSON", () =>
    Effect.gen(function*() {
      const made = yield* server
      yield* made.server.scriptNext(1, Testing.status(502))
      const answer = yield* postForm(made, publicGrant)
      strictEqual(answer.status, 502)
      strictEqual(answer.text, "")
      // the platform's default for a text body: no content type was asked for
      strictEqual(answer.headers["content-type"], "text/plain;charset=UTF-8")
      strictEqual(answer.headers["retry-after"], undefined)
    }))

  it.effect("error: a §5.2 body with no-store; error_description only when given", () =>
    Effect.gen(function*() {
      const made = yield* server
      yield* made.server.scriptNext(1, Testing.error("slow_down"))
      yield* made.server.scriptNext(1, Testing.error("temporarily_unavailable", { status: 503, description: "later" }))
      const bare = yield* postForm(made, publicGrant)
      strictEqual(bare.status, 400)
      strictEqual(bare.text, "{\"error\":\"slow_down\"}")
      deepStrictEqual(cacheHeaders(bare), noStore)
      const described = yield* postForm(made, publicGrant)
      strictEqual(described.status, 503)
      deepStrictEqual(described.json, { error: "temporarily_unavailable", error_description: "later" })
    }))

  it.effect("drop: a RequestError with reason Transport, as the platform clients report a reset", () =>
    Effect.gen(function*() {
      const made = yield* server
      yield* made.server.scriptNext(1, Testing.drop)
      const error = yield* Effect.flip(
        made.client.execute(
          HttpClientRequest.post(made.server.tokenUrl).pipe(HttpClientRequest.bodyText(publicGrant))
        )
      )
      assert.isTrue(error instanceof HttpClientError.RequestError)
      const requestError = error as HttpClientError.RequestError
      strictEqual(requestError.reason, "Transport")
      strictEqual(requestError.description, "the connection was dropped (Testing.drop)")
    }))
})

describe("Testing: the record of token requests", () => {
  it.effect("a scripted status, a scripted error, an issued token: the whole records", () =>
    Effect.gen(function*() {
      const made = yield* server
      yield* made.server.scriptNext(1, Testing.status(503))
      yield* made.server.scriptNext(1, Testing.error("slow_down"))
      for (let i = 0; i < 3; i++) yield* postForm(made, publicGrant)
      const form = { grant_type: ["client_credentials"], client_id: ["public"] }
      const unknown = { clientId: undefined, authMethod: undefined }
      deepStrictEqual(yield* made.server.tokenRequests, [
        { at: 0, form, scopes: [], ...unknown, status: 503, outcome: "scripted" },
        { at: 0, form, scopes: [], ...unknown, status: 400, outcome: "scripted", error: "slow_down" },
        { at: 0, form, scopes: [], clientId: "public", authMethod: "none", status: 200, outcome: "issued" }
      ])
    }))

  it.effect("the recorded scopes are the non-empty words of the scope parameter", () =>
    Effect.gen(function*() {
      const made = yield* server
      yield* postForm(made, `${publicGrant}&scope=+a++b+`)
      yield* postForm(made, `${publicGrant}&scope=`)
      deepStrictEqual((yield* made.server.tokenRequests).map((r) => r.scopes), [["a", "b"], []])
    }))
})
