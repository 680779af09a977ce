/**
 * `npx tsx bench/profileMemory.ts [n]`: the grant's own CPU cost, over an in-memory transport that answers at once
 * (no socket, no server), against the bare POST + `response.json` over the same transport. A loop to profile with
 * `node --cpu-prof --import tsx bench/profileMemory.ts`.
 */
import { ClientCredentials } from "@effect-oauth2/core"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"

const n = Number(process.argv[2] ?? 20000)
const tokenUrl = "https://auth.example.com/token"
const body = JSON.stringify({ access_token: `t1.${"x".repeat(61)}`, token_type: "Bearer", expires_in: 3600 })
const transport = HttpClient.make((request) =>
  Effect.sync(() =>
    HttpClientResponse.fromWeb(
      request,
      new Response(body, {
        status: 200,
        headers: { "content-type": "application/json", "content-length": String(body.length) }
      })
    )
  )
)
const basic = `Basic ${Buffer.from("client:secret").toString("base64")}`

const main = async () => {
  const grant = await Effect.runPromise(
    ClientCredentials.make({
      tokenUrl,
      clientId: "client",
      clientSecret: Redacted.make("secret"),
      scopes: ["read", "write"],
      retry: process.env.RETRY === "off" ? false : undefined
    }).pipe(Effect.provideService(HttpClient.HttpClient, transport))
  )
  const ours = Effect.gen(function*() {
    for (let i = 0; i < n; i++) yield* grant
  })
  const reference = Effect.gen(function*() {
    for (let i = 0; i < n; i++) {
      const response = yield* transport.execute(
        HttpClientRequest.post(tokenUrl, { headers: { authorization: basic, accept: "application/json" } })
          .pipe(HttpClientRequest.bodyUrlParams({ grant_type: "client_credentials", scope: "read write" }))
      )
      yield* response.json
    }
  }).pipe(Effect.orDie)
  const results = { ours: [] as Array<number>, reference: [] as Array<number> }
  const measure = async (effect: Effect.Effect<void, unknown>, into: Array<number>) => {
    const start = process.cpuUsage()
    await Effect.runPromise(effect)
    const used = process.cpuUsage(start)
    into.push((used.user + used.system) / n)
  }
  for (let r = 0; r < 7; r++) {
    if (process.env.ONLY !== "reference") await measure(ours, results.ours)
    if (process.env.ONLY !== "ours") await measure(reference, results.reference)
  }
  const best = (xs: Array<number>) => Math.min(...xs.slice(1))
  console.log(
    `in memory: ours ${best(results.ours).toFixed(1)} µs/grant, bare POST ${best(results.reference).toFixed(1)} µs`
  )
}

main().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
