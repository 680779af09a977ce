/**
 * A DPoP key that survives page loads: a non-extractable WebCrypto key pair kept in IndexedDB.
 *
 * IndexedDB stores `CryptoKey` objects by structured clone, non-extractable ones included: the browser keeps the
 * key material, and the page (or a script injected into it) can ask it to sign but can never read the private
 * key. Keeping the pair across page loads lets a DPoP-bound token (RFC 9449) stored with a
 * `WebStorageTokenStore` be used again after a reload, since the token is only usable with its own key. Without
 * it, `dpop: true` makes a new key, and so needs a new token, on every page load.
 *
 * What it does not protect against: script running in the page can use the key to sign proofs while it runs (as
 * it can use the token). It protects the key from being copied elsewhere. Clearing the site's data removes it.
 *
 * @example
 * ```ts
 * import { BrowserOAuth2, DpopKeyStore } from "@effect-oauth2/platform-browser"
 * import { ClientAuth } from "@effect-oauth2/core"
 * import { Effect, Layer } from "effect"
 *
 * const OAuth2Live = Layer.unwrapEffect(
 *   Effect.map(DpopKeyStore.getOrCreate("api-client"), (key) =>
 *     BrowserOAuth2.layer({
 *       tokenUrl: "https://auth.example.com/token",
 *       clientId: "spa",
 *       auth: ClientAuth.none,
 *       dpop: { key }
 *     }))
 * )
 * ```
 *
 * @since 0.2.0
 */
import type { OAuth2Error } from "@effect-oauth2/core"
import { Dpop } from "@effect-oauth2/core"
import * as Effect from "effect/Effect"
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"

/**
 * @since 0.2.0
 * @category type ids
 */
export const TypeId: unique symbol = Symbol.for("@effect-oauth2/platform-browser/DpopKeyStore/KeyStoreError")

/**
 * @since 0.2.0
 * @category type ids
 */
export type TypeId = typeof TypeId

/**
 * IndexedDB is missing, refused the request (private mode, storage blocked) or failed; or the stored value is
 * not a key pair. Never carries key material.
 *
 * @since 0.2.0
 * @category errors
 */
export class KeyStoreError extends Schema.TaggedError<KeyStoreError>("@effect-oauth2/platform-browser/KeyStoreError")(
  "KeyStoreError",
  { operation: Schema.String, reason: Schema.String }
) {
  /** @since 0.2.0 */
  readonly [TypeId]: TypeId = TypeId
  /** @since 0.2.0 */
  override get message(): string {
    return `IndexedDB ${this.operation} of a DPoP key failed: ${this.reason}`
  }
}

/**
 * @since 0.2.0
 * @category guards
 */
export const isKeyStoreError = (u: unknown): u is KeyStoreError => Predicate.hasProperty(u, TypeId)

/**
 * Where the pairs are kept.
 *
 * @since 0.2.0
 * @category models
 */
export interface Options {
  /** The IndexedDB database; default `"effect-oauth2"`. */
  readonly database?: string | undefined
  /** The object store; default `"dpop-keys"`. */
  readonly store?: string | undefined
  /** The algorithm of a new pair; default `"ES256"`. */
  readonly alg?: string | undefined
}

const reasonOf = (error: unknown): string =>
  error instanceof Error || (typeof DOMException !== "undefined" && error instanceof DOMException)
    ? `${(error as Error).name}: ${(error as Error).message}`.slice(0, 200)
    : "unknown error"

const request = <A>(operation: string, make: () => IDBRequest<A>): Effect.Effect<A, KeyStoreError> =>
  Effect.async<A, KeyStoreError>((resume) => {
    try {
      const req = make()
      req.onsuccess = () => resume(Effect.succeed(req.result))
      req.onerror = () => resume(Effect.fail(new KeyStoreError({ operation, reason: reasonOf(req.error) })))
    } catch (error) {
      resume(Effect.fail(new KeyStoreError({ operation, reason: reasonOf(error) })))
    }
  })

const open = (options: Options): Effect.Effect<IDBDatabase, KeyStoreError> => {
  const storeName = options.store ?? "dpop-keys"
  return Effect.async<IDBDatabase, KeyStoreError>((resume) => {
    if (typeof indexedDB === "undefined") {
      return resume(Effect.fail(new KeyStoreError({ operation: "open", reason: "IndexedDB is not available here" })))
    }
    try {
      const req = indexedDB.open(options.database ?? "effect-oauth2", 1)
      req.onupgradeneeded = () => {
        if (!req.result.objectStoreNames.contains(storeName)) req.result.createObjectStore(storeName)
      }
      req.onsuccess = () => resume(Effect.succeed(req.result))
      req.onerror = () => resume(Effect.fail(new KeyStoreError({ operation: "open", reason: reasonOf(req.error) })))
      req.onblocked = () =>
        resume(Effect.fail(new KeyStoreError({ operation: "open", reason: "blocked by another open connection" })))
    } catch (error) {
      resume(Effect.fail(new KeyStoreError({ operation: "open", reason: reasonOf(error) })))
    }
  })
}

const isPair = (u: unknown): u is CryptoKeyPair =>
  Predicate.isRecord(u) && u.privateKey instanceof CryptoKey && u.publicKey instanceof CryptoKey

const withStore = <A>(
  options: Options,
  mode: IDBTransactionMode,
  operation: string,
  f: (store: IDBObjectStore) => IDBRequest<A>
): Effect.Effect<A, KeyStoreError> =>
  Effect.acquireUseRelease(
    open(options),
    (db) =>
      request(operation, () =>
        f(db.transaction(options.store ?? "dpop-keys", mode).objectStore(options.store ?? "dpop-keys"))),
    (db) =>
      Effect.sync(() => db.close())
  )

/**
 * The pair stored under `name`, or a new non-extractable pair (generated, stored, returned). Use it as
 * `dpop: { key }`. Two tabs that create the same name at once may each make a pair; the last one stored wins, and
 * the other tab's tokens are then simply not reused after its next reload.
 *
 * @since 0.2.0
 * @category constructors
 */
export const getOrCreate = (
  name: string,
  options: Options = {}
): Effect.Effect<CryptoKeyPair, KeyStoreError | OAuth2Error.ConfigurationError> =>
  Effect.gen(function*() {
    const stored = yield* withStore<unknown>(options, "readonly", "read", (store) => store.get(name))
    if (stored !== undefined) {
      if (isPair(stored)) return stored
      return yield* new KeyStoreError({
        operation: "read",
        reason: `the value stored under "${name}" is not a key pair`
      })
    }
    const pair = yield* Dpop.generateKeyPair({ alg: options.alg })
    yield* withStore(options, "readwrite", "write", (store) => store.put(pair, name))
    return pair
  })

/**
 * Removes the pair stored under `name` (tokens bound to it become useless: remove them too).
 *
 * @since 0.2.0
 * @category utils
 */
export const remove = (name: string, options: Options = {}): Effect.Effect<void, KeyStoreError> =>
  Effect.asVoid(withStore(options, "readwrite", "delete", (store) => store.delete(name)))
