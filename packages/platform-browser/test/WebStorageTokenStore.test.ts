import { Credentials, OAuth2Client, TokenStore } from "@effect-oauth2/core"
import { BrowserOAuth2, WebStorageTokenStore } from "@effect-oauth2/platform-browser"
import * as BrowserKeyValueStore from "@effect/platform-browser/BrowserKeyValueStore"
import * as HttpClient from "@effect/platform/HttpClient"
import * as KeyValueStore from "@effect/platform/KeyValueStore"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { captureLogs, clients, countingFetch, removePrefixed, servers, uniquePrefix } from "./utils/Browser.js"

const options = (
  store: TokenStore.TokenStore,
  overrides: Partial<BrowserOAuth2.Options> = {}
): BrowserOAuth2.Options => ({
  tokenUrl: servers.tokenEndpoint,
  ...clients.basic,
  scopes: ["api:read"],
  retry: false,
  store,
  ...overrides
})

/**
 * One layer lifetime: builds the layer, calls the API once, closes the layer. Reports what it saw.
 */
const lifetime = (layerOptions: BrowserOAuth2.Options) =>
  Effect.gen(function*() {
    const fetch = countingFetch()
    const logs = captureLogs()
    const result = yield* Effect.gen(function*() {
      const http = yield* HttpClient.HttpClient
      const response = yield* http.get(`${servers.apiUrl}/hello`)
      const client = yield* OAuth2Client.OAuth2Client
      const current = Option.getOrThrow(yield* client.token.current)
      return { status: response.status, cacheKey: client.cacheKey, credentials: current }
    }).pipe(Effect.provide(Layer.mergeAll(BrowserOAuth2.layer(layerOptions), fetch.layer, logs.layer)))
    return {
      ...result,
      token: Redacted.value(result.credentials.accessToken),
      tokenRequests: fetch.tokenRequests().length,
      authorizations: fetch.apiAuthorizations(),
      logs: logs.logs
    }
  })

/** Runs `f` with a prefix of its own, removing every entry under it afterwards, whatever happens. */
const withPrefix = <A, E, R>(name: string, f: (prefix: string) => Effect.Effect<A, E, R>) =>
  Effect.suspend(() => {
    const prefix = uniquePrefix(name)
    return Effect.ensuring(f(prefix), removePrefixed(prefix))
  })

const encode = Schema.encodeSync(Credentials.FromJson)

