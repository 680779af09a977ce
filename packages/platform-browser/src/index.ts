/**
 * @since 0.1.0
 */
export * as BrowserOAuth2 from "./BrowserOAuth2.js"

/**
 * @since 0.1.0
 */
export * as WebStorageTokenStore from "./WebStorageTokenStore.js"

/**
 * @since 0.2.0
 */
export * as DpopKeyStore from "./DpopKeyStore.js"
