import { assert, describe, it } from "@effect/vitest"
import * as childProcess from "node:child_process"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { inject } from "vitest"
import { jwtPattern, secrets } from "./utils/servers.js"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..")

interface Run {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
  readonly millis: number
}

/** Runs the demo as the README does (`npx tsx packages/platform-node/examples/demo.ts` from the root). */
const runDemo = (env: Record<string, string>): Promise<Run> =>
  new Promise((resolve, reject) => {
    const started = Date.now()
    const inherited = Object.fromEntries(
      Object.entries(process.env).filter(([name]) => !name.startsWith("OAUTH2_") && !name.startsWith("DEMO_"))
    )
    const child = childProcess.spawn("npx", ["tsx", "packages/platform-node/examples/demo.ts"], {
      cwd: root,
      env: { ...inherited, ...env },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk) => (stdout += String(chunk)))
    child.stderr.on("data", (chunk) => (stderr += String(chunk)))
    const timer = setTimeout(() => child.kill("SIGKILL"), 55_000)
    child.on("error", reject)
    child.on("close", (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr, millis: Date.now() - started })
    })
  })

const assertNoSecrets = (run: Run) => {
  for (const text of [run.stdout, run.stderr]) {
    for (const secret of secrets) assert.notInclude(text, secret)
    assert.notMatch(text, jwtPattern)
  }
}

describe("the demo (npm run demo)", () => {
  it("runs against the embedded servers, prints what the layer did, and exits 0", async () => {
    const run = await runDemo({})
    assert.strictEqual(run.code, 0, `exit code ${run.code}\n${run.stdout}\n${run.stderr}`)
    const out = run.stdout
    assert.include(out, "authorization server  http://127.0.0.1:")
    assert.include(out, "client                basic-client, client_secret_basic, asking for scope api:read")
    assert.include(out, "1. Cold start: 50 concurrent calls")
    assert.include(out, "50 answers (HTTP 200)")
    assert.include(out, "token requests: 1 (49 of the callers joined the request in flight)")
    assert.match(out, /GET \/hello +-> 200 \{"ok":true,"path":"\/hello","client_id":"basic-client"/)
    assert.include(out, "token requests: 0 (the cached token served all 3 calls)")
    assert.include(out, "type Bearer, scopes api:read, expires_in 30 s")
    assert.match(out, /-> 200 in \d+ ms {2}<- the next token was fetched in the background meanwhile/)
    assert.include(out, "served at once from the cache: 5, waited for a token: 0; token requests: 1, in the background")
    assert.include(out, "the next token is in use")
    assert.include(out, "Done: 2 token requests in all.")
    assertNoSecrets(run)
    assert.isBelow(run.millis, 45_000)
  }, 60_000)

  it("runs against another server from OAUTH2_* variables and DEMO_API_URL", async () => {
    const { clients } = await import("@effect-oauth2/testing")
    const run = await runDemo({
      OAUTH2_TOKEN_URL: inject("tokenEndpoint"),
      OAUTH2_CLIENT_ID: clients.post.id,
      OAUTH2_CLIENT_SECRET: clients.post.secret,
      OAUTH2_AUTH_METHOD: "client_secret_post",
      OAUTH2_SCOPES: "api:read",
      DEMO_API_URL: `${inject("apiUrl")}/api/demo`
    })
    assert.strictEqual(run.code, 0, `exit code ${run.code}\n${run.stdout}\n${run.stderr}`)
    const out = run.stdout
    assert.include(out, `authorization server  ${inject("tokenEndpoint")} (from OAUTH2_TOKEN_URL)`)
    assert.include(out, "client                post-client, client_secret_post")
    assert.include(out, "token requests: 1 (49 of the callers joined the request in flight)")
    assert.match(out, /GET \/api\/demo +-> 200 \{"ok":true,"path":"\/api\/demo","client_id":"post-client"/)
    assert.include(out, "not waiting that long")
    assert.include(out, "Done: 1 token requests in all.")
    assertNoSecrets(run)
  }, 60_000)

  it("DEMO_AUTH=private_key_jwt: a key made for the run, discovery from the issuer, the same results", async () => {
    const run = await runDemo({ DEMO_AUTH: "private_key_jwt" })
    assert.strictEqual(run.code, 0, `exit code ${run.code}\n${run.stdout}\n${run.stderr}`)
    const out = run.stdout
    assert.match(
      out,
      /authorization server {2}http:\/\/127\.0\.0\.1:\d+ \(embedded oidc-provider; token endpoint discovered/
    )
    assert.include(out, "client                demo-key-client, private_key_jwt (an ES256 key made for this run")
    assert.include(out, "50 answers (HTTP 200)")
    assert.include(out, "token requests: 1 (49 of the callers joined the request in flight)")
    assert.match(out, /GET \/hello +-> 200 \{"ok":true,"path":"\/hello","client_id":"demo-key-client"/)
    assert.include(out, "Done: 2 token requests in all.")
    assertNoSecrets(run)
  }, 60_000)

  it("names the method read from OAUTH2_* (the issuer, private_key_jwt from OAUTH2_PRIVATE_KEY)", async () => {
    const { startAuthServer } = await import("@effect-oauth2/testing")
    const server = await startAuthServer()
    try {
      const run = await runDemo({
        OAUTH2_ISSUER: server.issuer,
        OAUTH2_CLIENT_ID: server.jwtClients.es256.id,
        OAUTH2_PRIVATE_KEY: server.jwtClients.es256.privateKeyPem,
        OAUTH2_SCOPES: "api:read",
        DEMO_API_URL: `${server.issuer}/.well-known/openid-configuration`
      })
      assert.strictEqual(run.code, 0, `exit code ${run.code}\n${run.stdout}\n${run.stderr}`)
      assert.include(
        run.stdout,
        `authorization server  ${server.issuer} (from OAUTH2_ISSUER; the token endpoint is discovered)`
      )
      assert.include(run.stdout, `client                ${server.jwtClients.es256.id}, private_key_jwt`)
      assert.include(run.stdout, "token requests: 1 (49 of the callers joined the request in flight)")
      for (const line of server.jwtClients.es256.privateKeyPem.split("\n").filter((l) => l.length > 20)) {
        assert.notInclude(run.stdout + run.stderr, line)
      }
    } finally {
      await server.close()
    }
  }, 60_000)

  it("an unknown DEMO_AUTH is a clear error naming it", async () => {
    const run = await runDemo({ DEMO_AUTH: "magic" })
    assert.strictEqual(run.code, 1)
    assert.include(run.stdout + run.stderr, "DEMO_AUTH")
  }, 60_000)

  it("fails with a clear message when OAUTH2_TOKEN_URL is set but DEMO_API_URL is not", async () => {
    const run = await runDemo({ OAUTH2_TOKEN_URL: inject("tokenEndpoint"), OAUTH2_CLIENT_SECRET: "not-printed-42" })
    assert.strictEqual(run.code, 1)
    assert.include(run.stdout + run.stderr, "DEMO_API_URL")
    assert.notInclude(run.stdout + run.stderr, "not-printed-42")
  }, 60_000)
})
