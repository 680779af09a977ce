import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Encoding from "effect/Encoding"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import type * as Testing from "../Testing.js"

// ---------------------------------------------------------------------------------------------------------------
// Replies
// ---------------------------------------------------------------------------------------------------------------

const nullBodyStatuses = new Set([204, 205, 304])

/** @internal */
export const toResponse = (reply: Testing.Reply): Response => {
  if (reply instanceof Response) return reply
  const headers = new Headers(reply.headers ?? {})
  if (reply.json !== undefined && !headers.has("content-type")) headers.set("content-type", "application/json")
  const status = reply.status ?? 200
  const body = reply.json !== undefined ? JSON.stringify(reply.json) : reply.text ?? ""
  return new Response(nullBodyStatuses.has(status) ? null : body, { status, headers })
}

/** The body of an in-memory request as text. @internal */
export const bodyText = (request: HttpClientRequest.HttpClientRequest): string => {
  const body = request.body
  switch (body._tag) {
    case "Uint8Array":
      return new TextDecoder().decode(body.body)
    case "Raw":
      return typeof body.body === "string"
        ? body.body
        : body.body instanceof Uint8Array
        ? new TextDecoder().decode(body.body)
        : body.body instanceof URLSearchParams
        ? body.body.toString()
        : ""
    default:
      return ""
  }
}

/** An RFC 6749 §5.2 error body, with `Cache-Control: no-store` as §5.1 asks of every token response. */
const errorReply = (
  status: number,
  error: string,
  description?: string,
  headers: Record<string, string> = {}
): Testing.Reply => ({
  status,
  json: { error, ...(description !== undefined ? { error_description: description } : {}) },
  headers: { "cache-control": "no-store", pragma: "no-cache", ...headers }
})

// ---------------------------------------------------------------------------------------------------------------
// Client authentication (RFC 6749 §2.3)
// ---------------------------------------------------------------------------------------------------------------

/**
 * `application/x-www-form-urlencoded` decoding of one value: `+` is a space, `%XX` are UTF-8 bytes. `undefined`
 * when the value holds a malformed escape.
 */
const formDecode = (value: string): string | undefined => {
  try {
    return decodeURIComponent(value.replace(/\+/g, "%20"))
  } catch {
    return undefined
  }
}

/** The id and secret of a `Basic` header: base64 of UTF-8 (RFC 7617), each part form-decoded (RFC 6749 §2.3.1). */
const basicCredentials = (
  header: string,
  decoding: "form" | "none"
): { readonly id: string; readonly secret: string } | undefined => {
  const match = /^basic +([A-Za-z0-9+/]+=*) *$/i.exec(header)
  if (match === null) return undefined
  const bytes = Encoding.decodeBase64(match[1]!)
  if (bytes._tag === "Left") return undefined
  let joined: string
  try {
    joined = new TextDecoder("utf-8", { fatal: true }).decode(bytes.right)
  } catch {
    return undefined
  }
  const colon = joined.indexOf(":")
  if (colon === -1) return undefined
  const decode = decoding === "form" ? formDecode : (s: string) => s
  const id = decode(joined.slice(0, colon))
  const secret = decode(joined.slice(colon + 1))
  return id === undefined || secret === undefined ? undefined : { id, secret }
}

const single = (request: Testing.IncomingTokenRequest, name: string): string | undefined => {
  const values = request.form.getAll(name)
  return values.length === 1 && values[0]!.length > 0 ? values[0] : undefined
}

const secretOf = (client: Testing.Client): string | undefined =>
  client.secret === undefined ? undefined : Redacted.isRedacted(client.secret)
    ? Redacted.value(client.secret)
    : client.secret

/** Constant-time enough for a test server: compares whole strings, never reports where they differ. */
const sameSecret = (expected: string | undefined, given: string): boolean =>
  expected !== undefined && expected === given

/** @internal */
export const clientSecretBasic: Testing.Authenticator = {
  method: "client_secret_basic",
  identify: (request, clients) => {
    const header = request.headers["authorization"]
    if (header === undefined || !/^basic /i.test(header)) return undefined
    const raw = basicCredentials(header, "none")
    if (raw === undefined) return { error: "the Basic credentials are not base64 of UTF-8 id:secret" }
    // The id is form-decoded (RFC 6749 §2.3.1), unless it names a client registered as a server that does not.
    if (clients.get(raw.id)?.basicDecoding === "none") return { clientId: raw.id }
    return { clientId: basicCredentials(header, "form")?.id ?? raw.id }
  },
  verify: (client, request) => {
    const credentials = basicCredentials(request.headers["authorization"] ?? "", client.basicDecoding ?? "form")
    return Effect.succeed(
      credentials !== undefined && credentials.id === client.id &&
        sameSecret(secretOf(client), credentials.secret)
    )
  }
}

