// The testkit's own behaviour: a token endpoint that checks clients as a real server does, answers refusals with
// RFC 6749 §5.2 bodies, runs its script in Clock time, records what it was asked, and checks tokens for the API.
import { ClientAuth, ClientCredentials, OAuth2Error, Testing } from "@effect-oauth2/core"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { assert, describe, it } from "@effect/vitest"
import { deepStrictEqual, strictEqual } from "@effect/vitest/utils"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import { failure, success } from "./utils/Grant.js"

const clients: ReadonlyArray<Testing.Client> = [
  { id: "basic", secret: "basic-secret", scopes: ["read", "write"] },
  { id: "weird:client id", secret: "s3cr3t:+/%& =~" },
  { id: "unicode-client", secret: Redacted.make("sëcret-密码-🔑") },
  { id: "raw", secret: "raw:+secret%", basicDecoding: "none" },
  { id: "post", secret: "post-secret", authMethod: "client_secret_post" },
  { id: "public", authMethod: "none" },
  { id: "short", secret: "short-secret", expiresIn: "30 seconds" },
  { id: "forever", secret: "forever-secret", expiresIn: null },
  { id: "jwt", secret: "jwt-secret", tokenFormat: "jwt", scopes: ["read"] }
]

const secrets = ["basic-secret", "s3cr3t:+/%& =~", "sëcret-密码-🔑", "raw:+secret%", "post-secret", "jwt-secret"]

const server = (options: Partial<Testing.Options> = {}) => Testing.make({ clients, ...options })

/** One grant against the server, without retries unless asked. */
const grant = (
  made: Effect.Effect.Success<ReturnType<typeof Testing.make>>,
  options: Partial<ClientCredentials.Options> & { readonly clientId: string }
) =>
  ClientCredentials.grant({ tokenUrl: made.server.tokenUrl, retry: false, ...options }).pipe(
    Effect.provideService(HttpClient.HttpClient, made.client),
    Effect.exit
  )

const refusal = <A>(exit: Exit.Exit<A, OAuth2Error.OAuth2Error>, code: string, status: number) => {
  const error = failure(exit)
  assert.isTrue(OAuth2Error.isErrorResponse(error), `expected an ErrorResponse, got ${error.message}`)
  const response = error as OAuth2Error.ErrorResponse
  strictEqual(response.error, code)
  strictEqual(response.status, status)
  return response
}

