/**
 * Smoke test of the test servers, not a vitest test: `npx tsx testing/test-servers.smoke.ts`.
 * Prints one line per check and a closing `N passed, N failed` line; exits 1 when a check failed.
 */
import { decodeJwt, decodeProtectedHeader } from "jose"
import type { AuthServer, ClientCredentials, FaultServer, ResourceServer } from "./src/index.js"
import { clients, opaqueResource, startAuthServer, startFaultServer, startResourceServer } from "./src/index.js"

let passed = 0
let failed = 0

const check = async (name: string, f: () => Promise<void>): Promise<void> => {
  const start = performance.now()
  try {
    await f()
    passed++
    console.log(`ok   ${name} (${(performance.now() - start).toFixed(0)} ms)`)
  } catch (error) {
    failed++
    console.log(`FAIL ${name}: ${error instanceof Error ? error.message : String(error)}`)
  }
}

const expect = (condition: boolean, message: string): void => {
  if (!condition) throw new Error(message)
}

const expectStatus = async (response: Response, status: number): Promise<any> => {
  const text = await response.text()
  expect(response.status === status, `expected status ${status}, got ${response.status}: ${text.slice(0, 200)}`)
  return text.length > 0 && (response.headers.get("content-type") ?? "").includes("json") ? JSON.parse(text) : text
}

const rejects = async (promise: Promise<unknown>): Promise<unknown> => {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error("expected a rejection")
}

/** RFC 6749 §2.3.1: application/x-www-form-urlencoded (UTF-8), then Basic (RFC 7617). */
const formEncode = (value: string): string =>
  encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, "+")
const basic = (client: ClientCredentials): string =>
  `Basic ${Buffer.from(`${formEncode(client.id)}:${formEncode(client.secret)}`, "utf8").toString("base64")}`
const rawBasic = (client: ClientCredentials): string =>
  `Basic ${Buffer.from(`${client.id}:${client.secret}`, "utf8").toString("base64")}`

const form = (params: Record<string, string>): URLSearchParams => new URLSearchParams(params)

let as: AuthServer | undefined
let rs: ResourceServer | undefined
let fault: FaultServer | undefined

