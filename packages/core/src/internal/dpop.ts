/**
 * DPoP (RFC 9449): the key a client proves possession of, its proofs, and the nonces servers hand out.
 *
 * Everything the request path needs is behind one small interface, {@link Hooks}:
 *
 * - (a) `authorize`: puts `Authorization: DPoP <token>` and a new proof (with `ath`) on an API request (§7.1);
 * - (b) `learn`: keeps the `DPoP-Nonce` of any response, per origin, in a bounded map (§8, §9);
 * - (c) `isNonceChallenge`: a 401 whose `WWW-Authenticate` has a DPoP challenge `error="use_dpop_nonce"` (§9);
 * - (d) `tokenProof`, `isTokenNonceError` and `withTokenNonceRetry`: the token request's proof, and its one
 *   immediate retry on a 400 `use_dpop_nonce` (§8), which re-runs the whole attempt (a fresh client assertion);
 * - `bind`: checks and records the binding of the issued token (§5, §6.1).
 *
 * The key is imported (or generated) and its RFC 7638 thumbprint computed once, when the client is built; the
 * proof header (`typ`, `alg`, `jwk`) is fixed then. Per request: one `jti`, one signature, and the `ath` of the
 * current token (memoised per token).
 */
import type * as Headers from "@effect/platform/Headers"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as jose from "jose"
import { Credentials } from "../Credentials.js"
import type * as Dpop from "../Dpop.js"
import * as OAuth2Error from "../OAuth2Error.js"
import * as WwwAuthenticate from "../WwwAuthenticate.js"
import * as jwt from "./jwt.js"
import { prefixOf } from "./requestPath/origins.js"

const what = "dpop"

const fail = (reason: string) => new OAuth2Error.ConfigurationError({ reason: `${what}: ${reason}` })

/** How many origins' nonces are kept (oauth4webapi keeps 100). @internal */
export const maxNonceOrigins = 100

/**
 * A DPoP key ready to prove possession: the signer, the public JWK and its RFC 7638 thumbprint.
 *
 * @internal
 */
export interface Key {
  readonly alg: string
  readonly publicJwk: jose.JWK
  /** base64url(SHA-256) JWK thumbprint (RFC 7638) of the public key: the token's `cnf.jkt` (RFC 9449 §6.1). */
  readonly jkt: string
  readonly signer: jwt.Signer
}

/**
 * The hooks of the request path (see the module comment).
 *
 * @internal
 */
export interface Hooks {
  readonly key: Key
  /** (a) Sets `Authorization: DPoP <token>` and a new `DPoP` proof for the request's method and URL. */
  readonly authorize: (
    request: HttpClientRequest.HttpClientRequest,
    token: string
  ) => Effect.Effect<HttpClientRequest.HttpClientRequest, OAuth2Error.ConfigurationError>
  /** (b) Keeps the response's `DPoP-Nonce` (if any) for the origin of `url`. */
  readonly learn: (url: string, headers: Headers.Headers) => void
  /** (c) A 401 with a DPoP `use_dpop_nonce` challenge, and a nonce now known for its origin. */
  readonly isNonceChallenge: (response: HttpClientResponse.HttpClientResponse) => boolean
  /** (d) The proof for a token request (`POST` to `url`). */
  readonly tokenProof: (url: URL) => Effect.Effect<string, OAuth2Error.ConfigurationError>
  /** (d) A 400 `use_dpop_nonce` from the token endpoint (RFC 9449 §8). */
  readonly isTokenNonceError: (error: OAuth2Error.OAuth2Error) => boolean
  /** (d) Runs the attempt; on `use_dpop_nonce`, once more at once (not counted as a retry). */
  readonly withTokenNonceRetry: <A, R>(
    attempt: Effect.Effect<A, OAuth2Error.OAuth2Error, R>,
    tokenUrl: URL
  ) => Effect.Effect<A, OAuth2Error.OAuth2Error, R>
  /** Checks the token type and `cnf.jkt` of issued credentials and records the binding in them. */
  readonly bind: (
    credentials: Credentials,
    tokenEndpoint: string
  ) => Effect.Effect<Credentials, OAuth2Error.OAuth2Error>
  /** The nonce currently known for an origin (for tests and diagnostics). */
  readonly nonceFor: (origin: string) => string | undefined
}

