/**
 * The loopback servers a test fleet talks to: a token endpoint that counts requests (and which member sent each),
 * and an API that accepts only the tokens that endpoint issued, recording who used which token when.
 */
import { listen } from "@effect-oauth2/testing"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as crypto from "node:crypto"
import * as http from "node:http"
import { memberHeader } from "./protocol.js"

export interface TokenRequest {
  readonly member: string
  /** `Date.now()` on arrival */
  readonly time: number
  readonly scope: string | null
}

export interface ApiCall {
  readonly member: string
  readonly token: string
  readonly time: number
}

export interface FleetServer {
  readonly tokenUrl: string
  readonly apiUrl: string
  readonly tokenRequests: () => ReadonlyArray<TokenRequest>
  readonly apiCalls: () => ReadonlyArray<ApiCall>
  /** Every token issued, in order. */
  readonly issued: () => ReadonlyArray<string>
  readonly apiUnauthorized: () => number
  /** `expires_in` of the tokens, delay before each answer, and whether the next token request never gets one. */
  readonly configure: (settings: { expiresIn?: number; delayMs?: number; stallNext?: boolean }) => void
  /** Resolves with the first token request from now on. */
  readonly nextTokenRequest: () => Promise<TokenRequest>
  readonly close: () => Promise<void>
}

export const startFleetServer = async (): Promise<FleetServer> => {
  const settings = { expiresIn: 3600, delayMs: 0, stallNext: false }
  const tokenRequests: Array<TokenRequest> = []
  const apiCalls: Array<ApiCall> = []
  const issued: Array<string> = []
  const valid = new Set<string>()
  const timers = new Set<ReturnType<typeof setTimeout>>()
  let waiting: Array<(request: TokenRequest) => void> = []
  let unauthorized = 0

  const answer = (res: http.ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body)
    res.writeHead(status, { "content-type": "application/json", "content-length": String(Buffer.byteLength(text)) })
    res.end(text)
  }

  const server = http.createServer((req, res) => {
    let body = ""
    req.setEncoding("utf8")
    req.on("data", (chunk: string) => {
      body += chunk
    })
    req.on("end", () => {
      const member = String(req.headers[memberHeader] ?? "?")
      if (req.method === "POST") {
        const request = { member, time: Date.now(), scope: new URLSearchParams(body).get("scope") }
        tokenRequests.push(request)
        const wake = waiting
        waiting = []
        wake.forEach((f) => f(request))
        if (settings.stallNext) {
          settings.stallNext = false
          return // never answered: the socket is destroyed on close
        }
        const token = `fleet-${issued.length + 1}-${crypto.randomBytes(12).toString("hex")}`
        issued.push(token)
        valid.add(token)
        const timer = setTimeout(() => {
          timers.delete(timer)
          answer(res, 200, { access_token: token, token_type: "Bearer", expires_in: settings.expiresIn })
        }, settings.delayMs)
        timers.add(timer)
        return
      }
      const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1]
      if (token === undefined || !valid.has(token)) {
        unauthorized++
        answer(res, 401, { error: "invalid_token" })
        return
      }
      apiCalls.push({ member, token, time: Date.now() })
      answer(res, 200, { ok: true })
    })
  })
  const listening = await listen(server, { backlog: 2048 })
  return {
    tokenUrl: `${listening.url}/token`,
    apiUrl: `${listening.url}/api`,
    tokenRequests: () => tokenRequests,
    apiCalls: () => apiCalls,
    issued: () => issued,
    apiUnauthorized: () => unauthorized,
    configure: (next) => Object.assign(settings, next),
    nextTokenRequest: () => new Promise((resolve) => waiting.push(resolve)),
    close: () => {
      timers.forEach(clearTimeout)
      return listening.close()
    }
  }
}

/** A fleet server for the scope. */
export const fleetServer: Effect.Effect<FleetServer, never, Scope.Scope> = Effect.acquireRelease(
  Effect.promise(() => startFleetServer()),
  (server) => Effect.promise(() => server.close())
)
