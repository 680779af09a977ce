import { assert, describe, it } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as TestClock from "effect/TestClock"
import { timeoutFail } from "../src/internal/timeout.js"

class Late {
  readonly _tag = "Late"
}

describe("internal/timeout (one timer of the Clock's scheduler, no race)", () => {
  it.live("live Clock: an effect that does not end fails with onTimeout after the time, and is interrupted", () =>
    Effect.gen(function*() {
      const interrupted = yield* Deferred.make<void>()
      const started = Date.now()
      const exit = yield* Effect.exit(
        timeoutFail(
          Effect.onInterrupt(Effect.never, () => Deferred.succeed(interrupted, undefined)),
          50,
          () => new Late()
        )
      )
      assert.deepStrictEqual(exit, Exit.fail(new Late()))
      assert.isAtLeast(Date.now() - started, 45)
      assert.isTrue(yield* Deferred.isDone(interrupted), "the effect was interrupted before the failure")
    }))

  it.live("live Clock: success and failure pass through unchanged, and the timer does not fire later", () =>
    Effect.gen(function*() {
      assert.strictEqual(yield* timeoutFail(Effect.succeed(1), 20, () => new Late()), 1)
      const failed = yield* Effect.flip(timeoutFail(Effect.fail("boom" as const), 20, () => "late" as const))
      assert.strictEqual(failed, "boom")
      yield* Effect.sleep(Duration.millis(40))
    }))

  it.live("live Clock: interrupting the caller interrupts the effect", () =>
    Effect.gen(function*() {
      const interrupted = yield* Deferred.make<void>()
      const started = yield* Deferred.make<void>()
      const fiber = yield* Effect.fork(
        timeoutFail(
          Effect.zipRight(
            Deferred.succeed(started, undefined),
            Effect.onInterrupt(Effect.never, () => Deferred.succeed(interrupted, undefined))
          ),
          10_000,
          () => new Late()
        )
      )
      yield* Deferred.await(started)
      yield* Fiber.interrupt(fiber)
      assert.isTrue(yield* Deferred.isDone(interrupted))
    }))

  it.effect("TestClock: the timeout runs on Clock time", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.fork(Effect.exit(timeoutFail(Effect.never, 1_000, () => new Late())))
      yield* TestClock.adjust(Duration.millis(999))
      assert.isNull(fiber.unsafePoll())
      yield* TestClock.adjust(Duration.millis(1))
      assert.deepStrictEqual(yield* Fiber.join(fiber), Exit.fail(new Late()))
    }))
})