/** @internal */
export const clientSecretPost: Testing.Authenticator = {
  method: "client_secret_post",
  identify: (request) => {
    if (!request.form.has("client_secret")) return undefined
    const id = single(request, "client_id")
    return id === undefined ? { error: "client_secret_post needs exactly one client_id" } : { clientId: id }
  },
  verify: (client, request) => Effect.succeed(sameSecret(secretOf(client), single(request, "client_secret") ?? ""))
}

/** @internal */
export const none: Testing.Authenticator = {
  method: "none",
  identify: (request) => {
    const id = single(request, "client_id")
    return id === undefined ? undefined : { clientId: id }
  },
  verify: () => Effect.succeed(true)
}

/** The methods a real server recognises without help; `none` is what is left when no other method applies. */
const builtIn: ReadonlyArray<Testing.Authenticator> = [clientSecretBasic, clientSecretPost]

type Identified =
  | { readonly _tag: "Client"; readonly client: Testing.Client; readonly method: string }
  | { readonly _tag: "Refused"; readonly reply: Testing.Reply; readonly clientId: string | undefined }

const authenticate = (
  request: Testing.IncomingTokenRequest,
  clients: ReadonlyMap<string, Testing.Client>,
  authenticators: ReadonlyArray<Testing.Authenticator>
): Effect.Effect<Identified> =>
  Effect.gen(function*() {
    const usedBasic = /^basic /i.test(request.headers["authorization"] ?? "")
    // RFC 6749 §5.2: a failed Basic authentication is a 401 with a WWW-Authenticate challenge for that scheme.
    const invalidClient = (clientId: string | undefined): Identified => ({
      _tag: "Refused",
      clientId,
      reply: errorReply(
        401,
        "invalid_client",
        "client authentication failed",
        usedBasic ? { "www-authenticate": "Basic realm=\"token\"" } : {}
      )
    })
    const found: Array<{ readonly authenticator: Testing.Authenticator; readonly clientId: string }> = []
    for (const authenticator of authenticators) {
      const identified = authenticator.identify(request, clients)
      if (identified === undefined) continue
      if ("error" in identified) {
        return { _tag: "Refused", clientId: undefined, reply: errorReply(400, "invalid_request", identified.error) }
      }
      found.push({ authenticator, clientId: identified.clientId })
    }
    if (found.length > 1) {
      // RFC 6749 §2.3: a client must not use more than one authentication method in a request.
      return {
        _tag: "Refused",
        clientId: found[0]!.clientId,
        reply: errorReply(
          400,
          "invalid_request",
          `more than one client authentication method: ${found.map((f) => f.authenticator.method).join(", ")}`
        )
      }
    }
    const chosen = found[0] ?? (() => {
      const identified = none.identify(request, clients)
      return identified !== undefined && !("error" in identified)
        ? { authenticator: none, clientId: identified.clientId }
        : undefined
    })()
    if (chosen === undefined) {
      return { _tag: "Refused", clientId: undefined, reply: errorReply(401, "invalid_client", "no client identified") }
    }
    const client = clients.get(chosen.clientId)
    if (client === undefined) return invalidClient(chosen.clientId)
    if (methodOf(client) !== chosen.authenticator.method) return invalidClient(client.id)
    const verified = yield* chosen.authenticator.verify(client, request)
    return verified ? { _tag: "Client", client, method: chosen.authenticator.method } : invalidClient(client.id)
  })

/** @internal */
export const methodOf = (client: Testing.Client): string =>
  client.authMethod ?? (client.secret !== undefined ? "client_secret_basic" : "none")

// ---------------------------------------------------------------------------------------------------------------
// Tokens
// ---------------------------------------------------------------------------------------------------------------

const base64Url = (input: string | Uint8Array) => Encoding.encodeBase64Url(input)

/** An RFC 9068 JWT access token, signed with HS256 under a key only this server holds. */
const signJwt = (key: CryptoKey, claims: Record<string, unknown>): Effect.Effect<string> =>
  Effect.promise(async () => {
    const input = `${base64Url(JSON.stringify({ alg: "HS256", typ: "at+jwt" }))}.${base64Url(JSON.stringify(claims))}`
    const signature = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(input))
    return `${input}.${base64Url(new Uint8Array(signature))}`
  })

const newKey: Effect.Effect<CryptoKey> = Effect.promise(() =>
  crypto.subtle.importKey(
    "raw",
    crypto.getRandomValues(new Uint8Array(32)),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"]
  )
)

