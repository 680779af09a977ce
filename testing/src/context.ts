/**
 * The values `globalSetup.ts` provides to every test project. Import this module (type-only is enough) to make
 * `inject("issuer")` and friends typed; it has no runtime content and is safe to load in the browser.
 */
export interface TestServersContext {
  /** Issuer of the embedded oidc-provider, `http://127.0.0.1:<port>` */
  issuer: string
  tokenEndpoint: string
  /** Base URL of the resource server: `GET ${apiUrl}/hello` or `${apiUrl}/api/...` */
  apiUrl: string
  introspectionEndpoint: string
  /** A `private_key_jwt` client of that server (ES256): its id, and its private key as a JWK (for browser tests). */
  privateKeyJwtClient: { readonly id: string; readonly privateJwk: Readonly<Record<string, unknown>> }
}

declare module "vitest" {
  export interface ProvidedContext extends TestServersContext {}
}
