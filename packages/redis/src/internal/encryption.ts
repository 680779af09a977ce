import { OAuth2Error } from "@effect-oauth2/core"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Encoding from "effect/Encoding"
import * as Redacted from "effect/Redacted"

/** The marker of an encrypted value: `v1.<iv>.<ciphertext and tag>`, both base64url. */
const version = "v1"

/**
 * AES-256-GCM through WebCrypto. Each value gets a fresh 96-bit IV; the Redis key is the additional authenticated
 * data, so a value copied to another key does not decrypt there.
 *
 * @internal
 */
export interface Cipher {
  readonly encrypt: (plaintext: string, key: string) => Effect.Effect<string, unknown>
  /** `None`-like `undefined` when the value is not ours or does not authenticate. */
  readonly decrypt: (value: string, key: string) => Effect.Effect<string | undefined>
}

const keyBytes = (input: string | Uint8Array): Either.Either<Uint8Array, OAuth2Error.ConfigurationError> => {
  const bytes = typeof input === "string"
    ? Either.orElse(Encoding.decodeBase64(input.trim()), () => Encoding.decodeBase64Url(input.trim()))
    : Either.right(input)
  return Either.match(bytes, {
    onLeft: () =>
      Either.left(
        new OAuth2Error.ConfigurationError({
          reason: "encryptionKey: a string key must be base64 (or base64url) of 32 random bytes " +
            "(openssl rand -base64 32)"
        })
      ),
    onRight: (raw) =>
      raw.length === 32 ? Either.right(raw) : Either.left(
        new OAuth2Error.ConfigurationError({
          reason: `encryptionKey: AES-256 needs 32 bytes (256 bits), got ${raw.length} ` +
            "(make one with openssl rand -base64 32)"
        })
      )
  })
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** @internal */
export const make = (
  encryptionKey: Redacted.Redacted<string | Uint8Array>
): Effect.Effect<Cipher, OAuth2Error.ConfigurationError> =>
  Effect.gen(function*() {
    const raw = yield* keyBytes(Redacted.value(encryptionKey))
    const subtle = globalThis.crypto?.subtle
    if (subtle === undefined) {
      return yield* new OAuth2Error.ConfigurationError({
        reason: "encryptionKey: WebCrypto (globalThis.crypto.subtle) is not available in this runtime"
      })
    }
    // Not extractable: the key object cannot be exported again once imported.
    const key = yield* Effect.tryPromise({
      try: () => subtle.importKey("raw", new Uint8Array(raw), { name: "AES-GCM" }, false, ["encrypt", "decrypt"]),
      catch: () => new OAuth2Error.ConfigurationError({ reason: "encryptionKey: WebCrypto refused the key" })
    })
    return {
      encrypt: (plaintext, redisKey) =>
        Effect.tryPromise(async () => {
          const iv = globalThis.crypto.getRandomValues(new Uint8Array(12))
          const sealed = await subtle.encrypt(
            { name: "AES-GCM", iv, additionalData: encoder.encode(redisKey) },
            key,
            encoder.encode(plaintext)
          )
          return `${version}.${Encoding.encodeBase64Url(iv)}.${Encoding.encodeBase64Url(new Uint8Array(sealed))}`
        }),
      decrypt: (value, redisKey) => {
        const parts = value.split(".")
        if (parts.length !== 3 || parts[0] !== version) return Effect.succeed(undefined)
        const iv = Encoding.decodeBase64Url(parts[1])
        const sealed = Encoding.decodeBase64Url(parts[2])
        if (Either.isLeft(iv) || Either.isLeft(sealed) || iv.right.length !== 12) return Effect.succeed(undefined)
        return Effect.tryPromise(() =>
          subtle.decrypt(
            { name: "AES-GCM", iv: new Uint8Array(iv.right), additionalData: encoder.encode(redisKey) },
            key,
            new Uint8Array(sealed.right)
          )
        ).pipe(
          Effect.map((plain) => decoder.decode(plain)),
          Effect.orElseSucceed(() => undefined)
        )
      }
    }
  })
