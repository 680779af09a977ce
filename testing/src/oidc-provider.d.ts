/**
 * Minimal ambient types for the parts of oidc-provider 9 that the test servers use. The package ships no types and
 * `@types/oidc-provider` is not installed; these declarations cover only what `AuthServer.ts` touches.
 */
declare module "oidc-provider" {
  import type { IncomingMessage, ServerResponse } from "node:http"

  export interface ProviderContext {
    /** The Node request (koa's `ctx.req`); over TLS its socket is a `TLSSocket`. */
    readonly req: IncomingMessage
    readonly oidc?: {
      readonly params?: Readonly<Record<string, unknown>>
    }
  }

  export interface ProviderClient {
    readonly clientId: string
    readonly clientAuthMethod: string
  }

  export interface ProviderToken {
    readonly clientId?: string
    readonly kind: string
  }

  export interface Configuration {
    readonly [key: string]: unknown
  }

  export class Provider {
    constructor(issuer: string, configuration?: Configuration)
    readonly issuer: string
    proxy: boolean
    callback(): (req: IncomingMessage, res: ServerResponse) => void
    on(event: string, listener: (...args: Array<any>) => void): this
  }

  export default Provider

  export const errors: {
    readonly InvalidScope: new(description: string, scope: string) => Error
    readonly InvalidTarget: new(description?: string) => Error
  }
}

declare module "oidc-provider/lib/adapters/memory_adapter.js" {
  export function createMemoryAdapter(clockTolerance?: number): unknown
}
