import { OAuth2Error } from "@effect-oauth2/core"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Undici from "@effect/platform-node/Undici"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as tls from "node:tls"

/** @internal */
export type Pem = string | Uint8Array

/** @internal */
export interface TlsOptions {
  readonly cert: Pem | ReadonlyArray<Pem>
  readonly key: Redacted.Redacted<Pem>
  readonly ca?: Pem | ReadonlyArray<Pem> | undefined
  readonly passphrase?: Redacted.Redacted<string> | undefined
}

const fail = (reason: string) => new OAuth2Error.ConfigurationError({ reason: `tls: ${reason}` })

const buffers = (value: Pem | ReadonlyArray<Pem>): Array<string | Buffer> =>
  (Array.isArray(value) ? value : [value]).map((item: Pem) => typeof item === "string" ? item : Buffer.from(item))

/**
 * The TLS options checked by building a secure context once: an unreadable certificate or key, a key that does not
 * match the certificate or a wrong passphrase fails here, when the layer is built. OpenSSL's messages name the
 * problem and never quote key material.
 *
 * @internal
 */
export const connectOptions = (
  options: TlsOptions
): Effect.Effect<tls.SecureContextOptions, OAuth2Error.ConfigurationError> =>
  Effect.suspend(() => {
    if (!Redacted.isRedacted(options.key)) return Effect.fail(fail("key must be Redacted (Redacted.make(pem))"))
    if (options.passphrase !== undefined && !Redacted.isRedacted(options.passphrase)) {
      return Effect.fail(fail("passphrase must be Redacted"))
    }
    const key = Redacted.value(options.key)
    const connect: tls.SecureContextOptions = {
      cert: buffers(options.cert),
      key: typeof key === "string" ? key : Buffer.from(key),
      ...(options.ca !== undefined ? { ca: buffers(options.ca) } : {}),
      ...(options.passphrase !== undefined ? { passphrase: Redacted.value(options.passphrase) } : {})
    }
    return Effect.try({
      try: () => {
        tls.createSecureContext(connect)
        return connect
      },
      catch: (error) => {
        const message = error instanceof Error ? error.message.slice(0, 200) : "refused"
        return fail(
          `the client certificate and key cannot be used (${message}); check that both are PEM and belong together`
        )
      }
    })
  })

/**
 * The undici client with a dispatcher of its own that presents the client certificate on every connection (token
 * and API requests alike); the dispatcher is closed with the layer.
 *
 * @internal
 */
export const httpClientLayer = (
  options: TlsOptions | undefined
): Layer.Layer<HttpClient.HttpClient, OAuth2Error.ConfigurationError> =>
  options === undefined
    ? NodeHttpClient.layerUndici
    : NodeHttpClient.layerUndiciWithoutDispatcher.pipe(
      Layer.provide(
        Layer.scoped(
          NodeHttpClient.Dispatcher,
          Effect.flatMap(connectOptions(options), (connect) =>
            Effect.acquireRelease(
              Effect.sync(() => new Undici.Agent({ connect })),
              (agent) => Effect.promise(() => agent.destroy())
            ))
        )
      )
    )
