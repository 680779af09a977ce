/**
 * An embedded oidc-provider 9 authorization server on a random loopback port, configured for the OAuth 2.0
 * client credentials grant (RFC 6749 §4.4) with RFC 9068 JWT access tokens, RFC 7662 introspection and RFC 7009
 * revocation; JWT client authentication (RFC 7523) for the clients of {@link AuthServer.jwtClients} and
 * {@link clients}.secretJwt; and, with the `mtls` option, mutual TLS (RFC 8705) on a second, TLS listener.
 */
import * as crypto from "node:crypto"
import * as http from "node:http"
import * as https from "node:https"
import type { TLSSocket } from "node:tls"
import type { ProviderClient, ProviderContext, ProviderToken } from "oidc-provider"
import Provider, { errors } from "oidc-provider"
import { createMemoryAdapter } from "oidc-provider/lib/adapters/memory_adapter.js"
import type { TestPki } from "./Certificates.js"
import { listen } from "./listen.js"

/** Credentials of a statically registered client. */
export interface ClientCredentials {
  readonly id: string
  readonly secret: string
}

/**
 * The statically registered clients. `basic`, `weird`, `unicode` and `resourceServer` authenticate with
 * `client_secret_basic`, `post` with `client_secret_post`, `secretJwt` with `client_secret_jwt` (RFC 7523, its
 * secret long enough for HS512). Every client may request `api:read` and `api:write`.
 */
export const clients = {
  basic: { id: "basic-client", secret: "basic-secret-7Qx" },
  post: { id: "post-client", secret: "post-secret-9Zr" },
  weird: { id: "weird:client id", secret: "s3cr3t:+/%& =~" },
  unicode: { id: "ünïcødé-client", secret: "sëcret-密码-🔑" },
  resourceServer: { id: "resource-server", secret: "rs-secret-4Kp" },
  secretJwt: { id: "secret-jwt-client", secret: "hmac-secret-J8vQ2mX7pL4nR9sT1wY6zB3cF5gH0kD2aE8uI7oP4qW1xZ9vN3bM6tC" },
  /** `client_secret_basic` with `dpop_bound_access_tokens`: a token request without a DPoP proof is refused. */
  dpop: { id: "dpop-client", secret: "dpop-secret-5Hn" }
} as const satisfies Record<string, ClientCredentials>

/** A `private_key_jwt` client: its id and its private key, as a JWK (with `kid` and `alg`) and as PKCS#8 PEM. */
export interface KeyClient {
  readonly id: string
  readonly kid: string
  readonly alg: "ES256" | "RS256"
  readonly privateJwk: Readonly<Record<string, unknown>>
  readonly privateKeyPem: string
}

/** The ids of the mutual-TLS clients (with the `mtls` option): CA-issued and self-signed certificates. */
export const mtlsClients = {
  tls: "mtls-client",
  selfSigned: "self-signed-mtls-client"
} as const

/** The signing algorithms the server accepts for client assertions (oidc-provider's default lacks ES384/512, HS384/512). */
const assertionAlgorithms = [
  "HS256",
  "HS384",
  "HS512",
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "Ed25519",
  "EdDSA"
]

const makeKeyClient = (id: string, alg: "ES256" | "RS256", pair: crypto.KeyPairKeyObjectResult): KeyClient => {
  const kid = `${id}-${alg.toLowerCase()}`
  return {
    id,
    kid,
    alg,
    privateJwk: { ...pair.privateKey.export({ format: "jwk" }), kid, alg, use: "sig" },
    privateKeyPem: pair.privateKey.export({ format: "pem", type: "pkcs8" }) as string
  }
}

let keyClients: { readonly es256: KeyClient; readonly rs256: KeyClient } | undefined

/** The private_key_jwt clients' keys: made once per process (RSA key generation is slow). */
const jwtKeyClients = () =>
  keyClients ??= {
    es256: makeKeyClient("jwt-es256-client", "ES256", crypto.generateKeyPairSync("ec", { namedCurve: "P-256" })),
    rs256: makeKeyClient("jwt-rs256-client", "RS256", crypto.generateKeyPairSync("rsa", { modulusLength: 2048 }))
  }

/** The registered public key: without `alg`, so that the RSA key may sign RS256 or PS256. */
const publicJwkOf = (client: KeyClient) => {
  const { alg: _alg, d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...rest } = client.privateJwk
  return rest
}

