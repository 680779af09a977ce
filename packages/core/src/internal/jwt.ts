/**
 * Keys and JWS signing for client assertions (RFC 7523) and, later, DPoP proofs (RFC 9449): a private key given as
 * a WebCrypto `CryptoKey`, a JWK or a PKCS#8 PEM becomes a {@link Signer} whose `alg` is taken from the key. The
 * signing itself is jose's (`CompactSign`), which runs on WebCrypto in Node and in browsers.
 *
 * Key material never appears in an error: reasons are fixed texts, plus the messages of jose and WebCrypto (fixed
 * texts too), never a parser message that could quote its input.
 */
import * as Effect from "effect/Effect"
import * as Encoding from "effect/Encoding"
import * as Redacted from "effect/Redacted"
import * as jose from "jose"
import { ConfigurationError } from "../OAuth2Error.js"

/**
 * The asymmetric JWS algorithms a private key can sign with (RFC 7518 §3.1, RFC 8037).
 *
 * @internal
 */
export type PrivateKeyAlgorithm =
  | "RS256"
  | "RS384"
  | "RS512"
  | "PS256"
  | "PS384"
  | "PS512"
  | "ES256"
  | "ES384"
  | "ES512"
  | "EdDSA"
  | "Ed25519"

/** @internal */
export type HmacAlgorithm = "HS256" | "HS384" | "HS512"

/**
 * A private key: a WebCrypto `CryptoKey` (may be non-extractable), or, Redacted, a JWK object or a text holding a
 * PKCS#8 PEM or a JWK as JSON.
 *
 * @internal
 */
export type PrivateKeyInput = CryptoKey | Redacted.Redacted<string> | Redacted.Redacted<jose.JWK>

/**
 * A key ready to sign: its algorithm, its key id, and the public JWK when it can be derived (not from a
 * non-extractable CryptoKey).
 *
 * @internal
 */
export interface Signer {
  readonly alg: string
  readonly kid: string | undefined
  readonly publicJwk: jose.JWK | undefined
  /** Signs `payload` as a compact JWS with `header` (whose `alg` is always the signer's). */
  readonly sign: (
    header: Readonly<Record<string, unknown>>,
    payload: Readonly<Record<string, unknown>>
  ) => Effect.Effect<string, ConfigurationError>
}

/** What the key is, for messages and for inferring `alg`. */
type KeyKind =
  | { readonly family: "RSA"; readonly pss: boolean; readonly hash?: 256 | 384 | 512 }
  | { readonly family: "EC"; readonly curve: string }
  | { readonly family: "OKP"; readonly curve: string }

const describe = (kind: KeyKind): string =>
  kind.family === "RSA" ?
    (kind.pss ? "an RSA-PSS key" : "an RSA key") :
    `${kind.family === "EC" ? "an EC" : "an"} ${kind.curve} key`

const curveAlgorithms: Readonly<Record<string, ReadonlyArray<PrivateKeyAlgorithm>>> = {
  "P-256": ["ES256"],
  "P-384": ["ES384"],
  "P-521": ["ES512"],
  Ed25519: ["EdDSA", "Ed25519"]
}

/** The algorithms a key of this kind can sign with; the first is the one inferred. */
const algorithmsFor = (kind: KeyKind): ReadonlyArray<PrivateKeyAlgorithm> => {
  if (kind.family === "RSA") {
    const rs: ReadonlyArray<PrivateKeyAlgorithm> = ["RS256", "RS384", "RS512"]
    const ps: ReadonlyArray<PrivateKeyAlgorithm> = ["PS256", "PS384", "PS512"]
    const all = kind.pss ? [...ps] : [...rs, ...ps]
    const preferred = kind.hash !== undefined ? all.filter((alg) => alg.endsWith(String(kind.hash))) : []
    return [...preferred, ...all.filter((alg) => !preferred.includes(alg))]
  }
  return curveAlgorithms[kind.curve] ?? []
}

const fail = (what: string, reason: string) => new ConfigurationError({ reason: `${what}: ${reason}` })

/** The message of an error thrown by jose or WebCrypto: fixed texts that never quote key material. */
const cryptoMessage = (error: unknown): string => {
  const message = error instanceof Error ? error.message : ""
  return message.length > 0 && message.length <= 200 ? message : "the key was refused"
}

