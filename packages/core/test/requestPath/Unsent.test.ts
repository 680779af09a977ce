import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Logger from "effect/Logger"
import * as origins from "../../src/internal/requestPath/origins.js"
import * as unsent from "../../src/internal/requestPath/unsent.js"

const capture = <A>(effect: Effect.Effect<A>) => {
  const lines: Array<string> = []
  return Effect.map(
    Effect.provide(
      effect,
      Logger.replace(Logger.defaultLogger, Logger.make(({ message }) => lines.push(String(message))))
    ),
    () => lines
  )
}

describe("requestPath/unsent", () => {
  it.effect("logs once per refused origin, never for an allowed or undecidable URL", () =>
    Effect.gen(function*() {
      const notify = unsent.make(Either.getOrThrow(origins.make(["https://api.example.com"], false)))
      const lines = yield* capture(Effect.forEach([
        "https://api.example.com/allowed",
        "/relative",
        "https://elsewhere.example/1",
        "https://elsewhere.example/2?q=1",
        "https://third.example/"
      ], notify))
      assert.strictEqual(lines.length, 2, lines.join("\n"))
      assert.match(lines[0]!, /^OAuth2: https:\/\/elsewhere\.example answered 401 .* not in the client's origins\./)
      assert.match(lines[1]!, /^OAuth2: https:\/\/third\.example /)
      assert.isTrue(lines.every((line) => line.endsWith("(Logged once per origin.)")))
    }))

  it.effect("under the \"*\" default only plain http off loopback is refused, and the notice says so", () =>
    Effect.gen(function*() {
      const notify = unsent.make(Either.getOrThrow(origins.make("*", false)))
      const lines = yield* capture(Effect.forEach(
        ["https://any.example/", "http://localhost:8080/", "http://api.internal/x"],
        notify
      ))
      assert.strictEqual(lines.length, 1, lines.join("\n"))
      assert.include(lines[0]!, "http://api.internal answered 401")
      assert.include(lines[0]!, "plain http off loopback never gets the token")
    }))

  it.effect("the set of reported origins is bounded: the oldest is forgotten and reported again", () =>
    Effect.gen(function*() {
      const notify = unsent.make(Either.getOrThrow(origins.make(["https://api.example.com"], false)))
      const urls = Array.from({ length: 257 }, (_, i) => `https://o${i}.example/`)
      const first = yield* capture(Effect.forEach(urls, notify))
      assert.strictEqual(first.length, 257)
      // o0 was evicted by the 257th origin; o2 is still remembered.
      const again = yield* capture(Effect.forEach(["https://o0.example/", "https://o2.example/"], notify))
      assert.strictEqual(again.length, 1)
      assert.include(again[0]!, "https://o0.example")
    }))
})
