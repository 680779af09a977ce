import { ClientAuth, ClientCredentials, Discovery, OAuth2Error, OAuth2HttpClient } from "@effect-oauth2/core"
import { clients, startFaultServer } from "@effect-oauth2/testing"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Layer, Redacted } from "effect"
import { authServer, resourceServer } from "./servers.js"

const discover = (issuer: string, options: Discovery.Options = {}) =>
  Effect.exit(Discovery.discover(issuer, options).pipe(Effect.provide(NodeHttpClient.layerUndici)))

const discoveryError = <A, E>(exit: Exit.Exit<A, E>): OAuth2Error.DiscoveryError => {
  assert.isTrue(Exit.isFailure(exit), "expected a failure")
  const error = Exit.isFailure(exit) ? exit.cause : undefined
  const found = error !== undefined && error._tag === "Fail" ? error.error : undefined
  assert.isTrue(OAuth2Error.isDiscoveryError(found), `expected a DiscoveryError, got ${String(error)}`)
  return found as OAuth2Error.DiscoveryError
}

const basic = { clientId: clients.basic.id, clientSecret: Redacted.make(clients.basic.secret) }

describe("discovery against oidc-provider (RFC 8414, OpenID Connect Discovery)", () => {
  it.scopedLive("both locations serve the same metadata, with the token endpoint and the auth methods", () =>
    Effect.gen(function*() {
      const as = yield* authServer()
      for (const location of ["oauth-authorization-server", "openid-configuration"] as const) {
        const exit = yield* discover(as.issuer, { location })
        assert.isTrue(Exit.isSuccess(exit), String(exit))
        const metadata = Exit.isSuccess(exit) ? exit.value : undefined
        assert.strictEqual(metadata?.issuer, as.issuer)
        assert.strictEqual(metadata?.token_endpoint, as.tokenEndpoint)
        assert.includeMembers([...(metadata?.token_endpoint_auth_methods_supported ?? [])], [
          "client_secret_basic",
          "private_key_jwt",
          "client_secret_jwt"
        ])
      }
    }))

  it.scopedLive("the OpenID Connect location serves when the RFC 8414 one is not there", () =>
    Effect.gen(function*() {
      const as = yield* authServer({ wellKnown: { oauthAuthorizationServer: false } })
      const exit = yield* discover(as.issuer)
      assert.isTrue(Exit.isSuccess(exit), String(exit))
      const only = discoveryError(yield* discover(as.issuer, { location: "oauth-authorization-server" }))
      assert.strictEqual(only.kind, "NotFound")
    }))

  it.scopedLive("an issuer with a path: metadata at /.well-known/oauth-authorization-server/<path>, then a token", () =>
    Effect.gen(function*() {
      const as = yield* authServer({ issuerPath: "/tenants/acme" })
      assert.isTrue(as.issuer.endsWith("/tenants/acme"))
      const credentials = yield* ClientCredentials.grant({ issuer: as.issuer, ...basic, scopes: ["api:read"] }).pipe(
        Effect.provide(NodeHttpClient.layerUndici)
      )
      assert.strictEqual(credentials.tokenEndpoint, `${as.issuer}/token`)
      assert.strictEqual(as.tokenRequests(), 1)
      // The OpenID Connect location of that issuer answers too.
      assert.isTrue(Exit.isSuccess(yield* discover(as.issuer, { location: "openid-configuration" })))
    }))

  it.scopedLive("a wrong issuer (a trailing slash, another path): IssuerMismatch or NotFound, and no token request", () =>
    Effect.gen(function*() {
      const as = yield* authServer({ issuerPath: "/tenants/acme" })
      const grant = (issuer: string) =>
        Effect.exit(
          ClientCredentials.grant({ issuer, ...basic, retry: false }).pipe(Effect.provide(NodeHttpClient.layerUndici))
        )
      const slash = discoveryError(yield* grant(`${as.issuer}/`))
      assert.strictEqual(slash.kind, "IssuerMismatch")
      assert.include(slash.message, `the metadata's issuer is "${as.issuer}"`)
      assert.include(slash.message, "No token request was sent")
      const other = discoveryError(yield* grant(as.issuer.replace("/tenants/acme", "/tenants/other")))
      assert.strictEqual(other.kind, "NotFound")
      assert.strictEqual(other.status, 404)
      assert.include(other.message, "/.well-known/oauth-authorization-server/tenants/other")
      assert.include(other.message, "/tenants/other/.well-known/openid-configuration")
      assert.strictEqual(as.tokenRequests(), 0)
    }))

  it.scopedLive("an HTML page at the metadata locations: NotJson, naming the URL", () =>
    Effect.gen(function*() {
      const fault = yield* Effect.acquireRelease(Effect.promise(() => startFaultServer()), (s) =>
        Effect.promise(() => s.close()))
      fault.setDefault({ kind: "html" })
      const error = discoveryError(yield* discover(fault.url))
      assert.strictEqual(error.kind, "NotJson")
      assert.strictEqual(error.url, `${fault.url}/.well-known/openid-configuration`)
      assert.include(error.reason, "an HTML page")
    }))

  it.scopedLive("a server that does not answer: Timeout after the timeout", () =>
    Effect.gen(function*() {
      const fault = yield* Effect.acquireRelease(Effect.promise(() => startFaultServer()), (s) =>
        Effect.promise(() => s.close()))
      fault.setDefault({ kind: "stall" })
      const started = Date.now()
      const error = discoveryError(yield* discover(fault.url, { timeout: "300 millis", retry: false }))
      assert.strictEqual(error.kind, "Timeout")
      assert.strictEqual(error.url, `${fault.url}/.well-known/oauth-authorization-server`)
      assert.include(error.message, "no answer within 300ms")
      assert.isBelow(Date.now() - started, 20_000)
    }))

  it.scopedLive("the layer with an issuer: discovered once, then tokens and API calls as with a token URL", () =>
    Effect.gen(function*() {
      const as = yield* authServer()
      const rs = yield* resourceServer(as)
      const discoveries: Array<string> = []
      const counting = Layer.effect(
        HttpClient.HttpClient,
        Effect.map(HttpClient.HttpClient, (client) =>
          HttpClient.make((request) => {
            if (request.url.includes("/.well-known/")) discoveries.push(request.url)
            return client.execute(request)
          }))
      ).pipe(Layer.provide(NodeHttpClient.layerUndici))
      const layer = OAuth2HttpClient.layer({
        issuer: as.issuer,
        ...basic,
        auth: ClientAuth.clientSecretBasic,
        origins: [rs.url]
      }).pipe(Layer.provide(counting))
      yield* Effect.gen(function*() {
        const client = yield* HttpClient.HttpClient
        const statuses = yield* Effect.forEach(
          [1, 2, 3],
          () => Effect.map(client.get(`${rs.url}/hello`), (r) => r.status)
        )
        assert.deepStrictEqual(statuses, [200, 200, 200])
      }).pipe(Effect.provide(layer))
      assert.deepStrictEqual(discoveries, [`${as.issuer}/.well-known/oauth-authorization-server`])
      assert.strictEqual(as.tokenRequests(), 1)
    }))

  it.scopedLive("private_key_jwt through discovery: aud is the discovered token endpoint, or the issuer", () =>
    Effect.gen(function*() {
      const as = yield* authServer({ issuerPath: "/t1" })
      for (const audience of [undefined, "issuer"] as const) {
        const credentials = yield* ClientCredentials.grant({
          issuer: as.issuer,
          clientId: as.jwtClients.es256.id,
          auth: ClientAuth.privateKeyJwt({ key: Redacted.make(as.jwtClients.es256.privateKeyPem), audience })
        }).pipe(Effect.provide(NodeHttpClient.layerUndici))
        assert.strictEqual(credentials.tokenEndpoint, `${as.issuer}/token`)
      }
    }))
})
