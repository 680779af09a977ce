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

/**
 * @since 0.1.0
 */
export * as WwwAuthenticate from "./WwwAuthenticate.js"

/**
 * @since 0.1.0
 */
export * as AccessToken from "./AccessToken.js"

/**
 * @since 0.1.0
 */
export * as OAuth2Client from "./OAuth2Client.js"

/**
 * @since 0.1.0
 */
export * as OAuth2HttpClient from "./OAuth2HttpClient.js"

/**
 * @since 0.1.0
 */
export * as TokenStore from "./TokenStore.js"

/**
 * @since 0.2.0
 */
export * as Testing from "./Testing.js"

/**
 * @since 0.2.0
 */
export * as Discovery from "./Discovery.js"

/**
 * @since 0.2.0
 */
export * as KeyedClient from "./KeyedClient.js"

/**
 * @since 0.2.0
 */
export * as Dpop from "./Dpop.js"
