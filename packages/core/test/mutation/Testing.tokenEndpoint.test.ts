/**
 * The testkit's token endpoint (Testing) on the wire: the exact RFC 6749 §5.2 answers to a wrong method, a wrong
 * content type, a repeated field, a missing or unsupported grant_type and refused scopes; the §5.1 success body and
 * headers; the token numbering and JWT claims; and which URLs count as the token endpoint.
 */
import { Testing } from "@effect-oauth2/core"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { describe, it } from "@effect/vitest"
import { deepStrictEqual, strictEqual } from "@effect/vitest/utils"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import { cacheHeaders, type Made, noStore, postForm, send } from "../utils/Testkit.js"

const clients: ReadonlyArray<Testing.Client> = [
  { id: "basic", secret: "basic-secret", scopes: ["read", "write"] },
  { id: "post", secret: "post-secret", authMethod: "client_secret_post" },
  { id: "public", authMethod: "none" },
  { id: "forever", authMethod: "none", expiresIn: null },
  { id: "jwt", authMethod: "none", tokenFormat: "jwt" },
  { id: "jwt-forever", authMethod: "none", tokenFormat: "jwt", expiresIn: null }
]

const server = Testing.make({ clients })
const publicGrant = "grant_type=client_credentials&client_id=public"

const refusal = (error: string, description: string) => ({ error, error_description: description })

const lastRecord = (made: Made) =>
  Effect.map(made.server.tokenRequests, (records) => {
    const last = records[records.length - 1]!
    return [last.clientId, last.authMethod, last.status, last.outcome, last.error]
  })

const claims = (token: string) => JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString("utf8"))

describe("Testing: what the token endpoint refuses", () => {
  it.effect("a GET is a 405 invalid_request naming RFC 6749 §3.2", () =>
    Effect.gen(function*() {
      const made = yield* server
      const answer = yield* send(made, HttpClientRequest.get(made.server.tokenUrl))
      strictEqual(answer.status, 405)
      deepStrictEqual(answer.json, refusal("invalid_request", "the token endpoint takes POST only (RFC 6749 §3.2)"))
      deepStrictEqual(cacheHeaders(answer), noStore)
    }))

  it.effect("a body that is not form-urlencoded is a 400 invalid_request", () =>
    Effect.gen(function*() {
      const made = yield* server
      const answer = yield* send(
        made,
        HttpClientRequest.post(made.server.tokenUrl).pipe(
          HttpClientRequest.bodyUnsafeJson({ grant_type: "client_credentials", client_id: "public" })
        )
      )
      strictEqual(answer.status, 400)
      deepStrictEqual(answer.json, refusal("invalid_request", "the body must be application/x-www-form-urlencoded"))
      deepStrictEqual(cacheHeaders(answer), noStore)
    }))

  it.effect("the form content type is read without its parameters and surrounding spaces", () =>
    Effect.gen(function*() {
      const made = yield* server
      const answer = yield* postForm(made, publicGrant, {
        "content-type": "application/x-www-form-urlencoded ; charset=UTF-8"
      })
      strictEqual(answer.status, 200)
    }))

  it.effect("each of grant_type, scope, client_id, client_secret and audience repeated is a 400 (RFC 6749 §3.1)", () =>
    Effect.gen(function*() {
      const made = yield* server
      const bodies: Record<string, string> = {
        grant_type: "grant_type=client_credentials&grant_type=client_credentials&client_id=public",
        scope: `${publicGrant}&scope=a&scope=b`,
        client_id: "grant_type=client_credentials&client_id=public&client_id=public",
        client_secret: "grant_type=client_credentials&client_id=post&client_secret=post-secret&client_secret=x",
        audience: `${publicGrant}&audience=a&audience=b`
      }
      for (const [name, body] of Object.entries(bodies)) {
        const answer = yield* postForm(made, body)
        strictEqual(answer.status, 400, name)
        deepStrictEqual(answer.json, refusal("invalid_request", `"${name}" is repeated (RFC 6749 §3.1)`))
        deepStrictEqual(cacheHeaders(answer), noStore)
        deepStrictEqual(yield* lastRecord(made), [undefined, undefined, 400, "refused", "invalid_request"])
      }
    }))

  it.effect("a missing or empty grant_type is invalid_request \"grant_type is missing\"", () =>
    Effect.gen(function*() {
      const made = yield* server
      for (const body of ["client_id=public", "grant_type=&client_id=public"]) {
        const answer = yield* postForm(made, body)
        strictEqual(answer.status, 400, body)
        deepStrictEqual(answer.json, refusal("invalid_request", "grant_type is missing"))
        deepStrictEqual(yield* lastRecord(made), ["public", "none", 400, "refused", "invalid_request"])
      }
    }))

  it.effect("another grant_type is unsupported_grant_type, naming it", () =>
    Effect.gen(function*() {
      const made = yield* server
      const answer = yield* postForm(made, "grant_type=password&client_id=public")
      strictEqual(answer.status, 400)
      deepStrictEqual(answer.json, refusal("unsupported_grant_type", "grant_type password"))
    }))

  it.effect("invalid_scope names every refused scope, space-separated", () =>
    Effect.gen(function*() {
      const made = yield* server
      const answer = yield* postForm(made, "grant_type=client_credentials&scope=read+admin+root", {
        authorization: `Basic ${Buffer.from("basic:basic-secret").toString("base64")}`
      })
      strictEqual(answer.status, 400)
      deepStrictEqual(answer.json, refusal("invalid_scope", "not allowed for this client: admin root"))
    }))
})

