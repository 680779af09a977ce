/**
 * A protected API on a random loopback port. It accepts RFC 9068 JWT access tokens sent as RFC 6750 Bearer tokens
 * and answers with RFC 6750 `WWW-Authenticate` challenges. CORS is open so browser tests can call it.
 */
import { createRemoteJWKSet, jwtVerify } from "jose"
import * as crypto from "node:crypto"
import * as http from "node:http"
import * as https from "node:https"
import type { TLSSocket } from "node:tls"
import { listen } from "./listen.js"

export interface ResourceServerOptions {
  readonly issuer: string
  readonly jwksUri: string
  /** Expected `aud` of access tokens. Default `https://api.example.test/jwt`. */
  readonly audience?: string
  /**
   * Serve over TLS with this certificate and ask for a client certificate (not required, and not checked against a
   * CA: the handshake proves the client holds its key, which is what RFC 8705 §3 binds to, self-signed or not). A
   * certificate-bound token (`cnf.x5t#S256`) is accepted only over a connection that presented that certificate;
   * without `tls` every certificate-bound token is refused.
   */
  readonly tls?: { readonly key: string; readonly cert: string; readonly ca: string }
}

export interface ResourceServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string
  /** Number of requests to protected routes (CORS preflights are not counted). */
  requests(): number
  /** The `Authorization` header value of every request to a protected route, in order. */
  seenTokens(): ReadonlyArray<string | undefined>
  /** The next `n` requests get `401 invalid_token`, even with a valid token. */
  rejectNext(n: number): void
  /** From now on this access token (without the `Bearer ` prefix) always gets `401 invalid_token`. */
  revoke(token: string): void
  /** Closes the server and destroys every open socket. Idempotent. */
  close(): Promise<void>
}

const corsHeaders: Readonly<Record<string, string>> = {
  "access-control-allow-origin": "*",
  "access-control-allow-methods": "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS",
  "access-control-allow-headers": "authorization, content-type, dpop",
  "access-control-expose-headers": "WWW-Authenticate",
  "access-control-max-age": "600"
}

/** Makes a string safe to put in a quoted-string of a header value. */
const quoted = (value: string): string => value.replace(/[^\x20-\x7e]/g, " ").replace(/["\\]/g, "'")

const isProtected = (path: string): boolean => path === "/hello" || path.startsWith("/api/")

/** The `x5t#S256` of the client certificate presented on the request's connection, if any. */
const presentedThumbprint = (req: http.IncomingMessage): string | undefined => {
  const socket = req.socket as Partial<TLSSocket>
  if (typeof socket.getPeerCertificate !== "function") return undefined
  const raw = socket.getPeerCertificate().raw
  return raw === undefined ? undefined : crypto.createHash("sha256").update(raw).digest("base64url")
}

/** Starts a resource server on `127.0.0.1` with a random port. */
export const startResourceServer = async (options: ResourceServerOptions): Promise<ResourceServer> => {
  const audience = options.audience ?? "https://api.example.test/jwt"
  const jwks = createRemoteJWKSet(new URL(options.jwksUri))
  const seen: Array<string | undefined> = []
  const revoked = new Set<string>()
  let rejectCount = 0

  const send = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    const text = JSON.stringify(body)
    res.writeHead(status, {
      ...corsHeaders,
      "content-type": "application/json",
      "cache-control": "no-store",
      "content-length": String(Buffer.byteLength(text)),
      ...headers
    })
    res.end(text)
  }

  const invalidToken = (res: http.ServerResponse, description: string) =>
    send(res, 401, { error: "invalid_token", error_description: description }, {
      "www-authenticate": `Bearer realm="api", error="invalid_token", error_description="${quoted(description)}"`
    })

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname
    if (req.method === "OPTIONS") {
      res.writeHead(204, corsHeaders)
      res.end()
      return
    }
    if (!isProtected(path)) {
      send(res, 404, { error: "not_found", path })
      return
    }
    const authorization = req.headers.authorization
    seen.push(authorization)
    const match = authorization === undefined ? null : /^bearer +(\S+) *$/i.exec(authorization)
    if (match === null) {
      // RFC 6750 §3.1: no error code when the request has no (Bearer) authentication at all.
      send(res, 401, { error: "unauthorized" }, { "www-authenticate": `Bearer realm="api"` })
      return
    }
    const token = match[1]
    if (rejectCount > 0) {
      rejectCount--
      invalidToken(res, "token rejected by test script")
      return
    }
    if (revoked.has(token)) {
      invalidToken(res, "token has been revoked")
      return
    }
    try {
      const { payload } = await jwtVerify(token, jwks, { issuer: options.issuer, audience, typ: "at+jwt" })
      // RFC 8705 §3: a certificate-bound token is good only with the certificate it is bound to.
      const bound = (payload.cnf as Record<string, unknown> | undefined)?.["x5t#S256"]
      if (bound !== undefined) {
        const presented = presentedThumbprint(req)
        if (presented !== bound) {
          invalidToken(
            res,
            presented === undefined
              ? "the token is bound to a client certificate and none was presented"
              : "the token is bound to another client certificate"
          )
          return
        }
      }
      send(res, 200, {
        ok: true,
        path,
        client_id: payload.client_id,
        scope: payload.scope,
        sub: payload.sub
      })
    } catch (error) {
      const code = (error as { code?: unknown }).code
      const message = error instanceof Error ? error.message : String(error)
      invalidToken(res, typeof code === "string" ? `${code}: ${message}` : message)
    }
  }

  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) send(res, 500, { error: "server_error", error_description: String(error) })
      else res.destroy()
    })
  }
  const tls = options.tls
  const server = tls === undefined
    ? http.createServer(onRequest)
    : https.createServer(
      { key: tls.key, cert: tls.cert, ca: tls.ca, requestCert: true, rejectUnauthorized: false },
      onRequest
    )
  const { close, url } = await listen(server, { scheme: tls === undefined ? "http" : "https" })

  return {
    url,
    requests: () => seen.length,
    seenTokens: () => [...seen],
    rejectNext: (n) => {
      rejectCount = n
    },
    revoke: (token) => {
      revoked.add(token.replace(/^bearer +/i, ""))
    },
    close
  }
}
