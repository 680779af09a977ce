/**
 * `npx tsx bench/profileMemory.ts [n]`: the grant's own CPU cost, over an in-memory transport that answers at once
 * (no socket, no server), against the bare POST + `response.json` over the same transport. A loop to profile with
 * `node --cpu-prof --import tsx bench/profileMemory.ts`.
 *
 * `npx tsx bench/profileMemory.ts [n] --parts`: the same two, then what the grant adds to the bare POST, part by
 * part, each measured alone in the same loop (the attempt without the span, the timeout around nothing, the decode,
 * ...), so the gap between the two can be read as a sum.
 */
import { ClientCredentials } from "@effect-oauth2/core"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Metric from "effect/Metric"
import * as Redacted from "effect/Redacted"
import * as internalGrant from "../packages/core/src/internal/grant.js"
import * as metrics from "../packages/core/src/internal/metrics.js"
import { timeoutFail } from "../packages/core/src/internal/timeout.js"
import * as TokenResponse from "../packages/core/src/TokenResponse.js"

const numeric = process.argv.slice(2).find((arg) => /^\d+$/.test(arg))
const n = Number(numeric ?? 20000)
const parts = process.argv.includes("--parts")
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
const grantOptions = { tokenUrl, clientId: "client", clientSecret: Redacted.make("secret"), scopes: ["read", "write"] }
/** The floor of any grant on this transport: the same POST and `response.json`, nothing else. */
const barePost = Effect.flatMap(
  transport.execute(
    HttpClientRequest.post(tokenUrl, { headers: { authorization: basic, accept: "application/json" } })
      .pipe(HttpClientRequest.bodyUrlParams({ grant_type: "client_credentials", scope: "read write" }))
  ),
  (response) => response.json
)
/** `effect` `n` times, one after the other. */
const loop = (effect: Effect.Effect<unknown, unknown>): Effect.Effect<void, unknown> =>
  Effect.gen(function*() {
    for (let i = 0; i < n; i++) yield* effect
  })

const main = async () => {
  const grant = await Effect.runPromise(
    ClientCredentials.make({ ...grantOptions, retry: process.env.RETRY === "off" ? false : undefined }).pipe(
      Effect.provideService(HttpClient.HttpClient, transport)
    )
  )
  const ours = loop(grant)
  const reference = loop(Effect.orDie(barePost))
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
  if (parts) await breakdown(measure, best)
}

/**
 * What a grant adds to the bare POST, each part alone: the difference between the whole grant and the bare POST
 * should be about their sum plus the steps that join them.
 */
const breakdown = async (
  measure: (effect: Effect.Effect<void, unknown>, into: Array<number>) => Promise<void>,
  best: (xs: Array<number>) => number
) => {
  const prepared = Either.getOrThrow(internalGrant.prepare(grantOptions))
  const raw = { status: 200, contentType: "application/json", body, retryAfter: undefined, location: undefined }
  const decoded = Effect.runSync(TokenResponse.decode(raw, { tokenEndpoint: prepared.endpoint }))
  const cases: ReadonlyArray<readonly [string, Effect.Effect<unknown, unknown>]> = [
    ["the grant (request: span, metric, attempt)", internalGrant.request(prepared, transport)],
    ["one attempt (no span, no retry wrapper)", internalGrant.attempt(prepared, transport)],
    ["  the attempt's timeout around nothing", timeoutFail(Effect.void, 30_000, () => "timeout")],
    [
      "  a span with the grant's attributes",
      Effect.useSpan("OAuth2.tokenRequest", {
        captureStackTrace: false,
        kind: "client",
        attributes: { a: "client_credentials", b: prepared.endpoint, c: "client", d: "basic", e: "read write" }
      }, (span) => Effect.sync(() => span.attribute("oauth2.outcome", "success")))
    ],
    ["  the per-attempt metric", Metric.increment(metrics.tokenRequestsBy("success"))],
    [
      "  client authentication (Basic)",
      prepared.auth.authenticate({
        url: prepared.url,
        headers: { accept: "application/json" },
        body: [["grant_type", "client_credentials"]],
        clientId: prepared.clientId,
        clientSecret: prepared.clientSecret
      })
    ],
    ["  TokenResponse.decode of the body", TokenResponse.decode(raw, { tokenEndpoint: prepared.endpoint })],
    ["  Credentials from the decoded response", Effect.sync(() => internalGrant.toCredentials(prepared, decoded, 0))],
    [
      "  a context provided around the send",
      Effect.contextWithEffect((context) => Effect.provide(Effect.void, context))
    ]
  ]
  const timeouts: ReadonlyArray<readonly [string, Effect.Effect<unknown, unknown>]> = [
    ["the bare POST", barePost],
    ["the bare POST inside the attempt's timeout", timeoutFail(Effect.orDie(barePost), 30_000, () => "timeout")],
    [
      "the bare POST inside Effect.timeoutFail",
      Effect.timeoutFail(barePost, { duration: "30 seconds", onTimeout: () => "timeout" })
    ]
  ]
  for (const [name, effect] of [...cases, ...timeouts]) {
    const into: Array<number> = []
    for (let r = 0; r < 4; r++) await measure(loop(effect), into)
    console.log(`${name.padEnd(46)} ${best(into).toFixed(1).padStart(7)} µs`)
  }
}

main().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
