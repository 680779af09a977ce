import { ClientAuth, ClientCredentials, OAuth2Client, OAuth2Error, OAuth2HttpClient } from "@effect-oauth2/core"
import type { AuthServer, ResourceServer } from "@effect-oauth2/testing"
import { clients, startAuthServer, startResourceServer } from "@effect-oauth2/testing"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Effect, Layer, Logger, LogLevel, Redacted } from "effect"
import * as Exit from "effect/Exit"
import * as jose from "jose"
import * as RecordingTracer from "../utils/RecordingTracer.js"

let as: AuthServer
let rs: ResourceServer

beforeAll(async () => {
  as = await startAuthServer()
  rs = await startResourceServer({ issuer: as.issuer, jwksUri: as.jwksUri })
})

afterAll(async () => {
  await Promise.all([rs?.close(), as?.close()])
})

const grant = (options: ClientCredentials.Options) =>
  ClientCredentials.grant({ retry: false, ...options }).pipe(Effect.provide(NodeHttpClient.layerUndici))

const clientIdOf = (token: Redacted.Redacted<string>) => jose.decodeJwt(Redacted.value(token)).client_id

/** The methods under test, each with the client it authenticates. */
const methods = () =>
  [
    {
      name: "private_key_jwt, ES256 key as PKCS#8 PEM",
      clientId: as.jwtClients.es256.id,
      auth: ClientAuth.privateKeyJwt({ key: Redacted.make(as.jwtClients.es256.privateKeyPem) })
    },
    {
      name: "private_key_jwt, RS256 key as a JWK (kid from the JWK)",
      clientId: as.jwtClients.rs256.id,
      auth: ClientAuth.privateKeyJwt({ key: Redacted.make(as.jwtClients.rs256.privateJwk as jose.JWK) })
    },
    {
      name: "client_secret_jwt, HS256",
      clientId: clients.secretJwt.id,
      clientSecret: Redacted.make(clients.secretJwt.secret),
      auth: ClientAuth.clientSecretJwt()
    }
  ] as const

describe("JWT client authentication against oidc-provider (RFC 7523)", () => {
  it.live("private_key_jwt with an ES256 and an RS256 key, client_secret_jwt: the server issues a token", () =>
    Effect.gen(function*() {
      for (const method of methods()) {
        const credentials = yield* grant({ tokenUrl: as.tokenEndpoint, scopes: ["api:read"], ...method })
        assert.strictEqual(clientIdOf(credentials.accessToken), method.clientId, method.name)
        assert.deepStrictEqual(credentials.scopes, ["api:read"])
      }
    }))

  it.live("the RS256 client's key also signs PS256, and client_secret_jwt HS512", () =>
    Effect.gen(function*() {
      const ps = yield* grant({
        tokenUrl: as.tokenEndpoint,
        clientId: as.jwtClients.rs256.id,
        auth: ClientAuth.privateKeyJwt({ key: Redacted.make(as.jwtClients.rs256.privateKeyPem), alg: "PS256" })
      })
      assert.strictEqual(clientIdOf(ps.accessToken), as.jwtClients.rs256.id)
      const hs = yield* grant({
        tokenUrl: as.tokenEndpoint,
        clientId: clients.secretJwt.id,
        clientSecret: Redacted.make(clients.secretJwt.secret),
        auth: ClientAuth.clientSecretJwt({ alg: "HS512" })
      })
      assert.strictEqual(clientIdOf(hs.accessToken), clients.secretJwt.id)
    }))

  it.live(`the server takes aud = the token endpoint (default) or the issuer ("issuer"), and refuses another`, () =>
    Effect.gen(function*() {
      const key = Redacted.make(as.jwtClients.es256.privateKeyPem)
      const withAudience = (audience?: ClientAuth.AssertionAudience) =>
        grant({
          tokenUrl: as.tokenEndpoint,
          issuer: as.issuer,
          clientId: as.jwtClients.es256.id,
          auth: ClientAuth.privateKeyJwt({ key, audience })
        })
      yield* withAudience()
      yield* withAudience("issuer")
      const refused = yield* Effect.exit(withAudience("https://somewhere-else.example.com"))
      assert.isTrue(Exit.isFailure(refused))
      const error = Exit.isFailure(refused) ? refused.cause : undefined
      assert.include(String(error), `error "invalid_client"`)
    }))

  it.live("a wrong key or a wrong secret is refused with invalid_client", () =>
    Effect.gen(function*() {
      const otherKey = yield* Effect.promise(() => jose.generateKeyPair("ES256"))
      const wrongKey = yield* Effect.flip(grant({
        tokenUrl: as.tokenEndpoint,
        clientId: as.jwtClients.es256.id,
        auth: ClientAuth.privateKeyJwt({ key: otherKey.privateKey })
      }))
      assert.isTrue(OAuth2Error.isErrorResponse(wrongKey) && wrongKey.error === "invalid_client")
      const wrongSecret = yield* Effect.flip(grant({
        tokenUrl: as.tokenEndpoint,
        clientId: clients.secretJwt.id,
        clientSecret: Redacted.make(`${clients.secretJwt.secret}-but-not-this-one`),
        auth: ClientAuth.clientSecretJwt()
      }))
      assert.isTrue(OAuth2Error.isErrorResponse(wrongSecret) && wrongSecret.error === "invalid_client")
    }))

  it.live("a retry after the server has seen the first assertion succeeds: it carries a new one (replays are refused)", () =>
    Effect.gen(function*() {
      // The first request reaches oidc-provider, which records its jti; the client is then told 503 and retries.
      const seen: Array<string> = []
      const undici = yield* HttpClient.HttpClient
      const lossy = HttpClient.make((request) =>
        Effect.gen(function*() {
          const body = request.body._tag === "Uint8Array" ? new TextDecoder().decode(request.body.body) : ""
          seen.push(new URLSearchParams(body).get("client_assertion") ?? "")
          const response = yield* undici.execute(request).pipe(Effect.orDie)
          if (seen.length > 1) return response
          yield* Effect.orDie(response.text)
          return HttpClientResponse.fromWeb(
            request,
            new Response("busy", { status: 503, headers: { "retry-after": "0" } })
          )
        })
      )
      const credentials = yield* ClientCredentials.grant({
        tokenUrl: as.tokenEndpoint,
        clientId: as.jwtClients.es256.id,
        auth: ClientAuth.privateKeyJwt({ key: Redacted.make(as.jwtClients.es256.privateKeyPem) })
      }).pipe(Effect.provideService(HttpClient.HttpClient, lossy), Logger.withMinimumLogLevel(LogLevel.None))
      assert.strictEqual(clientIdOf(credentials.accessToken), as.jwtClients.es256.id)
      assert.strictEqual(seen.length, 2)
      assert.notStrictEqual(jose.decodeJwt(seen[0]!).jti, jose.decodeJwt(seen[1]!).jti)

      // The server really refuses a replayed assertion: the first one, sent again by hand.
      const replay = yield* Effect.promise(() =>
        fetch(as.tokenEndpoint, {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams({
            grant_type: "client_credentials",
            client_id: as.jwtClients.es256.id,
            client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            client_assertion: seen[0]!
          })
        }).then(async (response) => ({ status: response.status, body: await response.json() }))
      )
      assert.strictEqual(replay.status, 401)
      assert.strictEqual((replay.body as { error: string }).error, "invalid_client")
    }).pipe(Effect.provide(NodeHttpClient.layerUndici)))
})