try {
  const t0 = performance.now()
  as = await startAuthServer()
  const t1 = performance.now()
  rs = await startResourceServer({ issuer: as.issuer, jwksUri: as.jwksUri })
  fault = await startFaultServer()
  const t2 = performance.now()
  console.log(`startup: auth server ${(t1 - t0).toFixed(0)} ms, all three ${(t2 - t0).toFixed(0)} ms`)
  const auth = as
  const api = rs
  const faults = fault

  const tokenRequest = (
    headers: Record<string, string>,
    params: Record<string, string>
  ): Promise<Response> =>
    fetch(auth.tokenEndpoint, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
      body: form({ grant_type: "client_credentials", ...params })
    })

  let basicToken = ""

  await check("discovery document matches the AuthServer URLs", async () => {
    const metadata = await expectStatus(await fetch(`${auth.issuer}/.well-known/oauth-authorization-server`), 200)
    expect(metadata.issuer === auth.issuer, "issuer")
    expect(metadata.token_endpoint === auth.tokenEndpoint, "token_endpoint")
    expect(metadata.jwks_uri === auth.jwksUri, "jwks_uri")
    expect(metadata.introspection_endpoint === auth.introspectionEndpoint, "introspection_endpoint")
    expect(metadata.revocation_endpoint === auth.revocationEndpoint, "revocation_endpoint")
  })

  await check("basic client, scope api:read → 200 at+jwt", async () => {
    auth.resetCount()
    const body = await expectStatus(
      await tokenRequest({ authorization: basic(clients.basic) }, { scope: "api:read" }),
      200
    )
    expect(body.token_type === "Bearer", `token_type ${body.token_type}`)
    expect(body.scope === "api:read", `scope ${body.scope}`)
    expect(body.expires_in === 300, `expires_in ${body.expires_in}`)
    const header = decodeProtectedHeader(body.access_token)
    expect(header.typ === "at+jwt" && header.alg === "ES256", `header ${JSON.stringify(header)}`)
    const claims = decodeJwt(body.access_token)
    expect(claims.client_id === clients.basic.id && claims.sub === clients.basic.id, "client_id/sub")
    expect(claims.aud === "https://api.example.test/jwt" && claims.iss === auth.issuer, "aud/iss")
    expect(auth.tokenRequests() === 1, `tokenRequests ${auth.tokenRequests()}`)
    basicToken = body.access_token
  })

  await check("post client (client_secret_post) → 200", async () => {
    const body = await expectStatus(
      await tokenRequest({}, { client_id: clients.post.id, client_secret: clients.post.secret, scope: "api:write" }),
      200
    )
    expect(body.scope === "api:write", `scope ${body.scope}`)
  })

  await check("weird client, §2.3.1 form-urlencoded Basic → 200", async () => {
    const body = await expectStatus(await tokenRequest({ authorization: basic(clients.weird) }, {}), 200)
    expect(decodeJwt(body.access_token).client_id === clients.weird.id, "client_id")
  })

  await check("weird client, raw id:secret Basic → 400 invalid_request", async () => {
    const body = await expectStatus(await tokenRequest({ authorization: rawBasic(clients.weird) }, {}), 400)
    expect(body.error === "invalid_request", `error ${body.error}`)
  })

  await check("unicode client, form-urlencoded UTF-8 then base64 → 200", async () => {
    const body = await expectStatus(
      await tokenRequest({ authorization: basic(clients.unicode) }, { scope: "api:read" }),
      200
    )
    const claims = decodeJwt(body.access_token)
    expect(claims.client_id === clients.unicode.id && claims.sub === clients.unicode.id, `claims ${claims.client_id}`)
  })

  await check("unicode client, raw UTF-8 Basic (not form-urlencoded) → 400 invalid_request", async () => {
    const body = await expectStatus(await tokenRequest({ authorization: rawBasic(clients.unicode) }, {}), 400)
    expect(body.error === "invalid_request", `error ${body.error}`)
  })

  await check("unicode client, wrong secret → 401 invalid_client", async () => {
    const body = await expectStatus(
      await tokenRequest({ authorization: basic({ id: clients.unicode.id, secret: "sëcret-密码-🔒" }) }, {}),
      401
    )
    expect(body.error === "invalid_client", `error ${body.error}`)
  })

  await check("unicode client via client_secret_post → 401 invalid_client (Basic only)", async () => {
    const body = await expectStatus(
      await tokenRequest({}, { client_id: clients.unicode.id, client_secret: clients.unicode.secret }),
      401
    )
    expect(body.error === "invalid_client", JSON.stringify(body))
  })

  await check("invalid secret → 401 invalid_client + WWW-Authenticate", async () => {
    const response = await tokenRequest({ authorization: basic({ id: clients.basic.id, secret: "nope" }) }, {})
    const challenge = response.headers.get("www-authenticate") ?? ""
    const body = await expectStatus(response, 401)
    expect(body.error === "invalid_client", `error ${body.error}`)
    expect(challenge.startsWith("Basic"), `www-authenticate ${challenge}`)
  })

  await check("scope \"api:read bogus\" → 400 invalid_scope", async () => {
    const body = await expectStatus(
      await tokenRequest({ authorization: basic(clients.basic) }, { scope: "api:read bogus" }),
      400
    )
    expect(body.error === "invalid_scope" && body.scope === "bogus", JSON.stringify(body))
  })

  await check("scope api:admin → 400 invalid_scope", async () => {
    const body = await expectStatus(
      await tokenRequest({ authorization: basic(clients.basic) }, { scope: "api:admin" }),
      400
    )
    expect(body.error === "invalid_scope", JSON.stringify(body))
  })

  await check("unknown resource → 400 invalid_target", async () => {
    const body = await expectStatus(
      await tokenRequest({ authorization: basic(clients.basic) }, { resource: "https://elsewhere.test/" }),
      400
    )
    expect(body.error === "invalid_target", JSON.stringify(body))
  })

  await check("token endpoint CORS preflight → 204", async () => {
    const response = await fetch(auth.tokenEndpoint, {
      method: "OPTIONS",
      headers: {
        origin: "http://localhost:63315",
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization,content-type"
      }
    })
    await expectStatus(response, 204)
    expect(response.headers.get("access-control-allow-origin") === "http://localhost:63315", "ACAO")
  })

  await check("opaque token: introspect active, revoke, introspect inactive", async () => {
    const token = (await expectStatus(
      await tokenRequest({ authorization: basic(clients.basic) }, { scope: "api:read", resource: opaqueResource }),
      200
    )).access_token as string
    const introspect = async () =>
      expectStatus(
        await fetch(auth.introspectionEndpoint, {
          method: "POST",
          headers: { authorization: basic(clients.resourceServer) },
          body: form({ token })
        }),
        200
      )
    const before = await introspect()
    expect(before.active === true && before.client_id === clients.basic.id, JSON.stringify(before))
    await expectStatus(
      await fetch(auth.revocationEndpoint, {
        method: "POST",
        headers: { authorization: basic(clients.basic) },
        body: form({ token })
      }),
      200
    )
    const after = await introspect()
    expect(after.active === false, JSON.stringify(after))
  })

  await check("short TTL server issues expires_in 2 and starts/stops on its own", async () => {
    const short = await startAuthServer({ accessTokenTTL: 2, strictScopes: false })
    try {
      const response = await fetch(short.tokenEndpoint, {
        method: "POST",
        headers: { authorization: basic(clients.basic) },
        body: form({ grant_type: "client_credentials", scope: "api:read bogus" })
      })
      const body = await expectStatus(response, 200)
      expect(body.expires_in === 2 && body.scope === "api:read", JSON.stringify(body))
    } finally {
      await short.close()
    }
  })

  await check("resource server: valid token → 200", async () => {
    const body = await expectStatus(
      await fetch(`${api.url}/hello`, { headers: { authorization: `Bearer ${basicToken}` } }),
      200
    )
    expect(body.ok === true && body.path === "/hello" && body.client_id === clients.basic.id, JSON.stringify(body))
    expect(body.scope === "api:read" && body.sub === clients.basic.id, JSON.stringify(body))
    const nested = await expectStatus(
      await fetch(`${api.url}/api/things/1`, { headers: { authorization: `Bearer ${basicToken}` } }),
      200
    )
    expect(nested.path === "/api/things/1", JSON.stringify(nested))
  })

  await check("resource server: missing token → 401 Bearer realm", async () => {
    const response = await fetch(`${api.url}/hello`)
    await expectStatus(response, 401)
    expect(response.headers.get("www-authenticate") === "Bearer realm=\"api\"", "www-authenticate")
  })

  await check("resource server: bad token → 401 invalid_token", async () => {
    const response = await fetch(`${api.url}/hello`, { headers: { authorization: `Bearer ${basicToken}x` } })
    await expectStatus(response, 401)
    const challenge = response.headers.get("www-authenticate") ?? ""
    expect(challenge.startsWith("Bearer realm=\"api\", error=\"invalid_token\", error_description=\""), challenge)
  })

  await check("resource server: rejectNext(1), revoke, seenTokens, CORS", async () => {
    api.rejectNext(1)
    await expectStatus(await fetch(`${api.url}/hello`, { headers: { authorization: `Bearer ${basicToken}` } }), 401)
    await expectStatus(await fetch(`${api.url}/hello`, { headers: { authorization: `Bearer ${basicToken}` } }), 200)
    api.revoke(basicToken)
    await expectStatus(await fetch(`${api.url}/hello`, { headers: { authorization: `Bearer ${basicToken}` } }), 401)
    const preflight = await fetch(`${api.url}/hello`, {
      method: "OPTIONS",
      headers: { origin: "http://localhost:63315", "access-control-request-method": "GET" }
    })
    await expectStatus(preflight, 204)
    expect(preflight.headers.get("access-control-allow-origin") === "*", "ACAO")
    const seen = api.seenTokens()
    expect(seen.length === api.requests() && seen.length === 7, `seen ${seen.length}, requests ${api.requests()}`)
    expect(seen[2] === undefined && seen[6] === `Bearer ${basicToken}`, "seenTokens order")
  })

  const post = (init: RequestInit = {}): Promise<Response> =>
    fetch(faults.tokenUrl, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "grant_type=client_credentials",
      ...init
    })

  await check("fault token (default, then with options)", async () => {
    const first = await expectStatus(await post(), 200)
    expect(
      first.access_token === "fault-token-1" && first.token_type === "Bearer" && first.expires_in === 3600,
      JSON.stringify(first)
    )
    faults.script({ kind: "token", expiresIn: "60", scope: "a b", extra: { foo: 1 } }, {
      kind: "token",
      expiresIn: null,
      tokenType: "DPoP"
    })
    const second = await expectStatus(await post(), 200)
    expect(
      second.access_token === "fault-token-2" && second.expires_in === "60" && second.foo === 1,
      JSON.stringify(second)
    )
    const third = await expectStatus(await post(), 200)
    expect(!("expires_in" in third) && third.token_type === "DPoP", JSON.stringify(third))
    const recorded = faults.requests()
    expect(recorded.length === 3 && recorded[0].body === "grant_type=client_credentials", "recorded body")
    expect(recorded[0].method === "POST" && recorded[0].url === "/token", "recorded method/url")
    expect(recorded[0].headers["content-type"] === "application/x-www-form-urlencoded", "recorded headers")
  })

  await check("fault json", async () => {
    faults.script({ kind: "json", status: 400, body: { error: "invalid_grant" }, headers: { "x-test": "1" } })
    const response = await post()
    const body = await expectStatus(response, 400)
    expect(body.error === "invalid_grant" && response.headers.get("x-test") === "1", JSON.stringify(body))
  })

  await check("fault raw", async () => {
    faults.script({ kind: "raw", status: 200, body: "{not json", contentType: "application/json" })
    const response = await post()
    expect(response.status === 200 && (await response.text()) === "{not json", "raw body")
  })

  await check("fault drop → fetch rejects", async () => {
    faults.script({ kind: "drop" })
    await rejects(post())
  })

  await check("fault stall with ms → default token after the delay", async () => {
    faults.script({ kind: "stall", ms: 150 })
    const start = Date.now()
    const body = await expectStatus(await post(), 200)
    expect(Date.now() - start >= 140 && typeof body.access_token === "string", "stall delay")
  })

  await check("fault stall forever → client timeout aborts", async () => {
    faults.script({ kind: "stall" })
    const error = await rejects(post({ signal: AbortSignal.timeout(200) }))
    expect(error instanceof Error && error.name === "TimeoutError", `error ${String(error)}`)
  })

  await check("fault truncated → 200 then body read fails", async () => {
    faults.script({ kind: "truncated" })
    const response = await post()
    expect(response.status === 200, `status ${response.status}`)
    await rejects(response.text())
  })

  await check("fault html", async () => {
    faults.script({ kind: "html" })
    const response = await post()
    const text = await expectStatus(response, 200)
    expect((response.headers.get("content-type") ?? "").startsWith("text/html") && text.includes("<html>"), "html")
  })

  await check("fault huge (50 MB streamed, chunked) → complete valid JSON", async () => {
    const bytes = 50 * 1024 * 1024
    faults.script({ kind: "huge", bytes })
    const response = await post()
    expect(response.headers.get("content-length") === null, "no content-length")
    let total = 0
    let last = ""
    const reader = response.body!.getReader()
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      total += value.length
      last = Buffer.from(value.subarray(Math.max(0, value.length - 2))).toString()
    }
    expect(total === bytes && last === "\"}", `total ${total}, tail ${last}`)
  })

  await check("fault huge with content-length, client cancels early", async () => {
    faults.script({ kind: "huge", bytes: 50 * 1024 * 1024, contentLength: true })
    const response = await post()
    expect(response.headers.get("content-length") === String(50 * 1024 * 1024), "content-length")
    const reader = response.body!.getReader()
    await reader.read()
    await reader.cancel()
    // the server must still answer the next request normally
    await expectStatus(await post(), 200)
  })

  await check("fault retryAfter 429 and 503", async () => {
    faults.script({ kind: "retryAfter", status: 429, retryAfter: "1" }, {
      kind: "retryAfter",
      status: 503,
      retryAfter: "Wed, 21 Oct 2015 07:28:00 GMT"
    })
    const first = await post()
    await expectStatus(first, 429)
    expect(first.headers.get("retry-after") === "1", "retry-after 429")
    const second = await post()
    await expectStatus(second, 503)
    expect(second.headers.get("retry-after") === "Wed, 21 Oct 2015 07:28:00 GMT", "retry-after 503")
  })

  await check("fault redirect", async () => {
    faults.script({ kind: "redirect", status: 307, location: "https://elsewhere.test/token" })
    const response = await post({ redirect: "manual" })
    expect(response.status === 307, `status ${response.status}`)
    expect(response.headers.get("location") === "https://elsewhere.test/token", "location")
  })

  await check("fault setDefault", async () => {
    faults.setDefault({ kind: "json", status: 500, body: { error: "server_error" } })
    await expectStatus(await post(), 500)
    faults.setDefault({ kind: "token" })
    await expectStatus(await post(), 200)
  })

  await check("fault close ends a stalled request", async () => {
    faults.script({ kind: "stall" })
    const pending = rejects(post())
    await new Promise((resolve) => setTimeout(resolve, 50))
    const closed = faults.close()
    await pending
    await closed
    await faults.close()
  })
} catch (error) {
  failed++
  console.log(`FAIL setup: ${error instanceof Error ? error.stack : String(error)}`)
} finally {
  await Promise.all([fault?.close(), rs?.close(), as?.close()])
}

console.log(`${passed} passed, ${failed} failed`)
process.exitCode = failed > 0 ? 1 : 0
