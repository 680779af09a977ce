/**
 * A scriptable token endpoint on a random loopback port, for fault injection. Every incoming request (except CORS
 * preflights) takes the next queued {@link Fault}; when the queue is empty the default step is used.
 */
import * as http from "node:http"
import type { Socket } from "node:net"
import { listen } from "./listen.js"

export type Fault =
  | {
    readonly kind: "token"
    /** Default `fault-token-<n>`, n counting the tokens issued by this server from 1. */
    readonly accessToken?: string
    /** Default 3600. `null` omits `expires_in`. */
    readonly expiresIn?: number | string | null
    /** Default `Bearer`. `null` omits `token_type`. */
    readonly tokenType?: string | null
    readonly scope?: string
    /** Merged into the JSON body last; a key set to `undefined` is removed from the body. */
    readonly extra?: Record<string, unknown>
  }
  | {
    readonly kind: "json"
    readonly status: number
    readonly body: unknown
    readonly headers?: Record<string, string>
  }
  | {
    readonly kind: "raw"
    readonly status: number
    readonly body: string
    /** Default `text/plain; charset=utf-8`. */
    readonly contentType?: string
    readonly headers?: Record<string, string>
  }
  /** Destroys the socket without a response. */
  | { readonly kind: "drop" }
  /** Sends nothing for `ms` milliseconds, then answers with the default step. Without `ms`: until `close()`. */
  | { readonly kind: "stall"; readonly ms?: number }
  /** 200 application/json with a `content-length` larger than the body, then destroys the socket mid-body. */
  | { readonly kind: "truncated" }
  /** 200 text/html error page. */
  | { readonly kind: "html" }
  /**
   * 200 application/json streaming `bytes` bytes (a valid JSON object when complete) in 64 KiB chunks, honouring
   * back-pressure and stopping when the client goes away. Chunked transfer encoding unless `contentLength` is true.
   */
  | { readonly kind: "huge"; readonly bytes: number; readonly contentLength?: boolean }
  /** `status` with a `Retry-After` header and a `temporarily_unavailable` JSON error body. */
  | { readonly kind: "retryAfter"; readonly status: 429 | 503; readonly retryAfter: string }
  /** Redirect to `location` with an empty body. */
  | { readonly kind: "redirect"; readonly status: 301 | 302 | 307 | 308; readonly location: string }

export interface RecordedRequest {
  readonly method: string
  /** Path and query, as sent. */
  readonly url: string
  /** Lower-case header names; repeated headers are joined with ", ". */
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
  /** `Date.now()` when the request arrived. */
  readonly time: number
  /** The step that answered it: the first scripted one in the queue, or the default. */
  readonly step: Fault
}

export interface FaultServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string
  /** `url + "/token"` (every path behaves the same) */
  readonly tokenUrl: string
  /** Appends steps to the queue. */
  script(...steps: Array<Fault>): void
  /** The step used when the queue is empty. Initially `{ kind: "token" }`. */
  setDefault(step: Fault): void
  /** Every request received (not CORS preflights), in arrival order. */
  requests(): ReadonlyArray<RecordedRequest>
  /** Closes the server, ends stalled responses and destroys every socket. Idempotent. */
  close(): Promise<void>
}

const corsHeaders: Readonly<Record<string, string>> = {
  "access-control-allow-origin": "*",
  "access-control-allow-methods": "GET, POST, OPTIONS",
  "access-control-allow-headers": "authorization, content-type, dpop",
  "access-control-expose-headers": "WWW-Authenticate, Retry-After, Location, DPoP-Nonce",
  "access-control-max-age": "600"
}

const htmlPage = "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>"
  + "<body><h1>502 Bad Gateway</h1><p>The upstream identity service is unavailable.</p></body></html>\n"

const flattenHeaders = (headers: http.IncomingHttpHeaders): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(", ") : value
  }
  return out
}

