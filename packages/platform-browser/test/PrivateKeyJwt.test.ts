import { ClientAuth } from "@effect-oauth2/core"
import { BrowserOAuth2 } from "@effect-oauth2/platform-browser"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import { inject } from "vitest"
import { servers } from "./utils/Browser.js"

const jwtClient = inject("privateKeyJwtClient")

/** The client's private key as a non-extractable WebCrypto key: the page can sign with it, never read it. */
const nonExtractableKey = Effect.promise(() => {
  const { alg: _alg, key_ops: _ops, use: _use, ...jwk } = jwtClient.privateJwk as JsonWebKey & Record<string, unknown>
  return crypto.subtle.importKey("jwk", jwk, { name: "ECDSA", namedCurve: "P-256" }, false, ["sign"])
})

interface Sent {
  readonly url: string
  readonly headers: Headers
  readonly form: URLSearchParams
}

/** A `fetch` that records the URL, headers and form body of each request, as `FetchHttpClient.Fetch`. */
const recordingFetch = () => {
  const sent: Array<Sent> = []
  const recording: typeof globalThis.fetch = (input, init) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url
    const body = init?.body
    const form = body instanceof URLSearchParams
      ? body
      : typeof body === "string"
      ? new URLSearchParams(body)
      : body instanceof Uint8Array
      ? new URLSearchParams(new TextDecoder().decode(body))
      : new URLSearchParams()
    sent.push({ url, headers: new Headers(init?.headers), form })
    return globalThis.fetch(input, init)
  }
  return { sent, layer: Layer.succeed(FetchHttpClient.Fetch, recording) }
}

const hello = Effect.gen(function*() {
  const client = yield* HttpClient.HttpClient
  const response = yield* client.get(`${servers.apiUrl}/hello`)
  return { status: response.status, body: (yield* response.json) as Record<string, unknown> }
})

describe("private_key_jwt in Chromium with a non-extractable WebCrypto key", () => {
  it.live("the key cannot be exported, yet it signs: a token, and the API answers for the client", () =>
    Effect.gen(function*() {
      const key = yield* nonExtractableKey
      assert.isFalse(key.extractable)
      const exported = yield* Effect.exit(Effect.tryPromise(() => crypto.subtle.exportKey("jwk", key)))
      assert.isTrue(Exit.isFailure(exported), "a non-extractable key cannot be exported")

      const fetch = recordingFetch()
      const layer = BrowserOAuth2.layer({
        tokenUrl: servers.tokenEndpoint,
        clientId: jwtClient.id,
        auth: ClientAuth.privateKeyJwt({ key }),
        scopes: ["api:read"],
        origins: [servers.apiUrl],
        retry: false
      })
      const result = yield* hello.pipe(Effect.provide(Layer.merge(layer, fetch.layer)))
      assert.strictEqual(result.status, 200)
      assert.strictEqual(result.body.client_id, jwtClient.id)

      const tokenRequests = fetch.sent.filter((request) => request.url === servers.tokenEndpoint)
      assert.strictEqual(tokenRequests.length, 1)
      const { form, headers } = tokenRequests[0]!
      assert.isNull(headers.get("authorization"))
      assert.strictEqual(form.get("client_id"), jwtClient.id)
      assert.strictEqual(form.get("client_assertion_type"), "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
      const [header, claims] = form.get("client_assertion")!.split(".").slice(0, 2).map((part) =>
        JSON.parse(atob(part.replace(/-/g, "+").replace(/_/g, "/")))
      )
      assert.deepStrictEqual(header, { alg: "ES256" })
      assert.strictEqual(claims.iss, jwtClient.id)
      assert.strictEqual(claims.aud, servers.tokenEndpoint)
    }))

  it.live("with an issuer: discovery from the page, then the same", () =>
    Effect.gen(function*() {
      const key = yield* nonExtractableKey
      const result = yield* hello.pipe(
        Effect.provide(BrowserOAuth2.layer({
          issuer: servers.issuer,
          clientId: jwtClient.id,
          auth: ClientAuth.privateKeyJwt({ key }),
          origins: [servers.apiUrl],
          retry: false
        }))
      )
      assert.deepStrictEqual([result.status, result.body.client_id], [200, jwtClient.id])
    }))

  it.live("a public key given as the private one fails the layer when it is built", () =>
    Effect.gen(function*() {
      const pair = yield* Effect.promise(() =>
        crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"])
      )
      const fetch = recordingFetch()
      const exit = yield* Effect.exit(
        Layer.build(
          Layer.merge(
            BrowserOAuth2.layer({
              tokenUrl: servers.tokenEndpoint,
              clientId: jwtClient.id,
              auth: ClientAuth.privateKeyJwt({ key: pair.publicKey })
            }),
            fetch.layer
          )
        ).pipe(Effect.scoped)
      )
      assert.isTrue(Exit.isFailure(exit))
      const text = Exit.isFailure(exit) ? Cause.pretty(exit.cause) : ""
      assert.include(text, "ConfigurationError")
      assert.include(text, "the CryptoKey is a public key; give the private key")
      assert.strictEqual(fetch.sent.length, 0)
    }))
})