describe("each method through the Layer, end to end with the protected API", () => {
  it.live("the API answers for the client of each method; no key, secret or assertion in spans or logs", () =>
    Effect.gen(function*() {
      for (const method of methods()) {
        const tracer = RecordingTracer.make()
        const logs: Array<string> = []
        const assertions: Array<string> = []
        const recording = Effect.map(
          HttpClient.HttpClient,
          (undici) =>
            HttpClient.make((request) => {
              if (request.body._tag === "Uint8Array") {
                const assertion = new URLSearchParams(new TextDecoder().decode(request.body.body)).get(
                  "client_assertion"
                )
                if (assertion !== null) assertions.push(assertion)
              }
              return undici.execute(request)
            })
        )
        const layer = OAuth2HttpClient.layer({
          tokenUrl: as.tokenEndpoint,
          scopes: ["api:read"],
          origins: [rs.url],
          ...method
        }).pipe(
          Layer.provide(Layer.effect(HttpClient.HttpClient, recording)),
          Layer.provide(NodeHttpClient.layerUndici)
        )
        const body = yield* Effect.gen(function*() {
          const client = yield* HttpClient.HttpClient
          const response = yield* client.get(`${rs.url}/hello`)
          assert.strictEqual(response.status, 200, method.name)
          const { token } = yield* OAuth2Client.OAuth2Client
          yield* token.refresh
          return (yield* response.json) as Record<string, unknown>
        }).pipe(
          Effect.provide(layer),
          Effect.withTracer(tracer.tracer),
          Effect.provide(
            Logger.replace(Logger.defaultLogger, Logger.make(({ message }) => logs.push(String(message))))
          ),
          Logger.withMinimumLogLevel(LogLevel.All)
        )
        assert.strictEqual(body.client_id, method.clientId, method.name)
        assert.strictEqual(assertions.length, 2)
        const output = `${tracer.exported()}\n${logs.join("\n")}`
        assert.include(output, "OAuth2.tokenRequest")
        assert.include(output, method.auth.method)
        for (const assertion of assertions) assert.notInclude(output, assertion.split(".")[2]!)
        assert.notInclude(output, clients.secretJwt.secret)
        for (const client of [as.jwtClients.es256, as.jwtClients.rs256]) {
          assert.notInclude(output, String(client.privateJwk.d))
          assert.notInclude(output, client.privateKeyPem.split("\n")[1]!)
        }
      }
    }))
})
