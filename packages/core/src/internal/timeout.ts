/**
 * A timeout without a race: `effect` runs in one forked fiber and the deadline is one timer of the Clock's own
 * scheduler (a `setTimeout` under the live Clock).
 *
 * `Effect.timeoutFail` races the effect against a sleep in two new fibers and merges their fiber refs afterwards;
 * measured on this project's machine, that costs ~30–55 µs of CPU per use, more than a token request's own work.
 * This costs ~7–9 µs. A Clock without a scheduler (the TestClock) gets `Effect.timeoutFail`, which sleeps through
 * it, so TestClock still drives every timeout in tests.
 */
import type * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"

/**
 * The live Clock (`Clock.make()`, the default service) schedules its sleeps through a `ClockScheduler` it exposes
 * as `scheduler()`; the `Clock` interface does not declare it, so it is looked for, not assumed.
 */
interface WithScheduler {
  readonly scheduler?: unknown
}

const schedulerOf = (clock: Clock.Clock): Effect.Effect<Clock.ClockScheduler> | undefined => {
  const candidate = (clock as Clock.Clock & WithScheduler).scheduler
  return typeof candidate === "function" ? (candidate.call(clock) as Effect.Effect<Clock.ClockScheduler>) : undefined
}

/**
 * `effect`, interrupted and failed with `onTimeout()` when it has not ended after `millis` of Clock time.
 *
 * @internal
 */
export const timeoutFail = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
  millis: number,
  onTimeout: () => E
): Effect.Effect<A, E, R> =>
  Effect.clockWith((clock) => {
    const scheduler = schedulerOf(clock)
    return scheduler === undefined
      ? Effect.timeoutFail(effect, { duration: Duration.millis(millis), onTimeout })
      : Effect.flatMap(scheduler, (scheduler) => withTimer(scheduler, effect, millis, onTimeout))
  })

const withTimer = <A, E, R>(
  scheduler: Clock.ClockScheduler,
  effect: Effect.Effect<A, E, R>,
  millis: number,
  onTimeout: () => E
): Effect.Effect<A, E, R> =>
  Effect.uninterruptibleMask((restore) =>
    Effect.flatMap(Effect.fork(restore(effect)), (fiber) =>
      restore(Effect.async<A, E>((resume) => {
        let done = false
        const observer = (exit: Exit.Exit<A, E>) => {
          if (done) return
          done = true
          cancel()
          resume(exit)
        }
        const cancel = scheduler.unsafeSchedule(() => {
          if (done) return
          done = true
          fiber.removeObserver(observer)
          resume(Effect.zipRight(Fiber.interrupt(fiber), Effect.fail(onTimeout())))
        }, Duration.millis(millis))
        fiber.addObserver(observer)
        // The caller was interrupted: so is the effect.
        return Effect.suspend(() => {
          if (done) return Effect.void
          done = true
          cancel()
          fiber.removeObserver(observer)
          return Fiber.interrupt(fiber)
        })
      })))
  )
