/**
 * The origin policy's per-prefix decision cache must never hand one origin's decision to another: URL strings whose
 * `scheme://authority` text is the same but whose hosts differ (an empty authority, "https:///host", which the
 * URL parser reads as https://host; or characters the parser strips, like a tab) must each be decided on their own.
 */
import { OAuth2HttpClient } from "@effect-oauth2/core"
import { HttpClient } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Logger, Redacted } from "effect"
import * as Either from "effect/Either"
import * as origins from "../../src/internal/requestPath/origins.js"
import * as unsent from "../../src/internal/requestPath/unsent.js"
import * as TestHttp from "../utils/TestHttp.js"

const policy = (list: ReadonlyArray<string> | "*" | undefined) => Either.getOrThrow(origins.make(list, false))

describe("requestPath/origins prefix cache (mutation)", () => {
  it("explicit origins: an allowed \"https:///host\" URL does not let a later \"https:///other-host\" URL through", () => {
    const p = policy(["https://api.example.com"])
    assert.strictEqual(p.allows("https:///api.example.com/v1"), true)
    assert.strictEqual(p.allows("https:///evil.test/steal"), false)
    assert.strictEqual(p.allows("https://\t/api.example.com/v1"), true)
    assert.strictEqual(p.allows("https://\t/evil.test/steal"), false)
    assert.strictEqual(p.allows("https://api.example.com/v1"), true)
  })

  it("\"*\": plain http to a loopback host written \"http:///127.0.0.1\" does not let plain http to a network host through", () => {
    const p = policy("*")
    assert.strictEqual(p.allows("http:///127.0.0.1:8080/x"), true)
    assert.strictEqual(p.allows("http:///evil.test/x"), false)
    assert.strictEqual(p.allows("http://localhost\\@evil.test/x"), true) // the host is localhost; "\" ends it
  })

  it("prefixOf: no prefix for a URL whose authority text does not name its host on its own", () => {
    assert.strictEqual(origins.prefixOf("https://api.example.com/v1?x=1"), "https://api.example.com")
    assert.strictEqual(origins.prefixOf("https://user@api.example.com:8443#f"), "https://user@api.example.com:8443")
    assert.strictEqual(origins.prefixOf("https:///evil.test/x"), undefined)
    assert.strictEqual(origins.prefixOf("https://\t/evil.test/x"), undefined)
    assert.strictEqual(origins.prefixOf("https://\n/evil.test/x"), undefined)
    assert.strictEqual(origins.prefixOf("https://\r/evil.test/x"), undefined)
    assert.strictEqual(origins.prefixOf("https://a.example\\@evil.test/x"), undefined)
    assert.strictEqual(origins.prefixOf("/relative"), undefined)
  })

  it.effect("through the client: after a request to \"https:///api.example\", one to \"https:///evil.test\" gets no token", () =>
    Effect.gen(function*() {
      const http = TestHttp.make((request) =>
        request.url.pathname === "/token" ? TestHttp.token("tok-1", 3600) : { json: {} }
      )
      yield* Effect.flatMap(
        HttpClient.HttpClient,
        (client) => Effect.zipRight(client.get("https:///api.example/x"), client.get("https:///evil.test/steal"))
      ).pipe(
        Effect.provide(
          OAuth2HttpClient.layer({
            tokenUrl: "https://as.example/token",
            clientId: "svc",
            clientSecret: Redacted.make("secret"),
            origins: ["https://api.example"],
            retry: false
          }).pipe(Layer.provide(http.layer))
        )
      )
      const seen = http.requests.map((r) => `${r.url.host} ${r.headers["authorization"] ?? "-"}`)
      assert.deepStrictEqual(seen.filter((line) => !line.startsWith("as.example")), [
        "api.example Bearer tok-1",
        "evil.test -"
      ])
    }))

  it.effect("a 401 from a refused URL that has no prefix is not explained (and does not break the request path)", () =>
    Effect.gen(function*() {
      const logs: Array<string> = []
      const logger = Logger.make(({ message }) => logs.push(String(message)))
      yield* unsent.make(policy(["https://api.example.com"]))("https:///evil.test/x").pipe(
        Effect.provide(Logger.replace(Logger.defaultLogger, logger))
      )
      assert.deepStrictEqual(logs, [])
    }))
})
