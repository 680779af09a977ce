/** What the bench's client process and its server process (servers.ts) share. */

export const clientId = "bench-client"
export const clientSecret = "bench-secret"

export interface TokenLogEntry {
  readonly n: number
  readonly received: number
  readonly sent: number
}

export interface Stats {
  readonly tokenRequests: number
  readonly badClientAuth: number
  readonly apiRequests: number
  readonly apiUnauthorized: number
}

export type Command =
  | { readonly id: number; readonly op: "config"; readonly expiresIn?: number; readonly delayMs?: number }
  | { readonly id: number; readonly op: "stats" }
  | { readonly id: number; readonly op: "reset" }
  | { readonly id: number; readonly op: "tokenLog" }
  | { readonly id: number; readonly op: "close" }

export interface Ready {
  readonly ready: true
  readonly tokenUrl: string
  readonly apiUrl: string
}
