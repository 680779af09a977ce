/**
 * The bench's loopback servers, run in a child process (`fork`) so that they do not share the client's event loop:
 * on 2 cores the client gets one and the servers the other.
 *
 * - a token endpoint (`POST` any path): checks the client authentication, counts requests, answers a fresh
 *   64-character bearer token `t<n>.xxx…` with the configured `expires_in`, after the configured delay, and logs
 *   when each token request arrived and when its answer was sent;
 * - an API: `GET /protected` answers 200 `{"ok":true,"token":<n>}` when an `Authorization: Bearer t<n>.…` header is
 *   present and 401 otherwise; `GET /public` answers the same body without looking at any header.
 *
 * The parent drives it over IPC: `{ id, op, ... }` in, `{ id, result }` out.
 */
import { listen } from "@effect-oauth2/testing/listen"
import * as http from "node:http"
import { performance } from "node:perf_hooks"
import { clientId, clientSecret, type Command, type Ready, type TokenLogEntry } from "./protocol.js"

/** Wall-clock milliseconds with sub-millisecond resolution, comparable across processes. */
const now = () => performance.timeOrigin + performance.now()

const tokenOf = (n: number): string => {
  const head = `t${n}.`
  return head + "x".repeat(64 - head.length)
}

/** RFC 6749 §2.3.1: base64 of form-urlencoded id ":" secret. Peers encode differently (`-` as `%2D`), so decode. */
const formDecode = (value: string) => decodeURIComponent(value.replace(/\+/g, "%20"))
const basicOk = (header: string | undefined): boolean => {
  if (header === undefined || !header.startsWith("Basic ")) return false
  const decoded = Buffer.from(header.slice(6), "base64").toString("utf8")
  const colon = decoded.indexOf(":")
  try {
    return colon > 0 && formDecode(decoded.slice(0, colon)) === clientId &&
      formDecode(decoded.slice(colon + 1)) === clientSecret
  } catch {
    return false
  }
}

const config = { expiresIn: 3600, delayMs: 0 }
let issued = 0
let stats = { tokenRequests: 0, badClientAuth: 0, apiRequests: 0, apiUnauthorized: 0 }
let log: Array<TokenLogEntry> = []

const json = (res: http.ServerResponse, status: number, body: string, headers: Record<string, string> = {}) => {
  res.writeHead(status, {
    "content-type": "application/json",
    "cache-control": "no-store",
    "content-length": String(Buffer.byteLength(body)),
    ...headers
  })
  res.end(body)
}

const tokenServer = http.createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  const received = now()
  let body = ""
  req.setEncoding("utf8")
  req.on("data", (chunk: string) => {
    body += chunk
  })
  req.on("end", () => {
    stats.tokenRequests++
    const form = new URLSearchParams(body)
    if (req.method !== "POST" || form.get("grant_type") !== "client_credentials") {
      json(res, 400, JSON.stringify({ error: "unsupported_grant_type" }))
      return
    }
    if (!basicOk(req.headers.authorization)) {
      stats.badClientAuth++
      json(res, 401, JSON.stringify({ error: "invalid_client" }), { "www-authenticate": "Basic realm=\"bench\"" })
      return
    }
    const n = ++issued
    const answer = JSON.stringify({
      access_token: tokenOf(n),
      token_type: "Bearer",
      expires_in: config.expiresIn,
      scope: "read write"
    })
    const send = () => {
      json(res, 200, answer)
      log.push({ n, received, sent: now() })
    }
    if (config.delayMs > 0) setTimeout(send, config.delayMs)
    else send()
  })
})

const publicBody = JSON.stringify({ ok: true, token: 0 })
const bearer = /^Bearer t(\d+)\./

const apiServer = http.createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  req.resume()
  stats.apiRequests++
  if (req.url === "/public") {
    json(res, 200, publicBody)
    return
  }
  const match = bearer.exec(req.headers.authorization ?? "")
  if (match === null) {
    stats.apiUnauthorized++
    json(res, 401, JSON.stringify({ error: "unauthorized" }), { "www-authenticate": "Bearer realm=\"bench\"" })
    return
  }
  json(res, 200, `{"ok":true,"token":${match[1]}}`)
})

const main = async () => {
  // A large backlog: the cold burst opens 1,000 connections at once.
  const [token, api] = await Promise.all([tokenServer, apiServer].map((server) => listen(server, { backlog: 4096 })))
  const close = () => Promise.all([token.close(), api.close()])
  process.on("message", (command: Command) => {
    const reply = (result: unknown) => process.send!({ id: command.id, result })
    switch (command.op) {
      case "config":
        if (command.expiresIn !== undefined) config.expiresIn = command.expiresIn
        if (command.delayMs !== undefined) config.delayMs = command.delayMs
        return reply({ ...config })
      case "stats":
        return reply(stats)
      case "reset":
        stats = { tokenRequests: 0, badClientAuth: 0, apiRequests: 0, apiUnauthorized: 0 }
        log = []
        return reply(true)
      case "tokenLog":
        return reply(log)
      case "close":
        return void close().then(() => {
          reply(true)
          process.disconnect()
        })
    }
  })
  const ready: Ready = {
    ready: true,
    tokenUrl: `${token.url}/token`,
    apiUrl: api.url
  }
  process.send!(ready)
}

void main()
