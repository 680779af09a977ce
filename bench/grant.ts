/**
 * Scenario 4:
 * - one grant (request + decode), sequential, against the same endpoint: this library's grant over the undici
 *   HttpClient (`ClientCredentials.make` once, as the layer does and as each peer builds its client once; the
 *   default retry policy, which costs nothing while the first attempt succeeds) and the four peer libraries, called as peers.md §(d) says, each with
 *   client_secret_basic, rounds interleaved in rotating order; plus a baseline that is not a contender: the same
 *   POST through the bare @effect/platform undici HttpClient, `response.json` and nothing else, the floor of any
 *   grant built on that client;
 * - the cached path: 20 concurrent callers on a cold cache, then 10 more, through this library's layer and through
 *   @badgateway/oauth2-client's OAuth2Fetch: token requests made by each.
 */
import { OAuth2Client as BadgatewayClient, OAuth2Fetch } from "@badgateway/oauth2-client"
import { ClientCredentials } from "@effect-oauth2/core"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Effect from "effect/Effect"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Redacted from "effect/Redacted"
import { readFileSync } from "node:fs"
import { performance } from "node:perf_hooks"
import * as oauth from "oauth4webapi"
import * as openid from "openid-client"
import { ClientCredentials as SimpleClientCredentials } from "simple-oauth2"
import { Authenticated, call, clientId, clientSecret, median, Plain, round, type Servers } from "./lib.js"
import { fmt, type Row, type ScenarioResult } from "./report.js"

export interface Settings {
  readonly opsPerRound: number
  readonly warmupOps: number
  readonly rounds: number
  /** The cached path's token endpoint delay, so the 20 first callers overlap a token request in flight. */
  readonly cachedTokenDelayMs: number
}

export const defaults: Settings = { opsPerRound: 400, warmupOps: 300, rounds: 5, cachedTokenDelayMs: 20 }

const ours = "@effect-oauth2/core"
const baseline = "baseline: bare @effect/platform POST + json"
const scope = ["read", "write"]

const versionOf = (name: string): string => {
  try {
    const file = new URL(`../node_modules/${name}/package.json`, import.meta.url)
    return (JSON.parse(readFileSync(file, "utf8")) as { version: string }).version
  } catch {
    return "?"
  }
}

interface Contender {
  readonly name: string
  readonly version: string
  /** Runs `n` grants one after the other. */
  readonly run: (n: number) => Promise<void>
  readonly opsPerSecond: Array<number>
}

