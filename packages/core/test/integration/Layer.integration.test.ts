import { OAuth2Client, OAuth2HttpClient } from "@effect-oauth2/core"
import { clients } from "@effect-oauth2/testing"
import { HttpClient } from "@effect/platform"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Metric, Option, Redacted } from "effect"
import * as metrics from "../../src/internal/metrics.js"
import { authServer, resourceServer } from "./servers.js"

describe("end to end: oidc-provider, the layer and a protected API", () => {
  it.scopedLive("authenticated requests, one token request for 20 concurrent calls, replay after a revoked token", () =>
    Effect.gen(function*() {
      const as = yield* authServer()
      const rs = yield* resourceServer(as)
      const layer = OAuth2HttpClient.layer({
        tokenUrl: as.tokenEndpoint,
        clientId: clients.basic.id,
        clientSecret: Redacted.make(clients.basic.secret),
        scopes: ["api:read"],
        origins: [rs.url]
      }).pipe(Layer.provide(NodeHttpClient.layerUndici))

      yield* Effect.gen(function*() {
        const client = yield* HttpClient.HttpClient
        const hello = (path = "/hello") =>
          Effect.flatMap(
            client.get(`${rs.url}${path}`),
            (response) =>
              Effect.map(response.json, (body) => ({ status: response.status, body: body as Record<string, unknown> }))
          )

        const results = yield* Effect.all(Array.from({ length: 20 }, () => hello()), { concurrency: "unbounded" })
        assert.isTrue(results.every((r) => r.status === 200 && r.body.client_id === clients.basic.id))
        assert.strictEqual(as.tokenRequests(), 1)
        assert.strictEqual(results[0]!.body.scope, "api:read")

        // The API rejects the current token: the layer invalidates it, gets a new one and replays once.
        const { token } = yield* OAuth2Client.OAuth2Client
        const before = Redacted.value((yield* token.get).accessToken)
        rs.revoke(before)
        const replayed = yield* hello("/api/things")
        assert.strictEqual(replayed.status, 200)
        assert.strictEqual(as.tokenRequests(), 2)
        assert.notStrictEqual(Redacted.value((yield* token.get).accessToken), before)

        // Two rejections in a row: the second 401 is returned, no loop.
        rs.rejectNext(2)
        const refused = yield* hello()
        assert.strictEqual(refused.status, 401)
        assert.strictEqual(as.tokenRequests(), 3)
      }).pipe(Effect.provide(layer))
    }))

  it.scopedLive(
    "short-lived tokens are reused and refreshed ahead in real time: only the first request waits",
    () =>
      Effect.gen(function*() {
        const as = yield* authServer({ accessTokenTTL: 4 })
        const rs = yield* resourceServer(as)
        const layer = OAuth2HttpClient.layer({
          tokenUrl: as.tokenEndpoint,
          clientId: clients.basic.id,
          clientSecret: Redacted.make(clients.basic.secret),
          origins: [rs.url]
        }).pipe(Layer.provide(NodeHttpClient.layerUndici))
        // 4 s: expiresAt 2 s after issue (grace capped at half), usableUntil 2 s, refreshAfter 1 s
        const hitsBefore = (yield* Metric.value(metrics.cacheHits)).count
        const requests = 40
        const { statuses, tokens } = yield* Effect.gen(function*() {
          const client = yield* HttpClient.HttpClient
          const { token } = yield* OAuth2Client.OAuth2Client
          const statuses: Array<number> = []
          const tokens = new Set<string>()
          for (let i = 0; i < requests; i++) {
            statuses.push((yield* client.get(`${rs.url}/hello`)).status)
            yield* Effect.map(token.current, Option.map((c) => tokens.add(Redacted.value(c.accessToken))))
            yield* Effect.sleep("100 millis")
          }
          return { statuses, tokens }
        }).pipe(Effect.provide(layer))
        assert.isTrue(statuses.every((s) => s === 200))
        // ≥ 4 s of traffic: the token was replaced at least twice, ahead of time. Every request but the first was
        // served from the cache at once: none waited for a token request (without refresh-ahead, the first
        // request past usableUntil would wait for each new token)
        assert.isAtLeast(as.tokenRequests(), 3, `token requests: ${as.tokenRequests()}`)
        assert.isAtLeast(tokens.size, 3)
        assert.strictEqual((yield* Metric.value(metrics.cacheHits)).count - hitsBefore, requests - 1)
      }),
    60_000
  )
})
