// The README's "Running a fleet" example, kept compiling and run against a real redis-server and token endpoint:
// the same two layers, with the environment the example reads given through a ConfigProvider and process.env.
import { NodeOAuth2 } from "@effect-oauth2/platform-node"
import { RedisTokenStore } from "@effect-oauth2/redis"
import * as HttpClient from "@effect/platform/HttpClient"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer, Redacted } from "effect"
import * as crypto from "node:crypto"
import { fleetServer } from "./fleet/FleetServer.js"
import { redisServer } from "./utils.js"

/** The README's `Auth`, with its URLs as parameters. */
const readmeAuth = (env: { redisUrl: string; tokenUrl: string; apiOrigin: string }) =>
  Layer.unwrapScoped(
    Effect.map(
      RedisTokenStore.make({
        url: env.redisUrl, // redis://, or rediss:// for TLS; user and password in the URL
        encryptionKey: Redacted.make(process.env.TOKEN_ENCRYPTION_KEY!) // openssl rand -base64 32, the same everywhere
      }),
      (store) =>
        NodeOAuth2.layer({
          tokenUrl: env.tokenUrl,
          clientId: "billing-service",
          clientSecret: Redacted.make("billing-secret"),
          scopes: ["invoices:read"],
          origins: [env.apiOrigin],
          store
        })
    )
  )

// The README's `FromEnv`, as written.
const FromEnv = Layer.unwrapEffect(
  Effect.map(RedisTokenStore.RedisTokenStore, (store) => NodeOAuth2.layerFromEnv("OAUTH2", { store }))
).pipe(Layer.provide(RedisTokenStore.layerConfig()))

const callApi = (url: string) =>
  Effect.flatMap(HttpClient.HttpClient, (client) => Effect.map(client.get(url), (response) => response.status))

describe("README: Running a fleet", () => {
  it.scopedLive("two replicas built like the example share one token", () =>
    Effect.gen(function*() {
      const redis = yield* redisServer
      const server = yield* fleetServer
      process.env.TOKEN_ENCRYPTION_KEY = crypto.randomBytes(32).toString("base64")
      const env = { redisUrl: redis.url, tokenUrl: server.tokenUrl, apiOrigin: new URL(server.apiUrl).origin }
      const replica = Effect.scoped(Effect.provide(callApi(server.apiUrl), readmeAuth(env)))
      assert.deepStrictEqual(yield* Effect.all([replica, replica], { concurrency: "unbounded" }), [200, 200])
      assert.strictEqual(server.tokenRequests().length, 1)
    }).pipe(Effect.ensuring(Effect.sync(() => delete process.env.TOKEN_ENCRYPTION_KEY))))

  it.scopedLive("the environment variant reads OAUTH2_* and OAUTH2_REDIS_*", () =>
    Effect.gen(function*() {
      const redis = yield* redisServer
      const server = yield* fleetServer
      const provider = ConfigProvider.fromMap(
        new Map([
          ["OAUTH2_TOKEN_URL", server.tokenUrl],
          ["OAUTH2_CLIENT_ID", "billing-service"],
          ["OAUTH2_CLIENT_SECRET", "billing-secret"],
          ["OAUTH2_REDIS_URL", redis.url],
          ["OAUTH2_REDIS_ENCRYPTION_KEY", crypto.randomBytes(32).toString("base64")]
        ])
      )
      const replica = Effect.scoped(
        Effect.provide(callApi(server.apiUrl), FromEnv.pipe(Layer.provide(Layer.setConfigProvider(provider))))
      )
      assert.deepStrictEqual(yield* Effect.all([replica, replica], { concurrency: "unbounded" }), [200, 200])
      assert.strictEqual(server.tokenRequests().length, 1)
      assert.match(yield* Effect.promise(() => redis.cli("KEYS", "effect-oauth2:*")), /^effect-oauth2:[0-9a-f]{64}$/)
    }))
})