interface State {
  /** How many tokens were issued: the next opaque token is `tok-<issuedCount + 1>`. */
  readonly issuedCount: number
  readonly issued: ReadonlyMap<string, Testing.IssuedToken>
  readonly revoked: ReadonlySet<string>
  readonly tokenRequests: ReadonlyArray<Testing.TokenRequestRecord>
  readonly apiRequests: ReadonlyArray<Testing.ApiRequestRecord>
  readonly script: ReadonlyArray<Testing.Step>
}

const emptyState: State = {
  issuedCount: 0,
  issued: new Map(),
  revoked: new Set(),
  tokenRequests: [],
  apiRequests: [],
  script: []
}

const now = Effect.clockWith((clock) => clock.currentTimeMillis)

/** Form fields whose values are never recorded: they prove who the client is. */
const secretFields = new Set(["client_secret", "client_assertion"])

const recordForm = (form: URLSearchParams): Record<string, ReadonlyArray<string>> => {
  const record: Record<string, Array<string>> = {}
  for (const [key, value] of form) (record[key] ??= []).push(secretFields.has(key) ? "[redacted]" : value)
  return record
}

const bearerOf = (headers: Readonly<Record<string, string>>): string | undefined => {
  const match = /^bearer +(\S+) *$/i.exec(headers["authorization"] ?? "")
  return match === null ? undefined : match[1]
}

const lifetimeOf = (client: Testing.Client): number | undefined => {
  if (client.expiresIn === null) return undefined
  return Duration.toMillis(Duration.decode(client.expiresIn ?? Duration.hours(1)))
}

const retryAfterHeader = (retryAfter: Duration.DurationInput | undefined): Record<string, string> =>
  retryAfter === undefined
    ? {}
    : { "retry-after": String(Math.ceil(Duration.toMillis(Duration.decode(retryAfter)) / 1000)) }

// ---------------------------------------------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------------------------------------------

/** @internal */
export const defaultTokenUrl = "https://auth.test/oauth2/token"