describe("WebStorageTokenStore in Chromium", () => {
  it.live("a token stored in one layer lifetime is reused by the next, with no token request", () =>
    withPrefix("reuse", (prefix) =>
      Effect.gen(function*() {
        const store = WebStorageTokenStore.make({ prefix })
        const first = yield* lifetime(options(store))
        assert.strictEqual(first.status, 200)
        assert.strictEqual(first.tokenRequests, 1)
        const second = yield* lifetime(options(store))
        assert.strictEqual(second.status, 200)
        assert.strictEqual(second.tokenRequests, 0, "the second lifetime asked for no token")
        assert.strictEqual(second.token, first.token)
        assert.deepStrictEqual(second.authorizations, [`Bearer ${first.token}`])
        // A fresh store object over the same storage sees it too (as after a page reload).
        const third = yield* lifetime(options(WebStorageTokenStore.make({ prefix })))
        assert.strictEqual(third.tokenRequests, 0)
      })))

  it.live("the entry is sessionStorage[prefix + cache key] = Credentials.FromJson of the credentials", () =>
    withPrefix("format", (prefix) =>
      Effect.gen(function*() {
        const run = yield* lifetime(options(WebStorageTokenStore.make({ prefix })))
        const key = WebStorageTokenStore.storageKey(run.cacheKey, prefix)
        assert.strictEqual(key, `${prefix}${run.cacheKey}`)
        const raw = sessionStorage.getItem(key)
        assert.isString(raw)
        assert.strictEqual(raw, encode(run.credentials))
        const json = JSON.parse(raw!)
        assert.strictEqual(json.accessToken, run.token, "the token is stored in clear text (documented)")
        assert.strictEqual(json.tokenEndpoint, servers.tokenEndpoint)
        assert.deepStrictEqual(json.scopes, ["api:read"])
        assert.notInclude(raw!, "basic-secret-7Qx", "never the client secret")
        assert.isTrue(Schema.decodeEither(Credentials.FromJson)(raw!)._tag === "Right")
        assert.isNull(localStorage.getItem(key), "sessionStorage is the default")
        // The cache key holds the endpoint, client id, auth method and scopes: nothing secret.
        assert.deepStrictEqual(JSON.parse(run.cacheKey), [
          servers.tokenEndpoint,
          "basic-client",
          "client_secret_basic",
          ["api:read"],
          []
        ])
      })))

  it.live("the default prefix is \"effect-oauth2:\"", () =>
    Effect.gen(function*() {
      let key = ""
      yield* Effect.gen(function*() {
        const run = yield* lifetime(options(WebStorageTokenStore.make(), { ...clients.weird, scopes: ["api:write"] }))
        key = `effect-oauth2:${run.cacheKey}`
        assert.strictEqual(WebStorageTokenStore.defaultPrefix, "effect-oauth2:")
        assert.strictEqual(sessionStorage.getItem(key), encode(run.credentials))
      }).pipe(Effect.ensuring(Effect.sync(() => sessionStorage.removeItem(key))))
    }))

  it.live("storage: \"local\" keeps the entry in localStorage, where the next lifetime finds it", () =>
    withPrefix("local", (prefix) =>
      Effect.gen(function*() {
        const first = yield* lifetime(options(WebStorageTokenStore.make({ storage: "local", prefix })))
        const key = WebStorageTokenStore.storageKey(first.cacheKey, prefix)
        assert.strictEqual(localStorage.getItem(key), encode(first.credentials))
        assert.isNull(sessionStorage.getItem(key))
        const second = yield* lifetime(options(WebStorageTokenStore.make({ storage: "local", prefix })))
        assert.strictEqual(second.tokenRequests, 0)
        assert.strictEqual(second.token, first.token)
        // A sessionStorage store does not see it.
        const session = yield* lifetime(options(WebStorageTokenStore.make({ prefix })))
        assert.strictEqual(session.tokenRequests, 1)
      })))

  it.live("two layers over localStorage (as two tabs) starting together make one token request; no lease is left", () =>
    withPrefix("tabs", (prefix) =>
      Effect.gen(function*() {
        const tab = () => lifetime(options(WebStorageTokenStore.make({ storage: "local", prefix })))
        const [a, b] = yield* Effect.all([tab(), tab()], { concurrency: "unbounded" })
        assert.strictEqual(a.status, 200)
        assert.strictEqual(b.status, 200)
        assert.strictEqual(a.tokenRequests + b.tokenRequests, 1)
        assert.strictEqual(a.token, b.token)
        assert.isNull(localStorage.getItem(`${prefix}lease:${a.cacheKey}`))
        assert.deepStrictEqual(
          Object.keys(localStorage).filter((key) => key.startsWith(prefix)),
          [WebStorageTokenStore.storageKey(a.cacheKey, prefix)]
        )
      })))

  it.live("any Storage object can be given", () =>
    Effect.gen(function*() {
      const map = new Map<string, string>()
      const storage = {
        get length() {
          return map.size
        },
        key: (index: number) => [...map.keys()][index] ?? null,
        getItem: (key: string) => map.get(key) ?? null,
        setItem: (key: string, value: string) => void map.set(key, value),
        removeItem: (key: string) => void map.delete(key),
        clear: () => map.clear()
      } satisfies Storage
      const first = yield* lifetime(options(WebStorageTokenStore.make({ storage })))
      assert.deepStrictEqual([...map.keys()], [`effect-oauth2:${first.cacheKey}`])
      const second = yield* lifetime(options(WebStorageTokenStore.make({ storage })))
      assert.strictEqual(second.tokenRequests, 0)
    }))

  const canary = "CANARY-9f3b"
  for (
    const [what, corrupt] of [
      ["not JSON", `{"accessToken":"${canary}", truncated`],
      ["JSON but not credentials", JSON.stringify({ accessToken: 42, tokenType: canary, scopes: "api:read" })]
    ] as const
  ) {
    it.live(`a corrupt entry (${what}) is a logged miss, then overwritten by the new token`, () =>
      withPrefix("corrupt", (prefix) =>
        Effect.gen(function*() {
          const store = WebStorageTokenStore.make({ prefix })
          // Learn the key, then corrupt the entry.
          const first = yield* lifetime(options(store))
          const key = WebStorageTokenStore.storageKey(first.cacheKey, prefix)
          sessionStorage.setItem(key, corrupt)
          assert.isTrue(Option.isNone(yield* store.get(first.cacheKey)))

          const run = yield* lifetime(options(store))
          assert.strictEqual(run.status, 200)
          assert.strictEqual(run.tokenRequests, 1, "a miss: a new token was requested")
          const warnings = run.logs.filter((log) => log.level === "WARN" && log.message.includes(key))
          assert.isAtLeast(warnings.length, 1, JSON.stringify(run.logs))
          assert.include(warnings[0].message, "not valid credentials JSON")
          for (const log of run.logs) assert.notInclude(log.message, canary, "the entry is never quoted in logs")
          assert.strictEqual(sessionStorage.getItem(key), encode(run.credentials), "rewritten")
        })))
  }

  it.live("an expired entry is not used: a new token is requested and stored", () =>
    withPrefix("expired", (prefix) =>
      Effect.gen(function*() {
        const store = WebStorageTokenStore.make({ prefix })
        const first = yield* lifetime(options(store))
        const key = WebStorageTokenStore.storageKey(first.cacheKey, prefix)
        const expired = new Credentials.Credentials({
          ...first.credentials,
          accessToken: Redacted.make("expired-token"),
          issuedAt: Date.now() - 600_000,
          expiresAt: Date.now() - 1_000
        })
        sessionStorage.setItem(key, encode(expired))
        const run = yield* lifetime(options(store))
        assert.strictEqual(run.tokenRequests, 1)
        assert.notStrictEqual(run.token, "expired-token")
        assert.strictEqual(sessionStorage.getItem(key), encode(run.credentials))
      })))

  it.live("a full storage (a real QuotaExceededError) is a TokenStoreError the layer logs and ignores", () =>
    withPrefix("quota", (prefix) =>
      Effect.gen(function*() {
        // Fill this origin's sessionStorage to the last byte.
        const chunk = "x".repeat(1 << 20)
        let i = 0
        for (let size = chunk.length; size >= 1;) {
          try {
            sessionStorage.setItem(`${prefix}fill-${i++}`, chunk.slice(0, size))
          } catch {
            size = Math.floor(size / 2)
          }
        }
        const store = WebStorageTokenStore.make({ prefix })
        const run = yield* lifetime(options(store))
        assert.strictEqual(run.status, 200, "requests still work")
        const warning = run.logs.find((log) => log.level === "WARN" && log.message.includes("QuotaExceededError"))
        assert.isDefined(warning, JSON.stringify(run.logs))
        assert.notInclude(warning!.message, run.token)

        const error = yield* Effect.flip(store.set(run.cacheKey, run.credentials))
        assert.isTrue(TokenStore.isTokenStoreError(error))
        assert.strictEqual(error.operation, "set")
        assert.include(error.message, "QuotaExceededError")
        assert.instanceOf(error.cause, DOMException)
        assert.strictEqual((error.cause as DOMException).name, "QuotaExceededError")
      })))

  it.live("a storage that throws SecurityError (disabled storage) gives TokenStoreErrors, never a crash", () =>
    Effect.gen(function*() {
      const denied = (): never => {
        throw new DOMException("Access is denied for this document.", "SecurityError")
      }
      const storage = {
        length: 0,
        key: denied,
        getItem: denied,
        setItem: denied,
        removeItem: denied,
        clear: denied
      } satisfies Storage
      const store = WebStorageTokenStore.make({ storage })
      for (
        const operation of [
          store.get("k"),
          store.set(
            "k",
            new Credentials.Credentials({
              accessToken: Redacted.make("t"),
              tokenType: "Bearer",
              scopes: [],
              tokenEndpoint: servers.tokenEndpoint,
              extra: {}
            })
          ),
          store.remove("k")
        ]
      ) {
        const error = yield* Effect.flip(operation as Effect.Effect<unknown, TokenStore.TokenStoreError>)
        assert.include(error.message, "SecurityError")
        assert.strictEqual((error.cause as DOMException).name, "SecurityError")
      }
      const run = yield* lifetime(options(store))
      assert.strictEqual(run.status, 200)
      assert.isTrue(run.logs.some((log) => log.level === "WARN" && log.message.includes("SecurityError")))
    }))

  it.live("when reading window.sessionStorage itself throws, the store fails per operation, not when made", () =>
    Effect.gen(function*() {
      const owner = Object.getOwnPropertyDescriptor(window, "sessionStorage") !== undefined
        ? window
        : Object.getPrototypeOf(window)
      const original = Object.getOwnPropertyDescriptor(owner, "sessionStorage")!
      const store = WebStorageTokenStore.make()
      const error = yield* Effect.acquireUseRelease(
        Effect.sync(() =>
          Object.defineProperty(owner, "sessionStorage", {
            configurable: true,
            get: () => {
              throw new DOMException("The operation is insecure.", "SecurityError")
            }
          })
        ),
        () => Effect.flip(store.get("k")),
        () => Effect.sync(() => Object.defineProperty(owner, "sessionStorage", original))
      )
      assert.strictEqual(error.operation, "get")
      assert.include(error.message, "SecurityError")
      assert.strictEqual((error.cause as DOMException).name, "SecurityError")
      assert.doesNotThrow(() => sessionStorage.length, "sessionStorage is back")
    }))

  it.live("fromKeyValueStore over BrowserKeyValueStore.layerSessionStorage: same keys, same JSON, reused", () =>
    withPrefix("kv", (prefix) =>
      Effect.gen(function*() {
        const kv = yield* Effect.provide(KeyValueStore.KeyValueStore, BrowserKeyValueStore.layerSessionStorage)
        const store = WebStorageTokenStore.fromKeyValueStore(kv, { prefix })
        const first = yield* lifetime(options(store))
        assert.strictEqual(first.tokenRequests, 1)
        const key = WebStorageTokenStore.storageKey(first.cacheKey, prefix)
        assert.strictEqual(sessionStorage.getItem(key), encode(first.credentials))
        const second = yield* lifetime(options(WebStorageTokenStore.fromKeyValueStore(kv, { prefix })))
        assert.strictEqual(second.tokenRequests, 0)
        // Interchangeable with make: it reads what the KeyValueStore variant wrote.
        const third = yield* lifetime(options(WebStorageTokenStore.make({ prefix })))
        assert.strictEqual(third.tokenRequests, 0)
        // A corrupt entry is a miss there too.
        sessionStorage.setItem(key, "{")
        assert.isTrue(Option.isNone(yield* store.get(first.cacheKey)))
      })))

  it.live("clear removes the entries under the prefix, and nothing else", () =>
    withPrefix("clear", (prefix) =>
      Effect.gen(function*() {
        const run = yield* lifetime(options(WebStorageTokenStore.make({ prefix })))
        sessionStorage.setItem(`${prefix}other`, "x")
        sessionStorage.setItem("not-ours", "y")
        const removed = yield* WebStorageTokenStore.clear({ prefix })
        assert.strictEqual(removed, 2)
        assert.isNull(sessionStorage.getItem(WebStorageTokenStore.storageKey(run.cacheKey, prefix)))
        assert.strictEqual(sessionStorage.getItem("not-ours"), "y")
        sessionStorage.removeItem("not-ours")
      })))
})