describe("Testing: what the token endpoint issues", () => {
  it.effect("the §5.1 body: no scope when none is requested or registered; no-store and no-cache", () =>
    Effect.gen(function*() {
      const made = yield* server
      const answer = yield* postForm(made, publicGrant)
      strictEqual(answer.status, 200)
      deepStrictEqual(answer.json, { access_token: "tok-1", token_type: "Bearer", expires_in: 3600 })
      deepStrictEqual(cacheHeaders(answer), noStore)
      const [issued] = yield* made.server.issued
      deepStrictEqual(issued.scopes, [])
    }))

  it.effect("opaque tokens are numbered in the order they are issued", () =>
    Effect.gen(function*() {
      const made = yield* server
      const tokens: Array<unknown> = []
      for (let i = 0; i < 3; i++) tokens.push(((yield* postForm(made, publicGrant)).json as any).access_token)
      deepStrictEqual(tokens, ["tok-1", "tok-2", "tok-3"])
      deepStrictEqual((yield* made.server.issued).map((t) => Redacted.value(t.accessToken)), tokens)
    }))

  it.effect("a client with expiresIn null: no expires_in, and the issued token has no expiresAt", () =>
    Effect.gen(function*() {
      const made = yield* server
      const answer = yield* postForm(made, "grant_type=client_credentials&client_id=forever")
      deepStrictEqual(answer.json, { access_token: "tok-1", token_type: "Bearer" })
      const [issued] = yield* made.server.issued
      strictEqual(issued.expiresAt, undefined)
      deepStrictEqual(yield* made.server.check("tok-1"), {
        _tag: "Valid",
        clientId: "forever",
        scopes: [],
        expiresAt: undefined
      })
    }))

  it.effect("JWT: aud is the audience parameter; scope claim space-separated; jti counts the tokens", () =>
    Effect.gen(function*() {
      yield* TestClock.adjust("1000 seconds")
      const made = yield* server
      const first = yield* postForm(made, "grant_type=client_credentials&client_id=jwt&audience=https://aud.test")
      const second = yield* postForm(made, "grant_type=client_credentials&client_id=jwt&scope=read+write")
      deepStrictEqual(claims((first.json as any).access_token), {
        iss: "https://auth.test",
        sub: "jwt",
        client_id: "jwt",
        aud: "https://aud.test",
        iat: 1000,
        exp: 4600,
        jti: "jti-1"
      })
      deepStrictEqual(claims((second.json as any).access_token), {
        iss: "https://auth.test",
        sub: "jwt",
        client_id: "jwt",
        aud: "https://auth.test",
        iat: 1000,
        exp: 4600,
        jti: "jti-2",
        scope: "read write"
      })
      strictEqual((second.json as any).scope, "read write")
    }))

  it.effect("JWT of a client with expiresIn null and no scopes: no exp and no scope claim", () =>
    Effect.gen(function*() {
      const made = yield* server
      const answer = yield* postForm(made, "grant_type=client_credentials&client_id=jwt-forever")
      deepStrictEqual(claims((answer.json as any).access_token), {
        iss: "https://auth.test",
        sub: "jwt-forever",
        client_id: "jwt-forever",
        aud: "https://auth.test",
        iat: 0,
        jti: "jti-1"
      })
    }))
})

describe("Testing: which requests go to the token endpoint", () => {
  it.effect("only the token URL's origin and path together: the same path elsewhere and another path go to the API", () =>
    Effect.gen(function*() {
      const made = yield* server
      for (const url of ["https://auth.test/oauth2/other", "https://api.test/oauth2/token"]) {
        const answer = yield* send(made, HttpClientRequest.get(url))
        strictEqual(answer.status, 401, url)
        deepStrictEqual(answer.json, { error: "missing" }, url)
      }
      strictEqual((yield* made.server.tokenRequests).length, 0)
      strictEqual((yield* made.server.apiRequests).length, 2)
    }))
})
