// readme:begin setup
import { OAuth2Error, OAuth2HttpClient, Testing } from "@effect-oauth2/core"
import { HttpClient } from "@effect/platform"
import { assert, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Redacted, TestClock } from "effect"

// The program under test: it calls an API through HttpClient and knows nothing of tokens.
const getReports = Effect.gen(function*() {
  const client = yield* HttpClient.HttpClient
  const response = yield* client.get("https://api.test/reports")
  return yield* response.json
})

// The test's authorization server: one registered client, one-hour tokens. Its default API answers 401 without a
// valid token and 200 with { path, client_id, scope } with one.
const Server = Testing.layer({
  clients: [{ id: "reporting", secret: "test-secret", scopes: ["reports:read"] }]
})

// The layer the program uses in production, pointed at it. provideMerge keeps Testing.AuthServer visible to tests.
const Auth = OAuth2HttpClient.layer({
  tokenUrl: Testing.defaultTokenUrl,
  clientId: "reporting",
  clientSecret: Redacted.make("test-secret"),
  scopes: ["reports:read"],
  origins: ["https://api.test"]
}).pipe(Layer.provideMerge(Server))
// readme:end

// readme:begin single-flight
it.effect("20 concurrent calls on a cold start make one token request", () =>
  Effect.gen(function*() {
    const server = yield* Testing.AuthServer
    const answers = yield* Effect.all(Array.from({ length: 20 }, () => getReports), { concurrency: "unbounded" })
    assert.deepStrictEqual(answers[19], { path: "/reports", client_id: "reporting", scope: "reports:read" })
    assert.strictEqual((yield* server.tokenRequests).length, 1)
  }).pipe(Effect.provide(Auth)))
// readme:end

// readme:begin expiry
it.effect("a new token once the first has expired", () =>
  Effect.gen(function*() {
    const server = yield* Testing.AuthServer
    yield* getReports
    yield* TestClock.adjust("1 hour") // TestClock moves every expiry: no waiting
    yield* getReports
    const requests = yield* server.tokenRequests
    assert.deepStrictEqual(requests.map((request) => request.at), [0, 3_600_000])
    assert.deepStrictEqual((yield* server.apiRequests).map((request) => request.status), [200, 200])
  }).pipe(Effect.provide(Auth)))
// readme:end

// readme:begin replay
it.effect("a 401 invalid_token replaces the token and replays the call once", () =>
  Effect.gen(function*() {
    const server = yield* Testing.AuthServer
    yield* getReports
    yield* server.revokeAll // the server forgets its tokens: the cached one now gets a 401 invalid_token
    const answer = yield* getReports
    assert.deepStrictEqual(answer, { path: "/reports", client_id: "reporting", scope: "reports:read" })
    assert.deepStrictEqual((yield* server.apiRequests).map((request) => request.status), [200, 401, 200])
    assert.strictEqual((yield* server.tokenRequests).length, 2)
  }).pipe(Effect.provide(Auth)))
// readme:end

// readme:begin outage
it.effect("the token endpoint fails twice: the call waits out the retries", () =>
  Effect.gen(function*() {
    const server = yield* Testing.AuthServer
    yield* server.scriptNext(2, Testing.status(503, { retryAfter: "1 second" }))
    const call = yield* Effect.fork(getReports)
    yield* TestClock.adjust("5 seconds") // the retries wait in Clock time
    yield* Fiber.join(call)
    assert.deepStrictEqual((yield* server.tokenRequests).map((request) => request.status), [503, 503, 200])
  }).pipe(Effect.provide(Auth)))

it.effect("the token endpoint stays down: the call fails with the OAuth2Error as the cause", () =>
  Effect.gen(function*() {
    const server = yield* Testing.AuthServer
    yield* server.scriptNext(10, Testing.drop)
    const call = yield* Effect.fork(Effect.flip(getReports))
    yield* TestClock.adjust("1 minute")
    const error = yield* Fiber.join(call)
    assert.strictEqual(error._tag, "RequestError") // what HttpClient users see
    assert.isTrue(OAuth2Error.isOAuth2Error(error.cause)) // and why
    assert.strictEqual((yield* server.apiRequests).length, 0) // nothing reached the API without a token
  }).pipe(Effect.provide(Auth)))
// readme:end

// The recipes above are the README's, character for character: this test fails when either side changes alone.
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

it("the README's testing section holds these recipes verbatim", () => {
  const file = fileURLToPath(import.meta.url)
  const readme = fs.readFileSync(path.resolve(path.dirname(file), "../../../README.md"), "utf8")
  const source = fs.readFileSync(file, "utf8")
  const regions = Array.from(source.matchAll(/\/\/ readme:begin (\S+)\n([\s\S]*?)\s*\/\/ readme:end\n/g))
  assert.strictEqual(regions.length, 5)
  for (const [, name, code] of regions) {
    assert.include(readme, code, `README.md lacks the recipe "${name}" as written in ${path.basename(file)}`)
  }
})
