import { ClientCredentials, Credentials, OAuth2Error } from "@effect-oauth2/core"
import { assert, describe, it } from "@effect/vitest"
import { deepStrictEqual, strictEqual } from "@effect/vitest/utils"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Metric from "effect/Metric"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import * as metrics from "../src/internal/metrics.js"
import { failure, failureOf, run, success, tokenUrl } from "./utils/Grant.js"
import * as TestHttp from "./utils/TestHttp.js"

const ok = () => TestHttp.token("at")

const configError = (options: Partial<ClientCredentials.Options>) =>
  Effect.gen(function*() {
    const { exit, requests } = yield* run(ok, options)
    const error = failureOf(exit, "ConfigurationError")
    strictEqual(requests.length, 0, "no request may be sent")
    return error
  })

const now = Effect.clockWith((clock) => clock.currentTimeMillis)

describe("ClientCredentials.grant", () => {
  describe("the request (RFC 6749 §4.4.2)", () => {
    it.effect("POSTs grant_type=client_credentials as a form to the token URL", () =>
      Effect.gen(function*() {
        const { exit, requests } = yield* run(ok)
        success(exit)
        strictEqual(requests.length, 1)
        const request = requests[0]
        strictEqual(request.method, "POST")
        strictEqual(request.url.href, tokenUrl)
        assert.match(request.headers["content-type"], /^application\/x-www-form-urlencoded/)
        strictEqual(request.body, "grant_type=client_credentials")
      }))

    it.effect("sends Accept: application/json and the extra headers", () =>
      Effect.gen(function*() {
        const { exit, requests } = yield* run(ok, { headers: { "X-Tenant": "acme", "User-Agent": "svc/1.0" } })
        success(exit)
        const headers = requests[0].headers
        strictEqual(headers["accept"], "application/json")
        strictEqual(headers["x-tenant"], "acme")
        strictEqual(headers["user-agent"], "svc/1.0")
      }))

    it.effect("keeps the query parameters of the token URL", () =>
      Effect.gen(function*() {
        const { exit, requests } = yield* run(ok, {
          tokenUrl: "https://as.example.com/tenant/oauth2/token?p=B2C_1_policy&api-version=2"
        })
        success(exit)
        const url = requests[0].url
        strictEqual(url.pathname, "/tenant/oauth2/token")
        strictEqual(url.searchParams.get("p"), "B2C_1_policy")
        strictEqual(url.searchParams.get("api-version"), "2")
        assert.isFalse(url.searchParams.has("grant_type"))
        strictEqual(requests[0].form.get("grant_type"), "client_credentials")
      }))

    it.effect("accepts the token URL as a URL object", () =>
      Effect.gen(function*() {
        const { exit, requests } = yield* run(ok, { tokenUrl: new URL(tokenUrl) })
        success(exit)
        strictEqual(requests[0].url.href, tokenUrl)
      }))

    describe("scope", () => {
      it.effect("joins scopes with a space by default", () =>
        Effect.gen(function*() {
          const { exit, requests } = yield* run(ok, { scopes: ["read:a", "write:b"] })
          success(exit)
          strictEqual(requests[0].form.get("scope"), "read:a write:b")
          strictEqual(requests[0].body, "grant_type=client_credentials&scope=read%3Aa+write%3Ab")
        }))

      it.effect("joins scopes with a custom delimiter", () =>
        Effect.gen(function*() {
          const { exit, requests } = yield* run(ok, { scopes: ["a", "b", "c"], scopeDelimiter: "," })
          success(exit)
          strictEqual(requests[0].form.get("scope"), "a,b,c")
        }))

      it.effect("takes scopes as one delimited string", () =>
        Effect.gen(function*() {
          const spaced = yield* run(ok, { scopes: "a b  c" })
          strictEqual(spaced.requests[0].form.get("scope"), "a b c")
          const commas = yield* run(ok, { scopes: "a,b", scopeDelimiter: "," })
          strictEqual(commas.requests[0].form.get("scope"), "a,b")
        }))

      it.effect("does not send scope when there is none", () =>
        Effect.gen(function*() {
          for (const scopes of [[], "", undefined, [""], "  "] as const) {
            const { exit, requests } = yield* run(ok, { scopes })
            success(exit)
            assert.isFalse(requests[0].form.has("scope"), JSON.stringify(scopes))
          }
        }))

      it.effect("an empty delimiter is a ConfigurationError", () =>
        Effect.gen(function*() {
          const error = yield* configError({ scopes: ["a"], scopeDelimiter: "" })
          assert.include(error.reason, "scopeDelimiter")
        }))
    })

    describe("params", () => {
      it.effect("sends audience and repeats resource", () =>
        Effect.gen(function*() {
          const { exit, requests } = yield* run(ok, {
            params: {
              audience: "https://api.example.com",
              resource: ["https://a.example.com", "https://b.example.com"]
            }
          })
          success(exit)
          const form = requests[0].form
          strictEqual(form.get("audience"), "https://api.example.com")
          deepStrictEqual(form.getAll("resource"), ["https://a.example.com", "https://b.example.com"])
        }))

      it.effect("does not send undefined, null or empty values", () =>
        Effect.gen(function*() {
          const { exit, requests } = yield* run(ok, {
            params: { a: undefined, b: null, c: "", d: [], e: ["", "x"], f: 0, g: false }
          })
          success(exit)
          const form = requests[0].form
          for (const key of ["a", "b", "c", "d"]) assert.isFalse(form.has(key), key)
          deepStrictEqual(form.getAll("e"), ["x"])
          strictEqual(form.get("f"), "0")
          strictEqual(form.get("g"), "false")
        }))

      it.effect("sends params after grant_type and scope", () =>
        Effect.gen(function*() {
          const { requests } = yield* run(ok, { scopes: ["s"], params: { audience: "aud" } })
          deepStrictEqual([...requests[0].form.keys()], ["grant_type", "scope", "audience"])
        }))

      it.effect("rejects the reserved names", () =>
        Effect.gen(function*() {
          for (const name of ["grant_type", "client_id", "client_secret", "client_assertion", "scope"]) {
            const error = yield* configError({ params: { [name]: "x" } })
            assert.include(error.reason, `"${name}"`)
          }
        }))
    })

    describe("token URL checks", () => {
      it.effect("plain http on a non-loopback host is a ConfigurationError", () =>
        Effect.gen(function*() {
          const error = yield* configError({ tokenUrl: "http://as.example.com/token" })
          assert.include(error.reason, "https")
          assert.include(error.reason, "allowInsecureHttp")
        }))

      it.effect("plain http is allowed with allowInsecureHttp", () =>
        Effect.gen(function*() {
          const { exit, requests } = yield* run(ok, { tokenUrl: "http://as.internal/token", allowInsecureHttp: true })
          success(exit)
          strictEqual(requests[0].url.href, "http://as.internal/token")
        }))

      it.effect("plain http is allowed on loopback hosts", () =>
        Effect.gen(function*() {
          for (
            const url of [
              "http://127.0.0.1:8080/token",
              "http://localhost:3000/token",
              "http://[::1]/token",
              "http://auth.localhost/token"
            ]
          ) {
            const { exit, requests } = yield* run(ok, { tokenUrl: url })
            success(exit)
            strictEqual(requests[0].url.href, url)
          }
        }))

      it.effect("rejects a fragment, user info, another scheme and garbage", () =>
        Effect.gen(function*() {
          assert.include((yield* configError({ tokenUrl: `${tokenUrl}#frag` })).reason, "fragment")
          assert.include(
            (yield* configError({ tokenUrl: "https://user:pass@as.example.com/token" })).reason,
            "user credentials"
          )
          assert.include((yield* configError({ tokenUrl: "https://user@as.example.com/token" })).reason, "user")
          assert.include((yield* configError({ tokenUrl: "ftp://as.example.com/token" })).reason, "ftp:")
          assert.include((yield* configError({ tokenUrl: "not a url" })).reason, "not an absolute URL")
          assert.include((yield* configError({ tokenUrl: "/relative/token" })).reason, "not an absolute URL")
          yield* configError({ tokenUrl: "" })
          yield* configError({ tokenUrl: "javascript:alert(1)" })
        }))
    })

    describe("other options", () => {
      it.effect("a secret without an id is a ConfigurationError", () =>
        Effect.gen(function*() {
          const error = yield* configError({ clientId: undefined, clientSecret: Redacted.make("s") })
          assert.include(error.reason, "clientId")
        }))

      it.effect("a secret that is not Redacted is a ConfigurationError", () =>
        Effect.gen(function*() {
          const error = yield* configError({ clientSecret: "plain" as unknown as Redacted.Redacted<string> })
          assert.include(error.reason, "Redacted")
          assert.notInclude(error.message, "plain")
        }))

      it.effect("bad durations and sizes are ConfigurationErrors", () =>
        Effect.gen(function*() {
          assert.include(
            (yield* configError({ expiryGrace: "later" as Duration.DurationInput })).reason,
            "expiryGrace"
          )
          assert.include((yield* configError({ timeout: 0 })).reason, "timeout")
          assert.include((yield* configError({ maxResponseBytes: 0 })).reason, "maxResponseBytes")
          assert.include((yield* configError({ maxResponseBytes: 1.5 })).reason, "maxResponseBytes")
          assert.include(
            (yield* configError({ retry: { budget: "soon" as Duration.DurationInput } })).reason,
            "retry.budget"
          )
        }))

      it.effect("make checks the options once and gives a reusable request", () =>
        Effect.gen(function*() {
          const http = TestHttp.make((_, index) => TestHttp.token(`at-${index}`))
          const request = yield* ClientCredentials.make({ tokenUrl, clientId: "c", retry: false }).pipe(
            Effect.provide(http.layer)
          )
          strictEqual(http.requests.length, 0)
          const first = yield* request
          const second = yield* request
          strictEqual(Redacted.value(first.accessToken), "at-0")
          strictEqual(Redacted.value(second.accessToken), "at-1")
          const bad = yield* Effect.exit(
            ClientCredentials.make({ tokenUrl: "http://as.example.com/token" }).pipe(Effect.provide(http.layer))
          )
          assert.isTrue(OAuth2Error.isConfigurationError(failure(bad)))
        }))

      it.effect("cacheKey ignores the secret and the order of scopes and params", () =>
        Effect.gen(function*() {
          const a = yield* ClientCredentials.cacheKey({
            tokenUrl,
            clientId: "c",
            clientSecret: Redacted.make("SECRET-ONE"),
            scopes: ["b", "a"],
            params: { resource: ["y", "x"], audience: "z" }
          })
          const b = yield* ClientCredentials.cacheKey({
            tokenUrl,
            clientId: "c",
            clientSecret: Redacted.make("SECRET-TWO"),
            scopes: "a b",
            params: { audience: "z", resource: ["x", "y"] }
          })
          strictEqual(a, b)
          assert.notInclude(a, "SECRET")
          const other = yield* ClientCredentials.cacheKey({ tokenUrl, clientId: "c", scopes: ["a"] })
          assert.notStrictEqual(a, other)
        }))
    })
  })

  describe("the response", () => {
    it.effect("a 200 gives Credentials", () =>
      Effect.gen(function*() {
        const { exit } = yield* run(() =>
          TestHttp.token("AT-1", 3600, {
            refresh_token: "RT-1",
            id_token: "ID-1",
            scope: "a b",
            ext: { nested: true }
          })
        )
        const credentials = success(exit)
        assert.instanceOf(credentials, Credentials.Credentials)
        strictEqual(Redacted.value(credentials.accessToken), "AT-1")
        strictEqual(credentials.tokenType, "Bearer")
        strictEqual(credentials.expiresIn, 3600)
        deepStrictEqual(credentials.scopes, ["a", "b"])
        strictEqual(credentials.tokenEndpoint, tokenUrl)
        assert.isTrue(Redacted.isRedacted(credentials.refreshToken))
        strictEqual(Redacted.value(credentials.refreshToken!), "RT-1")
        assert.isTrue(Redacted.isRedacted(credentials.idToken))
        strictEqual(Redacted.value(credentials.idToken!), "ID-1")
        deepStrictEqual(credentials.extra, { ext: { nested: true } })
      }))

    it.effect("granted scopes are split by the delimiter, empty pieces dropped", () =>
      Effect.gen(function*() {
        // A documented deviation from Dart, which keeps '' for "a  b" and [''] for "".
        const spaced = success((yield* run(() => TestHttp.token("at", 60, { scope: " a  b " }))).exit)
        deepStrictEqual(spaced.scopes, ["a", "b"])
        const commas = success(
          (yield* run(() => TestHttp.token("at", 60, { scope: "a,,b," }), { scopeDelimiter: "," })).exit
        )
        deepStrictEqual(commas.scopes, ["a", "b"])
        const empty = success((yield* run(() => TestHttp.token("at", 60, { scope: "" }), { scopes: ["x"] })).exit)
        deepStrictEqual(empty.scopes, [])
      }))

    it.effect("the requested scopes are kept when the server omits scope", () =>
      Effect.gen(function*() {
        const requested = success((yield* run(() => TestHttp.token("at"), { scopes: ["x", "y"] })).exit)
        deepStrictEqual(requested.scopes, ["x", "y"])
        const nulled = success((yield* run(() => TestHttp.token("at", 60, { scope: null }), { scopes: "x" })).exit)
        deepStrictEqual(nulled.scopes, ["x"])
        const none = success((yield* run(() => TestHttp.token("at"))).exit)
        deepStrictEqual(none.scopes, [])
      }))

    it.effect("the token endpoint of the credentials keeps its query (Azure B2C ?p=policy), so it can be reused", () =>
      Effect.gen(function*() {
        const credentials = success((yield* run(ok, { tokenUrl: `${tokenUrl}?p=policy` })).exit)
        strictEqual(credentials.tokenEndpoint, `${tokenUrl}?p=policy`)
      }))

    it.effect("JSON sent as text/plain is accepted", () =>
      Effect.gen(function*() {
        const { exit } = yield* run(() => ({ text: JSON.stringify({ access_token: "at", token_type: "bearer" }) }))
        strictEqual(Redacted.value(success(exit).accessToken), "at")
      }))

    it.effect("a form-urlencoded 200 body is accepted", () =>
      Effect.gen(function*() {
        const { exit } = yield* run(() => ({
          text: "access_token=gho_abc&scope=repo%2Cgist&token_type=bearer",
          headers: { "content-type": "application/x-www-form-urlencoded" }
        }), { scopeDelimiter: "," })
        const credentials = success(exit)
        strictEqual(Redacted.value(credentials.accessToken), "gho_abc")
        deepStrictEqual(credentials.scopes, ["repo", "gist"])
      }))

    it.effect("a response without a content type is an InvalidResponse", () =>
      Effect.gen(function*() {
        const { exit } = yield* run(() => TestHttp.raw(JSON.stringify({ access_token: "a", token_type: "bearer" })))
        const error = failureOf(exit, "InvalidResponse")
        assert.include(error.reason, "Content-Type")
      }))

    it.effect("a 400 with a §5.2 body is an ErrorResponse", () =>
      Effect.gen(function*() {
        const { exit } = yield* run(() => ({
          status: 400,
          json: { error: "invalid_scope", error_description: "scope x is not allowed" }
        }))
        const error = failureOf(exit, "ErrorResponse")
        strictEqual(error.status, 400)
        strictEqual(error.error, "invalid_scope")
        strictEqual(error.errorDescription, "scope x is not allowed")
      }))

    it.effect("a 500 HTML page is an InvalidResponse with status 500", () =>
      Effect.gen(function*() {
        const { exit } = yield* run(() => ({
          status: 500,
          text: "<html>oops</html>",
          headers: { "content-type": "text/html" }
        }))
        const error = failureOf(exit, "InvalidResponse")
        strictEqual(error.status, 500)
        strictEqual(error.contentType, "text/html")
      }))

    it.effect("a 201 with a token is an InvalidResponse", () =>
      Effect.gen(function*() {
        const { exit } = yield* run(() => ({ ...TestHttp.token("at"), status: 201 }))
        strictEqual(failureOf(exit, "InvalidResponse").status, 201)
      }))

    it.effect("a 302 is not followed: InvalidResponse mentioning the redirect", () =>
      Effect.gen(function*() {
        const { exit, requests } = yield* run(() => ({
          status: 302,
          headers: { location: "https://login.example.com/authorize" }
        }))
        const error = failureOf(exit, "InvalidResponse")
        strictEqual(error.status, 302)
        assert.include(error.message, "redirect")
        assert.include(error.reason, "https://login.example.com/authorize")
        strictEqual(requests.length, 1)
      }))

    it.effect("parseResponse receives the content type header and the body", () =>
      Effect.gen(function*() {
        const seen: Array<readonly [string | undefined, string]> = []
        const { exit } = yield* run(() => ({
          text: "token=abc",
          headers: { "content-type": "text/x-custom" }
        }), {
          parseResponse: (contentType, body) => {
            seen.push([contentType, body])
            return { access_token: body.slice("token=".length), token_type: "bearer", expires_in: 60 }
          }
        })
        strictEqual(Redacted.value(success(exit).accessToken), "abc")
        deepStrictEqual(seen, [["text/x-custom", "token=abc"]])
      }))

    it.effect("a throwing parseResponse is an InvalidResponse, not a defect", () =>
      Effect.gen(function*() {
        const { exit } = yield* run(ok, {
          parseResponse: () => {
            throw new TypeError("boom")
          }
        })
        assert.include(failureOf(exit, "InvalidResponse").reason, "boom")
      }))

    it.effect("decodes the body as UTF-8", () =>
      Effect.gen(function*() {
        const { exit } = yield* run(() =>
          TestHttp.raw(`{"access_token":"tök€n","token_type":"bearer"}`, {
            headers: { "content-type": "application/json" }
          })
        )
        strictEqual(Redacted.value(success(exit).accessToken), "tök€n")
      }))

    describe("maxResponseBytes", () => {
      it.effect("a large Content-Length is refused before reading", () =>
        Effect.gen(function*() {
          const body = TestHttp.streamed(100, 64 * 1024, {
            "content-type": "application/json",
            "content-length": String(100 * 64 * 1024)
          })
          const { exit } = yield* run(() => body.response)
          const error = failureOf(exit, "InvalidResponse")
          assert.include(error.reason, "maxResponseBytes")
          assert.include(error.reason, "Content-Length")
          strictEqual(error.status, 200)
          strictEqual(error.bodyExcerpt, "")
          // the body is started and dropped at once (that releases the connection), never buffered
          assert.isAtMost(body.pulled(), 2)
        }))

      it.effect("a streamed body without Content-Length is cut off at the limit", () =>
        Effect.gen(function*() {
          const body = TestHttp.streamed(1000, 16 * 1024)
          const { exit } = yield* run(() => body.response)
          const error = failureOf(exit, "InvalidResponse")
          assert.include(error.reason, "maxResponseBytes (1048576 bytes")
          // 1 MiB is 64 chunks: the reader stops soon after, long before the 1000 chunks
          assert.isAtMost(body.pulled(), 70)
        }))

      it.effect("a custom limit applies; a body of exactly the limit is read", () =>
        Effect.gen(function*() {
          const text = JSON.stringify({ access_token: "at", token_type: "bearer" })
          const exact = yield* run(() => ({ text, headers: { "content-type": "application/json" } }), {
            maxResponseBytes: text.length
          })
          success(exact.exit)
          const over = yield* run(() => ({ text, headers: { "content-type": "application/json" } }), {
            maxResponseBytes: text.length - 1
          })
          assert.include(failureOf(over.exit, "InvalidResponse").reason, "maxResponseBytes")
        }))
    })
  })

  describe("expiry (TestClock)", () => {
    const expiresAt = (expiresIn: number | string | null, options: Partial<ClientCredentials.Options> = {}) =>
      Effect.gen(function*() {
        yield* TestClock.adjust(Duration.seconds(1000))
        const before = yield* now
        const credentials = success((yield* run(() => TestHttp.token("at", expiresIn), options)).exit)
        strictEqual(credentials.issuedAt, before)
        return credentials.expiresAt === undefined ? undefined : credentials.expiresAt - before
      })

    it.effect("expires_in 100 → 90 s after the start (10 s grace)", () =>
      Effect.gen(function*() {
        strictEqual(yield* expiresAt(100), 90_000)
      }))

    it.effect("expires_in \"110\" → 100 s after the start", () =>
      Effect.gen(function*() {
        strictEqual(yield* expiresAt("110"), 100_000)
      }))

    it.effect("the grace never exceeds half the lifetime", () =>
      Effect.gen(function*() {
        strictEqual(yield* expiresAt(10), 5_000)
        strictEqual(yield* expiresAt(4), 2_000)
        strictEqual(yield* expiresAt(20), 10_000)
        strictEqual(yield* expiresAt(21), 11_000)
      }))

    it.effect("a custom expiryGrace", () =>
      Effect.gen(function*() {
        strictEqual(yield* expiresAt(3600, { expiryGrace: "1 minute" }), 3_540_000)
        strictEqual(yield* expiresAt(3600, { expiryGrace: 0 }), 3_600_000)
        strictEqual(yield* expiresAt(60, { expiryGrace: Duration.minutes(5) }), 30_000)
      }))

    it.effect("no expires_in → no expiresAt, never expired", () =>
      Effect.gen(function*() {
        strictEqual(yield* expiresAt(null), undefined)
        const credentials = success((yield* run(() => TestHttp.token("at", null))).exit)
        strictEqual(credentials.expiresIn, undefined)
        strictEqual(credentials.lifetimeMillis, undefined)
        assert.isFalse(credentials.isExpired(Number.MAX_SAFE_INTEGER))
      }))

    it.effect("isExpired is strictly after expiresAt", () =>
      Effect.gen(function*() {
        const credentials = success((yield* run(() => TestHttp.token("at", 100))).exit)
        strictEqual(credentials.expiresAt, 90_000)
        strictEqual(credentials.lifetimeMillis, 90_000)
        assert.isFalse(yield* Credentials.isExpiredNow(credentials))
        yield* TestClock.adjust(Duration.millis(89_999))
        assert.isFalse(yield* Credentials.isExpiredNow(credentials))
        yield* TestClock.adjust(Duration.millis(1))
        assert.isFalse(yield* Credentials.isExpiredNow(credentials), "not expired at expiresAt")
        yield* TestClock.adjust(Duration.millis(1))
        assert.isTrue(yield* Credentials.isExpiredNow(credentials))
        assert.isTrue(Credentials.isExpired(credentials, 90_001))
        assert.isFalse(Credentials.isExpired(credentials, 90_000))
      }))

    it.effect("expires_in 0 is accepted and expires at once", () =>
      Effect.gen(function*() {
        const credentials = success((yield* run(() => TestHttp.token("at", 0))).exit)
        strictEqual(credentials.expiresIn, 0)
        strictEqual(credentials.expiresAt, credentials.issuedAt)
        strictEqual(credentials.lifetimeMillis, 0)
        yield* TestClock.adjust(Duration.millis(1))
        assert.isTrue(yield* Credentials.isExpiredNow(credentials))
      }))

    it.effect("the time is read before the request is sent", () =>
      Effect.gen(function*() {
        const fiber = yield* Effect.fork(
          run(() => Effect.as(Effect.sleep(Duration.seconds(5)), TestHttp.token("at", 100)))
        )
        yield* TestClock.adjust(Duration.seconds(5))
        const { exit } = yield* Fiber.join(fiber)
        const credentials = success(exit)
        strictEqual(yield* now, 5_000)
        strictEqual(credentials.issuedAt, 0)
        strictEqual(credentials.expiresAt, 90_000)
      }))
  })

  describe("metrics", () => {
    const count = (outcome: string) =>
      Effect.map(Metric.value(Metric.tagged(metrics.tokenRequests, "outcome", outcome)), (state) => state.count)

    it.effect("each attempt counts once in oauth2_token_requests, tagged outcome: success or the error's tag", () =>
      Effect.gen(function*() {
        const success0 = yield* count("success")
        const refused0 = yield* count("ErrorResponse")
        success((yield* run(ok)).exit)
        failureOf(
          (yield* run(() =>
            TestHttp.raw(JSON.stringify({ error: "invalid_client" }), {
              status: 401,
              headers: { "content-type": "application/json" }
            })
          )).exit,
          "ErrorResponse"
        )
        strictEqual((yield* count("success")) - success0, 1)
        strictEqual((yield* count("ErrorResponse")) - refused0, 1)
      }))
  })
})
