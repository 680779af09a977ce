import { KeyedClient, OAuth2Error, TokenStore } from "@effect-oauth2/core"
import * as HttpClientError from "@effect/platform/HttpClientError"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Redacted, Ref, Scope, TestClock } from "effect"
import { scaled } from "./utils/scale.js"
import * as TestHttp from "./utils/TestHttp.js"

/**
 * A token endpoint for every tenant (the tenant is the `audience`), issuing `<tenant>-<n>`; an API at
 * https://api.test that echoes the Authorization header. `stall(tenant)` makes that tenant's next token requests
 * hang, and records when one is interrupted.
 */
const endpoint = (expiresIn = 3600) => {
  const issued = new Map<string, number>()
  const stalled = new Set<string>()
  let interrupted = 0
  const http = TestHttp.make((request) => {
    if (request.url.hostname.includes("api.")) return { json: { authorization: request.headers["authorization"] } }
    const tenant = request.form.get("audience") ?? "?"
    if (stalled.has(tenant)) {
      return Effect.as(
        Effect.onInterrupt(Effect.never, () => Effect.sync(() => interrupted++)),
        TestHttp.token("never")
      )
    }
    const n = (issued.get(tenant) ?? 0) + 1
    issued.set(tenant, n)
    return TestHttp.token(`${tenant}-${n}`, expiresIn)
  })
  return {
    http,
    tokenRequests: (tenant?: string) =>
      http.count((r) => r.method === "POST" && (tenant === undefined || r.form.get("audience") === tenant)),
    stall: (tenant: string) => stalled.add(tenant),
    interrupted: () => interrupted
  }
}

const tenantOptions = (tenant: string) => ({
  tokenUrl: "https://as.test/token",
  clientId: "gateway",
  clientSecret: Redacted.make("gateway-secret"),
  params: { audience: tenant },
  retry: false as const
})

const tokenOf = (tenants: KeyedClient.KeyedClient<string, unknown>, tenant: string) =>
  Effect.scoped(
    Effect.flatMap(tenants.get(tenant), (client) =>
      Effect.map(client.token.get, (credentials) => Redacted.value(credentials.accessToken)))
  )

/** A keyed client over a fresh endpoint, with `tenantOptions` and the given settings. */
const keyed = (settings: Omit<KeyedClient.Options<string>, "options"> = {}) =>
  Effect.gen(function*() {
    const e = endpoint()
    const tenants = yield* KeyedClient.make({ options: tenantOptions, ...settings }).pipe(Effect.provide(e.http.layer))
    return { e, tenants }
  })

const keysOf = (tenants: KeyedClient.KeyedClient<string, unknown>) =>
  Effect.map(tenants.keys, (keys) => [...keys].sort())

