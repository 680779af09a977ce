/**
 * `npx tsx bench/profile.ts grant|api|aa [n]`: a loop to profile (`node --cpu-prof --import tsx bench/profile.ts ...`).
 * Prints the client CPU µs per operation for this library and its reference (the bare POST for `grant`, the
 * static-header client at concurrency 32 for `api`), alternating A B A B. `aa` runs the static-header client
 * against itself: how far apart two identical clients measure, the noise floor of the `api` figure.
 */
import { ClientCredentials } from "@effect-oauth2/core"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Effect from "effect/Effect"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Redacted from "effect/Redacted"
import { Authenticated, call, clientId, clientSecret, loopCount, Plain, startServers } from "./lib.js"

const mode = process.argv[2] ?? "grant"
const n = Number(process.argv[3] ?? 2000)

const main = async () => {
  const servers = await startServers()
  await servers.config({ expiresIn: 3600, delayMs: 0 })
  const plain = ManagedRuntime.make(Plain)
  const basic = `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString("base64")}`
  let ours: (k: number) => Promise<unknown>
  let reference: (k: number) => Promise<unknown>
  if (mode === "grant") {
    const grant = await plain.runPromise(ClientCredentials.make({
      tokenUrl: servers.tokenUrl,
      clientId,
      clientSecret: Redacted.make(clientSecret),
      scopes: ["read", "write"],
      retry: process.env.RETRY === "off" ? false : undefined
    }))
    ours = (k) =>
      plain.runPromise(Effect.gen(function*() {
        for (let i = 0; i < k; i++) yield* grant
      }))
    reference = (k) =>
      plain.runPromise(
        Effect.gen(function*() {
          const client = yield* HttpClient.HttpClient
          for (let i = 0; i < k; i++) {
            const response = yield* client.execute(
              HttpClientRequest.post(servers.tokenUrl, {
                headers: { authorization: basic, accept: "application/json" }
              })
                .pipe(HttpClientRequest.bodyUrlParams({ grant_type: "client_credentials", scope: "read write" }))
            )
            yield* response.json
          }
        }).pipe(Effect.orDie)
      )
  } else {
    const auth = ManagedRuntime.make(Authenticated(servers))
    const authClient = await auth.runPromise(HttpClient.HttpClient)
    const staticClient = HttpClient.mapRequest(
      await plain.runPromise(HttpClient.HttpClient),
      HttpClientRequest.setHeader("authorization", `Bearer t0.${"x".repeat(61)}`)
    )
    await auth.runPromise(call(authClient, servers.protectedUrl))
    ours = mode === "aa"
      ? (k) => plain.runPromise(loopCount(staticClient, servers.protectedUrl, 32, k))
      : (k) => auth.runPromise(loopCount(authClient, servers.protectedUrl, 32, k))
    reference = (k) => plain.runPromise(loopCount(staticClient, servers.protectedUrl, 32, k))
  }
  const cpu = { ours: [] as Array<number>, reference: [] as Array<number> }
  const measure = async (f: (k: number) => Promise<unknown>, into: Array<number>) => {
    const start = process.cpuUsage()
    await f(n)
    const used = process.cpuUsage(start)
    into.push((used.user + used.system) / n)
  }
  await measure(ours, [])
  await measure(reference, [])
  for (let r = 0; r < 6; r++) {
    if (process.env.ONLY !== "reference") await measure(ours, cpu.ours)
    if (process.env.ONLY !== "ours") await measure(reference, cpu.reference)
  }
  const med = (xs: Array<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
  const range = (xs: Array<number>) =>
    xs.length === 0 ? "" : ` (${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)})`
  console.log(
    `${mode}: ours ${med(cpu.ours)?.toFixed(1)} µs/op${range(cpu.ours)}, reference ${
      med(cpu.reference)?.toFixed(1)
    } µs/op${range(cpu.reference)}`
  )
  await plain.dispose()
  await servers.close()
}

main().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
