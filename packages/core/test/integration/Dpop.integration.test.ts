import { ClientAuth, ClientCredentials, Dpop, OAuth2Client, OAuth2Error } from "@effect-oauth2/core"
import type { AuthServer, ResourceServer } from "@effect-oauth2/testing"
import { clients, startAuthServer, startResourceServer } from "@effect-oauth2/testing"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Effect, Logger, Redacted } from "effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as TestClock from "effect/TestClock"
import * as TestContext from "effect/TestContext"
import * as jose from "jose"
import * as crypto from "node:crypto"

let as: AuthServer
let asNonce: AuthServer
let rs: ResourceServer
let rsNonce: ResourceServer
let rsRotating: ResourceServer

beforeAll(async () => {
  ;[as, asNonce] = await Promise.all([startAuthServer(), startAuthServer({ dpopNonce: true })])
  ;[rs, rsNonce, rsRotating] = await Promise.all([
    startResourceServer({ issuer: as.issuer, jwksUri: as.jwksUri }),
    startResourceServer({ issuer: asNonce.issuer, jwksUri: asNonce.jwksUri, dpopNonce: true }),
    startResourceServer({ issuer: as.issuer, jwksUri: as.jwksUri, dpopNonce: { rotateEvery: 2 } })
  ])
})

afterAll(async () => {
  await Promise.all([rs?.close(), rsNonce?.close(), rsRotating?.close(), as?.close(), asNonce?.close()])
})

const dpopClient = {
  clientId: clients.dpop.id,
  clientSecret: Redacted.make(clients.dpop.secret),
  scopes: ["api:read"],
  retry: false as const
}

/** A client of `server` over undici, used inside the test's scope. */
const make = (server: AuthServer, options: Partial<OAuth2Client.Options> = {}) =>
  OAuth2Client.make({ tokenUrl: server.tokenEndpoint, ...dpopClient, dpop: true, ...options })

const call = (client: OAuth2Client.Service, url: string) =>
  Effect.flatMap(
    client.typedHttpClient.get(url),
    (response) =>
      Effect.map(response.json, (body) => ({ status: response.status, body: body as Record<string, unknown> }))
  )

/** A test body over undici (its dispatcher lives as long as the test). */
const withUndici = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.provide(effect, NodeHttpClient.layerUndici)

/** A request sent by hand, outside the library: what an attacker holding the token can do. */
const raw = (url: string, headers: Record<string, string>) =>
  Effect.promise(() =>
    fetch(url, { headers }).then((r) => ({ status: r.status, challenge: r.headers.get("www-authenticate") }))
  )

