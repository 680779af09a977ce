import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { noCorsUrl, servers } from "./utils/Browser.js"

describe("the test environment", () => {
  it.live("is a real Chromium page, cross-origin to the test servers", () =>
    Effect.sync(() => {
      assert.include(navigator.userAgent, "HeadlessChrome")
      assert.isTrue(isSecureContext)
      assert.isDefined(globalThis.sessionStorage)
      assert.notStrictEqual(new URL(servers.tokenEndpoint).origin, location.origin)
      assert.notStrictEqual(new URL(servers.apiUrl).origin, location.origin)
    }))

  it.live("enforces CORS: the server without CORS headers is up, but the page may not read it", () =>
    Effect.gen(function*() {
      // An opaque (no-cors) request reaches the server: it is up and answers.
      const opaque = yield* Effect.promise(() => fetch(noCorsUrl(), { method: "POST", mode: "no-cors" }))
      assert.strictEqual(opaque.type, "opaque")
      // The same request in cors mode, as any HttpClient sends it, is rejected by the browser.
      const error = yield* Effect.flip(
        Effect.tryPromise(() => fetch(noCorsUrl(), { method: "POST", headers: { authorization: "Basic eDp5" } }))
      )
      assert.instanceOf(error.cause, TypeError)
    }))

  it.live("the token endpoint and the API do allow the page's origin", () =>
    Effect.gen(function*() {
      const token = yield* Effect.promise(() => fetch(servers.tokenEndpoint, { method: "POST" }))
      assert.strictEqual(token.status, 400) // no grant_type: an OAuth error, but a readable one
      const api = yield* Effect.promise(() => fetch(`${servers.apiUrl}/hello`))
      assert.strictEqual(api.status, 401)
    }))
})
