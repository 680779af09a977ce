import { assert, describe, it } from "@effect/vitest"
import * as Clock from "effect/Clock"
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

/**
 * The live Clock with its scheduler replaced by one that records each timer and fires it only when the test says:
 * the timer's own rules (scheduled once, for `millis`, cancelled when the effect ends or the caller is interrupted,
 * a late firing ignored) are then exact, with no real time.
 */
const recordingClock = () => {
  const timers: Array<{ millis: number; fire: () => void; cancelled: boolean }> = []
  const scheduler: Clock.ClockScheduler = {
    unsafeSchedule(task, duration) {
      const timer = { millis: Duration.toMillis(duration), fire: task, cancelled: false }
      timers.push(timer)
      return () => {
        timer.cancelled = true
        return true
      }
    }
  }
  const live = Clock.make()
  const clock: Clock.Clock = Object.assign(Object.create(live), { scheduler: () => Effect.succeed(scheduler) })
  return { clock, timers }
}

/** An `onTimeout` that counts its calls. */
const countingLate = () => {
  const calls = { count: 0 }
  return { calls, onTimeout: () => (calls.count++, new Late()) }
}

describe("internal/timeout (one timer of the Clock's scheduler, no race)", () => {
  it.live("a Clock with a scheduler: one timer of that scheduler, for the time given, cancelled when the effect ends", () =>
    Effect.gen(function*() {
      const { clock, timers } = recordingClock()
      const { calls, onTimeout } = countingLate()
      assert.strictEqual(yield* Effect.withClock(timeoutFail(Effect.succeed(1), 1_234, onTimeout), clock), 1)
      assert.deepStrictEqual(timers.map((t) => [t.millis, t.cancelled]), [[1_234, true]])
      // A timer that fires anyway after the effect ended changes nothing.
      timers[0].fire()
      assert.strictEqual(calls.count, 0)
    }))

  it.live("a Clock with a scheduler: the timer firing fails with onTimeout once and interrupts the effect", () =>
    Effect.gen(function*() {
      const { clock, timers } = recordingClock()
      const { calls, onTimeout } = countingLate()
      const interrupted = yield* Deferred.make<void>()
      const started = yield* Deferred.make<void>()
      const fiber = yield* Effect.fork(Effect.exit(Effect.withClock(
        timeoutFail(
          Effect.zipRight(
            Deferred.succeed(started, undefined),
            Effect.onInterrupt(Effect.never, () => Deferred.succeed(interrupted, undefined))
          ),
          500,
          onTimeout
        ),
        clock
      )))
      yield* Deferred.await(started)
      timers[0].fire()
      timers[0].fire()
      assert.deepStrictEqual(yield* Fiber.join(fiber), Exit.fail(new Late()))
      assert.strictEqual(calls.count, 1)
      assert.isTrue(yield* Deferred.isDone(interrupted))
    }))

  it.live("a Clock with a scheduler: interrupting the caller cancels the timer and interrupts the effect", () =>
    Effect.gen(function*() {
      const { clock, timers } = recordingClock()
      const interrupted = yield* Deferred.make<void>()
      const started = yield* Deferred.make<void>()
      const fiber = yield* Effect.fork(Effect.withClock(
        timeoutFail(
          Effect.zipRight(
            Deferred.succeed(started, undefined),
            Effect.onInterrupt(Effect.never, () => Deferred.succeed(interrupted, undefined))
          ),
          500,
          () => new Late()
        ),
        clock
      ))
      yield* Deferred.await(started)
      yield* Fiber.interrupt(fiber)
      assert.isTrue(timers[0].cancelled, "the timer is cancelled")
      assert.isTrue(yield* Deferred.isDone(interrupted))
    }))

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
