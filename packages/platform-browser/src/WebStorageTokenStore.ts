/**
 * A {@link TokenStore.TokenStore} over Web Storage, so a page reload (`sessionStorage`, the default) or a new tab
 * and a browser restart (`localStorage`) reuse a valid token instead of asking the token endpoint for a new one.
 *
 * - **Keys**: the prefix (default `"effect-oauth2:"`) followed by the raw token cache key, a JSON array of token
 *   endpoint, client id, auth method, sorted scopes and sorted extra parameters
 *   (`effect-oauth2:["https://auth.example.com/token","dashboard","none",["api:read"],[]]`). The key holds
 *   nothing secret, so it is kept readable for the developer tools rather than hashed (a hash would also need
 *   `crypto.subtle`, which pages outside a secure context do not have).
 * - **Values**: `Credentials.FromJson` (core), this library's credentials JSON. **The access token is in clear
 *   text**, readable by every script on the origin and by the user; Web Storage is no safer than the page.
 * - **A corrupt entry** (not JSON, not credentials) is a miss with a warning log (which never quotes the entry),
 *   and the next token overwrites it. It never fails a request.
 * - **Storage failures** (`QuotaExceededError` when full, `SecurityError` when the user or a policy disabled
 *   storage, no Web Storage at all) are {@link TokenStore.TokenStoreError}s with the browser's exception as
 *   `cause`; the token lifecycle logs them and carries on as on a miss.
 *
 * `sessionStorage` belongs to one tab and survives reloads; `localStorage` is shared by every tab of the origin
 * and survives restarts. Each tab still keeps its own in-memory cache: a tab reads the store before it asks for a
 * token.
 *
 * - **Tabs share one token request** (`localStorage`): the store keeps a lease entry beside the token entry
 *   (`prefix + "lease:" + cacheKey`, a random owner and the time it runs out); the tab that takes it fetches, the
 *   others poll the entry every 100 ms until the new token is there (`TokenStore.withLeaseRecords`). Web Storage
 *   has no atomic create, so two tabs racing for the lease can rarely both fetch: one extra token request, nothing
 *   worse. A 401 removes the entry only if it still holds the refused token.
 *
 * @since 0.1.0
 */
import type { TokenStore } from "@effect-oauth2/core"
import type * as KeyValueStore from "@effect/platform/KeyValueStore"
import type * as Effect from "effect/Effect"
import * as internal from "./internal/webStorage.js"

/**
 * The key prefix used when none is given: `"effect-oauth2:"`.
 *
 * @example
 * ```ts
 * import { WebStorageTokenStore } from "@effect-oauth2/platform-browser"
 *
 * const ours = Object.keys(sessionStorage).filter((key) => key.startsWith(WebStorageTokenStore.defaultPrefix))
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultPrefix: string = internal.defaultPrefix

/**
 * Where and under which prefix credentials are kept.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /**
   * `"session"` (default): `sessionStorage`, one tab, survives reloads. `"local"`: `localStorage`, every tab of
   * the origin, survives restarts. Or any `Storage` object. The named storages are looked up at each use, so a
   * page where storage is disabled gets `TokenStoreError`s, never a crash.
   */
  readonly storage?: "session" | "local" | Storage | undefined
  /** Prepended to every key; default {@link defaultPrefix}. Use one per application sharing an origin. */
  readonly prefix?: string | undefined
}

/**
 * A token store over `sessionStorage` (default), `localStorage` or a given `Storage`. Pass it as the `store`
 * option of the layer; the layer uses the token cache key as the store key.
 *
 * @example
 * ```ts
 * import { ClientAuth } from "@effect-oauth2/core"
 * import { BrowserOAuth2, WebStorageTokenStore } from "@effect-oauth2/platform-browser"
 *
 * const Auth = BrowserOAuth2.layer({
 *   tokenUrl: "https://auth.example.com/oauth2/token",
 *   clientId: "dashboard",
 *   auth: ClientAuth.none,
 *   store: WebStorageTokenStore.make({ storage: "local" })
 * })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (options?: Options) => TokenStore.Coordinated = internal.make

/**
 * The same store (same keys, same JSON) over any `KeyValueStore`, such as
 * `BrowserKeyValueStore.layerLocalStorage` / `layerSessionStorage` from `@effect/platform-browser`.
 *
 * {@link make} is the better choice for Web Storage: `KeyValueStore.layerStorage` reads the `Storage` object once,
 * when its layer is built, so disabled storage is a defect there rather than a `TokenStoreError`, and its errors
 * drop the browser's exception (`QuotaExceededError` or `SecurityError`). Use this variant when the program
 * already has a `KeyValueStore`, or to test with `KeyValueStore.layerMemory`.
 *
 * @example
 * ```ts
 * import { ClientAuth } from "@effect-oauth2/core"
 * import { BrowserOAuth2, WebStorageTokenStore } from "@effect-oauth2/platform-browser"
 * import { KeyValueStore } from "@effect/platform"
 * import { BrowserKeyValueStore } from "@effect/platform-browser"
 * import { Effect, Layer } from "effect"
 *
 * const Auth = Layer.unwrapEffect(
 *   Effect.map(KeyValueStore.KeyValueStore, (kv) =>
 *     BrowserOAuth2.layer({
 *       tokenUrl: "https://auth.example.com/oauth2/token",
 *       clientId: "dashboard",
 *       auth: ClientAuth.none,
 *       store: WebStorageTokenStore.fromKeyValueStore(kv)
 *     }))
 * ).pipe(Layer.provide(BrowserKeyValueStore.layerLocalStorage))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromKeyValueStore: (
  store: KeyValueStore.KeyValueStore,
  options?: { readonly prefix?: string | undefined }
) => TokenStore.Coordinated = internal.fromKeyValueStore

/**
 * Removes every entry under the prefix from the storage and returns how many there were: for a sign-out, or
 * to drop tokens left behind by an older configuration. With an empty prefix it removes every entry of the
 * storage, ours or not.
 *
 * A running layer keeps the token in its memory until it is closed; close it too (or call
 * `OAuth2Client.token.invalidate`) to stop using the token.
 *
 * @example
 * ```ts
 * import { WebStorageTokenStore } from "@effect-oauth2/platform-browser"
 * import { Effect } from "effect"
 *
 * const signOut = WebStorageTokenStore.clear({ storage: "local" }).pipe(Effect.ignoreLogged)
 * ```
 *
 * @since 0.1.0
 * @category utils
 */
export const clear: (options?: Options) => Effect.Effect<number, TokenStore.TokenStoreError> = internal.clear

/**
 * The storage key of a token cache key: `prefix + cacheKey`. A layer's cache key is the `cacheKey` field of its
 * `OAuth2Client` service, or `ClientCredentials.cacheKey(options)` computed from the same options.
 *
 * @example
 * ```ts
 * import { ClientCredentials } from "@effect-oauth2/core"
 * import { WebStorageTokenStore } from "@effect-oauth2/platform-browser"
 * import { Effect } from "effect"
 *
 * const key = ClientCredentials.cacheKey({ tokenUrl: "https://auth.example.com/token", clientId: "dashboard" }).pipe(
 *   Effect.map((cacheKey) => WebStorageTokenStore.storageKey(cacheKey))
 * )
 * ```
 *
 * @since 0.1.0
 * @category utils
 */
export const storageKey: (cacheKey: string, prefix?: string) => string = internal.storageKey
