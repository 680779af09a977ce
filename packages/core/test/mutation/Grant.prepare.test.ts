/**
 * The checks of the grant's options (internal/grant.ts `prepare`): each mistake is a ConfigurationError with its
 * own exact reason, before any request; the headers as an auth method sees them; the cache key's exact content.
 */
import { ClientAuth, ClientCredentials } from "@effect-oauth2/core"
import { assert, describe, it } from "@effect/vitest"
import { deepStrictEqual, strictEqual } from "@effect/vitest/utils"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"
import * as grant from "../../src/internal/grant.js"
import { failureOf, run, success, tokenUrl } from "../utils/Grant.js"
import * as TestHttp from "../utils/TestHttp.js"

const ok = () => TestHttp.token("at")

/** The reason of the ConfigurationError the options give, checked to be raised before any request. */
const reasonOf = (options: Partial<ClientCredentials.Options>) =>
  Effect.gen(function*() {
    const { exit, requests } = yield* run(ok, options)
    const error = failureOf(exit, "ConfigurationError")
    strictEqual(requests.length, 0, "no request may be sent")
    return error.reason
  })

const surrogateReason =
  "the client id or secret holds an unpaired UTF-16 surrogate; it cannot be sent as UTF-8 unchanged"

describe("grant options (mutation)", () => {
  it.effect("an empty clientId is refused with the reason \"clientId must not be empty\"", () =>
    Effect.gen(function*() {
      strictEqual(yield* reasonOf({ clientId: "" }), "clientId must not be empty")
    }))

  it.effect("a lone surrogate in the client id alone (no secret, auth none) is refused before it is sent as U+FFFD", () =>
    Effect.gen(function*() {
      strictEqual(yield* reasonOf({ clientId: "svc\uD800", clientSecret: undefined }), surrogateReason)
    }))

  it.effect("a lone surrogate in the secret alone is refused by the options check, with its own reason", () =>
    Effect.gen(function*() {
      strictEqual(yield* reasonOf({ clientId: "svc", clientSecret: Redacted.make("se\uDC00cret") }), surrogateReason)
      // a custom auth method never sees it either
      let authenticated = 0
      const custom = ClientAuth.make("custom", (request) => Effect.sync(() => (authenticated++, request)))
      strictEqual(
        yield* reasonOf({ clientId: "svc", clientSecret: Redacted.make("se\uDC00cret"), auth: custom }),
        surrogateReason
      )
      strictEqual(authenticated, 0)
    }))

  it.effect("a reserved param names the option that sets it: scopes for scope, the grant or auth for the others", () =>
    Effect.gen(function*() {
      strictEqual(yield* reasonOf({ params: { scope: "x" } }), "params may not set \"scope\"; it is set by scopes")
      strictEqual(
        yield* reasonOf({ params: { grant_type: "x" } }),
        "params may not set \"grant_type\"; it is set by the grant or auth"
      )
      strictEqual(
        yield* reasonOf({ params: { client_assertion_type: "x" } }),
        "params may not set \"client_assertion_type\"; it is set by the grant or auth"
      )
    }))

  it.effect("a token URL that is not a URL is refused with a reason that names tokenUrl", () =>
    Effect.gen(function*() {
      strictEqual(
        yield* reasonOf({ tokenUrl: "nope" }),
        "tokenUrl is not an absolute URL (4 characters); expected https://host/path"
      )
    }))

  it.effect("a timeout or retryAfterCap that is not a duration is refused with a reason that names the option", () =>
    Effect.gen(function*() {
      strictEqual(yield* reasonOf({ timeout: "soon" as Duration.DurationInput }), "timeout is not a duration")
      strictEqual(
        yield* reasonOf({ retry: { retryAfterCap: "soon" as Duration.DurationInput } }),
        "retry.retryAfterCap is not a duration"
      )
    }))

  it.effect("a negative duration in any form is refused, not read as zero; NaN is not a duration; a zero grace is taken", () =>
    Effect.gen(function*() {
      const negatives: ReadonlyArray<Duration.DurationInput> = [-1, BigInt(-5), "-5 seconds", [-1, 0], [0, -5]]
      for (const timeout of negatives) {
        strictEqual(yield* reasonOf({ timeout }), "timeout must not be negative", String(timeout))
      }
      strictEqual(yield* reasonOf({ expiryGrace: "-10 seconds" }), "expiryGrace must not be negative")
      strictEqual(yield* reasonOf({ retry: { budget: -1 } }), "retry.budget must not be negative")
      strictEqual(yield* reasonOf({ timeout: Number.NaN }), "timeout is not a duration")
      for (
        const prepared of ([0, BigInt(0), "0 seconds", [0, 0]] as ReadonlyArray<Duration.DurationInput>).map((
          expiryGrace
        ) => grant.prepare({ tokenUrl, clientId: "svc", clientSecret: Redacted.make("s"), expiryGrace }))
      ) {
        assert.isTrue(Either.isRight(prepared))
      }
    }))

  it.effect("an auth method is given the extra headers with lower-case names", () =>
    Effect.gen(function*() {
      const seen: Array<Readonly<Record<string, string>>> = []
      const custom = ClientAuth.make("custom", (request) => Effect.sync(() => (seen.push(request.headers), request)))
      const { exit } = yield* run(ok, { auth: custom, headers: { "X-Tenant": "acme" } })
      success(exit)
      deepStrictEqual(seen, [{ accept: "application/json", "x-tenant": "acme" }])
    }))

  it("dpop without the hooks that resolve() imports is a ConfigurationError; dpop: false needs none", () => {
    const reason = "dpop: the key is imported when the client is built (ClientCredentials.make, OAuth2Client.make)"
    const refused = grant.prepare({ tokenUrl, clientId: "svc", dpop: true })
    if (Either.isRight(refused)) return assert.fail("expected a ConfigurationError")
    strictEqual(refused.left.reason, reason)
    assert.isTrue(Either.isRight(grant.prepare({ tokenUrl, clientId: "svc", dpop: false })))
    assert.isTrue(Either.isRight(grant.prepare({ tokenUrl, clientId: "svc" })))
  })

  describe("cacheKey", () => {
    it.effect("is [token URL, client id, auth method, sorted scopes, sorted params] and nothing else without DPoP", () =>
      Effect.gen(function*() {
        const key = yield* ClientCredentials.cacheKey({
          tokenUrl,
          clientId: "svc",
          clientSecret: Redacted.make("s"),
          scopes: ["b", "a"],
          params: { resource: ["y", "x"], audience: "z" }
        })
        deepStrictEqual(JSON.parse(key), [
          tokenUrl,
          "svc",
          "client_secret_basic",
          ["a", "b"],
          [["audience", "z"], ["resource", "x"], ["resource", "y"]]
        ])
        deepStrictEqual(JSON.parse(yield* ClientCredentials.cacheKey({ tokenUrl })), [tokenUrl, null, "none", [], []])
      }))

    it.effect("differs by client id alone and by scopes alone", () =>
      Effect.gen(function*() {
        const base = { tokenUrl, clientId: "a", scopes: ["s"] }
        const key = yield* ClientCredentials.cacheKey(base)
        assert.notStrictEqual(yield* ClientCredentials.cacheKey({ ...base, clientId: "b" }), key)
        assert.notStrictEqual(yield* ClientCredentials.cacheKey({ ...base, scopes: ["t"] }), key)
      }))

    it.effect("is the same for every order of a param's values", () =>
      Effect.gen(function*() {
        const orders = [
          ["a", "b", "c", "d"],
          ["d", "c", "b", "a"],
          ["b", "d", "a", "c"],
          ["c", "a", "d", "b"],
          ["a", "c", "b", "d"],
          ["d", "a", "c", "b"]
        ]
        const keys = yield* Effect.forEach(orders, (resource) =>
          ClientCredentials.cacheKey({ tokenUrl, clientId: "svc", params: { resource } }))
        for (const key of keys) {
          strictEqual(key, keys[0])
        }
        deepStrictEqual(JSON.parse(keys[0])[4], [["resource", "a"], ["resource", "b"], ["resource", "c"], [
          "resource",
          "d"
        ]])
      }))
  })
})
