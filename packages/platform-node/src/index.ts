/**
 * @since 0.1.0
 */
export * as FileTokenStore from "./FileTokenStore.js"

/**
 * @since 0.1.0
 */
export * as NodeOAuth2 from "./NodeOAuth2.js"