/** The scopes the server knows. `api:admin` is known but no client may request it (→ `invalid_scope`). */
export const scopes: ReadonlyArray<string> = ["api:read", "api:write", "api:admin"]

/** The scopes every registered client is allowed to request. */
export const clientScope = "api:read api:write"

/** Resource indicator (RFC 8707) whose access tokens are RFC 9068 JWTs. It is the default resource. */
export const jwtResource = "https://api.example.test/jwt"

/** Resource indicator whose access tokens are opaque (use introspection to validate them). */
export const opaqueResource = "https://api.example.test/opaque"

export interface AuthServerOptions {
  /** Lifetime of issued access tokens in seconds. Default 300. */
  readonly accessTokenTTL?: number
  /**
   * Reject any requested scope that is not in {@link scopes} with `400 invalid_scope`. oidc-provider itself silently
   * drops unknown scopes. Default true.
   */
  readonly strictScopes?: boolean
  /**
   * A path for the issuer (`/tenant-a` gives the issuer `http://127.0.0.1:<port>/tenant-a`): the provider is mounted
   * there, and the RFC 8414 metadata is served at `/.well-known/oauth-authorization-server/tenant-a` (RFC 8414 §3.1).
   */
  readonly issuerPath?: string
  /** Which metadata locations answer (the others 404). Default both. */
  readonly wellKnown?: {
    /** RFC 8414 `/.well-known/oauth-authorization-server` */
    readonly oauthAuthorizationServer?: boolean
    /** OpenID Connect Discovery `/.well-known/openid-configuration` */
    readonly openidConfiguration?: boolean
  }
  /**
   * Mutual TLS (RFC 8705): a second listener over TLS with the PKI's server certificate, which asks for a client
   * certificate (the CA-issued ones verify, the self-signed one reaches the application unverified). Its token
   * endpoint is published as `mtls_endpoint_aliases.token_endpoint`; the plain listener sees no certificate. The
   * clients of {@link mtlsClients} get certificate-bound access tokens (`cnf.x5t#S256`).
   */
  readonly mtls?: { readonly pki: TestPki }
  /**
   * DPoP nonces (RFC 9449 §8): every DPoP proof at the token endpoint must carry a nonce the server issued
   * (`features.dPoP.requireNonce`); a proof without one gets `400 use_dpop_nonce` with a `DPoP-Nonce` header.
   * Default false (DPoP itself is always on, as in oidc-provider).
   */
  readonly dpopNonce?: boolean
  /** More client registrations, as oidc-provider takes them (the demo registers its key this way). */
  readonly extraClients?: ReadonlyArray<Readonly<Record<string, unknown>>>
}

export interface AuthServer {
  /** `http://127.0.0.1:<port>` (plus `issuerPath`) */
  readonly issuer: string
  readonly tokenEndpoint: string
  /** With `mtls`: the token endpoint on the TLS listener (`https://127.0.0.1:<port>/token`), else undefined. */
  readonly mtlsTokenEndpoint: string | undefined
  /** The `private_key_jwt` clients (ES256 and RS256) with their private keys. */
  readonly jwtClients: { readonly es256: KeyClient; readonly rs256: KeyClient }
  readonly jwksUri: string
  readonly introspectionEndpoint: string
  readonly revocationEndpoint: string
  /** Number of `POST /token` requests seen since start or the last {@link resetCount}. */
  tokenRequests(): number
  resetCount(): void
  /** Closes the server and destroys every open socket. Idempotent. */
  close(): Promise<void>
}

const clientMetadata = (
  client: ClientCredentials,
  method: "client_secret_basic" | "client_secret_post" | "client_secret_jwt"
) => ({
  client_id: client.id,
  client_secret: client.secret,
  grant_types: ["client_credentials"],
  redirect_uris: [],
  response_types: [],
  scope: clientScope,
  token_endpoint_auth_method: method
})

const keyClientMetadata = (client: KeyClient) => ({
  client_id: client.id,
  grant_types: ["client_credentials"],
  redirect_uris: [],
  response_types: [],
  scope: clientScope,
  token_endpoint_auth_method: "private_key_jwt",
  jwks: { keys: [publicJwkOf(client)] }
})