describe("Testing: the token endpoint", () => {
  it.effect("issues a Bearer token with expires_in and the granted scope to a registered client", () =>
    Effect.gen(function*() {
      const made = yield* server()
      const credentials = success(
        yield* grant(made, { clientId: "basic", clientSecret: Redacted.make("basic-secret"), scopes: ["read"] })
      )
      strictEqual(Redacted.value(credentials.accessToken), "tok-1")
      strictEqual(credentials.tokenType, "Bearer")
      strictEqual(credentials.expiresIn, 3600)
      deepStrictEqual(credentials.scopes, ["read"])
      const [issued] = yield* made.server.issued
      strictEqual(issued.clientId, "basic")
      strictEqual(issued.expiresAt, 3_600_000)
    }))

  it.effect("the answer carries Cache-Control: no-store (RFC 6749 §5.1)", () =>
    Effect.gen(function*() {
      const made = yield* server()
      const response = yield* made.client.execute(
        HttpClientRequest.post(made.server.tokenUrl).pipe(
          HttpClientRequest.bodyUrlParams({ grant_type: "client_credentials", client_id: "public" })
        )
      )
      strictEqual(response.status, 200)
      strictEqual(response.headers["cache-control"], "no-store")
    }))

  describe("client authentication", () => {
    it.effect("client_secret_basic is form-decoded (RFC 6749 §2.3.1): ':' '+' '/' '%' and spaces survive", () =>
      Effect.gen(function*() {
        const made = yield* server()
        success(yield* grant(made, { clientId: "weird:client id", clientSecret: Redacted.make("s3cr3t:+/%& =~") }))
        success(yield* grant(made, { clientId: "unicode-client", clientSecret: Redacted.make("sëcret-密码-🔑") }))
        const [weird, unicode] = yield* made.server.tokenRequests
        strictEqual(weird.clientId, "weird:client id")
        strictEqual(weird.authMethod, "client_secret_basic")
        strictEqual(unicode.clientId, "unicode-client")
      }))

    it.effect("unencoded Basic credentials with reserved characters are refused, as a real server refuses them", () =>
      Effect.gen(function*() {
        const made = yield* server()
        const exit = yield* grant(made, {
          clientId: "weird:client id",
          clientSecret: Redacted.make("s3cr3t:+/%& =~"),
          auth: ClientAuth.clientSecretBasicWith("none")
        })
        const error = refusal(exit, "invalid_client", 401)
        assert.include(error.message, "ClientAuth.clientSecretPost")
      }))

    it.effect("a client registered with basicDecoding \"none\" takes unencoded credentials only", () =>
      Effect.gen(function*() {
        const made = yield* server()
        const secret = Redacted.make("raw:+secret%")
        success(
          yield* grant(made, { clientId: "raw", clientSecret: secret, auth: ClientAuth.clientSecretBasicWith("none") })
        )
        refusal(yield* grant(made, { clientId: "raw", clientSecret: secret }), "invalid_client", 401)
      }))

    it.effect("a wrong secret and an unknown client are 401 invalid_client with a Basic challenge", () =>
      Effect.gen(function*() {
        const made = yield* server()
        refusal(yield* grant(made, { clientId: "basic", clientSecret: Redacted.make("wrong") }), "invalid_client", 401)
        refusal(yield* grant(made, { clientId: "nobody", clientSecret: Redacted.make("x") }), "invalid_client", 401)
        const response = yield* made.client.execute(
          HttpClientRequest.post(made.server.tokenUrl).pipe(
            HttpClientRequest.setHeader("authorization", `Basic ${btoa("basic:wrong")}`),
            HttpClientRequest.bodyUrlParams({ grant_type: "client_credentials" })
          )
        )
        strictEqual(response.status, 401)
        assert.match(response.headers["www-authenticate"] ?? "", /^Basic /)
        const records = yield* made.server.tokenRequests
        deepStrictEqual(records.map((r) => [r.clientId, r.outcome, r.error]), [
          ["basic", "refused", "invalid_client"],
          ["nobody", "refused", "invalid_client"],
          ["basic", "refused", "invalid_client"]
        ])
      }))

    it.effect("client_secret_post: accepted for a post client, refused for a basic client and vice versa", () =>
      Effect.gen(function*() {
        const made = yield* server()
        const post = { clientId: "post", clientSecret: Redacted.make("post-secret") }
        success(yield* grant(made, { ...post, auth: ClientAuth.clientSecretPost }))
        refusal(yield* grant(made, post), "invalid_client", 401) // Basic, but registered for post
        refusal(
          yield* grant(made, {
            clientId: "basic",
            clientSecret: Redacted.make("basic-secret"),
            auth: ClientAuth.clientSecretPost
          }),
          "invalid_client",
          401
        )
        deepStrictEqual((yield* made.server.tokenRequestsOf("post")).map((r) => r.authMethod), [
          "client_secret_post",
          undefined
        ])
      }))

    it.effect("none: a public client is identified by client_id alone; a confidential one is not", () =>
      Effect.gen(function*() {
        const made = yield* server()
        success(yield* grant(made, { clientId: "public" }))
        refusal(yield* grant(made, { clientId: "basic" }), "invalid_client", 401)
        const [record] = yield* made.server.tokenRequestsOf("public")
        strictEqual(record.authMethod, "none")
      }))

    it.effect("two methods in one request are an invalid_request (RFC 6749 §2.3)", () =>
      Effect.gen(function*() {
        const made = yield* server()
        const both = ClientAuth.make("both", (request) =>
          Effect.flatMap(ClientAuth.clientSecretBasic.authenticate(request), ClientAuth.clientSecretPost.authenticate))
        const error = refusal(
          yield* grant(made, { clientId: "basic", clientSecret: Redacted.make("basic-secret"), auth: both }),
          "invalid_request",
          400
        )
        assert.include(error.errorDescription, "more than one")
      }))

    it.effect("an added authenticator is asked first, and the client must be registered with its method", () =>
      Effect.gen(function*() {
        const header: Testing.Authenticator = {
          method: "x_api_key",
          identify: (request) => {
            const id = request.headers["x-client"]
            return id === undefined ? undefined : { clientId: id }
          },
          verify: (_, request) => Effect.succeed(request.headers["x-key"] === "right")
        }
        const made = yield* Testing.make({
          clients: [{ id: "keyed", authMethod: "x_api_key" }, { id: "other", authMethod: "none" }],
          authenticators: [header]
        })
        const keyed = (key: string, id = "keyed") =>
          grant(made, {
            clientId: id,
            auth: ClientAuth.make("x_api_key", (request) =>
              Effect.succeed({ ...request, headers: { ...request.headers, "x-client": id, "x-key": key } }))
          })
        success(yield* keyed("right"))
        refusal(yield* keyed("wrong"), "invalid_client", 401)
        refusal(yield* keyed("right", "other"), "invalid_client", 401)
        strictEqual((yield* made.server.tokenRequestsOf("keyed"))[0].authMethod, "x_api_key")
      }))
  })

  describe("requests", () => {
    it.effect("scopes: the allowed ones are granted, others are invalid_scope, none requested grants all allowed", () =>
      Effect.gen(function*() {
        const made = yield* server()
        const basic = { clientId: "basic", clientSecret: Redacted.make("basic-secret") }
        deepStrictEqual(success(yield* grant(made, { ...basic, scopes: ["write", "read"] })).scopes, ["write", "read"])
        deepStrictEqual(success(yield* grant(made, basic)).scopes, ["read", "write"])
        const error = refusal(yield* grant(made, { ...basic, scopes: ["read", "admin"] }), "invalid_scope", 400)
        assert.include(error.errorDescription, "admin")
      }))

    it.effect("grant_type other than client_credentials is unsupported_grant_type; a GET is refused", () =>
      Effect.gen(function*() {
        const made = yield* server()
        const response = yield* made.client.execute(
          HttpClientRequest.post(made.server.tokenUrl).pipe(
            HttpClientRequest.bodyUrlParams({ grant_type: "password", client_id: "public" })
          )
        )
        strictEqual(response.status, 400)
        deepStrictEqual(
          (yield* response.json as Effect.Effect<{ error: string }, unknown>).error,
          "unsupported_grant_type"
        )
        const get = yield* made.client.get(made.server.tokenUrl)
        strictEqual(get.status, 405)
        const json = yield* made.client.execute(
          HttpClientRequest.post(made.server.tokenUrl).pipe(
            HttpClientRequest.bodyUnsafeJson({ grant_type: "client_credentials", client_id: "public" })
          )
        )
        strictEqual(json.status, 400)
      }))

    it.effect("expires_in per client; null sends none and the token never expires", () =>
      Effect.gen(function*() {
        const made = yield* server()
        strictEqual(
          success(yield* grant(made, { clientId: "short", clientSecret: Redacted.make("short-secret") })).expiresIn,
          30
        )
        const forever = success(
          yield* grant(made, { clientId: "forever", clientSecret: Redacted.make("forever-secret") })
        )
        strictEqual(forever.expiresIn, undefined)
        yield* TestClock.adjust("3650 days")
        strictEqual((yield* made.server.check(forever.accessToken))._tag, "Valid")
      }))

    it.effect("JWT access tokens carry the RFC 9068 claims, in Clock time", () =>
      Effect.gen(function*() {
        yield* TestClock.adjust("1000 seconds")
        const made = yield* server()
        const credentials = success(
          yield* grant(made, {
            clientId: "jwt",
            clientSecret: Redacted.make("jwt-secret"),
            params: { resource: "https://api.test" }
          })
        )
        const [header, payload, signature] = Redacted.value(credentials.accessToken).split(".")
        const decode = (part: string) => JSON.parse(Buffer.from(part, "base64url").toString("utf8"))
        deepStrictEqual(decode(header), { alg: "HS256", typ: "at+jwt" })
        deepStrictEqual(decode(payload), {
          iss: "https://auth.test",
          sub: "jwt",
          client_id: "jwt",
          aud: "https://api.test",
          iat: 1000,
          exp: 4600,
          jti: "jti-1",
          scope: "read"
        })
        strictEqual(Buffer.from(signature, "base64url").length, 32)
        strictEqual((yield* made.server.check(credentials.accessToken))._tag, "Valid")
      }))

    it.effect("the record keeps the parsed form with secrets redacted, and no header", () =>
      Effect.gen(function*() {
        const made = yield* server()
        success(
          yield* grant(made, {
            clientId: "post",
            clientSecret: Redacted.make("post-secret"),
            auth: ClientAuth.clientSecretPost,
            scopes: ["a", "b"],
            params: { resource: ["https://one.test", "https://two.test"], audience: "aud" }
          })
        )
        success(yield* grant(made, { clientId: "basic", clientSecret: Redacted.make("basic-secret") }))
        const [post, basic] = yield* made.server.tokenRequests
        deepStrictEqual(post.form, {
          grant_type: ["client_credentials"],
          scope: ["a b"],
          resource: ["https://one.test", "https://two.test"],
          audience: ["aud"],
          client_id: ["post"],
          client_secret: ["[redacted]"]
        })
        deepStrictEqual(post.scopes, ["a", "b"])
        strictEqual(post.outcome, "issued")
        strictEqual(post.status, 200)
        deepStrictEqual(basic.form, { grant_type: ["client_credentials"] })
        const dump = JSON.stringify(yield* made.server.tokenRequests) + JSON.stringify(yield* made.server.issued)
        for (const secret of secrets) assert.notInclude(dump, secret)
        assert.notInclude(dump, "Basic ")
      }))
  })
})