const contenders = async (servers: Servers, runtime: ManagedRuntime.ManagedRuntime<HttpClient.HttpClient, never>) => {
  const base = new URL(servers.tokenUrl).origin
  const tokenEndpoint = servers.tokenUrl

  const grantOptions: ClientCredentials.Options = {
    tokenUrl: tokenEndpoint,
    clientId,
    clientSecret: Redacted.make(clientSecret),
    scopes: scope
  }
  const effectGrant = (n: number) =>
    Effect.gen(function*() {
      const grant = yield* ClientCredentials.make(grantOptions)
      for (let i = 0; i < n; i++) {
        const credentials = yield* grant
        if (credentials.tokenType !== "Bearer") return yield* Effect.dieMessage("unexpected token")
      }
    })
  const basic = `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString("base64")}`
  const baselinePost = (n: number) =>
    Effect.gen(function*() {
      const client = yield* HttpClient.HttpClient
      for (let i = 0; i < n; i++) {
        const response = yield* client.execute(
          HttpClientRequest.post(tokenEndpoint, { headers: { authorization: basic, accept: "application/json" } }).pipe(
            HttpClientRequest.bodyUrlParams({ grant_type: "client_credentials", scope: scope.join(" ") })
          )
        )
        const body = (yield* response.json) as { token_type?: string }
        if (body.token_type !== "Bearer") return yield* Effect.dieMessage("unexpected token")
      }
    }).pipe(Effect.orDie)

  const as: oauth.AuthorizationServer = { issuer: base, token_endpoint: tokenEndpoint }
  const o4wClient: oauth.Client = { client_id: clientId }
  const o4wAuth = oauth.ClientSecretBasic(clientSecret)
  const o4wGrant = async () => {
    const response = await oauth.clientCredentialsGrantRequest(
      as,
      o4wClient,
      o4wAuth,
      new URLSearchParams({ scope: scope.join(" ") }),
      { [oauth.allowInsecureRequests]: true }
    )
    return oauth.processClientCredentialsResponse(as, o4wClient, response)
  }

  const config = new openid.Configuration(
    { issuer: base, token_endpoint: tokenEndpoint },
    clientId,
    undefined,
    openid.ClientSecretBasic(clientSecret)
  )
  openid.allowInsecureRequests(config)

  const simple = new SimpleClientCredentials({
    client: { id: clientId, secret: clientSecret },
    auth: { tokenHost: base, tokenPath: "/token" }
  })

  const badgateway = new BadgatewayClient({
    server: base,
    clientId,
    clientSecret,
    tokenEndpoint: "/token",
    authenticationMethod: "client_secret_basic"
  })

  const sequential = (one: () => Promise<unknown>) => async (n: number) => {
    for (let i = 0; i < n; i++) await one()
  }
  const list: Array<Contender> = [
    {
      name: ours,
      version: "workspace",
      run: (n) => runtime.runPromise(effectGrant(n)),
      opsPerSecond: []
    },
    {
      name: baseline,
      version: "baseline",
      run: (n) => runtime.runPromise(baselinePost(n)),
      opsPerSecond: []
    },
    { name: "oauth4webapi", version: versionOf("oauth4webapi"), run: sequential(o4wGrant), opsPerSecond: [] },
    {
      name: "openid-client",
      version: versionOf("openid-client"),
      run: sequential(() => openid.clientCredentialsGrant(config, { scope: scope.join(" ") })),
      opsPerSecond: []
    },
    {
      name: "simple-oauth2",
      version: versionOf("simple-oauth2"),
      run: sequential(async () => (await simple.getToken({ scope })).token),
      opsPerSecond: []
    },
    {
      name: "@badgateway/oauth2-client",
      version: versionOf("@badgateway/oauth2-client"),
      run: sequential(() => badgateway.clientCredentials({ scope })),
      opsPerSecond: []
    }
  ]
  return { list, badgateway }
}

const cachedPath = async (servers: Servers, badgateway: BadgatewayClient, delayMs: number) => {
  await servers.config({ expiresIn: 3600, delayMs })
  const callers = [20, 10]

  await servers.reset()
  const runtime = ManagedRuntime.make(Authenticated(servers))
  const client = await runtime.runPromise(HttpClient.HttpClient)
  for (const n of callers) {
    await runtime.runPromise(
      Effect.forEach(Array.from({ length: n }), () => call(client, servers.protectedUrl), {
        concurrency: "unbounded",
        discard: true
      })
    )
  }
  await runtime.dispose()
  const oursStats = await servers.stats()

  await servers.reset()
  const wrapper = new OAuth2Fetch({
    client: badgateway,
    getNewToken: () => badgateway.clientCredentials({ scope })
  })
  for (const n of callers) {
    await Promise.all(
      Array.from({ length: n }, async () => {
        const response = await wrapper.fetch(servers.protectedUrl)
        if (response.status !== 200) throw new Error(`OAuth2Fetch: ${response.status}`)
        await response.text()
      })
    )
  }
  const peerStats = await servers.stats()
  return {
    callers: "20 concurrent, then 10",
    tokenDelayMs: delayMs,
    tokenRequests: oursStats.tokenRequests,
    apiRequests: oursStats.apiRequests,
    peers: {
      "@badgateway/oauth2-client OAuth2Fetch": {
        tokenRequests: peerStats.tokenRequests,
        apiRequests: peerStats.apiRequests
      }
    },
    goal: { tokenRequests: 1 }
  }
}