const mtlsClientMetadata = (pki: TestPki) => {
  const common = {
    grant_types: ["client_credentials"],
    redirect_uris: [],
    response_types: [],
    scope: clientScope,
    tls_client_certificate_bound_access_tokens: true
  }
  const selfSigned = new crypto.X509Certificate(pki.selfSigned.cert)
  return [
    {
      ...common,
      client_id: mtlsClients.tls,
      token_endpoint_auth_method: "tls_client_auth",
      tls_client_auth_subject_dn: pki.client.subject
    },
    {
      ...common,
      client_id: mtlsClients.selfSigned,
      token_endpoint_auth_method: "self_signed_tls_client_auth",
      jwks: { keys: [{ ...selfSigned.publicKey.export({ format: "jwk" }), x5c: [selfSigned.raw.toString("base64")] }] }
    }
  ]
}

/** The client certificate of a request over the TLS listener, if one was presented. */
const peerCertificate = (ctx: ProviderContext): crypto.X509Certificate | undefined => {
  const socket = ctx.req.socket as Partial<TLSSocket>
  if (typeof socket.getPeerCertificate !== "function") return undefined
  const peer = socket.getPeerCertificate(true)
  return peer !== null && peer.raw !== undefined ? new crypto.X509Certificate(peer.raw) : undefined
}

/** The subject DN as RFC 4514 text (most specific first), as `Certificates` reports it. */
const subjectOf = (certificate: crypto.X509Certificate): string => certificate.subject.split("\n").reverse().join(",")

/**
 * oidc-provider only accepts `client_id` / `client_secret` made of VSCHAR (%x20-7E, RFC 6749 Appendix A) in a Basic
 * header and answers `400 invalid_request` otherwise, so it can never accept the unicode client over
 * `client_secret_basic`. The server therefore decodes such a header itself, strictly per RFC 6749 §2.3.1 (the
 * base64 payload must be pure ASCII, i.e. really form-urlencoded UTF-8), and when it names the unicode client it is
 * forwarded to oidc-provider as an ASCII alias client. A JWT customizer puts the unicode id back into issued JWTs.
 * oidc-provider also refuses the unicode `client_id` as client metadata ("invalid client_id value"), so the unicode
 * client is only registered as that alias and cannot use `client_secret_post` (401 invalid_client).
 */
const unicodeAliasId = "unicode-client-alias"

const formEncode = (value: string): string => encodeURIComponent(value).replace(/%20/g, "+")

const formDecode = (value: string): string | undefined => {
  try {
    return decodeURIComponent(value.replace(/\+/g, "%20"))
  } catch {
    return undefined
  }
}

const basicHeader = (id: string, secret: string): string =>
  `Basic ${Buffer.from(`${formEncode(id)}:${formEncode(secret)}`, "utf8").toString("base64")}`

const rewriteUnicodeBasic = (authorization: string, aliasSecret: string): string | undefined => {
  const match = /^basic +([A-Za-z0-9+/]+=*) *$/i.exec(authorization)
  if (match === null) return undefined
  const decoded = Buffer.from(match[1], "base64").toString("latin1")
  if (!/^[\x21-\x7e]*$/.test(decoded)) return undefined
  const colon = decoded.indexOf(":")
  if (colon === -1) return undefined
  const id = formDecode(decoded.slice(0, colon))
  const secret = formDecode(decoded.slice(colon + 1))
  if (id !== clients.unicode.id || secret === undefined) return undefined
  // A wrong secret is forwarded as a wrong alias secret, so oidc-provider answers 401 invalid_client as usual.
  return basicHeader(unicodeAliasId, secret === clients.unicode.secret ? aliasSecret : `wrong-${aliasSecret}`)
}