/** @internal */
export const make = (
  options: Testing.Options
): Effect.Effect<{ readonly server: Testing.Service; readonly client: HttpClient.HttpClient }> =>
  Effect.gen(function*() {
    const tokenUrl = new URL(options.tokenUrl ?? defaultTokenUrl)
    const issuer = options.issuer ?? tokenUrl.origin
    const clients = new Map<string, Testing.Client>()
    for (const client of options.clients) {
      if (clients.has(client.id)) return yield* Effect.dieMessage(`Testing: client "${client.id}" is registered twice`)
      clients.set(client.id, client)
    }
    const authenticators = [...(options.authenticators ?? []), ...builtIn]
    const api = options.api ?? protect(echo)
    const state = yield* Ref.make(emptyState)
    const key = yield* newKey

    const check = (token: string | Redacted.Redacted<string> | undefined): Effect.Effect<Testing.TokenCheck> =>
      Effect.gen(function*() {
        if (token === undefined) return { _tag: "Invalid", reason: "missing" } as const
        const value = Redacted.isRedacted(token) ? Redacted.value(token) : token
        const current = yield* Ref.get(state)
        const issued = current.issued.get(value)
        if (issued === undefined) return { _tag: "Invalid", reason: "unknown" } as const
        if (current.revoked.has(value)) {
          return { _tag: "Invalid", reason: "revoked", clientId: issued.clientId } as const
        }
        const at = yield* now
        if (issued.expiresAt !== undefined && at >= issued.expiresAt) {
          return { _tag: "Invalid", reason: "expired", clientId: issued.clientId } as const
        }
        return { _tag: "Valid", clientId: issued.clientId, scopes: issued.scopes, expiresAt: issued.expiresAt } as const
      })

    const issue = (client: Testing.Client, request: Testing.IncomingTokenRequest, scopes: ReadonlyArray<string>) =>
      Effect.gen(function*() {
        const at = yield* now
        const lifetime = lifetimeOf(client)
        const n = yield* Ref.modify(
          state,
          (s): [number, State] => [s.issuedCount + 1, { ...s, issuedCount: s.issuedCount + 1 }]
        )
        const audience = request.form.get("resource") ?? request.form.get("audience") ?? issuer
        const token = client.tokenFormat === "jwt"
          ? yield* signJwt(key, {
            iss: issuer,
            sub: client.id,
            client_id: client.id,
            aud: audience,
            iat: Math.floor(at / 1000),
            ...(lifetime !== undefined ? { exp: Math.floor((at + lifetime) / 1000) } : {}),
            jti: `jti-${n}`,
            ...(scopes.length > 0 ? { scope: scopes.join(" ") } : {})
          })
          : `tok-${n}`
        const issued: Testing.IssuedToken = {
          accessToken: Redacted.make(token),
          clientId: client.id,
          scopes,
          issuedAt: at,
          expiresAt: lifetime !== undefined ? at + lifetime : undefined
        }
        yield* Ref.update(state, (s) => ({ ...s, issued: new Map(s.issued).set(token, issued) }))
        const reply: Testing.Reply = {
          json: {
            access_token: token,
            token_type: "Bearer",
            ...(lifetime !== undefined ? { expires_in: Math.floor(lifetime / 1000) } : {}),
            ...(scopes.length > 0 ? { scope: scopes.join(" ") } : {})
          },
          headers: { "cache-control": "no-store", pragma: "no-cache" }
        }
        return reply
      })

    /** RFC 6749 §3.2, §2.3, §4.4.2, §3.3: what a real token endpoint checks, in that order. */
    const tokenEndpoint = (request: Testing.IncomingTokenRequest) =>
      Effect.gen(function*() {
        if (request.method !== "POST") {
          return { reply: errorReply(405, "invalid_request", "the token endpoint takes POST only (RFC 6749 §3.2)") }
        }
        const type = (request.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase()
        if (type !== "application/x-www-form-urlencoded") {
          return { reply: errorReply(400, "invalid_request", "the body must be application/x-www-form-urlencoded") }
        }
        for (const name of ["grant_type", "scope", "client_id", "client_secret", "audience"]) {
          if (request.form.getAll(name).length > 1) {
            return { reply: errorReply(400, "invalid_request", `"${name}" is repeated (RFC 6749 §3.1)`) }
          }
        }
        const identified = yield* authenticate(request, clients, authenticators)
        if (identified._tag === "Refused") return { reply: identified.reply, clientId: identified.clientId }
        const client = identified.client
        const known = { clientId: client.id, authMethod: identified.method }
        const grantType = request.form.get("grant_type")
        if (grantType === null || grantType.length === 0) {
          return { ...known, reply: errorReply(400, "invalid_request", "grant_type is missing") }
        }
        if (grantType !== "client_credentials") {
          return { ...known, reply: errorReply(400, "unsupported_grant_type", `grant_type ${grantType}`) }
        }
        const requested = (request.form.get("scope") ?? "").split(" ").filter((scope) => scope.length > 0)
        const allowed = client.scopes
        if (allowed !== undefined) {
          const refused = requested.filter((scope) => !allowed.includes(scope))
          if (refused.length > 0) {
            return {
              ...known,
              reply: errorReply(400, "invalid_scope", `not allowed for this client: ${refused.join(" ")}`)
            }
          }
        }
        const scopes = requested.length > 0 ? requested : allowed ?? []
        return { ...known, scopes, reply: yield* issue(client, request, scopes) }
      })

    const nextStep = Ref.modify(
      state,
      (s): [Testing.Step | undefined, State] =>
        s.script.length === 0 ? [undefined, s] : [s.script[0], { ...s, script: s.script.slice(1) }]
    )

    const record = (entry: Testing.TokenRequestRecord) =>
      Ref.update(state, (s) => ({ ...s, tokenRequests: [...s.tokenRequests, entry] }))

    const onTokenRequest = (
      httpRequest: HttpClientRequest.HttpClientRequest,
      request: Testing.IncomingTokenRequest
    ): Effect.Effect<Testing.Reply, HttpClientError.HttpClientError> =>
      Effect.gen(function*() {
        const at = yield* now
        const base = {
          at,
          form: recordForm(request.form),
          scopes: (request.form.get("scope") ?? "").split(" ").filter((scope) => scope.length > 0)
        }
        const step = yield* nextStep
        if (step !== undefined && step._tag === "Delay") yield* Effect.sleep(step.duration)
        if (step !== undefined && step._tag === "Drop") {
          yield* record({ ...base, clientId: undefined, authMethod: undefined, status: 0, outcome: "dropped" })
          return yield* Effect.fail(
            new HttpClientError.RequestError({
              request: httpRequest,
              reason: "Transport",
              description: "the connection was dropped (Testing.drop)"
            })
          )
        }
        if (step !== undefined && (step._tag === "Status" || step._tag === "Error")) {
          const reply = step._tag === "Status"
            ? {
              status: step.status,
              text: step.body ?? "",
              headers: {
                ...(step.contentType !== undefined ? { "content-type": step.contentType } : {}),
                ...retryAfterHeader(step.retryAfter)
              }
            }
            : errorReply(step.status, step.error, step.description, retryAfterHeader(step.retryAfter))
          yield* record({
            ...base,
            clientId: undefined,
            authMethod: undefined,
            status: reply.status ?? 200,
            outcome: "scripted",
            ...(step._tag === "Error" ? { error: step.error } : {})
          })
          return reply
        }
        const result = yield* tokenEndpoint(request)
        const status = result.reply instanceof Response ? result.reply.status : result.reply.status ?? 200
        const json = result.reply instanceof Response ? undefined : result.reply.json as { error?: string }
        yield* record({
          ...base,
          clientId: result.clientId,
          authMethod: "authMethod" in result ? result.authMethod : undefined,
          status,
          outcome: status === 200 ? "issued" : "refused",
          ...(json?.error !== undefined ? { error: json.error } : {})
        })
        return result.reply
      })

    const onApiRequest = (request: Omit<Testing.ApiRequest, "token">) =>
      Effect.gen(function*() {
        const token = yield* check(bearerOf(request.headers))
        const reply = api({ ...request, token })
        const answered = Effect.isEffect(reply) ? yield* reply : reply
        const status = answered instanceof Response ? answered.status : answered.status ?? 200
        const at = yield* now
        yield* Ref.update(state, (s) => ({
          ...s,
          apiRequests: [...s.apiRequests, { at, method: request.method, url: request.url, token, status }]
        }))
        return answered
      })

    const client = HttpClient.make((httpRequest, url) =>
      Effect.gen(function*() {
        const body = bodyText(httpRequest)
        const headers = { ...httpRequest.headers }
        const isToken = url.origin === tokenUrl.origin && url.pathname === tokenUrl.pathname
        const reply = isToken
          ? yield* onTokenRequest(httpRequest, {
            method: httpRequest.method,
            url,
            headers,
            form: new URLSearchParams(body)
          })
          : yield* onApiRequest({ method: httpRequest.method, url, headers, body })
        return HttpClientResponse.fromWeb(httpRequest, toResponse(reply))
      })
    )

    const server: Testing.Service = {
      tokenUrl: tokenUrl.href,
      tokenRequests: Effect.map(Ref.get(state), (s) => s.tokenRequests),
      tokenRequestsOf: (clientId) =>
        Effect.map(Ref.get(state), (s) => s.tokenRequests.filter((entry) => entry.clientId === clientId)),
      apiRequests: Effect.map(Ref.get(state), (s) => s.apiRequests),
      issued: Effect.map(Ref.get(state), (s) => Array.from(s.issued.values())),
      scriptNext: (count, step) =>
        Ref.update(state, (s) => ({
          ...s,
          script: [...s.script, ...Array.from({ length: Math.max(0, Math.floor(count)) }, () => step)]
        })),
      clearScript: Ref.update(state, (s) => ({ ...s, script: [] })),
      check,
      revoke: (token) =>
        Ref.update(state, (s) => ({
          ...s,
          revoked: new Set(s.revoked).add(Redacted.isRedacted(token) ? Redacted.value(token) : token)
        })),
      revokeAll: Ref.update(state, (s) => ({ ...s, revoked: new Set([...s.revoked, ...s.issued.keys()]) }))
    }
    return { server, client }
  })

// ---------------------------------------------------------------------------------------------------------------
// API helpers
// ---------------------------------------------------------------------------------------------------------------

/** @internal */
export const echo: Testing.Handler = (request) => ({
  json: request.token._tag === "Valid"
    ? { path: request.url.pathname, client_id: request.token.clientId, scope: request.token.scopes.join(" ") }
    : { path: request.url.pathname }
})

/** @internal */
export const protect = (
  handler: Testing.Handler,
  options: { readonly scopes?: ReadonlyArray<string> | undefined } = {}
): Testing.Handler =>
(request) => {
  const token = request.token
  if (token._tag === "Invalid") {
    // RFC 6750 §3.1: no error code when the request carried no token; invalid_token otherwise.
    const challenge = token.reason === "missing"
      ? "Bearer realm=\"api\""
      : `Bearer realm="api", error="invalid_token", error_description="the access token is ${token.reason}"`
    return { status: 401, json: { error: token.reason }, headers: { "www-authenticate": challenge } }
  }
  const missing = (options.scopes ?? []).filter((scope) => !token.scopes.includes(scope))
  if (missing.length > 0) {
    return {
      status: 403,
      json: { error: "insufficient_scope" },
      headers: {
        "www-authenticate": `Bearer realm="api", error="insufficient_scope", scope="${missing.join(" ")}"`
      }
    }
  }
  return handler(request)
}
