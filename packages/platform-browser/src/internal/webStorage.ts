import { Credentials, TokenStore } from "@effect-oauth2/core"
import type * as KeyValueStore from "@effect/platform/KeyValueStore"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"

/** @internal */
export const defaultPrefix = "effect-oauth2:"

/** @internal */
export type StorageOption = "session" | "local" | Storage

type Operation = TokenStore.TokenStoreError["operation"]

/**
 * What a store needs from the place it keeps strings: get (null on a miss), set and remove, failing with
 * {@link TokenStore.TokenStoreError}s.
 */
interface Backend {
  readonly get: (key: string) => Effect.Effect<string | null, TokenStore.TokenStoreError>
  readonly set: (key: string, value: string) => Effect.Effect<void, TokenStore.TokenStoreError>
  readonly remove: (key: string) => Effect.Effect<void, TokenStore.TokenStoreError>
}

/** @internal */
export const storageKey = (cacheKey: string, prefix: string = defaultPrefix): string => `${prefix}${cacheKey}`

/** @internal */
export const leaseKey = (cacheKey: string, prefix: string = defaultPrefix): string => `${prefix}lease:${cacheKey}`

const nameOf = (storage: StorageOption): string =>
  storage === "local" ? "localStorage" : storage === "session" ? "sessionStorage" : "Web Storage"

// The browser's messages are not copied into the description: a user-supplied Storage could put anything in
// them, and log lines must never carry a token. The exception itself stays in `cause`.
const explain = (cause: unknown): string => {
  const name = typeof cause === "object" && cause !== null && "name" in cause ? String(cause.name) : undefined
  switch (name) {
    case "QuotaExceededError":
      return "the storage quota is exceeded (QuotaExceededError)"
    case "SecurityError":
      return "the browser denies this page access to Web Storage (SecurityError: storage disabled or blocked)"
    case undefined:
      return "the call threw"
    default:
      return `the call threw ${name}`
  }
}

const storageError = (storage: StorageOption, operation: Operation, description: string, cause?: unknown) =>
  new TokenStore.TokenStoreError({
    operation,
    description: `${nameOf(storage)}: ${description}`,
    ...(cause !== undefined ? { cause } : {})
  })

// The Storage is resolved at each use: reading `window.localStorage` itself throws a `SecurityError` where storage
// is disabled, and that must become a TokenStoreError of the operation, not a defect when the store is made.
const attempt = <A>(
  storage: StorageOption,
  operation: Operation,
  f: (storage: Storage) => A
): Effect.Effect<A, TokenStore.TokenStoreError> =>
  Effect.suspend(() => {
    let resolved: Storage | null | undefined
    try {
      resolved = typeof storage === "object"
        ? storage
        : storage === "local"
        ? globalThis.localStorage
        : globalThis.sessionStorage
    } catch (cause) {
      return Effect.fail(storageError(storage, operation, explain(cause), cause))
    }
    if (resolved === undefined || resolved === null) {
      return Effect.fail(storageError(storage, operation, "Web Storage is not available here"))
    }
    const available = resolved
    return Effect.try({
      try: () => f(available),
      catch: (cause) => storageError(storage, operation, explain(cause), cause)
    })
  })

const storageBackend = (storage: StorageOption): Backend => ({
  get: (key) => attempt(storage, "get", (s) => s.getItem(key)),
  set: (key, value) => attempt(storage, "set", (s) => s.setItem(key, value)),
  remove: (key) => attempt(storage, "remove", (s) => s.removeItem(key))
})

const keyValueBackend = (store: KeyValueStore.KeyValueStore): Backend => {
  const fail = (operation: Operation) => (cause: unknown) =>
    new TokenStore.TokenStoreError({ operation, description: `KeyValueStore ${operation} failed`, cause })
  return {
    get: (key) => store.get(key).pipe(Effect.map(Option.getOrNull), Effect.mapError(fail("get"))),
    set: (key, value) => store.set(key, value).pipe(Effect.mapError(fail("set"))),
    remove: (key) => store.remove(key).pipe(Effect.mapError(fail("remove")))
  }
}

const decode = Schema.decodeEither(Credentials.FromJson)
const encode = Schema.encodeEither(Credentials.FromJson)

/**
 * The lease entry beside the token entry. Web Storage has no atomic create: the entry is written when absent and
 * read back, so two tabs racing for it rarely both win (and when they do, one extra token request is the cost).
 */
const leaseRecords = (backend: Backend, prefix: string): TokenStore.LeaseRecords => ({
  create: (cacheKey, value) => {
    const key = leaseKey(cacheKey, prefix)
    return Effect.flatMap(backend.get(key), (existing) =>
      existing !== null
        ? Effect.succeed(false)
        : backend.set(key, value).pipe(
          Effect.zipRight(backend.get(key)),
          Effect.map((written) => written === value)
        ))
  },
  read: (cacheKey) => Effect.map(backend.get(leaseKey(cacheKey, prefix)), Option.fromNullable),
  remove: (cacheKey) => backend.remove(leaseKey(cacheKey, prefix))
})

const fromBackend = (backend: Backend, prefix: string): TokenStore.Coordinated =>
  TokenStore.withLeaseRecords(plainStore(backend, prefix), leaseRecords(backend, prefix))

const plainStore = (backend: Backend, prefix: string): TokenStore.TokenStore => ({
  get: (cacheKey) =>
    Effect.flatMap(backend.get(storageKey(cacheKey, prefix)), (raw) => {
      if (raw === null) return Effect.succeedNone
      const decoded = decode(raw)
      if (Either.isRight(decoded)) return Effect.succeedSome(decoded.right)
      // The parse error is not logged: it quotes the stored text, and the stored text holds the token.
      return Effect.as(
        Effect.logWarning(
          `OAuth2 token store: the entry "${
            storageKey(cacheKey, prefix)
          }" is not valid credentials JSON; treated as a miss (the next token overwrites it)`
        ),
        Option.none()
      )
    }),
  set: (cacheKey, credentials) =>
    Either.match(encode(credentials), {
      onLeft: () =>
        Effect.fail(
          new TokenStore.TokenStoreError({ operation: "set", description: "the credentials could not be encoded" })
        ),
      onRight: (json) => backend.set(storageKey(cacheKey, prefix), json)
    }),
  remove: (cacheKey) => backend.remove(storageKey(cacheKey, prefix))
})

/** @internal */
export const make = (
  options: { readonly storage?: StorageOption | undefined; readonly prefix?: string | undefined } = {}
): TokenStore.Coordinated => fromBackend(storageBackend(options.storage ?? "session"), options.prefix ?? defaultPrefix)

/** @internal */
export const fromKeyValueStore = (
  store: KeyValueStore.KeyValueStore,
  options: { readonly prefix?: string | undefined } = {}
): TokenStore.Coordinated => fromBackend(keyValueBackend(store), options.prefix ?? defaultPrefix)

/** @internal */
export const clear = (
  options: { readonly storage?: StorageOption | undefined; readonly prefix?: string | undefined } = {}
): Effect.Effect<number, TokenStore.TokenStoreError> => {
  const storage = options.storage ?? "session"
  const prefix = options.prefix ?? defaultPrefix
  return attempt(storage, "remove", (s) => {
    const keys: Array<string> = []
    for (let i = 0; i < s.length; i++) {
      const key = s.key(i)
      if (key !== null && key.startsWith(prefix)) keys.push(key)
    }
    for (const key of keys) s.removeItem(key)
    return keys.length
  })
}
