/**
 * KeyedClient's least-recently-used choice: the key closed to make room is the one used longest ago, whatever the
 * order the keys were first used in, and a key closed by invalidate no longer counts toward the capacity.
 */
import { KeyedClient } from "@effect-oauth2/core"
import { describe, it } from "@effect/vitest"
import { deepStrictEqual, strictEqual } from "@effect/vitest/utils"
import { Effect, Redacted } from "effect"
import * as TestHttp from "../utils/TestHttp.js"

/** A token endpoint issuing `<tenant>-<n>` (the tenant is the audience). */
const endpoint = () => {
  const issued = new Map<string, number>()
  return TestHttp.make((request) => {
    const tenant = request.form.get("audience") ?? "?"
    const n = (issued.get(tenant) ?? 0) + 1
    issued.set(tenant, n)
    return TestHttp.token(`${tenant}-${n}`)
  })
}

const keyed = (capacity: number) =>
  KeyedClient.make({
    capacity,
    options: (tenant: string) => ({
      tokenUrl: "https://as.test/token",
      clientId: "gateway",
      clientSecret: Redacted.make("client-secret"),
      params: { audience: tenant },
      retry: false as const
    })
  }).pipe(Effect.provide(endpoint().layer))

const tokenOf = (tenants: KeyedClient.KeyedClient<string, unknown>, tenant: string) =>
  Effect.scoped(
    Effect.flatMap(tenants.get(tenant), (client) =>
      Effect.map(client.token.get, (credentials) => Redacted.value(credentials.accessToken)))
  )

const keysOf = (tenants: KeyedClient.KeyedClient<string, unknown>) =>
  Effect.map(tenants.keys, (keys) => [...keys].sort())

describe("KeyedClient: least recently used", () => {
  it.scoped("the key used longest ago is closed, not the one first used last", () =>
    Effect.gen(function*() {
      const tenants = yield* keyed(2)
      yield* tokenOf(tenants, "a")
      yield* tokenOf(tenants, "b")
      yield* tokenOf(tenants, "b") // b is used again: a is the least recent
      yield* tokenOf(tenants, "c")
      deepStrictEqual(yield* keysOf(tenants), ["b", "c"])
      strictEqual(yield* tokenOf(tenants, "b"), "b-1", "b kept its client and its token")
    }))

  it.scoped("an invalidated key leaves room: the next new key closes no other client", () =>
    Effect.gen(function*() {
      const tenants = yield* keyed(2)
      yield* tokenOf(tenants, "a")
      yield* tokenOf(tenants, "b")
      yield* tenants.invalidate("b")
      yield* tokenOf(tenants, "c")
      deepStrictEqual(yield* keysOf(tenants), ["a", "c"])
      strictEqual(yield* tokenOf(tenants, "a"), "a-1", "a kept its client and its token")
    }))
})