const isCryptoKey = (u: unknown): u is CryptoKey =>
  typeof u === "object" && u !== null && (u as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag] === "CryptoKey"

// ---------------------------------------------------------------------------------------------------------------
// PKCS#8: the key's algorithm identifier. jose's importPKCS8 needs `alg` up front and keeps its ASN.1 reader to
// itself, so the AlgorithmIdentifier (RFC 5208 §5, RFC 5480, RFC 8410) is read here to infer `alg` and to refuse a
// key that cannot fit the one asked for, with a message that says which key it is.
// ---------------------------------------------------------------------------------------------------------------

const oids: ReadonlyArray<readonly [string, KeyKind | string]> = [
  ["2a864886f70d010101", { family: "RSA", pss: false }],
  ["2b6570", { family: "OKP", curve: "Ed25519" }],
  ["2b6571", "an Ed448 key, which WebCrypto cannot sign with"],
  ["2b656e", "an X25519 key, which is for key agreement and cannot sign"],
  ["2b656f", "an X448 key, which is for key agreement and cannot sign"]
]
const ecPublicKey = "2a8648ce3d0201"
const rsaPss = "2a864886f70d01010a"
const curves: Readonly<Record<string, string>> = {
  "2a8648ce3d030107": "P-256",
  "2b81040022": "P-384",
  "2b81040023": "P-521",
  "2b8104000a": "secp256k1"
}

const hex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")

/** Reads one DER tag-length header at `pos`; returns the start and end of the content. */
const element = (der: Uint8Array, pos: number, tag: number): { readonly start: number; readonly end: number } => {
  if (der[pos] !== tag) throw new Error("unexpected DER tag")
  let length = der[pos + 1]
  let start = pos + 2
  if (length === undefined) throw new Error("truncated DER")
  if (length & 0x80) {
    const bytes = length & 0x7f
    if (bytes === 0 || bytes > 4) throw new Error("unsupported DER length")
    length = 0
    for (let i = 0; i < bytes; i++) length = length * 256 + (der[start + i] ?? 0)
    start += bytes
  }
  if (start + length > der.length) throw new Error("truncated DER")
  return { start, end: start + length }
}

/** The key kind named by a PKCS#8 PrivateKeyInfo, or a reason it cannot sign. */
const pkcs8Kind = (der: Uint8Array): KeyKind | string => {
  const info = element(der, 0, 0x30)
  const version = element(der, info.start, 0x02)
  const algorithm = element(der, version.end, 0x30)
  const oid = element(der, algorithm.start, 0x06)
  const id = hex(der.subarray(oid.start, oid.end))
  if (id === ecPublicKey) {
    const curve = element(der, oid.end, 0x06)
    const name = curves[hex(der.subarray(curve.start, curve.end))]
    if (name === undefined) return "an EC key on a curve that JWS does not use"
    if (name === "secp256k1") return "an EC secp256k1 key (ES256K), which WebCrypto cannot sign with"
    return { family: "EC", curve: name }
  }
  if (id === rsaPss) {
    // id-RSASSA-PSS: its parameters, when present, may name the hash (RFC 4055 §3.1).
    return der[oid.end] === 0x30 ? pssKind(der, element(der, oid.end, 0x30)) : { family: "RSA", pss: true }
  }
  const known = oids.find(([candidate]) => candidate === id)
  return known === undefined ? "a key of an algorithm that JWS does not sign with" : known[1]
}

const pssHashes: Readonly<Record<string, 256 | 384 | 512>> = {
  "608648016503040201": 256,
  "608648016503040202": 384,
  "608648016503040203": 512
}

/**
 * An RSA-PSS key with RSASSA-PSS-params (RFC 4055 §3.1): the hash they name is the one inferred. Absent, the
 * hash defaults to SHA-1, which no JWS alg uses (RFC 7518 §3.5).
 */
const pssKind = (der: Uint8Array, params: { readonly start: number; readonly end: number }): KeyKind | string => {
  // No [0] hashAlgorithm first (an empty SEQUENCE, or only the later fields): the default, SHA-1.
  if (der[params.start] !== 0xa0) {
    return "an RSA-PSS key restricted to SHA-1, which JWS does not sign with"
  }
  const hashAlgorithm = element(der, element(der, params.start, 0xa0).start, 0x30)
  const oid = element(der, hashAlgorithm.start, 0x06)
  const hash = pssHashes[hex(der.subarray(oid.start, oid.end))]
  return hash === undefined
    ? "an RSA-PSS key restricted to a hash that JWS does not sign with"
    : { family: "RSA", pss: true, hash }
}

