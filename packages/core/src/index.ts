/**
 * @since 0.1.0
 */
export * as ClientAuth from "./ClientAuth.js"

/**
 * @since 0.1.0
 */
export * as ClientCredentials from "./ClientCredentials.js"

/**
 * @since 0.1.0
 */
export * as Credentials from "./Credentials.js"

/**
 * @since 0.1.0
 */
export * as OAuth2Error from "./OAuth2Error.js"

/**
 * @since 0.1.0
 */
export * as TokenResponse from "./TokenResponse.js"
