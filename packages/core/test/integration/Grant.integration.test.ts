import { ClientAuth, ClientCredentials, OAuth2Error } from "@effect-oauth2/core"
import { clients, jwtResource, opaqueResource } from "@effect-oauth2/testing"
import { FetchHttpClient, type HttpClient } from "@effect/platform"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { assert, describe, inject, it } from "@effect/vitest"
import type { Layer } from "effect"
import { Effect, Redacted } from "effect"
import * as jose from "jose"

const tokenUrl = inject("tokenEndpoint")

const clientsUnderTest = [
  ["undici", NodeHttpClient.layerUndici],
  ["fetch", FetchHttpClient.layer]
] as const

const decodeJwt = (token: Redacted.Redacted<string>) => jose.decodeJwt(Redacted.value(token))

for (const [name, httpLayer] of clientsUnderTest) {
  describe(`the grant against oidc-provider (${name})`, () => {
    const run = <A, E>(effect: Effect.Effect<A, E, HttpClient.HttpClient>) =>
      effect.pipe(Effect.provide(httpLayer as Layer.Layer<HttpClient.HttpClient>))

    it.live("client_secret_basic with scopes: a JWT access token, granted scopes, expiry", () =>
      Effect.gen(function*() {
        const before = Date.now()
        const credentials = yield* run(ClientCredentials.grant({
          tokenUrl,
          clientId: clients.basic.id,
          clientSecret: Redacted.make(clients.basic.secret),
          scopes: ["api:read"]
        }))
        assert.strictEqual(credentials.tokenType.toLowerCase(), "bearer")
        assert.deepStrictEqual(credentials.scopes, ["api:read"])
        assert.strictEqual(credentials.expiresIn, 300)
        // expiresAt = time before the request + 300 s − 10 s grace
        assert.isTrue(credentials.expiresAt! >= before + 290_000 && credentials.expiresAt! <= Date.now() + 290_000)
        const claims = decodeJwt(credentials.accessToken)
        assert.strictEqual(claims.client_id, clients.basic.id)
        assert.strictEqual(claims.aud, jwtResource)
      }))

    it.live("client_secret_post", () =>
      Effect.gen(function*() {
        const credentials = yield* run(ClientCredentials.grant({
          tokenUrl,
          clientId: clients.post.id,
          clientSecret: Redacted.make(clients.post.secret),
          auth: ClientAuth.clientSecretPost,
          scopes: "api:read api:write"
        }))
        assert.deepStrictEqual([...credentials.scopes].sort(), ["api:read", "api:write"])
      }))

    it.live("the special-character client works only with RFC 6749 §2.3.1 form-encoding", () =>
      Effect.gen(function*() {
        const credentials = yield* run(ClientCredentials.grant({
          tokenUrl,
          clientId: clients.weird.id,
          clientSecret: Redacted.make(clients.weird.secret)
        }))
        assert.strictEqual(decodeJwt(credentials.accessToken).client_id, clients.weird.id)
        const raw = yield* Effect.flip(run(ClientCredentials.grant({
          tokenUrl,
          clientId: clients.weird.id,
          clientSecret: Redacted.make(clients.weird.secret),
          auth: ClientAuth.clientSecretBasicWith("none")
        })))
        assert.isTrue(OAuth2Error.isErrorResponse(raw))
      }))

    it.live("a non-Latin-1 client id and secret (UTF-8, form-encoded)", () =>
      Effect.gen(function*() {
        const credentials = yield* run(ClientCredentials.grant({
          tokenUrl,
          clientId: clients.unicode.id,
          clientSecret: Redacted.make(clients.unicode.secret)
        }))
        assert.strictEqual(decodeJwt(credentials.accessToken).client_id, clients.unicode.id)
      }))

    it.live("no scope: the server omits scope and the credentials keep the requested (none)", () =>
      Effect.gen(function*() {
        const credentials = yield* run(ClientCredentials.grant({
          tokenUrl,
          clientId: clients.basic.id,
          clientSecret: Redacted.make(clients.basic.secret)
        }))
        assert.deepStrictEqual(credentials.scopes, [])
      }))

    it.live("resource (RFC 8707) selects the audience; an opaque token for the opaque resource", () =>
      Effect.gen(function*() {
        const jwt = yield* run(ClientCredentials.grant({
          tokenUrl,
          clientId: clients.basic.id,
          clientSecret: Redacted.make(clients.basic.secret),
          params: { resource: [jwtResource], audience: undefined }
        }))
        assert.strictEqual(decodeJwt(jwt.accessToken).aud, jwtResource)
        const opaque = yield* run(ClientCredentials.grant({
          tokenUrl,
          clientId: clients.basic.id,
          clientSecret: Redacted.make(clients.basic.secret),
          params: { resource: opaqueResource }
        }))
        assert.notInclude(Redacted.value(opaque.accessToken), ".")
      }))

    it.live("a wrong secret: 401 invalid_client as a typed ErrorResponse, never retried", () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(run(ClientCredentials.grant({
          tokenUrl,
          clientId: clients.basic.id,
          clientSecret: Redacted.make("wrong-secret-value")
        })))
        assert.isTrue(OAuth2Error.isErrorResponse(error))
        const response = error as OAuth2Error.ErrorResponse
        assert.strictEqual(response.status, 401)
        assert.strictEqual(response.error, "invalid_client")
        assert.notInclude(response.message, "wrong-secret-value")
      }))

    it.live("an unknown scope and a scope the client may not ask for: invalid_scope", () =>
      Effect.gen(function*() {
        for (const scopes of [["api:read", "bogus"], ["api:admin"]]) {
          const error = yield* Effect.flip(run(ClientCredentials.grant({
            tokenUrl,
            clientId: clients.basic.id,
            clientSecret: Redacted.make(clients.basic.secret),
            scopes
          })))
          assert.isTrue(OAuth2Error.isErrorResponse(error))
          assert.strictEqual((error as OAuth2Error.ErrorResponse).error, "invalid_scope")
          assert.strictEqual((error as OAuth2Error.ErrorResponse).status, 400)
        }
      }))

    it.live("an unknown resource: invalid_target", () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(run(ClientCredentials.grant({
          tokenUrl,
          clientId: clients.basic.id,
          clientSecret: Redacted.make(clients.basic.secret),
          params: { resource: "https://unknown.example.test/" }
        })))
        assert.strictEqual((error as OAuth2Error.ErrorResponse).error, "invalid_target")
      }))

    it.live("an unknown client: invalid_client", () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(run(ClientCredentials.grant({
          tokenUrl,
          clientId: "nobody",
          clientSecret: Redacted.make("nothing"),
          auth: ClientAuth.clientSecretPost
        })))
        assert.strictEqual((error as OAuth2Error.ErrorResponse).error, "invalid_client")
      }))

    it.live("a closed port: TransportError after the retries", () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(run(ClientCredentials.grant({
          tokenUrl: "http://127.0.0.1:9/token",
          clientId: clients.basic.id,
          clientSecret: Redacted.make(clients.basic.secret),
          retry: { schedule: undefined, budget: "10 seconds" }
        })))
        assert.isTrue(OAuth2Error.isTransportError(error))
      }))
  })
}
