/**
 * Scenario "client authentication": what a client authentication method costs the client per token request, and
 * once per client. Per request: the method's `authenticate` step alone (what runs at every attempt, retries
 * included), resolved once as a client resolves it: client_secret_basic (the header) against private_key_jwt
 * (ES256, RS256, EdDSA) and client_secret_jwt (HS256), each of which builds the claims and signs a new assertion
 * (WebCrypto through jose). Rounds are interleaved in rotating order; the median round counts. Once per client:
 * `ClientCredentials.make` with a PKCS#8 PEM key (import, public JWK, one check signature). No network: the loopback
 * servers are not used.
 */
import { ClientAuth, ClientCredentials } from "@effect-oauth2/core"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as crypto from "node:crypto"
import { performance } from "node:perf_hooks"
import { median, round } from "./lib.js"
import { fmt, type Row, type ScenarioResult } from "./report.js"

export interface Settings {
  readonly opsPerRound: number
  readonly warmupOps: number
  readonly rounds: number
  readonly importRepeats: number
}

export const defaults: Settings = { opsPerRound: 500, warmupOps: 200, rounds: 7, importRepeats: 15 }

/** The client is built over this; it is never asked (building sends nothing). */
const Unused = Layer.succeed(
  HttpClient.HttpClient,
  HttpClient.make((request) => Effect.succeed(HttpClientResponse.fromWeb(request, new Response(null, { status: 500 }))))
)

const pem = (key: crypto.KeyObject) => key.export({ format: "pem", type: "pkcs8" }) as string

const tokenUrl = new URL("https://as.example.com/token")
const clientId = "bench-client"

interface Method {
  readonly name: string
  readonly auth: ClientAuth.ClientAuth
  readonly clientSecret: Redacted.Redacted<string> | undefined
  readonly opsPerSecond: Array<number>
}

const methods = (): Array<Method> => {
  const keyed = (name: string, key: crypto.KeyObject): Method => ({
    name,
    auth: ClientAuth.privateKeyJwt({ key: Redacted.make(pem(key)) }),
    clientSecret: undefined,
    opsPerSecond: []
  })
  return [
    {
      name: "client_secret_basic",
      auth: ClientAuth.clientSecretBasic,
      clientSecret: Redacted.make("bench-secret"),
      opsPerSecond: []
    },
    keyed("private_key_jwt ES256", crypto.generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey),
    keyed("private_key_jwt RS256", crypto.generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey),
    keyed("private_key_jwt EdDSA", crypto.generateKeyPairSync("ed25519").privateKey),
    {
      name: "client_secret_jwt HS256",
      auth: ClientAuth.clientSecretJwt(),
      clientSecret: Redacted.make("x".repeat(48)),
      opsPerSecond: []
    }
  ]
}

/** `n` authentications of a token request, one after the other. */
const authenticateN = (auth: ClientAuth.ClientAuth, clientSecret: Redacted.Redacted<string> | undefined, n: number) =>
  Effect.runPromise(
    Effect.repeatN(
      auth.authenticate({
        url: tokenUrl,
        headers: { accept: "application/json" },
        body: [["grant_type", "client_credentials"], ["scope", "read write"]],
        clientId,
        clientSecret
      }),
      n - 1
    ).pipe(Effect.orDie)
  )

export const run = async (settings: Settings = defaults): Promise<ScenarioResult<unknown>> => {
  const list = methods()
  const resolved = await Promise.all(list.map((method) =>
    method.auth.resolve === undefined
      ? Promise.resolve(method.auth)
      : Effect.runPromise(
        method.auth.resolve({ tokenEndpoint: tokenUrl, issuer: undefined, clientId, clientSecret: method.clientSecret })
      )
  ))
  for (let i = 0; i < list.length; i++) await authenticateN(resolved[i]!, list[i]!.clientSecret, settings.warmupOps)
  for (let r = 0; r < settings.rounds; r++) {
    for (let i = 0; i < list.length; i++) {
      const index = (r + i) % list.length
      const started = performance.now()
      await authenticateN(resolved[index]!, list[index]!.clientSecret, settings.opsPerRound)
      list[index]!.opsPerSecond.push(settings.opsPerRound / ((performance.now() - started) / 1000))
    }
  }

  // Building a client with a key: import, the public JWK, one check signature.
  const buildMillis: Record<string, number> = {}
  for (const method of list.filter((m) => m.name.startsWith("private_key_jwt"))) {
    const times: Array<number> = []
    for (let i = 0; i < settings.importRepeats; i++) {
      const started = performance.now()
      await Effect.runPromise(
        ClientCredentials.make({ tokenUrl, clientId, auth: method.auth }).pipe(Effect.provide(Unused))
      )
      times.push(performance.now() - started)
    }
    buildMillis[method.name] = median(times)
  }

  const micros = new Map(list.map((m) => [m.name, 1e6 / median(m.opsPerSecond)]))
  const figures = {
    opsPerRound: settings.opsPerRound,
    rounds: settings.rounds,
    authenticateMicros: Object.fromEntries(list.map((m) => [m.name, round(micros.get(m.name)!, 1)])),
    clientBuildMillis: Object.fromEntries(Object.entries(buildMillis).map(([name, ms]) => [name, round(ms, 2)]))
  }
  const s = "client auth, per request"
  const rows: Array<Row> = [
    ...list.map((m): Row => ({
      scenario: s,
      figure: `${m.name}: authenticate one token request, µs`,
      value: fmt(micros.get(m.name)!, 1)
    })),
    ...Object.entries(buildMillis).map(([name, ms]): Row => ({
      scenario: "client auth, per client",
      figure: `${name}: build the client (key import and check), ms`,
      value: fmt(ms, 2)
    }))
  ]
  return { figures, rows }
}