/** A DER length (X.690 §8.1.3): the short form below 128, else the long form. */
const derLength = (length: number): Array<number> => {
  if (length < 0x80) return [length]
  const bytes: Array<number> = []
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256)
  return [0x80 | bytes.length, ...bytes]
}

/** `rsaEncryption` with its NULL parameters (RFC 8017 Appendix C), as a DER AlgorithmIdentifier. */
const rsaEncryption = [0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00]

/**
 * An RSA PrivateKeyInfo labelled `rsaEncryption`. WebCrypto's pkcs8 import takes only `rsaEncryption` for either
 * RSA algorithm (WebCrypto §RSA-PSS "Import key"), while OpenSSL and Node write `id-RSASSA-PSS` (RFC 4055 §3.1)
 * for a key made as RSA-PSS; the RSAPrivateKey inside is the same. The parameters that may restrict an RSA-PSS
 * key's hash are dropped: the key then signs with the PS alg chosen here. A key labelled `rsaEncryption` already
 * comes out as it was.
 */
const relabelRsa = (der: Uint8Array): Uint8Array => {
  const info = element(der, 0, 0x30)
  const version = element(der, info.start, 0x02)
  const algorithm = element(der, version.end, 0x30)
  const content = [
    ...der.subarray(info.start, version.end),
    ...rsaEncryption,
    ...der.subarray(algorithm.end, info.end)
  ]
  return Uint8Array.from([0x30, ...derLength(content.length), ...content])
}

const decodeBase64 = (text: string): Uint8Array | undefined => {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0 || text.length === 0) return undefined
  try {
    return Uint8Array.from(atob(text), (c) => c.charCodeAt(0))
  } catch {
    return undefined
  }
}

const pemLabel = /-----BEGIN ([A-Z0-9 ]+)-----/

const pemAdvice: Readonly<Record<string, string>> = {
  "PUBLIC KEY": "the PEM holds a public key; give the private key (-----BEGIN PRIVATE KEY-----)",
  "CERTIFICATE": "the PEM holds a certificate; give the private key of the certificate (-----BEGIN PRIVATE KEY-----)",
  "RSA PUBLIC KEY": "the PEM holds a public key; give the private key (-----BEGIN PRIVATE KEY-----)",
  "RSA PRIVATE KEY": "the PEM holds a PKCS#1 RSA key; convert it to PKCS#8 " +
    "(openssl pkcs8 -topk8 -nocrypt -in key.pem -out key.pk8.pem)",
  "EC PRIVATE KEY": "the PEM holds a SEC1 EC key; convert it to PKCS#8 " +
    "(openssl pkcs8 -topk8 -nocrypt -in key.pem -out key.pk8.pem)",
  "ENCRYPTED PRIVATE KEY": "the PEM holds an encrypted key; decrypt it first " +
    "(openssl pkcs8 -in key.pem -out key.pk8.pem)"
}

// ---------------------------------------------------------------------------------------------------------------

const chooseAlgorithm = (
  what: string,
  kind: KeyKind,
  requested: string | undefined
): PrivateKeyAlgorithm | ConfigurationError => {
  const fitting = algorithmsFor(kind)
  if (requested === undefined) {
    return fitting[0] ?? fail(what, `${describe(kind)} cannot sign a JWS`)
  }
  if (!fitting.includes(requested as PrivateKeyAlgorithm)) {
    return fail(
      what,
      `alg ${requested} does not fit ${describe(kind)}${
        fitting.length > 0 ? `; it signs with ${fitting.join(", ")}` : ""
      }`
    )
  }
  return requested as PrivateKeyAlgorithm
}

const hashOf = (algorithm: KeyAlgorithm): 256 | 384 | 512 | undefined => {
  const hash = (algorithm as { hash?: { name?: string } }).hash?.name
  return hash === "SHA-256" ? 256 : hash === "SHA-384" ? 384 : hash === "SHA-512" ? 512 : undefined
}