/** Starts a fault server on `127.0.0.1` with a random port. */
export const startFaultServer = async (): Promise<FaultServer> => {
  const timers = new Set<ReturnType<typeof setTimeout>>()
  const queue: Array<Fault> = []
  const recorded: Array<RecordedRequest> = []
  let defaultStep: Fault = { kind: "token" }
  let issued = 0
  let closed = false

  const send = (
    res: http.ServerResponse,
    status: number,
    body: string,
    contentType: string,
    headers: Record<string, string> = {}
  ) => {
    res.writeHead(status, {
      ...corsHeaders,
      "content-type": contentType,
      "cache-control": "no-store",
      "content-length": String(Buffer.byteLength(body)),
      ...headers
    })
    res.end(body)
  }

  const later = (ms: number, f: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer)
      f()
    }, ms)
    timers.add(timer)
  }

  const streamHuge = (res: http.ServerResponse, bytes: number, contentLength: boolean) => {
    const head = "{\"pad\":\""
    const tail = "\"}"
    const padding = Math.max(0, bytes - head.length - tail.length)
    const chunkSize = 64 * 1024
    const filler = Buffer.alloc(chunkSize, "x")
    res.writeHead(200, {
      ...corsHeaders,
      "content-type": "application/json",
      "cache-control": "no-store",
      ...(contentLength ? { "content-length": String(head.length + padding + tail.length) } : {})
    })
    let remaining = padding
    let started = false
    const pump = () => {
      if (!started) {
        started = true
        if (!res.write(head)) return
      }
      while (remaining > 0) {
        if (res.destroyed || closed) return
        const n = Math.min(remaining, chunkSize)
        remaining -= n
        if (!res.write(n === chunkSize ? filler : filler.subarray(0, n))) return
      }
      if (!res.destroyed && !closed) {
        res.end(tail)
        res.off("drain", pump)
      }
    }
    res.on("drain", pump)
    res.once("close", () => res.off("drain", pump))
    pump()
  }

  const respond = (step: Fault, req: http.IncomingMessage, res: http.ServerResponse): void => {
    switch (step.kind) {
      case "token": {
        issued++
        const body: Record<string, unknown> = {
          access_token: step.accessToken ?? `fault-token-${issued}`,
          token_type: step.tokenType === undefined ? "Bearer" : step.tokenType ?? undefined,
          expires_in: step.expiresIn === undefined ? 3600 : step.expiresIn ?? undefined,
          ...(step.scope === undefined ? {} : { scope: step.scope }),
          ...step.extra
        }
        send(res, 200, JSON.stringify(body), "application/json")
        return
      }
      case "json":
        send(res, step.status, JSON.stringify(step.body), "application/json", step.headers)
        return
      case "raw":
        send(res, step.status, step.body, step.contentType ?? "text/plain; charset=utf-8", step.headers)
        return
      case "drop":
        req.socket.destroy()
        return
      case "stall":
        if (step.ms !== undefined) later(step.ms, () => respond(defaultStep, req, res))
        return
      case "truncated": {
        const partial = "{\"access_token\":\"truncated-tok"
        res.writeHead(200, {
          ...corsHeaders,
          "content-type": "application/json",
          "cache-control": "no-store",
          "content-length": String(partial.length + 200)
        })
        res.write(partial, () => later(20, () => req.socket.destroy()))
        return
      }
      case "html":
        send(res, 200, htmlPage, "text/html; charset=utf-8")
        return
      case "huge":
        streamHuge(res, step.bytes, step.contentLength ?? false)
        return
      case "retryAfter":
        send(
          res,
          step.status,
          JSON.stringify({ error: "temporarily_unavailable", error_description: "try again later" }),
          "application/json",
          { "retry-after": step.retryAfter }
        )
        return
      case "redirect":
        res.writeHead(step.status, { ...corsHeaders, location: step.location, "content-length": "0" })
        res.end()
        return
    }
  }

  const server = http.createServer((req, res) => {
    if (req.method === "OPTIONS" && req.headers["access-control-request-method"] !== undefined) {
      res.writeHead(204, corsHeaders)
      res.end()
      return
    }
    const step = queue.shift() ?? defaultStep
    const chunks: Array<Buffer> = []
    const record = {
      method: req.method ?? "GET",
      url: req.url ?? "/",
      headers: flattenHeaders(req.headers),
      body: "",
      time: Date.now(),
      step
    }
    recorded.push(record)
    req.on("data", (chunk: Buffer) => chunks.push(chunk))
    req.on("error", () => {})
    req.on("end", () => {
      record.body = Buffer.concat(chunks).toString("utf8")
      if (!closed) respond(step, req, res)
    })
  })
  server.on("connection", (socket: Socket) => {
    socket.on("error", () => {})
  })
  server.on("clientError", (_error, socket: Socket) => socket.destroy())

  const listening = await listen(server)
  const url = listening.url

  return {
    url,
    tokenUrl: `${url}/token`,
    script: (...steps) => {
      queue.push(...steps)
    },
    setDefault: (step) => {
      defaultStep = step
    },
    requests: () => [...recorded],
    close: () => {
      if (!closed) {
        closed = true
        for (const timer of timers) clearTimeout(timer)
        timers.clear()
      }
      return listening.close()
    }
  }
}
