/**
 * An embedded oidc-provider 9 authorization server on a random loopback port, configured for the OAuth 2.0
 * client credentials grant (RFC 6749 §4.4) with RFC 9068 JWT access tokens, RFC 7662 introspection and RFC 7009
 * revocation.
 */
import * as crypto from "node:crypto"
import * as http from "node:http"
import type { ProviderClient, ProviderContext, ProviderToken } from "oidc-provider"
import Provider, { errors } from "oidc-provider"
import { createMemoryAdapter } from "oidc-provider/lib/adapters/memory_adapter.js"
import { listen } from "./listen.js"

/** Credentials of a statically registered client. */
export interface ClientCredentials {
  readonly id: string
  readonly secret: string
}

/**
 * The statically registered clients. `basic`, `weird`, `unicode` and `resourceServer` authenticate with
 * `client_secret_basic`, `post` with `client_secret_post`. Every client may request `api:read` and `api:write`.
 */
export const clients = {
  basic: { id: "basic-client", secret: "basic-secret-7Qx" },
  post: { id: "post-client", secret: "post-secret-9Zr" },
  weird: { id: "weird:client id", secret: "s3cr3t:+/%& =~" },
  unicode: { id: "ünïcødé-client", secret: "sëcret-密码-🔑" },
  resourceServer: { id: "resource-server", secret: "rs-secret-4Kp" }
} as const satisfies Record<string, ClientCredentials>

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
}

export interface AuthServer {
  /** `http://127.0.0.1:<port>` */
  readonly issuer: string
  readonly tokenEndpoint: string
  readonly jwksUri: string
  readonly introspectionEndpoint: string
  readonly revocationEndpoint: string
  /** Number of `POST /token` requests seen since start or the last {@link resetCount}. */
  tokenRequests(): number
  resetCount(): void
  /** Closes the server and destroys every open socket. Idempotent. */
  close(): Promise<void>
}

const clientMetadata = (client: ClientCredentials, method: "client_secret_basic" | "client_secret_post") => ({
  client_id: client.id,
  client_secret: client.secret,
  grant_types: ["client_credentials"],
  redirect_uris: [],
  response_types: [],
  scope: clientScope,
  token_endpoint_auth_method: method
})

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
  const { close, url: issuer } = await listen(server)

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
      clientMetadata({ id: unicodeAliasId, secret: aliasSecret }, "client_secret_basic")
    ],
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
      clientCredentials: { enabled: true },
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
  server.on("request", (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (req.method === "POST" && (req.url ?? "").split("?")[0] === "/token") {
      count++
    }
    const authorization = req.headers.authorization
    if (authorization !== undefined) {
      const rewritten = rewriteUnicodeBasic(authorization, aliasSecret)
      if (rewritten !== undefined) req.headers.authorization = rewritten
    }
    callback(req, res)
  })

  return {
    issuer,
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
