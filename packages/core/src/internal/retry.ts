/**
 * The retry rule shared by token requests and discovery: the policy's schedule, only for errors it says are worth
 * repeating, waiting at least as long as the server's `Retry-After` (capped), ending at once when that wait would
 * pass the budget, and logging each retry.
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import * as ScheduleDecision from "effect/ScheduleDecision"
import type * as OAuth2Error from "../OAuth2Error.js"

/** @internal */
export interface Policy {
  readonly schedule: Schedule.Schedule<unknown, OAuth2Error.OAuth2Error>
  readonly while: (error: OAuth2Error.OAuth2Error) => boolean
  readonly retryAfterCapMillis: number
  readonly budgetMillis: number
}

const currentTime = Effect.clockWith((clock) => clock.currentTimeMillis)

const retryAfterOf = (error: OAuth2Error.OAuth2Error): number | undefined =>
  error._tag === "ErrorResponse" || error._tag === "InvalidResponse" ? error.retryAfter : undefined

/**
 * `effect` retried by `policy` (its budget is the caller's to enforce); `what` names the request in the log line
 * of each retry.
 *
 * @internal
 */
export const retrying = <A, E extends OAuth2Error.OAuth2Error>(
  effect: Effect.Effect<A, E>,
  policy: Policy,
  what: string,
  /** The failure of an attempt already made (at `start`), which the schedule takes as its first input. */
  after?: { readonly first: E; readonly start: number }
): Effect.Effect<A, E> =>
  Effect.flatMap(after === undefined ? currentTime : Effect.succeed(after.start), (start) => {
    let pending = after?.first
    const attempt = after === undefined ? effect : Effect.suspend(() => {
      if (pending === undefined) return effect
      const first = pending
      pending = undefined
      return Effect.fail(first)
    })
    const retryAfter = (error: OAuth2Error.OAuth2Error) => {
      const after = retryAfterOf(error)
      return after === undefined ? undefined : Math.min(after, policy.retryAfterCapMillis)
    }
    return Effect.retry(
      attempt,
      policy.schedule.pipe(
        Schedule.intersect(Schedule.identity<OAuth2Error.OAuth2Error>()),
        Schedule.whileInput(policy.while),
        Schedule.modifyDelay(([, error], delay) => {
          const after = retryAfter(error)
          return after === undefined ? delay : Duration.max(delay, Duration.millis(after))
        }),
        // When the server asks for a longer wait than the budget has left, its answer is the result now.
        Schedule.checkEffect((error: OAuth2Error.OAuth2Error) =>
          Effect.map(currentTime, (now) => {
            const after = retryAfter(error)
            return after === undefined || now - start + after < policy.budgetMillis
          })
        ),
        Schedule.onDecision(([, error], decision) =>
          ScheduleDecision.isContinue(decision)
            ? Effect.logWarning(`OAuth2 ${what} failed, retrying: ${error.message}`)
            : Effect.void
        )
      )
    )
  })
