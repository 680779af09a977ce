/** What the fleet harness (Fleet.ts) and a fleet member process (member.ts) say to each other over IPC. */

/** How a member builds its client: the layer's options, in JSON. */
export interface MemberConfig {
  readonly tokenUrl: string
  readonly apiUrl: string
  readonly clientId: string
  readonly clientSecret: string
  readonly scopes: ReadonlyArray<string>
  /** Absent: no store (each process on its own). */
  readonly redis?: {
    readonly url: string
    readonly prefix: string
    /** base64 of 32 bytes */
    readonly encryptionKey?: string
    readonly commandTimeoutMs?: number
  }
  readonly leaseTtlMs?: number
  readonly expiryGraceMs?: number
  readonly refreshMarginMs?: number
  readonly refreshAheadMs?: number
}

/** What a member's callers did. */
export interface CallStats {
  readonly ok: number
  readonly failed: number
  /** The first few failure messages. */
  readonly errors: ReadonlyArray<string>
}

export type Command =
  | { readonly id: number; readonly op: "configure"; readonly config: MemberConfig }
  /** `n` concurrent API calls through the authenticated HttpClient. */
  | { readonly id: number; readonly op: "burst"; readonly n: number }
  /** `concurrency` loops of API calls, `pauseMs` apart, until `stop`. Replies at once. */
  | { readonly id: number; readonly op: "run"; readonly concurrency: number; readonly pauseMs: number }
  /** Ends the `run` and replies with its stats. */
  | { readonly id: number; readonly op: "stop" }
  /** Closes the client (and its Redis connections) and exits. */
  | { readonly id: number; readonly op: "exit" }

export type Reply =
  | { readonly id: number; readonly ok: true; readonly result: unknown }
  | { readonly id: number; readonly ok: false; readonly error: string }

export interface Ready {
  readonly ready: true
  readonly pid: number
}

/** Header naming the member on its token and API requests, so the servers can tell the processes apart. */
export const memberHeader = "x-fleet-member"