describe("Testing: the script runs in Clock time", () => {
  const basic = { clientId: "basic", clientSecret: Redacted.make("basic-secret") }

  it.effect("fail the next N with a status and Retry-After: the grant waits for it under TestClock", () =>
    Effect.gen(function*() {
      const made = yield* server()
      yield* made.server.scriptNext(
        2,
        Testing.status(503, { retryAfter: "2 seconds", body: "<h1>down</h1>", contentType: "text/html" })
      )
      const fiber = yield* Effect.fork(grant(made, { ...basic, retry: undefined }))
      yield* TestClock.adjust("1 second")
      strictEqual((yield* made.server.tokenRequests).length, 1)
      yield* TestClock.adjust("10 seconds")
      success(yield* Fiber.join(fiber))
      const records = yield* made.server.tokenRequests
      deepStrictEqual(records.map((r) => [r.at, r.status, r.outcome]), [
        [0, 503, "scripted"],
        [2000, 503, "scripted"],
        [4000, 200, "issued"]
      ])
    }))

  it.effect("a scripted §5.2 error: temporarily_unavailable is retried, invalid_client is not", () =>
    Effect.gen(function*() {
      const made = yield* server()
      yield* made.server.scriptNext(
        1,
        Testing.error("temporarily_unavailable", { status: 503, description: "maintenance" })
      )
      yield* made.server.scriptNext(1, Testing.error("invalid_client", { status: 401 }))
      const fiber = yield* Effect.fork(grant(made, { ...basic, retry: undefined }))
      yield* TestClock.adjust("10 seconds")
      const error = refusal(yield* Fiber.join(fiber), "invalid_client", 401)
      strictEqual(error.status, 401)
      deepStrictEqual((yield* made.server.tokenRequests).map((r) => r.error), [
        "temporarily_unavailable",
        "invalid_client"
      ])
      // the script is used up: the next request is answered normally
      success(yield* grant(made, basic))
    }))

  it.effect("drop: the request fails as a transport error", () =>
    Effect.gen(function*() {
      const made = yield* server()
      yield* made.server.scriptNext(1, Testing.drop)
      const error = failure(yield* grant(made, basic))
      strictEqual(error._tag, "TransportError")
      assert.include(error.message, "dropped")
      const [record] = yield* made.server.tokenRequests
      strictEqual(record.outcome, "dropped")
      strictEqual(record.status, 0)
    }))

  it.effect("delay: the answer waits for the TestClock; past the timeout it is a TimeoutError", () =>
    Effect.gen(function*() {
      const made = yield* server()
      yield* made.server.scriptNext(1, Testing.delay("5 seconds"))
      yield* made.server.scriptNext(1, Testing.delay("1 minute"))
      const slow = yield* Effect.fork(grant(made, basic))
      yield* TestClock.adjust("4 seconds")
      assert.isTrue(Option.isNone(yield* Fiber.poll(slow)))
      yield* TestClock.adjust("1 second")
      success(yield* Fiber.join(slow))
      const stalled = yield* Effect.fork(grant(made, { ...basic, timeout: "10 seconds" }))
      yield* TestClock.adjust("10 seconds")
      const error = failure(yield* Fiber.join(stalled))
      strictEqual(error._tag, "TimeoutError")
    }))

  it.effect("clearScript forgets what was not used", () =>
    Effect.gen(function*() {
      const made = yield* server()
      yield* made.server.scriptNext(3, Testing.drop)
      yield* made.server.clearScript
      success(yield* grant(made, basic))
    }))
})