/** Starts an authorization server on `127.0.0.1` with a random port. */
export const startAuthServer = async (options: AuthServerOptions = {}): Promise<AuthServer> => {
  const accessTokenTTL = options.accessTokenTTL ?? 300
  const strictScopes = options.strictScopes ?? true

  let count = 0
  const server = http.createServer()
  const issuerPath = (options.issuerPath ?? "").replace(/\/+$/, "")
  const plain = await listen(server)
  const issuer = `${plain.url}${issuerPath}`
  const mtls = options.mtls
  const tlsServer = mtls === undefined ? undefined : https.createServer({
    key: mtls.pki.server.key,
    cert: mtls.pki.server.cert,
    ca: mtls.pki.ca.cert,
    requestCert: true,
    // The self-signed client certificate must reach oidc-provider, which checks it against the client's JWK Set.
    rejectUnauthorized: false
  })
  const secure = tlsServer === undefined ? undefined : await listen(tlsServer, { scheme: "https" }).catch(
    async (error: unknown) => {
      await plain.close()
      throw error
    }
  )
  const mtlsTokenEndpoint = secure === undefined ? undefined : `${secure.url}${issuerPath}/token`
  const close = () => Promise.all([plain.close(), secure?.close()]).then(() => undefined)
  const jwtClients = jwtKeyClients()

  const signingKey = {
    ...crypto.generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ format: "jwk" }),
    kid: `es256-${crypto.randomBytes(6).toString("hex")}`,
    use: "sig",
    alg: "ES256"
  }

  const aliasSecret = crypto.randomBytes(16).toString("hex")
  const knownScopes = new Set(scopes)

  const getResourceServerInfo = (ctx: ProviderContext, resourceIndicator: string) => {
    if (strictScopes) {
      const requested = ctx.oidc?.params?.scope
      if (typeof requested === "string") {
        const unknown = requested.split(" ").filter((scope) => scope !== "" && !knownScopes.has(scope))
        if (unknown.length > 0) {
          throw new errors.InvalidScope("requested scope is not allowed", unknown.join(" "))
        }
      }
    }
    const common = { scope: scopes.join(" "), audience: resourceIndicator, accessTokenTTL }
    switch (resourceIndicator) {
      case jwtResource:
        return { ...common, accessTokenFormat: "jwt", jwt: { sign: { alg: "ES256" } } }
      case opaqueResource:
        return { ...common, accessTokenFormat: "opaque" }
      default:
        throw new errors.InvalidTarget()
    }
  }

  const provider = new Provider(issuer, {
    clients: [
      clientMetadata(clients.basic, "client_secret_basic"),
      clientMetadata(clients.post, "client_secret_post"),
      clientMetadata(clients.weird, "client_secret_basic"),
      clientMetadata(clients.resourceServer, "client_secret_basic"),
      clientMetadata({ id: unicodeAliasId, secret: aliasSecret }, "client_secret_basic"),
      clientMetadata(clients.secretJwt, "client_secret_jwt"),
      { ...clientMetadata(clients.dpop, "client_secret_basic"), dpop_bound_access_tokens: true },
      keyClientMetadata(jwtClients.es256),
      keyClientMetadata(jwtClients.rs256),
      ...(mtls !== undefined ? mtlsClientMetadata(mtls.pki) : []),
      ...(options.extraClients ?? [])
    ],
    clientAuthMethods: [
      "client_secret_basic",
      "client_secret_jwt",
      "client_secret_post",
      "private_key_jwt",
      "none",
      ...(mtls !== undefined ? ["tls_client_auth", "self_signed_tls_client_auth"] : [])
    ],
    enabledJWA: { clientAuthSigningAlgValues: assertionAlgorithms },
    ...(mtlsTokenEndpoint !== undefined
      ? { discovery: { mtls_endpoint_aliases: { token_endpoint: mtlsTokenEndpoint } } }
      : {}),
    clientDefaults: {
      grant_types: ["client_credentials"],
      id_token_signed_response_alg: "ES256",
      response_types: [],
      token_endpoint_auth_method: "client_secret_basic"
    },
    jwks: { keys: [signingKey] },
    cookies: { keys: [crypto.randomBytes(32).toString("base64url")] },
    adapter: createMemoryAdapter(),
    scopes: [...scopes],
    clientBasedCORS: () => true,
    renderError: (ctx: { type: string; body: string }, out: Record<string, unknown>) => {
      ctx.type = "application/json"
      ctx.body = JSON.stringify(out)
    },
    formats: {
      customizers: {
        jwt: (_ctx: unknown, _token: unknown, jwt: { payload: Record<string, unknown> }) => {
          if (jwt.payload.client_id === unicodeAliasId) {
            jwt.payload.client_id = clients.unicode.id
            if (jwt.payload.sub === unicodeAliasId) jwt.payload.sub = clients.unicode.id
          }
        }
      }
    },
    ttl: {
      AccessToken: accessTokenTTL,
      ClientCredentials: accessTokenTTL
    },
    features: {
      devInteractions: { enabled: false },
      ...(mtls !== undefined
        ? {
          mTLS: {
            enabled: true,
            certificateBoundAccessTokens: true,
            tlsClientAuth: true,
            selfSignedTlsClientAuth: true,
            getCertificate: peerCertificate,
            // Verified against the PKI's CA by the TLS listener (requestCert with the CA, rejectUnauthorized off).
            certificateAuthorized: (ctx: ProviderContext) => (ctx.req.socket as Partial<TLSSocket>).authorized === true,
            certificateSubjectMatches: (ctx: ProviderContext, property: string, expected: string) => {
              const certificate = peerCertificate(ctx)
              return property === "tls_client_auth_subject_dn" && certificate !== undefined &&
                subjectOf(certificate) === expected
            }
          }
        }
        : {}),
      clientCredentials: { enabled: true },
      dPoP: {
        enabled: true,
        ...(options.dpopNonce === true
          ? { nonceSecret: crypto.randomBytes(32), requireNonce: () => true }
          : {})
      },
      introspection: {
        enabled: true,
        allowedPolicy: (_ctx: unknown, client: ProviderClient) => client.clientAuthMethod !== "none"
      },
      revocation: {
        enabled: true,
        allowedPolicy: (_ctx: unknown, client: ProviderClient, token: ProviderToken) =>
          token.clientId === client.clientId || client.clientId === clients.resourceServer.id
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => jwtResource,
        useGrantedResource: () => false,
        getResourceServerInfo
      }
    }
  })

  provider.on("server_error", (_ctx: unknown, error: unknown) => {
    console.error("AuthServer: oidc-provider server_error", error)
  })

  const callback = provider.callback()
  const wellKnown = {
    oauthAuthorizationServer: options.wellKnown?.oauthAuthorizationServer ?? true,
    openidConfiguration: options.wellKnown?.openidConfiguration ?? true
  }
  const notFound = (res: http.ServerResponse) => {
    res.writeHead(404, { "content-type": "application/json" })
    res.end(JSON.stringify({ error: "not_found" }))
  }
  const handle = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const original = req.url ?? "/"
    const [pathname, query] = original.split(/\?(.*)/s, 2) as [string, string | undefined]
    const search = query !== undefined ? `?${query}` : ""
    // RFC 8414 §3.1: the metadata of an issuer with a path lives at /.well-known/oauth-authorization-server<path>.
    let path: string | undefined
    if (pathname === `/.well-known/oauth-authorization-server${issuerPath}`) {
      path = wellKnown.oauthAuthorizationServer ? "/.well-known/oauth-authorization-server" : undefined
    } else if (pathname === `${issuerPath}/.well-known/openid-configuration`) {
      path = wellKnown.openidConfiguration ? "/.well-known/openid-configuration" : undefined
    } else if (pathname.startsWith(".well-known", 1) || pathname.startsWith(`${issuerPath}/.well-known/`)) {
      path = undefined
    } else if (issuerPath === "" || pathname.startsWith(`${issuerPath}/`)) {
      path = pathname.slice(issuerPath.length)
    }
    if (path === undefined) return notFound(res)
    if (req.method === "POST" && path === "/token") count++
    const authorization = req.headers.authorization
    if (authorization !== undefined) {
      const rewritten = rewriteUnicodeBasic(authorization, aliasSecret)
      if (rewritten !== undefined) req.headers.authorization = rewritten
    } // Mounted below issuerPath: oidc-provider reads its mount path from originalUrl minus url.

    ;(req as { originalUrl?: string }).originalUrl = `${issuerPath}${path}${search}`
    req.url = `${path}${search}`
    callback(req, res)
  }
  server.on("request", handle)
  tlsServer?.on("request", handle)

  return {
    issuer,
    mtlsTokenEndpoint,
    jwtClients,
    tokenEndpoint: `${issuer}/token`,
    jwksUri: `${issuer}/jwks`,
    introspectionEndpoint: `${issuer}/token/introspection`,
    revocationEndpoint: `${issuer}/token/revocation`,
    tokenRequests: () => count,
    resetCount: () => {
      count = 0
    },
    close
  }
}
