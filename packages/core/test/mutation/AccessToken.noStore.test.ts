/**
 * The token lifecycle (internal/accessToken.ts) without a TokenStore: the fetch fiber ends cleanly after handing
 * the token over, leaving nothing behind, not even a Debug-level report of a fiber that failed.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, LogLevel } from "effect"
import * as accessToken from "../../src/internal/accessToken.js"
import { hourLong } from "../utils/Credentials.js"
import { captureLogs } from "../utils/Logs.js"

const credentials = hourLong("ACCESS-TOKEN")

describe("accessToken without a store (mutation)", () => {
  it.scoped("a fetch with no store hands the token over and its fiber ends without a failure", () =>
    Effect.gen(function*() {
      const { logs, value } = yield* captureLogs(
        Effect.gen(function*() {
          const token = yield* accessToken.make(Effect.succeed(credentials))
          const got = yield* token.get
          yield* Effect.repeatN(Effect.yieldNow(), 10) // let the fetch fiber finish
          return got
        }),
        LogLevel.All
      )
      assert.strictEqual(value, credentials)
      assert.deepStrictEqual(logs, [])
    }))
})