const isCryptoKey = (u: unknown): u is CryptoKey =>
  typeof u === "object" && u !== null && (u as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag] === "CryptoKey"

const cryptoMessage = (error: unknown): string => {
  const message = error instanceof Error ? error.message : ""
  return message.length > 0 && message.length <= 200 ? message : "the key was refused"
}

/** Asymmetric algorithms only: RFC 9449 §4.2 forbids `none` and MAC algorithms. */
const generatable = new Set(["ES256", "ES384", "ES512", "PS256", "PS384", "PS512", "RS256", "RS384", "RS512", "EdDSA"])

/**
 * Generates a key pair whose private key is non-extractable (it can sign, never be read).
 *
 * @internal
 */
export const generateKeyPair = (
  alg = "ES256",
  extractable = false
): Effect.Effect<CryptoKeyPair, OAuth2Error.ConfigurationError> =>
  generatable.has(alg)
    ? Effect.tryPromise({
      try: () => jose.generateKeyPair(alg, { extractable }) as Promise<CryptoKeyPair>,
      catch: (error) => fail(`a ${alg} key pair cannot be generated here: ${cryptoMessage(error)}`)
    })
    : Effect.fail(fail(`alg ${alg} cannot be generated; use one of ${[...generatable].join(", ")}`))

const exportPublic = (key: CryptoKey): Effect.Effect<jose.JWK, OAuth2Error.ConfigurationError> =>
  key.type !== "public"
    ? Effect.fail(fail(`key.publicKey is a ${key.type} key; give the public key of the pair`))
    : Effect.tryPromise({
      try: () => jose.exportJWK(key),
      catch: (error) => fail(`the public key cannot be exported as a JWK: ${cryptoMessage(error)}`)
    })

/** The thumbprint of a JWK, after checking it is a public key of a kind that signs. */
const thumbprintOf = (jwk: jose.JWK) => jwt.thumbprint(jwk)

const sameKey = (a: jose.JWK, b: jose.JWK) => Effect.zipWith(thumbprintOf(a), thumbprintOf(b), (x, y) => x === y)

/**
 * Imports the `dpop` option: generates a pair for `true`, checks a given pair (the private key signs with `alg`,
 * the public key is its own), and computes the thumbprint. Every mistake is a ConfigurationError, now.
 *
 * @internal
 */