const cryptoKeyKind = (key: CryptoKey): KeyKind | string => {
  const name = key.algorithm.name
  switch (name) {
    case "RSASSA-PKCS1-v1_5":
    case "RSA-PSS": {
      const hash = hashOf(key.algorithm)
      return { family: "RSA", pss: name === "RSA-PSS", ...(hash !== undefined ? { hash } : {}) }
    }
    case "ECDSA":
      return { family: "EC", curve: (key.algorithm as EcKeyAlgorithm).namedCurve }
    case "Ed25519":
      return { family: "OKP", curve: "Ed25519" }
    default:
      return `a ${name} CryptoKey, which cannot sign a JWS`
  }
}

const jwkKind = (jwk: jose.JWK): KeyKind | string => {
  switch (jwk.kty) {
    case "RSA":
      return { family: "RSA", pss: false }
    case "EC":
      return typeof jwk.crv === "string" ? { family: "EC", curve: jwk.crv } : "an EC JWK without crv"
    case "OKP":
      return jwk.crv === "Ed25519"
        ? { family: "OKP", curve: "Ed25519" }
        : `an OKP JWK on ${String(jwk.crv)}, which cannot sign (or not with WebCrypto)`
    case "oct":
      return "a symmetric (oct) JWK; sign with the client secret through ClientAuth.clientSecretJwt instead"
    default:
      return "a JWK of an unknown key type (kty)"
  }
}

const privateMembers = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"] as const

/**
 * The public part of a JWK: the private members removed.
 *
 * @internal
 */
export const publicJwk = (jwk: jose.JWK): jose.JWK => {
  const out: Record<string, unknown> = { ...jwk }
  for (const member of privateMembers) delete out[member]
  return out as jose.JWK
}

/**
 * The RFC 7638 JWK thumbprint (SHA-256, base64url) of a public key.
 *
 * @internal
 */
export const thumbprint = (jwk: jose.JWK): Effect.Effect<string, ConfigurationError> =>
  Effect.tryPromise({
    try: () => jose.calculateJwkThumbprint(publicJwk(jwk), "sha256"),
    catch: (error) => fail("JWK thumbprint", cryptoMessage(error))
  })

const encoder = new TextEncoder()

const makeSigner = (
  what: string,
  key: CryptoKey,
  alg: string,
  kid: string | undefined,
  jwk: jose.JWK | undefined
): Signer => ({
  alg,
  kid,
  publicJwk: jwk,
  sign: (header, payload) =>
    Effect.tryPromise({
      try: () =>
        new jose.CompactSign(encoder.encode(JSON.stringify(payload)))
          .setProtectedHeader({ ...header, alg } as jose.CompactJWSHeaderParameters)
          .sign(key),
      catch: (error) => fail(what, `signing failed: ${cryptoMessage(error)}`)
    })
})

/** Signs once, so that a key that cannot sign with its `alg` (usages, size, curve) fails now, not per request. */
const checked = (signer: Signer): Effect.Effect<Signer, ConfigurationError> =>
  Effect.as(signer.sign({}, { check: true }), signer)

interface ImportOptions {
  readonly alg?: string | undefined
  readonly kid?: string | undefined
}

const importJwk = (
  what: string,
  jwk: jose.JWK,
  options: ImportOptions
): Effect.Effect<Signer, ConfigurationError> =>
  Effect.gen(function*() {
    if (typeof jwk !== "object" || jwk === null || typeof jwk.kty !== "string") {
      return yield* fail(what, "the key is not a JWK (an object with kty)")
    }
    const kind = jwkKind(jwk)
    if (typeof kind === "string") return yield* fail(what, `the key is ${kind}`)
    if (jwk.d === undefined) {
      return yield* fail(what, `the JWK is a public key (${describe(kind)} without "d"); give the private key`)
    }
    if (jwk.use !== undefined && jwk.use !== "sig") {
      return yield* fail(what, `the JWK is marked for use "${jwk.use}", not for signing ("sig")`)
    }
    if (options.alg !== undefined && jwk.alg !== undefined && jwk.alg !== options.alg) {
      return yield* fail(what, `alg ${options.alg} differs from the JWK's own alg ${jwk.alg}`)
    }
    const chosen = chooseAlgorithm(what, kind, options.alg ?? jwk.alg)
    if (typeof chosen !== "string") return yield* chosen
    const alg = chosen
    const { alg: _alg, use: _use, key_ops: _ops, ext: _ext, ...material } = jwk
    const key = yield* Effect.tryPromise({
      try: () => jose.importJWK(material, alg) as Promise<CryptoKey>,
      catch: (error) => fail(what, `the JWK cannot be imported for ${alg}: ${cryptoMessage(error)}`)
    })
    return yield* checked(makeSigner(what, key, alg, options.kid ?? jwk.kid, publicJwk(jwk)))
  })

