import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as BackendMintedToken from "../examples/backend-minted-token.js"
import { clients, servers } from "./utils/Browser.js"

/**
 * Stands in for the backend: `POST /session/api-token` on the page's origin is answered by a real client
 * credentials grant against oidc-provider, the way the backend would run it with the secret it keeps.
 */
const fakeBackend = () => {
  let minted = 0
  const backendFetch: typeof globalThis.fetch = (input, init) => {
    const url = new URL(typeof input === "string" ? input : input instanceof URL ? input.href : input.url)
    if (url.origin === location.origin && url.pathname === "/session/api-token") {
      minted++
      const basic = btoa(`${clients.basic.clientId}:${Redacted.value(clients.basic.clientSecret)}`)
      return globalThis.fetch(servers.tokenEndpoint, {
        method: "POST",
        headers: { authorization: `Basic ${basic}`, "content-type": "application/x-www-form-urlencoded" },
        body: "grant_type=client_credentials&scope=api%3Aread"
      })
    }
    return globalThis.fetch(input, init)
  }
  return { minted: () => minted, fetch: backendFetch }
}

describe("examples/backend-minted-token.ts in Chromium", () => {
  it.live("API calls carry the backend's token; 10 concurrent calls cost one backend request", () =>
    Effect.gen(function*() {
      const backend = fakeBackend()
      const results = yield* Effect.gen(function*() {
        const client = yield* HttpClient.HttpClient
        return yield* Effect.all(
          Array.from({ length: 10 }, () =>
            client.get(`${servers.apiUrl}/hello`).pipe(
              Effect.flatMap((response) =>
                Effect.map(response.json, (body) => [response.status, (body as { client_id?: unknown }).client_id])
              )
            )),
          { concurrency: "unbounded" }
        )
      }).pipe(
        Effect.provide(BackendMintedToken.layer({ endpoint: "/session/api-token", apiOrigin: servers.apiUrl })),
        Effect.provideService(FetchHttpClient.Fetch, backend.fetch)
      )
      for (const result of results) assert.deepStrictEqual(result, [200, "basic-client"])
      assert.strictEqual(backend.minted(), 1)
    }))
})