export const resolveKey = (
  option: Dpop.Option | undefined
): Effect.Effect<Key | undefined, OAuth2Error.ConfigurationError> =>
  Effect.gen(function*() {
    if (option === undefined || option === false) return undefined
    if (option !== true && (typeof option !== "object" || option === null || !("key" in option))) {
      return yield* fail("the option is true, or { key: CryptoKeyPair | { privateKey, publicKey? }, alg? }")
    }
    const alg = option === true ? undefined : option.alg
    if (alg !== undefined && (alg === "none" || alg.startsWith("HS"))) {
      return yield* fail(`alg ${alg} is not allowed: DPoP proofs use asymmetric signatures (RFC 9449 §4.2)`)
    }
    const pair = option === true ? yield* generateKeyPair() : option.key
    if (typeof pair !== "object" || pair === null) return yield* fail("key must be a CryptoKeyPair or a JWK pair")
    const privateKey: unknown = pair.privateKey
    let signer: jwt.Signer
    let publicJwk: jose.JWK
    if (isCryptoKey(privateKey)) {
      if (!isCryptoKey(pair.publicKey)) {
        return yield* fail("key.privateKey is a CryptoKey: give the pair's publicKey as a CryptoKey too")
      }
      signer = yield* jwt.importPrivateKey(privateKey, { what, alg })
      publicJwk = jwt.publicJwk(yield* exportPublic(pair.publicKey))
    } else {
      if (!Redacted.isRedacted(privateKey)) {
        return yield* fail("key.privateKey must be a CryptoKey, or a JWK wrapped in Redacted (Redacted.make(jwk))")
      }
      signer = yield* jwt.importPrivateKey(privateKey as Redacted.Redacted<jose.JWK>, { what, alg })
      if (signer.publicJwk === undefined) return yield* fail("the public key cannot be derived from the JWK")
      publicJwk = signer.publicJwk
      const given = pair.publicKey as jose.JWK | undefined
      if (given !== undefined && !(yield* sameKey(given, publicJwk))) {
        return yield* fail("key.publicKey is not the public key of key.privateKey")
      }
    }
    // The private key must be the public key's own: sign once here and verify with the public key.
    const probe = yield* signer.sign({}, { probe: true })
    const matches = yield* Effect.tryPromise({
      try: async () => {
        await jose.compactVerify(probe, await jose.importJWK(publicJwk, signer.alg))
        return true
      },
      catch: () => false
    }).pipe(Effect.merge)
    if (!matches) return yield* fail("key.publicKey is not the public key of key.privateKey")
    const { alg: _alg, key_ops: _ops, ext: _ext, use: _use, kid: _kid, ...jwk } = publicJwk
    return { alg: signer.alg, publicJwk: jwk, jkt: yield* thumbprintOf(jwk), signer }
  })

const encoder = new TextEncoder()

/**
 * base64url(SHA-256(token)): the `ath` claim (RFC 9449 §4.2).
 *
 * @internal
 */
export const ath = (token: string): Effect.Effect<string> =>
  Effect.promise(() => crypto.subtle.digest("SHA-256", encoder.encode(token))).pipe(
    Effect.map((digest) => jose.base64url.encode(new Uint8Array(digest)))
  )

