/**
 * The one-line layer for browsers: the core `OAuth2HttpClient.layer` over the browser's `fetch`, so every
 * `HttpClient.HttpClient` request downstream carries `Authorization: Bearer <token>`.
 *
 * **A client secret shipped to a browser is readable by every user of the page.** Whatever is in the bundle, in
 * the page's memory or in Web Storage can be read with the developer tools, and anyone who reads the secret can
 * mint tokens in your client's name. Use this layer with a secret only for trusted internal tools on managed
 * machines. For anything public, register a public client (`auth: ClientAuth.none`, no secret), or let your
 * backend mint the tokens and hand them to the page (`AccessToken.make` over a call to your backend): see the
 * package README, "Secrets in the browser".
 *
 * The token endpoint and every API called cross-origin must allow the page's origin (CORS), the `authorization`
 * header, and, for `client_secret_basic`, a preflight of the token request. A request the browser blocks for
 * CORS fails like a broken connection: the token request with a `TransportError`, an API request with an
 * `HttpClientError.RequestError` (reason `Transport`). The browser does not say why; its console does.
 *
 * @since 0.1.0
 */
import type { OAuth2Client, OAuth2Error } from "@effect-oauth2/core"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as Layer from "effect/Layer"
import * as internal from "./internal/layer.js"
import * as xhr from "./internal/xhr.js"

/**
 * The core options, plus where trace headers may go.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options extends OAuth2Client.Options {
  /**
   * Which requests (token and API) carry the `traceparent` and `b3` headers that `@effect/platform`'s HttpClient
   * adds by default. They are not CORS-safelisted, so on a cross-origin request they force a preflight and fail
   * unless the server allows them (`Access-Control-Allow-Headers: traceparent, b3`), and they tell a third party
   * your trace ids.
   *
   * - `"same-origin"` (default): only requests to the page's own origin.
   * - `"all"`: every request, as `HttpClient` does elsewhere (still subject to `HttpClient.currentTracerPropagation`).
   * - `"none"`: no request.
   */
  readonly tracePropagation?: "same-origin" | "all" | "none" | undefined
}

/**
 * The authenticated `HttpClient` over `fetch` (`FetchHttpClient.layer`), with the `OAuth2Client` tag beside it.
 * Token requests go out over the same `fetch`, unauthenticated. Nothing is left to provide; the layer fails with
 * a `ConfigurationError` when the options cannot work (for example a plain-http token URL on a non-loopback host).
 *
 * `fetch` is read per request from the `FetchHttpClient.Fetch` service when one is in context (a wrapped fetch,
 * for logging or tests), otherwise `globalThis.fetch`; `FetchHttpClient.RequestInit` adds `RequestInit` options
 * the same way (token requests always use `redirect: "manual"`).
 *
 * **A `clientSecret` given here ships to the browser, where every user of the page can read it.** Prefer
 * `auth: ClientAuth.none` with a public client, or tokens minted by your backend (see the README).
 *
 * @example
 * ```ts
 * import { ClientAuth } from "@effect-oauth2/core"
 * import { BrowserOAuth2, WebStorageTokenStore } from "@effect-oauth2/platform-browser"
 * import { HttpClient } from "@effect/platform"
 * import { Effect } from "effect"
 *
 * // A public client: no secret in the page.
 * const Auth = BrowserOAuth2.layer({
 *   tokenUrl: "https://auth.example.com/oauth2/token",
 *   clientId: "dashboard",
 *   auth: ClientAuth.none,
 *   scopes: ["reports:read"],
 *   origins: ["https://api.example.com"],
 *   store: WebStorageTokenStore.make()
 * })
 *
 * const program = Effect.gen(function*() {
 *   const client = yield* HttpClient.HttpClient
 *   const response = yield* client.get("https://api.example.com/reports")
 *   return yield* response.json
 * }).pipe(Effect.provide(Auth))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: Options
): Layer.Layer<
  HttpClient.HttpClient | OAuth2Client.OAuth2Client,
  OAuth2Error.ConfigurationError | OAuth2Error.DiscoveryError
> => internal.layerOver(options, FetchHttpClient.layer)

/**
 * {@link layer} over `XMLHttpRequest` (`BrowserHttpClient.layerXMLHttpRequest` from `@effect/platform-browser`)
 * instead of `fetch`, for code that already uses the XHR client or pages whose `fetch` is patched. Token and API
 * requests both go over XHR.
 *
 * The XHR client's `response.status` reads 0 once its body stream has been consumed (the platform aborts the
 * finished request, and an aborted XHR resets its status); this layer's client fixes the status when the headers
 * arrive, so token responses are read correctly.
 *
 * **A `clientSecret` given here ships to the browser, where every user of the page can read it.**
 *
 * @example
 * ```ts
 * import { ClientAuth } from "@effect-oauth2/core"
 * import { BrowserOAuth2 } from "@effect-oauth2/platform-browser"
 *
 * const Auth = BrowserOAuth2.layerXhr({
 *   tokenUrl: "https://auth.example.com/oauth2/token",
 *   clientId: "dashboard",
 *   auth: ClientAuth.none
 * })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerXhr = (
  options: Options
): Layer.Layer<
  HttpClient.HttpClient | OAuth2Client.OAuth2Client,
  OAuth2Error.ConfigurationError | OAuth2Error.DiscoveryError
> => internal.layerOver(options, xhr.layerXMLHttpRequest)
