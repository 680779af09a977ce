// The README's "Testing your program with TestClock" example, kept compiling and passing.
import { OAuth2HttpClient } from "@effect-oauth2/core"
import { HttpClient, HttpClientResponse } from "@effect/platform"
import { assert, it } from "@effect/vitest"
import { Effect, Layer, Redacted, TestClock } from "effect"

let tokens = 0
const fake = HttpClient.make((request, url) =>
  Effect.succeed(HttpClientResponse.fromWeb(
    request,
    url.pathname === "/token"
      ? Response.json({ access_token: `tok-${++tokens}`, token_type: "Bearer", expires_in: 3600 })
      : Response.json({ auth: request.headers["authorization"] })
  ))
)

const Auth = OAuth2HttpClient.layer({
  tokenUrl: "https://auth.test/token",
  clientId: "svc",
  clientSecret: Redacted.make("secret"),
  origins: ["https://api.test"]
}).pipe(Layer.provide(Layer.succeed(HttpClient.HttpClient, fake)))

it.effect("a new token once the first one has expired", () =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const call = Effect.flatMap(client.get("https://api.test/x"), (r) => r.json)
    assert.deepStrictEqual(yield* call, { auth: "Bearer tok-1" })
    yield* TestClock.adjust("1 hour")
    assert.deepStrictEqual(yield* call, { auth: "Bearer tok-2" })
  }).pipe(Effect.provide(Auth)))
