/**
 * Fleet single-flight (internal/coordination.ts) step by step, on a scripted store that records every operation:
 * adoption without a lease, the waiting rounds before a lifecycle fetches its own token, a newer token adopted
 * while waiting, a store that fails while waiting, and the warning of a store that dies.
 */
import type { Credentials } from "@effect-oauth2/core"
import { TokenStore } from "@effect-oauth2/core"
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Logger, Option, Redacted } from "effect"
import * as coordination from "../../src/internal/coordination.js"
import { hourLong } from "../utils/Credentials.js"

const credentials = hourLong

const stored = credentials("stored")
const newer = credentials("newer")
const fetched = credentials("fetched")

type Await = Effect.Effect<Option.Option<Credentials.Credentials>, TokenStore.TokenStoreError>

/**
 * A store where another process holds the lease: `get` answers `found`, and each `awaitNewer` answers `awaited`.
 * More than 6 waits end in a defect (which `guarded` turns into "carry on without the store"), so that a round
 * counter that never ends shows as extra operations, not as a hung test.
 */
const heldElsewhere = (found: Option.Option<Credentials.Credentials>, awaited: Await) => {
  const ops: Array<string> = []
  let waits = 0
  const store: TokenStore.Coordinated = {
    get: () => Effect.sync(() => (ops.push("get"), found)),
    set: () => Effect.sync(() => void ops.push("set")),
    remove: () => Effect.sync(() => void ops.push("remove")),
    acquireLease: () => Effect.sync(() => (ops.push("lease"), Option.none())),
    awaitNewer: () => {
      ops.push("await")
      return ++waits > 6 ? Effect.dieMessage("too many rounds") : awaited
    },
    removeIf: () => Effect.sync(() => (ops.push("removeIf"), false))
  }
  return { ops, store }
}

/** A fetch that counts its calls. */
const counting = () => {
  let calls = 0
  return { fetch: Effect.sync(() => (calls++, fetched)), calls: () => calls }
}

const setup = (store: TokenStore.Coordinated) => ({ store, key: "k", leaseTtl: Duration.seconds(10), rounds: 3 })

const adoptAll = () => Effect.succeed(true)
const adoptNone = () => Effect.succeed(false)

const value = (c: Credentials.Credentials) => Redacted.value(c.accessToken)

/** Every log line (level and message) of `effect`. */
const withLogs = <A, E, R>(effect: (logs: Array<string>) => Effect.Effect<A, E, R>) => {
  const logs: Array<string> = []
  const logger = Logger.make(({ logLevel, message }) => {
    logs.push(`${logLevel.label} ${Array.isArray(message) ? message.join(" ") : String(message)}`)
  })
  return Effect.provide(effect(logs), Logger.replace(Logger.defaultLogger, logger))
}

describe("coordination.obtain (mutation)", () => {
  it.effect("an adoptable stored token is taken as it is: no lease, no fetch, and not marked fresh", () =>
    Effect.gen(function*() {
      const { ops, store } = heldElsewhere(Option.some(stored), Effect.succeedNone)
      const f = counting()
      const obtained = yield* coordination.obtain(setup(store), f.fetch, adoptAll)
      assert.strictEqual(obtained.credentials, stored)
      assert.strictEqual(obtained.fresh, false)
      assert.strictEqual(obtained.lease, undefined)
      assert.deepStrictEqual(ops, ["get"])
      assert.strictEqual(f.calls(), 0)
    }))

  it.effect("while another process holds the lease, a lifecycle waits 3 rounds, then fetches its own token", () =>
    Effect.gen(function*() {
      // each wait ends without a newer token (the holder's lease ran out)
      const { ops, store } = heldElsewhere(Option.none(), Effect.succeedNone)
      const f = counting()
      const obtained = yield* coordination.obtain(setup(store), f.fetch, adoptAll)
      assert.deepStrictEqual(ops, ["get", "lease", "await", "get", "lease", "await", "get", "lease", "await"])
      assert.strictEqual(f.calls(), 1)
      assert.strictEqual(obtained.credentials, fetched)
      assert.strictEqual(obtained.fresh, true)
      assert.strictEqual(obtained.lease, undefined)
    }))

  it.effect("a newer token that is not adoptable counts as a round like a wait that found nothing", () =>
    Effect.gen(function*() {
      const { ops, store } = heldElsewhere(Option.none(), Effect.succeedSome(newer))
      const f = counting()
      const obtained = yield* coordination.obtain(setup(store), f.fetch, adoptNone)
      assert.deepStrictEqual(ops, ["get", "lease", "await", "get", "lease", "await", "get", "lease", "await"])
      assert.strictEqual(f.calls(), 1)
      assert.strictEqual(value(obtained.credentials), "fetched")
    }))

  it.effect("a newer adoptable token stored while waiting is adopted: no fetch, not fresh", () =>
    Effect.gen(function*() {
      const { ops, store } = heldElsewhere(Option.none(), Effect.succeedSome(newer))
      const f = counting()
      const obtained = yield* coordination.obtain(setup(store), f.fetch, adoptAll)
      assert.deepStrictEqual(ops, ["get", "lease", "await"])
      assert.strictEqual(f.calls(), 0)
      assert.strictEqual(obtained.credentials, newer)
      assert.strictEqual(obtained.fresh, false)
      assert.strictEqual(obtained.lease, undefined)
    }))

  it.effect("a store that fails while waiting is logged, and the lifecycle fetches alone at once", () =>
    withLogs((logs) =>
      Effect.gen(function*() {
        const failed = new TokenStore.TokenStoreError({ operation: "await", description: "connection reset" })
        const { ops, store } = heldElsewhere(Option.none(), Effect.fail(failed))
        const f = counting()
        const obtained = yield* coordination.obtain(setup(store), f.fetch, adoptAll)
        assert.deepStrictEqual(ops, ["get", "lease", "await"])
        assert.strictEqual(f.calls(), 1)
        assert.strictEqual(obtained.credentials, fetched)
        assert.strictEqual(obtained.fresh, true)
        assert.deepStrictEqual(logs, [
          "WARN OAuth2 token store: Token store await failed: connection reset; carrying on without it"
        ])
      })
    ))

  it.effect("a store that dies (a defect, not a TokenStoreError) is logged as failing unexpectedly and bypassed", () =>
    withLogs((logs) =>
      Effect.gen(function*() {
        const result = yield* coordination.guarded(Effect.dieMessage("segfault"))
        assert.isTrue(Option.isNone(result))
        assert.deepStrictEqual(logs, [
          "WARN OAuth2 token store: the store failed unexpectedly; carrying on without it"
        ])
      })
    ))
})