const importPem = (
  what: string,
  text: string,
  options: ImportOptions
): Effect.Effect<Signer, ConfigurationError> =>
  Effect.gen(function*() {
    const label = pemLabel.exec(text)?.[1]
    if (label === undefined) {
      return yield* fail(
        what,
        "the key is neither a PEM (-----BEGIN PRIVATE KEY-----) nor a JWK (a JSON object); check the value"
      )
    }
    if (label !== "PRIVATE KEY") {
      return yield* fail(what, pemAdvice[label] ?? `the PEM holds "${label}", not a PKCS#8 private key`)
    }
    const body = /-----BEGIN PRIVATE KEY-----([\s\S]*?)-----END PRIVATE KEY-----/.exec(text)?.[1]
    const der = body === undefined ? undefined : decodeBase64(body.replace(/\s+/g, ""))
    if (der === undefined) {
      return yield* fail(what, "the PEM is malformed (no END line, or its body is not base64)")
    }
    let kind: KeyKind | string
    try {
      kind = pkcs8Kind(der)
    } catch {
      return yield* fail(what, "the PEM is malformed (its body is not a PKCS#8 PrivateKeyInfo)")
    }
    if (typeof kind === "string") return yield* fail(what, `the key is ${kind}`)
    const chosen = chooseAlgorithm(what, kind, options.alg)
    if (typeof chosen !== "string") return yield* chosen
    const alg = chosen
    const base64 = kind.family === "RSA" ? Encoding.encodeBase64(relabelRsa(der)) : body!.replace(/\s+/g, "")
    const pem = `-----BEGIN PRIVATE KEY-----\n${base64}\n-----END PRIVATE KEY-----`
    // Extractable once, to derive the public JWK (the PEM's owner holds the material anyway); then kept as a
    // non-extractable key for signing.
    const exported = yield* Effect.tryPromise({
      try: async () => jose.exportJWK(await jose.importPKCS8(pem, alg, { extractable: true })),
      catch: (error) => fail(what, `the PEM key cannot be imported for ${alg}: ${cryptoMessage(error)}`)
    })
    const key = yield* Effect.tryPromise({
      try: () => jose.importPKCS8(pem, alg),
      catch: (error) => fail(what, `the PEM key cannot be imported for ${alg}: ${cryptoMessage(error)}`)
    })
    return yield* checked(makeSigner(what, key, alg, options.kid, publicJwk(exported)))
  })

const importCryptoKey = (
  what: string,
  key: CryptoKey,
  options: ImportOptions
): Effect.Effect<Signer, ConfigurationError> =>
  Effect.gen(function*() {
    if (key.type === "public") return yield* fail(what, "the CryptoKey is a public key; give the private key")
    if (key.type === "secret") {
      return yield* fail(
        what,
        "the CryptoKey is a secret (HMAC) key; use ClientAuth.clientSecretJwt for a shared secret"
      )
    }
    if (!key.usages.includes("sign")) {
      return yield* fail(what, `the CryptoKey may not sign (its usages are ${key.usages.join(", ") || "empty"})`)
    }
    const kind = cryptoKeyKind(key)
    if (typeof kind === "string") return yield* fail(what, `the key is ${kind}`)
    const chosen = chooseAlgorithm(what, kind, options.alg)
    if (typeof chosen !== "string") return yield* chosen
    const jwk = key.extractable
      ? yield* Effect.orElseSucceed(
        Effect.tryPromise(() => jose.exportJWK(key)),
        () => undefined
      )
      : undefined
    return yield* checked(makeSigner(what, key, chosen, options.kid, jwk && publicJwk(jwk)))
  })

