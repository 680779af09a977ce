/**
 * The testkit's fake API side (Testing): how a handler's Reply becomes a response (content type, empty body), the
 * request body a handler sees for each kind of body, which Authorization headers carry a Bearer token, `echo`
 * without `protect`, `protect`'s exact 401/403 answers, and the defect for a client registered twice.
 */
import { Testing } from "@effect-oauth2/core"
import * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { describe, it } from "@effect/vitest"
import { deepStrictEqual, strictEqual } from "@effect/vitest/utils"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import { type Made, postBody, postForm, send } from "../utils/Testkit.js"

const clients: ReadonlyArray<Testing.Client> = [
  { id: "public", authMethod: "none" },
  { id: "scoped", authMethod: "none", scopes: ["read", "write"] }
]

const api = "https://api.test/resource"

/** A token for a client, from the server's own token endpoint. */
const tokenOf = (made: Made, clientId: string) =>
  Effect.map(
    postForm(made, `grant_type=client_credentials&client_id=${clientId}`),
    (answer) => (answer.json as { readonly access_token: string }).access_token
  )

const get = (made: Made, authorization?: string) =>
  send(
    made,
    HttpClientRequest.get(api).pipe(
      authorization === undefined ? (r) => r : HttpClientRequest.setHeader("authorization", authorization)
    )
  )

describe("Testing: replies of a handler", () => {
  const replying = (reply: Testing.Reply) => Testing.make({ clients, api: () => reply })

  it.effect("json is labelled application/json unless the reply names its own content type", () =>
    Effect.gen(function*() {
      const json = yield* get(yield* replying({ json: { a: 1 } }))
      strictEqual(json.headers["content-type"], "application/json")
      strictEqual(json.text, "{\"a\":1}")
      const problem = yield* get(
        yield* replying({ json: { a: 1 }, headers: { "content-type": "application/problem+json" } })
      )
      strictEqual(problem.headers["content-type"], "application/problem+json")
    }))

  it.effect("text is not labelled JSON, and a reply with neither json nor text has an empty body", () =>
    Effect.gen(function*() {
      const text = yield* get(yield* replying({ text: "plain" }))
      strictEqual(text.headers["content-type"], "text/plain;charset=UTF-8")
      strictEqual(text.text, "plain")
      const empty = yield* get(yield* replying({ status: 202 }))
      strictEqual(empty.status, 202)
      strictEqual(empty.text, "")
    }))
})

describe("Testing: the body a handler sees", () => {
  const echoBody = Testing.make({ clients, api: (request) => ({ json: { body: request.body } }) })
  const bodyOf = (made: Made, body: HttpBody.HttpBody) =>
    Effect.map(postBody(made, api, body), (answer) => (answer.json as { readonly body: unknown }).body)

  it.effect("text, bytes, raw strings, raw bytes and raw URLSearchParams as text; no body and others as \"\"", () =>
    Effect.gen(function*() {
      const made = yield* echoBody
      strictEqual(yield* bodyOf(made, HttpBody.text("a text")), "a text")
      strictEqual(yield* bodyOf(made, HttpBody.uint8Array(new TextEncoder().encode("some bytes"))), "some bytes")
      strictEqual(yield* bodyOf(made, HttpBody.raw("a raw string")), "a raw string")
      strictEqual(yield* bodyOf(made, HttpBody.raw(new TextEncoder().encode("raw bytes"))), "raw bytes")
      strictEqual(yield* bodyOf(made, HttpBody.raw(new URLSearchParams({ a: "1", b: "2" }))), "a=1&b=2")
      strictEqual(yield* bodyOf(made, HttpBody.raw({ not: "a body" })), "")
      strictEqual(
        ((yield* send(made, HttpClientRequest.get(api))).json as { readonly body: unknown }).body,
        ""
      )
    }))

  it.effect("the token endpoint reads a raw string body as the form", () =>
    Effect.gen(function*() {
      const made = yield* Testing.make({ clients })
      const answer = yield* postBody(
        made,
        made.server.tokenUrl,
        HttpBody.raw("grant_type=client_credentials&client_id=public", {
          contentType: "application/x-www-form-urlencoded"
        })
      )
      strictEqual(answer.status, 200)
      strictEqual((answer.json as { readonly access_token: string }).access_token, "tok-1")
    }))
})

describe("Testing: Bearer tokens the API accepts", () => {
  it.effect("`Bearer <token>` with one or more spaces; nothing after the token, nothing before the scheme", () =>
    Effect.gen(function*() {
      const made = yield* Testing.make({ clients })
      const token = yield* tokenOf(made, "public")
      const answers: Array<number> = []
      for (const header of [`Bearer ${token}`, `bearer  ${token}`, `Bearer ${token} extra`, `NotBearer ${token}`]) {
        answers.push((yield* get(made, header)).status)
      }
      deepStrictEqual(answers, [200, 200, 401, 401])
      deepStrictEqual(
        (yield* made.server.apiRequests).map((r) => r.token._tag === "Valid" ? "valid" : r.token.reason),
        ["valid", "valid", "missing", "missing"]
      )
    }))
})

describe("Testing: echo and protect", () => {
  it.effect("echo unprotected: the path alone without a valid token; client and space-separated scopes with one", () =>
    Effect.gen(function*() {
      const made = yield* Testing.make({ clients, api: Testing.echo })
      deepStrictEqual((yield* get(made)).json, { path: "/resource" })
      deepStrictEqual((yield* get(made, "Bearer forged")).json, { path: "/resource" })
      const token = yield* tokenOf(made, "scoped")
      deepStrictEqual((yield* get(made, `Bearer ${token}`)).json, {
        path: "/resource",
        client_id: "scoped",
        scope: "read write"
      })
    }))

  it.effect("protect: 401 with the reason as error and an RFC 6750 challenge", () =>
    Effect.gen(function*() {
      const made = yield* Testing.make({ clients })
      const missing = yield* get(made)
      strictEqual(missing.status, 401)
      deepStrictEqual(missing.json, { error: "missing" })
      strictEqual(missing.headers["www-authenticate"], "Bearer realm=\"api\"")
      const unknown = yield* get(made, "Bearer forged")
      strictEqual(unknown.status, 401)
      deepStrictEqual(unknown.json, { error: "unknown" })
      strictEqual(
        unknown.headers["www-authenticate"],
        "Bearer realm=\"api\", error=\"invalid_token\", error_description=\"the access token is unknown\""
      )
    }))

  it.effect("protect with scopes: 403 insufficient_scope naming every missing scope", () =>
    Effect.gen(function*() {
      const made = yield* Testing.make({ clients, api: Testing.protect(Testing.echo, { scopes: ["read", "x", "y"] }) })
      const token = yield* tokenOf(made, "scoped")
      const answer = yield* get(made, `Bearer ${token}`)
      strictEqual(answer.status, 403)
      deepStrictEqual(answer.json, { error: "insufficient_scope" })
      strictEqual(
        answer.headers["www-authenticate"],
        "Bearer realm=\"api\", error=\"insufficient_scope\", scope=\"x y\""
      )
    }))
})

describe("Testing.make", () => {
  it.effect("a client id registered twice is a defect naming the id", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(Testing.make({ clients: [{ id: "twice" }, { id: "other" }, { id: "twice" }] }))
      if (Exit.isSuccess(exit)) return yield* Effect.dieMessage("expected a defect")
      const defect = Option.getOrThrow(Cause.dieOption(exit.cause))
      strictEqual((defect as Error).message, "Testing: client \"twice\" is registered twice")
    }))
})