describe("Testing: the API sees checked tokens", () => {
  const call = (made: Effect.Effect.Success<ReturnType<typeof Testing.make>>, token?: string) =>
    made.client.get(
      "https://api.test/reports",
      token !== undefined ? { headers: { authorization: `Bearer ${token}` } } : {}
    )

  it.effect("the default API answers 200 with the client and scopes of a valid token, 401 otherwise", () =>
    Effect.gen(function*() {
      const made = yield* server()
      const token = Redacted.value(
        success(yield* grant(made, { clientId: "short", clientSecret: Redacted.make("short-secret"), scopes: ["x"] }))
          .accessToken
      )
      const ok = yield* call(made, token)
      strictEqual(ok.status, 200)
      deepStrictEqual(yield* ok.json, { path: "/reports", client_id: "short", scope: "x" })
      const missing = yield* call(made)
      strictEqual(missing.status, 401)
      strictEqual(missing.headers["www-authenticate"], "Bearer realm=\"api\"")
      const unknown = yield* call(made, "forged")
      strictEqual(unknown.status, 401)
      assert.include(unknown.headers["www-authenticate"], "error=\"invalid_token\"")
      yield* TestClock.adjust("30 seconds")
      const expired = yield* call(made, token)
      strictEqual(expired.status, 401)
      assert.include(expired.headers["www-authenticate"], "expired")
      deepStrictEqual(
        (yield* made.server.apiRequests).map((r) => [r.status, r.token._tag === "Invalid" ? r.token.reason : "valid"]),
        [
          [200, "valid"],
          [401, "missing"],
          [401, "unknown"],
          [401, "expired"]
        ]
      )
    }))

  it.effect("revoke and revokeAll: the API sees the token as revoked", () =>
    Effect.gen(function*() {
      const made = yield* server()
      const basic = { clientId: "basic", clientSecret: Redacted.make("basic-secret") }
      const first = success(yield* grant(made, basic)).accessToken
      const second = success(yield* grant(made, basic)).accessToken
      yield* made.server.revoke(first)
      deepStrictEqual(yield* made.server.check(first), { _tag: "Invalid", reason: "revoked", clientId: "basic" })
      strictEqual((yield* made.server.check(second))._tag, "Valid")
      yield* made.server.revokeAll
      strictEqual((yield* call(made, Redacted.value(second))).status, 401)
    }))

  it.effect("a handler of your own, behind protect with scopes: 403 insufficient_scope", () =>
    Effect.gen(function*() {
      const made = yield* server({
        api: Testing.protect(
          (request) => ({ json: { hello: request.token._tag === "Valid" && request.token.clientId } }),
          {
            scopes: ["write"]
          }
        )
      })
      const basic = { clientId: "basic", clientSecret: Redacted.make("basic-secret") }
      const reader = Redacted.value(success(yield* grant(made, { ...basic, scopes: ["read"] })).accessToken)
      const writer = Redacted.value(success(yield* grant(made, { ...basic, scopes: ["write"] })).accessToken)
      const refused = yield* call(made, reader)
      strictEqual(refused.status, 403)
      assert.include(refused.headers["www-authenticate"], "insufficient_scope")
      deepStrictEqual(yield* (yield* call(made, writer)).json, { hello: "basic" })
    }))

  it.effect("a handler may answer with an Effect that sleeps in Clock time", () =>
    Effect.gen(function*() {
      const made = yield* server({ api: () => Effect.as(Effect.sleep("3 seconds"), { status: 204 }) })
      const fiber = yield* Effect.fork(call(made))
      yield* TestClock.adjust("3 seconds")
      strictEqual((yield* Fiber.join(fiber)).status, 204)
    }))

  it.effect("registering a client id twice is a defect at construction", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(Testing.make({ clients: [{ id: "a" }, { id: "a" }] }))
      assert.isTrue(Exit.isFailure(exit))
    }))
})