describe("DPoP against oidc-provider and a DPoP-verifying API (RFC 9449)", () => {
  it.scopedLive("a dpop_bound_access_tokens client gets a DPoP token bound to its key (cnf.jkt), and the API accepts it", () =>
    withUndici(Effect.gen(function*() {
      const client = yield* make(as)
      const credentials = yield* client.token.get
      assert.strictEqual(credentials.tokenType, "DPoP")
      assert.isString(credentials.dpopJkt)
      assert.strictEqual(credentials.cnfJkt, credentials.dpopJkt)
      assert.strictEqual(
        (jose.decodeJwt(Redacted.value(credentials.accessToken)).cnf as { jkt: string }).jkt,
        credentials.dpopJkt
      )
      const before = rs.acceptedProofs().length
      const first = yield* call(client, `${rs.url}/hello`)
      const second = yield* call(client, `${rs.url}/api/items?page=1`)
      assert.strictEqual(first.status, 200)
      assert.strictEqual(second.status, 200)
      assert.strictEqual(first.body.client_id, clients.dpop.id)
      const proofs = rs.acceptedProofs().slice(before)
      assert.strictEqual(proofs.length, 2, "the API verified a proof on each request")
      assert.strictEqual(proofs[1]!.htu, `${rs.url}/api/items`)
      assert.notStrictEqual(proofs[0]!.jti, proofs[1]!.jti)
      assert.strictEqual(as.tokenRequests() > 0, true)
    })))

  it.scopedLive("a stolen DPoP token is refused: as Bearer without a proof, and with a proof of another key", () =>
    withUndici(Effect.gen(function*() {
      const client = yield* make(as)
      const token = Redacted.value((yield* client.token.get).accessToken)
      const asBearer = yield* raw(`${rs.url}/hello`, { authorization: `Bearer ${token}` })
      assert.strictEqual(asBearer.status, 401)
      assert.include(asBearer.challenge, "invalid_token")

      // The thief's own key signs a perfectly formed proof, with the right ath: the key is not the token's.
      const thief = yield* Dpop.generateKeyPair()
      const jwk = yield* Effect.promise(() => jose.exportJWK(thief.publicKey))
      const proof = yield* Effect.promise(() =>
        new jose.SignJWT({
          htm: "GET",
          htu: `${rs.url}/hello`,
          jti: crypto.randomUUID(),
          ath: crypto.createHash("sha256").update(token).digest("base64url")
        }).setProtectedHeader({ alg: "ES256", typ: "dpop+jwt", jwk }).setIssuedAt().sign(thief.privateKey)
      )
      const withOtherKey = yield* raw(`${rs.url}/hello`, { authorization: `DPoP ${token}`, dpop: proof })
      assert.strictEqual(withOtherKey.status, 401)
      assert.include(withOtherKey.challenge, "DPoP")
      assert.include(withOtherKey.challenge, "invalid_token")
    })))

  it.scopedLive("without the dpop option, the dpop_bound_access_tokens client is refused by the server", () =>
    withUndici(Effect.gen(function*() {
      const exit = yield* Effect.exit(
        ClientCredentials.grant({ tokenUrl: as.tokenEndpoint, ...dpopClient }).pipe(
          Effect.provide(NodeHttpClient.layerUndici)
        )
      )
      assert.isTrue(Exit.isFailure(exit))
      if (Exit.isFailure(exit)) {
        const error = exit.cause._tag === "Fail" ? exit.cause.error : undefined
        assert.isTrue(OAuth2Error.isErrorResponse(error), String(error))
      }
    })))

  it.scopedLive("token-endpoint nonce (requireNonce): 400 use_dpop_nonce, then one retry with the nonce and a new assertion", () =>
    withUndici(Effect.gen(function*() {
      asNonce.resetCount()
      // private_key_jwt: oidc-provider refuses a replayed assertion (jti), so the retry must sign a new one.
      const client = yield* make(asNonce, {
        clientId: asNonce.jwtClients.es256.id,
        clientSecret: undefined,
        auth: ClientAuth.privateKeyJwt({ key: Redacted.make(asNonce.jwtClients.es256.privateJwk as jose.JWK) })
      })
      const credentials = yield* client.token.get
      assert.strictEqual(credentials.tokenType, "DPoP")
      assert.strictEqual(asNonce.tokenRequests(), 2, "the first request learned the nonce, the retry got the token")
      // The nonce is kept: the next token request needs no retry.
      yield* client.token.refresh
      assert.strictEqual(asNonce.tokenRequests(), 3)
    })))

  it.scopedLive("API nonce: a 401 use_dpop_nonce is replayed once with the nonce; later requests carry it at once", () =>
    withUndici(Effect.gen(function*() {
      const client = yield* make(asNonce)
      const before = rsNonce.requests()
      const first = yield* call(client, `${rsNonce.url}/hello`)
      assert.strictEqual(first.status, 200)
      assert.strictEqual(rsNonce.requests() - before, 2, "challenge + replay")
      assert.include(rsNonce.dpopRefusals().at(-1), "use_dpop_nonce")
      const second = yield* call(client, `${rsNonce.url}/hello`)
      assert.strictEqual(second.status, 200)
      assert.strictEqual(rsNonce.requests() - before, 3, "the learned nonce is used without a challenge")
      assert.isString(rsNonce.acceptedProofs().at(-1)!.nonce)
    })))

  it.scopedLive("a rotating API nonce is followed from each response's DPoP-Nonce", () =>
    withUndici(Effect.gen(function*() {
      const client = yield* make(as)
      const before = rsRotating.requests()
      for (let i = 0; i < 6; i++) assert.strictEqual((yield* call(client, `${rsRotating.url}/hello`)).status, 200)
      // Every response carries the next nonce, so only the very first request is challenged.
      assert.strictEqual(rsRotating.requests() - before, 7)
      const nonces = new Set(rsRotating.acceptedProofs().slice(-6).map((proof) => proof.nonce))
      assert.isAtLeast(nonces.size, 3)
    })))

  it.scopedLive("with an issuer, a key whose alg the server does not list is logged when the client is built", () =>
    withUndici(Effect.gen(function*() {
      const logs: Array<string> = []
      const logger = Logger.replace(Logger.defaultLogger, Logger.make(({ message }) => logs.push(String(message))))
      const key = yield* Dpop.generateKeyPair({ alg: "PS256" })
      yield* OAuth2Client.make({ issuer: as.issuer, ...dpopClient, dpop: { key } }).pipe(Effect.provide(logger))
      assert.isTrue(
        logs.some((line) => line.includes("PS256") && line.includes("dpop_signing_alg_values_supported")),
        logs.join("\n")
      )
      const warnings = () => logs.filter((line) => line.includes("dpop_signing_alg_values_supported")).length
      assert.strictEqual(warnings(), 1)
      // ES256, which oidc-provider lists: no warning.
      yield* OAuth2Client.make({ issuer: as.issuer, ...dpopClient, dpop: true }).pipe(Effect.provide(logger))
      assert.strictEqual(warnings(), 1)
    })))

  it.scopedLive("TestClock drives iat end to end: a proof from 10 minutes ago is refused by the API", () =>
    withUndici(Effect.gen(function*() {
      const client = yield* make(as)
      yield* client.token.get
      // In a fiber of its own, awaited (not joined), so that its TestClock does not stay with this fiber.
      const staleFiber = yield* Effect.fork(
        Effect.gen(function*() {
          yield* TestClock.setTime(Date.now() - 10 * 60_000)
          return yield* call(client, `${rs.url}/hello`)
        }).pipe(Effect.provide(TestContext.TestContext))
      )
      const stale = yield* Effect.flatten(Fiber.await(staleFiber))
      assert.strictEqual(stale.status, 401)
      assert.include(rs.dpopRefusals().at(-1), "iat outside the accepted window")
      const again = yield* call(client, `${rs.url}/hello`)
      assert.strictEqual(again.status, 200, JSON.stringify([again.body, rs.dpopRefusals().slice(-2)]))
    })))

  it.scopedLive("the API checks every part of the proof: jti replay, htm, htu, ath and the key", () =>
    withUndici(Effect.gen(function*() {
      const pair = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" })
      const privateJwk = pair.privateKey.export({ format: "jwk" }) as JsonWebKey
      const client = yield* make(as, { dpop: { key: { privateKey: Redacted.make(privateJwk) } } })
      const token = Redacted.value((yield* client.token.get).accessToken)
      const jwk = pair.publicKey.export({ format: "jwk" }) as jose.JWK
      const ath = crypto.createHash("sha256").update(token).digest("base64url")
      const proof = (claims: Record<string, unknown>) =>
        Effect.promise(() =>
          new jose.SignJWT({ htm: "GET", htu: `${rs.url}/hello`, jti: crypto.randomUUID(), ath, ...claims })
            .setProtectedHeader({ alg: "ES256", typ: "dpop+jwt", jwk })
            .setIssuedAt()
            .sign(pair.privateKey)
        )
      const send = (dpop: string) => raw(`${rs.url}/hello`, { authorization: `DPoP ${token}`, dpop })
      const good = yield* proof({})
      assert.strictEqual((yield* send(good)).status, 200, "a well-formed proof of the token's key")
      assert.strictEqual((yield* send(good)).status, 401, "the same proof again (jti replay)")
      assert.include(rs.dpopRefusals().at(-1), "jti")
      for (
        const [claims, reason] of [
          [{ htm: "POST" }, "htm"],
          [{ htu: `${rs.url}/other` }, "htu"],
          [{ ath: "A".repeat(43) }, "ath"]
        ] as const
      ) {
        assert.strictEqual((yield* send(yield* proof(claims))).status, 401, reason)
        assert.include(rs.dpopRefusals().at(-1), reason)
      }
    })))
})
