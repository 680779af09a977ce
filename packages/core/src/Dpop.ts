/**
 * DPoP (RFC 9449): sender-constrained access tokens. With the `dpop` option, a client proves possession of a key
 * pair on the token request and on every API request, and the server binds the token to that key (`cnf.jkt`): a
 * stolen token is useless without the private key.
 *
 * - `dpop: true` generates an ES256 key pair when the client is built; its private key is non-extractable.
 * - `dpop: { key, alg? }` uses a given pair: a WebCrypto `CryptoKeyPair` (the private key may be non-extractable),
 *   or a private JWK (Redacted) with, optionally, its public JWK.
 *
 * Then token requests carry a `DPoP` proof (RFC 9449 §4, §5), a `use_dpop_nonce` answer is retried once at once
 * with the server's nonce (§8), API requests carry `Authorization: DPoP <token>` and a new proof with `ath` (§7),
 * nonces are learned per origin from every `DPoP-Nonce` header, and a 401 DPoP `use_dpop_nonce` challenge is replayed
 * once (§9). A `Bearer` answer from a server without DPoP is used as a Bearer token (§5).
 *
 * @example
 * ```ts
 * import { OAuth2HttpClient } from "@effect-oauth2/core"
 * import { Redacted } from "effect"
 *
 * // Every request through the layer's HttpClient: `Authorization: DPoP <token>` and a new `DPoP` proof.
 * const DpopLive = OAuth2HttpClient.layer({
 *   tokenUrl: "https://auth.example.com/token",
 *   clientId: "svc",
 *   clientSecret: Redacted.make("s3cret"),
 *   origins: ["https://api.example.com"],
 *   dpop: true
 * })
 * ```
 *
 * @since 0.2.0
 */
import type * as Effect from "effect/Effect"
import type * as Redacted from "effect/Redacted"
import * as internal from "./internal/dpop.js"
import * as jwt from "./internal/jwt.js"
import type * as OAuth2Error from "./OAuth2Error.js"

/**
 * A key pair as JWKs: the private JWK (Redacted; it holds the public members too) and, optionally, the public JWK,
 * which must then be its own.
 *
 * @since 0.2.0
 * @category models
 */
export interface JwkPair {
  readonly privateKey: Redacted.Redacted<JsonWebKey>
  readonly publicKey?: JsonWebKey | undefined
}

/**
 * A given DPoP key: a WebCrypto pair (the private key may be non-extractable) or a JWK pair; `alg` is inferred from
 * the key (P-256 → ES256, Ed25519 → EdDSA, RSA → RS256, ...) unless given. Asymmetric algorithms only (RFC 9449
 * §4.2).
 *
 * @since 0.2.0
 * @category models
 */
export interface KeyOptions {
  readonly key: CryptoKeyPair | JwkPair
  readonly alg?: string | undefined
}

/**
 * The `dpop` option: `true` for a generated ES256 pair (non-extractable), a given key, or `false`/absent for none.
 *
 * @since 0.2.0
 * @category models
 */
export type Option = boolean | KeyOptions

/**
 * Generates a key pair for DPoP, non-extractable unless asked: the private key signs, and can never be read, not
 * even by the page or process that made it. A non-extractable `CryptoKeyPair` can still be kept in IndexedDB.
 *
 * @example
 * ```ts
 * import { Dpop } from "@effect-oauth2/core"
 * import { Effect } from "effect"
 *
 * const pair = Effect.runPromise(Dpop.generateKeyPair({ alg: "ES256" }))
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const generateKeyPair = (
  options: { readonly alg?: string | undefined; readonly extractable?: boolean | undefined } = {}
): Effect.Effect<CryptoKeyPair, OAuth2Error.ConfigurationError> =>
  internal.generateKeyPair(options.alg ?? "ES256", options.extractable ?? false)

/**
 * The RFC 7638 JWK thumbprint (SHA-256, base64url) of a public key: the `jkt` a DPoP-bound token names in its
 * `cnf` claim (RFC 9449 §6.1), and the `dpopJkt` of {@link Credentials.Credentials}.
 *
 * @since 0.2.0
 * @category utils
 */
export const thumbprint = (publicKey: JsonWebKey): Effect.Effect<string, OAuth2Error.ConfigurationError> =>
  jwt.thumbprint(publicKey as Parameters<typeof jwt.thumbprint>[0])

/**
 * The `ath` claim of a proof for `accessToken`: base64url(SHA-256(token)) (RFC 9449 §4.2). For resource servers and
 * tests.
 *
 * @since 0.2.0
 * @category utils
 */
export const accessTokenHash: (accessToken: string) => Effect.Effect<string> = internal.ath