/** `htu`: the URL without query and fragment (RFC 9449 §4.2). */
const htuOf = (url: string): string => {
  const end = url.search(/[?#]/)
  return end === -1 ? url : url.slice(0, end)
}

// The request path's `scheme://authority` prefix, lower-cased: nonces are kept per origin.
const originOf = (url: string): string | undefined => prefixOf(url)?.toLowerCase()

/** The error of the first DPoP challenge of a `WWW-Authenticate` value that has one (RFC 9449 §7.1). @internal */
export const challenge = (header: string | undefined): WwwAuthenticate.BearerError | undefined => {
  if (header === undefined) return undefined
  for (const parsed of WwwAuthenticate.parse(header)) {
    const error = parsed.params["error"]
    if (parsed.scheme !== "dpop" || error === undefined) continue
    const description = parsed.params["error_description"]
    return { error, ...(description !== undefined ? { errorDescription: description } : {}) }
  }
  return undefined
}

/** The `error` of the first DPoP challenge of a `WWW-Authenticate` value. @internal */
export const challengeError = (header: string | undefined): string | undefined => challenge(header)?.error

const cnfJktOf = (token: string): string | undefined => {
  if (token.split(".").length !== 3) return undefined
  try {
    const cnf = jose.decodeJwt(token).cnf as { jkt?: unknown } | undefined
    return typeof cnf?.jkt === "string" ? cnf.jkt : undefined
  } catch {
    return undefined
  }
}

/**
 * The hooks over one key, with their own nonce map.
 *
 * @internal
 */
export const make = (key: Key): Hooks => {
  const header = { typ: "dpop+jwt", alg: key.alg, jwk: key.publicJwk }
  const nonces = new Map<string, string>()
  let lastToken: string | undefined
  let lastAth: string | undefined

  const learn = (url: string, headers: Headers.Headers) => {
    const nonce = headers["dpop-nonce"]
    if (nonce === undefined || nonce.length === 0) return
    const origin = originOf(url)
    if (origin === undefined || nonces.get(origin) === nonce) return
    nonces.delete(origin)
    if (nonces.size >= maxNonceOrigins) nonces.delete(nonces.keys().next().value!)
    nonces.set(origin, nonce)
  }

  const proof = (htm: string, url: string, accessTokenHash: string | undefined) =>
    Effect.gen(function*() {
      const iat = Math.floor((yield* Clock.currentTimeMillis) / 1000)
      const origin = originOf(url)
      const nonce = origin === undefined ? undefined : nonces.get(origin)
      const claims: Record<string, unknown> = { jti: yield* jwt.randomId, htm, htu: htuOf(url), iat }
      if (nonce !== undefined) claims.nonce = nonce
      if (accessTokenHash !== undefined) claims.ath = accessTokenHash
      return yield* key.signer.sign(header, claims)
    })

  const athOf = (token: string): Effect.Effect<string> =>
    token === lastToken && lastAth !== undefined ? Effect.succeed(lastAth) : Effect.map(ath(token), (hash) => {
      lastToken = token
      lastAth = hash
      return hash
    })

  const isTokenNonceError = (error: OAuth2Error.OAuth2Error) =>
    error._tag === "ErrorResponse" && error.error === "use_dpop_nonce"

  return {
    key,
    nonceFor: (origin) => nonces.get(origin.toLowerCase()),
    learn,
    authorize: (request, token) =>
      Effect.flatMap(athOf(token), (hash) =>
        Effect.map(
          proof(request.method, request.url, hash),
          (signed) =>
            HttpClientRequest.setHeaders(request, {
              authorization: `DPoP ${token}`,
              dpop: signed
            })
        )),
    isNonceChallenge: (response) => {
      if (response.status !== 401 || challengeError(response.headers["www-authenticate"]) !== "use_dpop_nonce") {
        return false
      }
      const origin = originOf(response.request.url)
      return origin !== undefined && nonces.has(origin)
    },
    tokenProof: (url) => proof("POST", url.href, undefined),
    isTokenNonceError,
    withTokenNonceRetry: (attempt, tokenUrl) =>
      Effect.catchIf(
        attempt,
        (error) => isTokenNonceError(error) && nonces.has(tokenUrl.origin),
        () => Effect.zipRight(Effect.annotateCurrentSpan("oauth2.dpop_nonce_retry", true), attempt)
      ),
    bind: (credentials, tokenEndpoint) =>
      Effect.gen(function*() {
        const type = credentials.tokenType.toLowerCase()
        if (type === "bearer") {
          // RFC 9449 §5: a server that does not do DPoP answers with a Bearer token, which is used as such.
          yield* Effect.logInfo(
            `OAuth2 DPoP: ${tokenEndpoint} answered the DPoP token request with a Bearer token; ` +
              "it is used as a Bearer token (RFC 9449 §5)"
          )
          return credentials
        }
        const token = Redacted.value(credentials.accessToken)
        const cnfJkt = cnfJktOf(token)
        if (cnfJkt !== undefined && cnfJkt !== key.jkt) {
          return yield* new OAuth2Error.InvalidResponse({
            tokenEndpoint,
            reason: "the DPoP-bound token's cnf.jkt is not the thumbprint of this client's DPoP key (RFC 9449 §6.1)",
            status: 200,
            bodyExcerpt: ""
          })
        }
        return new Credentials({
          ...credentials,
          dpopJkt: key.jkt,
          ...(cnfJkt !== undefined ? { cnfJkt } : {})
        })
      })
  }
}

/**
 * Whether credentials can be used by a client with this key (or none): a DPoP-bound token only with its own key.
 *
 * @internal
 */
export const usableWith = (key: Key | undefined) => (credentials: Credentials): boolean =>
  credentials.tokenType.toLowerCase() !== "dpop" || (key !== undefined && credentials.dpopJkt === key.jkt)