/**
 * Imports a private key for signing. `alg` is inferred from the key when not given (RSA → RS256, RSA-PSS → PS256,
 * P-256 → ES256, P-384 → ES384, P-521 → ES512, Ed25519 → EdDSA); `kid` defaults to the JWK's. The key signs once
 * here, so every unusable key is a `ConfigurationError` now: a public key, a key that does not fit `alg`, an RSA key
 * under 2048 bits, malformed PEM, a CryptoKey without the `sign` usage.
 *
 * @internal
 */
export const importPrivateKey = (
  input: PrivateKeyInput,
  options: { readonly what: string; readonly alg?: string | undefined; readonly kid?: string | undefined }
): Effect.Effect<Signer, ConfigurationError> =>
  Effect.suspend(() => {
    const what = options.what
    if (isCryptoKey(input)) return importCryptoKey(what, input, options)
    if (!Redacted.isRedacted(input)) {
      return Effect.fail(
        fail(what, "the key must be a CryptoKey, or Redacted (Redacted.make(pem), Redacted.make(jwk), Config.redacted)")
      )
    }
    const value: unknown = Redacted.value(input as Redacted.Redacted<unknown>)
    if (typeof value === "object" && value !== null) return importJwk(what, value as jose.JWK, options)
    if (typeof value !== "string") return Effect.fail(fail(what, "the key is neither text nor a JWK object"))
    // A PEM pasted into an environment variable often arrives with literal "\n" for its line breaks.
    const text = value.includes("\n") ? value.trim() : value.replace(/\\n/g, "\n").trim()
    if (text.startsWith("{")) {
      let parsed: unknown
      try {
        parsed = JSON.parse(text)
      } catch {
        // The parser's message quotes the input: not repeated.
        return Effect.fail(fail(what, "the key looks like a JWK but is not valid JSON"))
      }
      return importJwk(what, parsed as jose.JWK, options)
    }
    return importPem(what, text, options)
  })

const hmacBytes: Record<HmacAlgorithm, number> = { HS256: 32, HS384: 48, HS512: 64 }

/**
 * A signer over a shared secret (`client_secret_jwt`, RFC 7518 §3.2): the secret's UTF-8 bytes are the HMAC key,
 * which must be at least as long as the hash (32 bytes for HS256).
 *
 * @internal
 */
export const hmacSigner = (
  secret: Redacted.Redacted<string>,
  options: { readonly what: string; readonly alg?: HmacAlgorithm | undefined }
): Effect.Effect<Signer, ConfigurationError> =>
  Effect.suspend(() => {
    const alg = options.alg ?? "HS256"
    if (!Object.hasOwn(hmacBytes, alg)) {
      return Effect.fail(fail(options.what, `alg ${String(alg)} is not an HMAC algorithm (HS256, HS384, HS512)`))
    }
    const bytes = encoder.encode(Redacted.value(secret))
    if (bytes.length < hmacBytes[alg]) {
      return Effect.fail(
        fail(
          options.what,
          `the client secret has ${bytes.length} bytes; ${alg} needs at least ${hmacBytes[alg]} (RFC 7518 §3.2)`
        )
      )
    }
    // Imported once as a non-extractable WebCrypto key: jose would import raw bytes again at every signature.
    return Effect.flatMap(
      Effect.tryPromise({
        try: () =>
          crypto.subtle.importKey("raw", bytes, { name: "HMAC", hash: `SHA-${alg.slice(2)}` }, false, ["sign"]),
        catch: (error) => fail(options.what, `the client secret cannot be used as an HMAC key: ${cryptoMessage(error)}`)
      }),
      (key) => checked(makeSigner(options.what, key, alg, undefined, undefined))
    )
  })

/**
 * A new random identifier (128 bits, base64url) for `jti`.
 *
 * @internal
 */
export const randomId: Effect.Effect<string> = Effect.sync(() => jose.base64url.encode(randomBytes16()))

// One call to the CSPRNG per 256 identifiers: `getRandomValues` costs a native call each time (about 15 µs in Node),
// which a DPoP proof on every API request would otherwise pay. Each identifier takes fresh bytes once.
const pool = new Uint8Array(16 * 256)
let poolOffset = pool.length
const randomBytes16 = (): Uint8Array => {
  if (poolOffset >= pool.length) {
    crypto.getRandomValues(pool)
    poolOffset = 0
  }
  const bytes = pool.slice(poolOffset, poolOffset + 16)
  poolOffset += 16
  return bytes
}
