import { Dpop } from "@effect-oauth2/core"
import { OAuth2Client } from "@effect-oauth2/core"
import { BrowserOAuth2, DpopKeyStore, WebStorageTokenStore } from "@effect-oauth2/platform-browser"
import * as HttpClient from "@effect/platform/HttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import { clients, countingFetch, servers } from "./utils/Browser.js"

const hello = Effect.gen(function*() {
  const client = yield* HttpClient.HttpClient
  const response = yield* client.get(`${servers.apiUrl}/hello`)
  return { status: response.status, body: (yield* response.json) as Record<string, unknown> }
})

const decode = (part: string) => JSON.parse(atob(part.replace(/-/g, "+").replace(/_/g, "/")))

const options = {
  tokenUrl: servers.tokenEndpoint,
  ...clients.dpop,
  scopes: ["api:read"],
  origins: [servers.apiUrl],
  retry: false as const
}

describe("DPoP in Chromium (RFC 9449) with non-extractable WebCrypto keys", () => {
  it.live("dpop: true: a DPoP-bound token over a cross-origin fetch, proofs on the token and the API request", () =>
    Effect.gen(function*() {
      const fetch = countingFetch()
      const result = yield* Effect.gen(function*() {
        const client = yield* OAuth2Client.OAuth2Client
        const credentials = yield* client.token.get
        return { credentials, hello: yield* hello }
      }).pipe(Effect.provide(Layer.provideMerge(BrowserOAuth2.layer({ ...options, dpop: true }), fetch.layer)))
      assert.strictEqual(result.hello.status, 200)
      assert.strictEqual(result.hello.body.client_id, clients.dpop.clientId)
      assert.strictEqual(result.credentials.tokenType, "DPoP")
      assert.strictEqual(result.credentials.cnfJkt, result.credentials.dpopJkt)

      const tokenProof = fetch.tokenRequests().at(-1)!.headers.get("dpop")!
      const [header, claims] = tokenProof.split(".").slice(0, 2).map(decode)
      assert.strictEqual(header.typ, "dpop+jwt")
      assert.isUndefined(header.jwk.d, "the proof carries the public key only")
      assert.strictEqual(claims.htm, "POST")
      const api = fetch.apiRequests().at(-1)!
      assert.match(api.headers.get("authorization")!, /^DPoP /)
      assert.strictEqual(decode(api.headers.get("dpop")!.split(".")[1]!).htu, `${servers.apiUrl}/hello`)
    }))

  it.live("DpopKeyStore: a non-extractable pair kept in IndexedDB is the same key after a 'reload'", () =>
    Effect.gen(function*() {
      const name = `test-${crypto.randomUUID()}`
      const first = yield* DpopKeyStore.getOrCreate(name)
      assert.isFalse(first.privateKey.extractable)
      const exported = yield* Effect.exit(Effect.tryPromise(() => crypto.subtle.exportKey("jwk", first.privateKey)))
      assert.isTrue(Exit.isFailure(exported), "the private key cannot be read")
      const again = yield* DpopKeyStore.getOrCreate(name)
      const jkt = (pair: CryptoKeyPair) =>
        Effect.flatMap(Effect.promise(() => crypto.subtle.exportKey("jwk", pair.publicKey)), Dpop.thumbprint)
      assert.strictEqual(yield* jkt(again), yield* jkt(first))

      // Two "page loads" with the stored key and a Web Storage token store: the second reuses the first's token.
      const prefix = `dpop-${crypto.randomUUID()}:`
      const load = Effect.gen(function*() {
        const key = yield* DpopKeyStore.getOrCreate(name)
        const fetch = countingFetch()
        const layer = BrowserOAuth2.layer({
          ...options,
          dpop: { key },
          store: WebStorageTokenStore.make({ storage: sessionStorage, prefix })
        })
        const status = (yield* hello.pipe(Effect.provide(Layer.provideMerge(layer, fetch.layer)))).status
        return { status, tokenRequests: fetch.tokenRequests().length }
      })
      assert.deepStrictEqual(yield* load, { status: 200, tokenRequests: 1 })
      assert.deepStrictEqual(yield* load, { status: 200, tokenRequests: 0 })

      yield* DpopKeyStore.remove(name)
      const fresh = yield* DpopKeyStore.getOrCreate(name)
      assert.notStrictEqual(yield* jkt(fresh), yield* jkt(first))
      yield* DpopKeyStore.remove(name)
    }))
})