describe("KeyedClient", () => {
  it.scoped("each key gets a client made from its own options; concurrent first uses of a key make 1 token request", () =>
    Effect.gen(function*() {
      const { e, tenants } = yield* keyed()
      const tokens = yield* Effect.all(Array.from({ length: 100 }, () => tokenOf(tenants, "acme")), {
        concurrency: "unbounded"
      })
      assert.isTrue(tokens.every((t) => t === "acme-1"))
      assert.strictEqual(yield* tokenOf(tenants, "globex"), "globex-1")
      assert.strictEqual(e.tokenRequests("acme"), 1)
      assert.strictEqual(e.tokenRequests("globex"), 1)
      assert.deepStrictEqual(yield* keysOf(tenants), ["acme", "globex"])
    }))

  it.scoped("at capacity, the least recently used client is closed to make room", () =>
    Effect.gen(function*() {
      const { tenants } = yield* keyed({ capacity: 2 })
      yield* tokenOf(tenants, "a")
      yield* tokenOf(tenants, "b")
      yield* tokenOf(tenants, "a") // a is now more recent than b
      yield* tokenOf(tenants, "c")
      assert.deepStrictEqual(yield* keysOf(tenants), ["a", "c"])
      assert.strictEqual(yield* tokenOf(tenants, "a"), "a-1", "a kept its client and its token")
      assert.strictEqual(yield* tokenOf(tenants, "b"), "b-2", "b's client was closed: a new one, a new token")
      assert.deepStrictEqual(yield* keysOf(tenants), ["a", "b"])
    }))

  it.scoped(
    "1,000 keys (16 at a time) with capacity 100: never more than 100 clients open, 1 token request each",
    () =>
      Effect.gen(function*() {
        const keys = scaled(1000, 100)
        const capacity = keys / 10
        const { e, tenants } = yield* keyed({ capacity })
        let most = 0
        // 16 callers at a time, each on a new key: admission is serialized, so they cannot overshoot together
        yield* Effect.forEach(Array.from({ length: keys }, (_, i) => `t${i}`), (tenant) =>
          Effect.gen(function*() {
            yield* tokenOf(tenants, tenant)
            most = Math.max(most, (yield* tenants.keys).length)
          }), { concurrency: 16, discard: true })
        assert.strictEqual(most, capacity)
        assert.strictEqual(e.tokenRequests(), keys)
      }),
    120_000
  ) // a limit against a hang: the 1,000 lifecycles take seconds, more on a loaded machine

  it.scoped("a client unused for idleTimeToLive is closed; one in use is not", () =>
    Effect.gen(function*() {
      const { tenants } = yield* keyed({ idleTimeToLive: "1 minute" })
      yield* tokenOf(tenants, "idle")
      // "busy" is held by this test's scope for the whole test
      yield* Effect.flatMap(tenants.get("busy"), (client) => client.token.get)
      yield* TestClock.adjust("59 seconds")
      assert.deepStrictEqual(yield* keysOf(tenants), ["busy", "idle"])
      yield* TestClock.adjust("2 seconds")
      assert.deepStrictEqual(yield* keysOf(tenants), ["busy"])
      assert.strictEqual(yield* tokenOf(tenants, "idle"), "idle-2", "a new client after the idle close")
    }))

  it.scoped("a tenant that goes idle releases its refresh fiber: a background refresh in flight is interrupted", () =>
    Effect.gen(function*() {
      const e = endpoint(3600)
      const tenants = yield* KeyedClient.make({
        // a token request timeout longer than the test, so that only the idle close can stop the stalled refresh
        options: (tenant: string) => ({ ...tenantOptions(tenant), timeout: "2 hours" }),
        idleTimeToLive: "1 minute"
      }).pipe(Effect.provide(e.http.layer))
      // In use (held by `use`) until its refresh ahead of expiry has started.
      const use = yield* Scope.make()
      const client = yield* tenants.get("acme").pipe(Scope.extend(use))
      yield* client.token.get
      e.stall("acme")
      yield* TestClock.adjust("3270 seconds") // the refresh-ahead window of a 3600 s token
      assert.strictEqual(Redacted.value((yield* client.token.get).accessToken), "acme-1", "served while refreshing")
      // the background refresh reaches the endpoint (real time: the forked fetch runs)
      for (let i = 0; i < 250 && e.tokenRequests("acme") < 2; i++) {
        yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 20)))
      }
      assert.strictEqual(e.tokenRequests("acme"), 2, "the background refresh is in flight")
      yield* Scope.close(use, Exit.void) // the tenant goes idle
      yield* TestClock.adjust("59 seconds")
      assert.strictEqual(e.interrupted(), 0)
      yield* TestClock.adjust("2 seconds")
      assert.strictEqual(e.interrupted(), 1, "closing the idle client stopped its refresh")
      assert.deepStrictEqual(yield* keysOf(tenants), [])
    }))

  it.scoped("with a shared store, a key's token outlives its closed client", () =>
    Effect.gen(function*() {
      const e = endpoint()
      const store = TokenStore.makeMemory()
      const tenants = yield* KeyedClient.make({
        options: (tenant: string) => ({ ...tenantOptions(tenant), store }),
        capacity: 1
      }).pipe(Effect.provide(e.http.layer))
      assert.strictEqual(yield* tokenOf(tenants, "a"), "a-1")
      // closes a's client; its fetch, and so the store write, completes first
      assert.strictEqual(yield* tokenOf(tenants, "b"), "b-1")
      assert.strictEqual(yield* tokenOf(tenants, "a"), "a-1", "taken back from the store")
      assert.strictEqual(e.tokenRequests("a"), 1)
    }))

  it.scoped("options may be an Effect; a failure is not kept, the next use tries again", () =>
    Effect.gen(function*() {
      const e = endpoint()
      const attempts = yield* Ref.make(0)
      const tenants = yield* KeyedClient.make({
        options: (tenant: string) =>
          Effect.flatMap(
            Ref.updateAndGet(attempts, (n) => n + 1),
            (n) => n === 1 ? Effect.fail("tenant database unavailable" as const) : Effect.succeed(tenantOptions(tenant))
          )
      }).pipe(Effect.provide(e.http.layer))
      const first = yield* Effect.exit(tokenOf(tenants, "acme"))
      assert.deepStrictEqual(first, Exit.fail("tenant database unavailable"))
      assert.strictEqual(yield* tokenOf(tenants, "acme"), "acme-1")
    }))

  it.scoped("httpClient(key) authenticates as that key; a key whose options are wrong fails with a RequestError", () =>
    Effect.gen(function*() {
      const e = endpoint()
      const tenants = yield* KeyedClient.make({
        options: (tenant: string) =>
          tenant === "broken" ? { tokenUrl: "http://as.example.com/token" } : tenantOptions(tenant)
      }).pipe(Effect.provide(e.http.layer))
      const response = yield* tenants.httpClient("acme").get("https://api.test/orders")
      assert.deepStrictEqual(yield* response.json, { authorization: "Bearer acme-1" })
      const error = yield* Effect.flip(tenants.httpClient("broken").get("https://api.test/orders"))
      assert.isTrue(HttpClientError.isHttpClientError(error) && error._tag === "RequestError")
      assert.strictEqual((error as HttpClientError.RequestError).reason, "Encode")
      assert.isTrue(OAuth2Error.isOAuth2Error(error.cause))
      assert.include(error.message, "https is required")
    }))

  it.scoped("invalidate closes a key's client at once; the next use makes a new one", () =>
    Effect.gen(function*() {
      const { tenants } = yield* keyed()
      yield* tokenOf(tenants, "a")
      yield* tokenOf(tenants, "b")
      yield* tenants.invalidate("a")
      assert.deepStrictEqual(yield* keysOf(tenants), ["b"])
      assert.strictEqual(yield* tokenOf(tenants, "a"), "a-2")
    }))

  it.scoped("the README example: a tenant's request goes out with that tenant's token", () =>
    Effect.gen(function*() {
      const e = endpoint()
      process.env.GATEWAY_SECRET = "gateway-secret"
      // The README's program, with the in-memory HttpClient in place of NodeHttpClient.layerUndici.
      const program = Effect.gen(function*() {
        const store = TokenStore.makeMemory() // tokens outlive the clients closed by capacity or idle time
        const tenants = yield* KeyedClient.make({
          options: (tenant: string) => ({
            tokenUrl: `https://${tenant}.auth.example.com/oauth2/token`,
            clientId: "gateway",
            clientSecret: Redacted.make(process.env.GATEWAY_SECRET!),
            params: { audience: `https://${tenant}.api.example.com` },
            origins: [`https://${tenant}.api.example.com`],
            store
          }),
          capacity: 1000,
          idleTimeToLive: "15 minutes"
        })
        const response = yield* tenants.httpClient("acme").get("https://acme.api.example.com/orders")
        return yield* response.json
      }).pipe(Effect.scoped, Effect.provide(e.http.layer))
      assert.deepStrictEqual(yield* program, { authorization: "Bearer https://acme.api.example.com-1" })
      assert.strictEqual(e.http.requests[0].url.hostname, "acme.auth.example.com")
      delete process.env.GATEWAY_SECRET
    }))
})
