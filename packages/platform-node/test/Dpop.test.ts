import { Dpop, OAuth2Client } from "@effect-oauth2/core"
import { NodeOAuth2 } from "@effect-oauth2/platform-node"
import { clients } from "@effect-oauth2/testing"
import * as HttpClient from "@effect/platform/HttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as jose from "jose"
import * as crypto from "node:crypto"
import { inject } from "vitest"

const tokenEndpoint = inject("tokenEndpoint")
const apiUrl = inject("apiUrl")

const dpopClient = {
  tokenUrl: tokenEndpoint,
  clientId: clients.dpop.id,
  clientSecret: Redacted.make(clients.dpop.secret),
  scopes: ["api:read"],
  origins: [apiUrl]
}

/** The API's answer through the layer's HttpClient, and the credentials it used. */
const helloWith = <E>(layer: Layer.Layer<HttpClient.HttpClient | OAuth2Client.OAuth2Client, E>) =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const response = yield* client.get(`${apiUrl}/hello`)
    const credentials = yield* (yield* OAuth2Client.OAuth2Client).token.get
    return { status: response.status, body: (yield* response.json) as Record<string, unknown>, credentials }
  }).pipe(Effect.provide(layer))

describe("NodeOAuth2 with DPoP (RFC 9449) against oidc-provider and the DPoP-verifying API", () => {
  it.live("dpop: true: a DPoP-bound token, accepted by the API with a proof per request", () =>
    Effect.gen(function*() {
      const result = yield* helloWith(NodeOAuth2.layer({ ...dpopClient, dpop: true }))
      assert.strictEqual(result.status, 200)
      assert.strictEqual(result.body.client_id, clients.dpop.id)
      assert.strictEqual(result.credentials.tokenType, "DPoP")
      assert.strictEqual(result.credentials.cnfJkt, result.credentials.dpopJkt)
    }))

  it.live("a given JWK pair: the token is bound to that key's RFC 7638 thumbprint", () =>
    Effect.gen(function*() {
      const pair = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" })
      const privateJwk = pair.privateKey.export({ format: "jwk" }) as JsonWebKey
      const expected = yield* Dpop.thumbprint(pair.publicKey.export({ format: "jwk" }) as JsonWebKey)
      const result = yield* helloWith(
        NodeOAuth2.layer({ ...dpopClient, dpop: { key: { privateKey: Redacted.make(privateJwk) } } })
      )
      assert.strictEqual(result.status, 200)
      assert.strictEqual(result.credentials.dpopJkt, expected)
      const cnf = jose.decodeJwt(Redacted.value(result.credentials.accessToken)).cnf as { jkt: string }
      assert.strictEqual(cnf.jkt, expected)
    }))

  it.live("OAUTH2_DPOP=true in the environment turns DPoP on", () =>
    Effect.gen(function*() {
      const env = Layer.setConfigProvider(
        ConfigProvider.fromMap(
          new Map([
            ["OAUTH2_TOKEN_URL", tokenEndpoint],
            ["OAUTH2_CLIENT_ID", clients.dpop.id],
            ["OAUTH2_CLIENT_SECRET", clients.dpop.secret],
            ["OAUTH2_SCOPES", "api:read"],
            ["OAUTH2_DPOP", "true"]
          ])
        )
      )
      const result = yield* helloWith(NodeOAuth2.layerFromEnv().pipe(Layer.provide(env)))
      assert.strictEqual(result.status, 200)
      assert.strictEqual(result.credentials.tokenType, "DPoP")
    }))
})