export const run = async (servers: Servers, settings: Settings = defaults): Promise<{
  readonly grant: ScenarioResult<unknown>
  readonly cached: ScenarioResult<unknown>
}> => {
  await servers.config({ expiresIn: 3600, delayMs: 0 })
  await servers.reset()
  const runtime = ManagedRuntime.make(Plain)
  const { badgateway, list } = await contenders(servers, runtime)

  for (const contender of list) await contender.run(settings.warmupOps)
  for (let r = 0; r < settings.rounds; r++) {
    for (let i = 0; i < list.length; i++) {
      const contender = list[(r + i) % list.length]
      const started = performance.now()
      await contender.run(settings.opsPerRound)
      contender.opsPerSecond.push(settings.opsPerRound / ((performance.now() - started) / 1000))
    }
  }
  await runtime.dispose()
  const stats = await servers.stats()
  if (stats.badClientAuth > 0) throw new Error(`${stats.badClientAuth} token requests had a wrong Basic header`)

  const speed = new Map(list.map((c) => [c.name, median(c.opsPerSecond)]))
  const fastest = Math.max(...speed.values())
  const isPeer = (c: Contender) => c.name !== ours && c.name !== baseline
  const fastestPeer = Math.max(...list.filter(isPeer).map((c) => speed.get(c.name)!))
  const ratioToFastestPeer = speed.get(ours)! / fastestPeer
  const figuresOf = (c: Contender) => ({
    version: c.version,
    opsPerSecond: round(speed.get(c.name)!, 0),
    rounds: c.opsPerSecond.map((ops) => round(ops, 0)),
    ratioToFastest: round(speed.get(c.name)! / fastest, 3)
  })
  const peers: Record<string, ReturnType<typeof figuresOf>> = {}
  for (const c of list) if (isPeer(c)) peers[c.name] = figuresOf(c)
  const baselineFigures = figuresOf(list.find((c) => c.name === baseline)!)
  const grantFigures = {
    opsPerRound: settings.opsPerRound,
    rounds: settings.rounds,
    ours: figuresOf(list[0]),
    ratioToFastestPeer: round(ratioToFastestPeer, 3),
    baseline: baselineFigures,
    ratioToBaseline: round(speed.get(ours)! / speed.get(baseline)!, 3),
    peers,
    goal: { ratioToFastestPeer: ">= 1", ratioToBaseline: ">= 0.85" }
  }
  const g = "4 one grant"
  const grantRows: Array<Row> = [
    ...[...list].sort((a, b) => speed.get(b.name)! - speed.get(a.name)!).map((c): Row => ({
      scenario: g,
      figure: `${c.name}${c.version === "workspace" || c.version === "baseline" ? "" : ` ${c.version}`}, grants/s`,
      value: `${fmt(speed.get(c.name)!)} (${fmt(speed.get(c.name)! / fastest, 2)}×)`
    })),
    {
      scenario: g,
      figure: "ratio ours / baseline (the cost of checking and decoding)",
      value: fmt(speed.get(ours)! / speed.get(baseline)!, 3),
      goal: ">= 0.85",
      ok: speed.get(ours)! / speed.get(baseline)! >= 0.85
    },
    {
      scenario: g,
      figure: "ratio ours / fastest peer",
      value: fmt(ratioToFastestPeer, 3),
      goal: ">= 1",
      ok: ratioToFastestPeer >= 1
    }
  ]

  const cached = await cachedPath(servers, badgateway, settings.cachedTokenDelayMs)
  const c = "4b cached path"
  const peer = cached.peers["@badgateway/oauth2-client OAuth2Fetch"]
  const cachedRows: Array<Row> = [
    {
      scenario: c,
      figure: "ours: token requests, 20 + 10 callers",
      value: String(cached.tokenRequests),
      goal: "1",
      ok: cached.tokenRequests === 1
    },
    { scenario: c, figure: "badgateway OAuth2Fetch: token requests", value: String(peer.tokenRequests) }
  ]
  return { grant: { figures: grantFigures, rows: grantRows }, cached: { figures: cached, rows: cachedRows } }
}
