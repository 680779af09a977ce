/**
 * A protected API on a random loopback port. It accepts RFC 9068 JWT access tokens sent as RFC 6750 Bearer tokens
 * and answers with RFC 6750 `WWW-Authenticate` challenges. CORS is open so browser tests can call it.
 *
 * DPoP (RFC 9449 §7): a token with `cnf.jkt` is accepted only as `Authorization: DPoP <token>` with a `DPoP` proof
 * that verifies with its own `jwk`, whose thumbprint is the token's `cnf.jkt`, with `htm` and `htu` of this request,
 * a recent `iat`, an unseen `jti`, and `ath` = base64url(SHA-256(token)). With `dpopNonce`, proofs must also carry
 * the nonce it hands out in `DPoP-Nonce` (RFC 9449 §9).
 */
import { calculateJwkThumbprint, createRemoteJWKSet, EmbeddedJWK, jwtVerify } from "jose"
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
  /**
   * Require a server-provided nonce in DPoP proofs (RFC 9449 §9): every response to a protected route carries a
   * `DPoP-Nonce`, and a proof without the current nonce gets `401` with `WWW-Authenticate: DPoP
   * error="use_dpop_nonce"`. The nonce changes every `dpopNonce.rotateEvery` requests (default never); the
   * previous one is still accepted after a change.
   */
  readonly dpopNonce?: boolean | { readonly rotateEvery?: number }
  /** How far a proof's `iat` may be from the server's time, in seconds; default 60. */
  readonly dpopIatWindowSeconds?: number
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
  /** The decoded claims of every DPoP proof that passed verification, in order. */
  acceptedProofs(): ReadonlyArray<Readonly<Record<string, unknown>>>
  /** The DPoP refusals (`use_dpop_nonce`, `invalid_dpop_proof`, `invalid_token`) with their reasons, in order. */
  dpopRefusals(): ReadonlyArray<string>
  /** Closes the server and destroys every open socket. Idempotent. */
  close(): Promise<void>
}

const corsHeaders: Readonly<Record<string, string>> = {
  "access-control-allow-origin": "*",
  "access-control-allow-methods": "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS",
  "access-control-allow-headers": "authorization, content-type, dpop",
  "access-control-expose-headers": "WWW-Authenticate, DPoP-Nonce",
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
  const nonceOption = options.dpopNonce
  const rotateEvery = typeof nonceOption === "object" ? nonceOption.rotateEvery : undefined
  const requireNonce = nonceOption !== undefined && nonceOption !== false
  const iatWindow = options.dpopIatWindowSeconds ?? 60
  let nonce = crypto.randomBytes(16).toString("base64url")
  // After a rotation the previous nonce is still accepted, as servers do, while the new one is handed out.
  let previousNonce: string | undefined
  let sinceRotation = 0
  const seenJtis = new Set<string>()
  const accepted: Array<Record<string, unknown>> = []
  const refusals: Array<string> = []

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

  /** RFC 9449 §7.1: a DPoP challenge, with the nonce when nonces are on. */
  const dpopRefusal = (res: http.ServerResponse, error: string, description: string) => {
    refusals.push(`${error}: ${description}`)
    send(res, 401, { error, error_description: description }, {
      "www-authenticate": `DPoP algs="ES256 EdDSA", error="${error}", error_description="${quoted(description)}"`,
      ...(requireNonce ? { "dpop-nonce": nonce } : {})
    })
  }

  const sha256 = (value: string) => crypto.createHash("sha256").update(value).digest("base64url")

  /** Verifies the request's DPoP proof for `token` bound to `jkt`; the reason of the refusal, or undefined. */
  const checkProof = async (
    req: http.IncomingMessage,
    path: string,
    token: string,
    jkt: string
  ): Promise<{ readonly error: string; readonly reason: string } | undefined> => {
    const proof = req.headers["dpop"]
    if (typeof proof !== "string" || proof.length === 0) {
      return { error: "invalid_dpop_proof", reason: "no DPoP proof" }
    }
    let verified
    try {
      verified = await jwtVerify(proof, EmbeddedJWK, { typ: "dpop+jwt", algorithms: ["ES256", "EdDSA", "Ed25519"] })
    } catch (error) {
      return { error: "invalid_dpop_proof", reason: `the proof does not verify with its jwk: ${String(error)}` }
    }
    const { payload, protectedHeader } = verified
    const host = req.headers.host ?? ""
    const scheme = options.tls === undefined ? "http" : "https"
    if (payload.htm !== req.method) return { error: "invalid_dpop_proof", reason: "htm mismatch" }
    if (payload.htu !== `${scheme}://${host}${path}`) return { error: "invalid_dpop_proof", reason: "htu mismatch" }
    const now = Math.floor(Date.now() / 1000)
    if (typeof payload.iat !== "number" || Math.abs(now - payload.iat) > iatWindow) {
      return { error: "invalid_dpop_proof", reason: "iat outside the accepted window" }
    }
    if (typeof payload.jti !== "string" || seenJtis.has(payload.jti)) {
      return { error: "invalid_dpop_proof", reason: "jti missing or replayed" }
    }
    if (payload.ath !== sha256(token)) return { error: "invalid_dpop_proof", reason: "ath mismatch" }
    if (await calculateJwkThumbprint(protectedHeader.jwk!, "sha256") !== jkt) {
      return { error: "invalid_token", reason: "the proof key is not the key the token is bound to (cnf.jkt)" }
    }
    if (requireNonce && (payload.nonce === undefined || (payload.nonce !== nonce && payload.nonce !== previousNonce))) {
      return { error: "use_dpop_nonce", reason: "a DPoP nonce is required" }
    }
    seenJtis.add(payload.jti)
    accepted.push(payload)
    return undefined
  }

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
    if (requireNonce) {
      if (rotateEvery !== undefined && ++sinceRotation > rotateEvery) {
        sinceRotation = 1
        previousNonce = nonce
        nonce = crypto.randomBytes(16).toString("base64url")
      }
      res.setHeader("dpop-nonce", nonce)
    }
    const match = authorization === undefined ? null : /^(bearer|dpop) +(\S+) *$/i.exec(authorization)
    if (match === null) {
      // RFC 6750 §3.1: no error code when the request has no (Bearer) authentication at all.
      send(res, 401, { error: "unauthorized" }, { "www-authenticate": `Bearer realm="api"` })
      return
    }
    const scheme = match[1].toLowerCase()
    const token = match[2]
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
      // RFC 9449 §7: a DPoP-bound token only with a proof of its key; never as a Bearer token.
      const jkt = (payload.cnf as Record<string, unknown> | undefined)?.["jkt"]
      if (typeof jkt === "string" || scheme === "dpop") {
        if (typeof jkt !== "string") return dpopRefusal(res, "invalid_token", "the token is not DPoP-bound")
        if (scheme !== "dpop") {
          refusals.push("invalid_token: a DPoP-bound token sent as Bearer")
          return invalidToken(res, "the token is DPoP-bound: send it with a DPoP proof")
        }
        const refused = await checkProof(req, path, token, jkt)
        if (refused !== undefined) return dpopRefusal(res, refused.error, refused.reason)
      }
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
      revoked.add(token.replace(/^(bearer|dpop) +/i, ""))
    },
    acceptedProofs: () => [...accepted],
    dpopRefusals: () => [...refusals],
    close
  }
}
