// The effect-oauth2 command end to end: spawned as a process (as a user runs it), against the embedded
// oidc-provider and the JWT-verifying API of the testing package. Every run's stdout and stderr are searched for
// the client secrets.
import { clients, listen, opaqueResource } from "@effect-oauth2/testing"
import type {} from "@effect-oauth2/testing/context"
import { afterAll, assert, beforeAll, describe, inject, it } from "@effect/vitest"
import { execFile } from "node:child_process"
import * as fs from "node:fs"
import * as http from "node:http"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..")
const bin = path.join(root, "packages/cli/src/bin.ts")
const tokenEndpoint = inject("tokenEndpoint")
const apiUrl = inject("apiUrl")

interface Run {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

const secretValues = Object.values(clients).map((client) => client.secret)

/** The variables of a configured service: the basic client of the embedded server. */
const basicEnv = {
  OAUTH2_TOKEN_URL: tokenEndpoint,
  OAUTH2_CLIENT_ID: clients.basic.id,
  OAUTH2_CLIENT_SECRET: clients.basic.secret,
  OAUTH2_SCOPES: "api:read"
}

/** Runs the command with only the given OAUTH2_* variables, stdin not a terminal; checks no secret is printed. */
const cli = (args: ReadonlyArray<string>, env: Record<string, string> = {}): Promise<Run> => {
  const base = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("OAUTH2_")))
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      ["--import", "tsx", bin, ...args],
      { cwd: root, env: { ...base, ...env }, timeout: 45_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1
        if (code === -1) return reject(error)
        for (const secret of secretValues) {
          assert.notInclude(stdout, secret, `a client secret on stdout of ${args.join(" ")}`)
          assert.notInclude(stderr, secret, `a client secret on stderr of ${args.join(" ")}`)
        }
        resolve({ code, stdout, stderr })
      }
    )
    child.stdin?.end()
  })
}

const jwtShape = /^[\w-]+\.[\w-]+\.[\w-]+$/

/** A failure: the exit code, a message on stderr, nothing on stdout. */
const assertFailure = (run: Run, code: number, ...phrases: ReadonlyArray<string>) => {
  assert.strictEqual(run.code, code, `exit code; stderr: ${run.stderr}`)
  assert.strictEqual(run.stdout, "")
  assert.match(run.stderr, /^effect-oauth2: /m)
  for (const phrase of phrases) assert.include(run.stderr, phrase)
}

describe("effect-oauth2 token", () => {
  it("prints the access token alone on stdout, so $(effect-oauth2 token) works", async () => {
    const run = await cli(["token"], basicEnv)
    assert.strictEqual(run.code, 0, run.stderr)
    assert.match(run.stdout, /^[\w-]+\.[\w-]+\.[\w-]+\n$/)
    assert.notInclude(run.stderr, run.stdout.trim())
  })

  it("flags override the variables; the secret comes from a file", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "effect-oauth2-cli-"))
    try {
      const secretFile = path.join(dir, "secret")
      fs.writeFileSync(secretFile, `${clients.post.secret}\n`, { mode: 0o600 })
      const run = await cli(
        [
          "token",
          "--token-url",
          tokenEndpoint,
          "--client-id",
          clients.post.id,
          "--auth-method",
          "client_secret_post",
          "--client-secret-file",
          secretFile,
          "--json"
        ],
        { ...basicEnv, OAUTH2_TOKEN_URL: "http://127.0.0.1:9/not-here", OAUTH2_CLIENT_SECRET: "not-the-secret" }
      )
      assert.strictEqual(run.code, 0, run.stderr)
      const json = JSON.parse(run.stdout)
      assert.strictEqual(json.token_endpoint, tokenEndpoint)
      assert.strictEqual(json.scope, "api:read")
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it("reads the Node-only variables too: private_key_jwt with OAUTH2_PRIVATE_KEY_FILE, the key never printed", async () => {
    const client = inject("privateKeyJwtClient")
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "effect-oauth2-cli-"))
    try {
      const keyFile = path.join(dir, "key.json")
      fs.writeFileSync(keyFile, JSON.stringify(client.privateJwk), { mode: 0o600 })
      const env = {
        OAUTH2_TOKEN_URL: tokenEndpoint,
        OAUTH2_CLIENT_ID: client.id,
        OAUTH2_PRIVATE_KEY_FILE: keyFile,
        OAUTH2_SCOPES: "api:read"
      }
      const run = await cli(["token", "--json"], env)
      assert.strictEqual(run.code, 0, run.stderr)
      assert.strictEqual(String((JSON.parse(run.stdout) as Record<string, unknown>).token_type).toLowerCase(), "bearer")
      const privatePart = String(client.privateJwk.d)
      assert.notInclude(run.stdout + run.stderr, privatePart)
      // A key file that is not there: a configuration error naming the variable, exit 2.
      const missing = await cli(["token"], { ...env, OAUTH2_PRIVATE_KEY_FILE: path.join(dir, "absent.pem") })
      assertFailure(missing, 2, "OAUTH2_PRIVATE_KEY_FILE")
      assert.notInclude(missing.stderr, privatePart)
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it("--env-prefix reads another set of variables", async () => {
    const billing = Object.fromEntries(
      Object.entries(basicEnv).map(([key, value]) => [key.replace("OAUTH2", "BILLING"), value])
    )
    const run = await cli(["token", "--env-prefix", "BILLING"], billing)
    assert.strictEqual(run.code, 0, run.stderr)
    assert.match(run.stdout, /^[\w-]+\.[\w-]+\.[\w-]+\n$/)
  })

  it("--json prints the credentials, the token included and the expiry as an ISO time", async () => {
    const before = Date.now()
    const run = await cli(["token", "--json"], basicEnv)
    assert.strictEqual(run.code, 0, run.stderr)
    const json = JSON.parse(run.stdout)
    assert.match(json.access_token, jwtShape)
    assert.strictEqual(json.token_type.toLowerCase(), "bearer")
    assert.strictEqual(json.expires_in, 300)
    assert.strictEqual(new Date(json.expires_at).toISOString(), json.expires_at)
    const expiresAt = Date.parse(json.expires_at)
    assert.isAtLeast(expiresAt, before + 299_000)
    assert.isAtMost(expiresAt, Date.now() + 301_000)
    assert.strictEqual(json.scope, "api:read")
    assert.strictEqual(json.token_endpoint, tokenEndpoint)
  })

  it("--decode prints the JWT's header and claims, marked as unverified", async () => {
    const run = await cli(["token", "--decode"], basicEnv)
    assert.strictEqual(run.code, 0, run.stderr)
    const decoded = JSON.parse(run.stdout)
    assert.strictEqual(decoded.verified, false)
    assert.include(decoded.note, "UNVERIFIED")
    assert.strictEqual(decoded.header.alg, "ES256")
    assert.strictEqual(decoded.header.typ, "at+jwt")
    assert.strictEqual(decoded.claims.client_id, clients.basic.id)
    assert.strictEqual(decoded.claims.scope, "api:read")
    assert.notMatch(run.stdout, /[\w-]{20,}\.[\w-]{20,}\.[\w-]{20,}/) // the token itself is not printed
  })

  it("--decode of an opaque token fails with exit 1 and says why", async () => {
    const run = await cli(["token", "--decode", "--resource", opaqueResource], basicEnv)
    assertFailure(run, 1, "not a JWT")
  })
})

describe("effect-oauth2 call", () => {
  let echo: { url: string; close: () => Promise<void> }
  beforeAll(async () => {
    const server = http.createServer((req, res) => {
      let body = ""
      req.on("data", (chunk) => (body += chunk))
      req.on("end", () => {
        res.writeHead(201, { "content-type": "application/json", "x-echo": "yes" })
        res.end(JSON.stringify({
          method: req.method,
          body,
          contentType: req.headers["content-type"],
          custom: req.headers["x-custom"],
          bearer: /^Bearer [\w-]+\.[\w-]+\.[\w-]+$/.test(req.headers.authorization ?? "")
        }))
      })
    })
    echo = await listen(server)
  })
  afterAll(() => echo.close())

  it("makes one authenticated request and prints the body", async () => {
    const run = await cli(["call", `${apiUrl}/hello`], basicEnv)
    assert.strictEqual(run.code, 0, run.stderr)
    const body = JSON.parse(run.stdout)
    assert.strictEqual(body.ok, true)
    assert.strictEqual(body.client_id, clients.basic.id)
  })

  it("OAUTH2_DPOP=true: a DPoP-bound token, and call sends it with a proof the API verifies", async () => {
    // The dpop client is refused a token without a DPoP proof; the API refuses its token without one.
    const env = {
      OAUTH2_TOKEN_URL: tokenEndpoint,
      OAUTH2_CLIENT_ID: clients.dpop.id,
      OAUTH2_CLIENT_SECRET: clients.dpop.secret,
      OAUTH2_SCOPES: "api:read",
      OAUTH2_DPOP: "true"
    }
    const run = await cli(["call", `${apiUrl}/hello`], env)
    assert.strictEqual(run.code, 0, run.stderr)
    assert.strictEqual(JSON.parse(run.stdout).client_id, clients.dpop.id)
    const decoded = await cli(["token", "--decode"], env)
    assert.strictEqual(decoded.code, 0, decoded.stderr)
    assert.isString(JSON.parse(decoded.stdout).claims.cnf.jkt, "the token is bound to the command's key")
    // Without the option the server refuses the token request: the option is what made it work.
    const { OAUTH2_DPOP: _, ...withoutDpop } = env
    assertFailure(await cli(["token"], withoutDpop), 1)
  })

  it("-i prints the status line and the headers before the body", async () => {
    const run = await cli(["call", "-i", `${apiUrl}/hello`], basicEnv)
    assert.strictEqual(run.code, 0, run.stderr)
    const [head, body] = run.stdout.split("\n\n")
    assert.match(head, /^HTTP 200\n/)
    assert.match(head, /^content-type: application\/json/m)
    assert.notMatch(head, /^authorization:/im) // response headers only
    assert.strictEqual(JSON.parse(body).ok, true)
  })

  it("-X, -H and -d shape the request, which carries the token", async () => {
    const run = await cli(
      ["call", "-X", "put", "-H", "X-Custom: 42", "-H", "Content-Type: text/plain", "-d", "hello", echo.url],
      basicEnv
    )
    assert.strictEqual(run.code, 0, run.stderr)
    assert.deepStrictEqual(JSON.parse(run.stdout), {
      method: "PUT",
      body: "hello",
      contentType: "text/plain",
      custom: "42",
      bearer: true
    })
    const post = JSON.parse((await cli(["call", "-d", "a=1", echo.url], basicEnv)).stdout)
    assert.strictEqual(post.method, "POST")
    assert.strictEqual(post.contentType, "application/x-www-form-urlencoded")
  })

  it("an HTTP error status is printed (exit 0), and with -f fails with exit 1 and nothing on stdout", async () => {
    const missing = await cli(["call", `${apiUrl}/missing`], basicEnv)
    assert.strictEqual(missing.code, 0, missing.stderr)
    assert.include(missing.stdout, "not_found")
    assertFailure(await cli(["call", "-f", `${apiUrl}/missing`], basicEnv), 1, "HTTP 404")
  })
})

describe("effect-oauth2 failures", () => {
  it("no token URL: exit 2, the variable named, nothing on stdout", async () => {
    assertFailure(await cli(["token"]), 2, "OAUTH2_TOKEN_URL is not set", "--token-url", "OAUTH2_ISSUER", "--issuer")
  })

  it("a secret given as a flag value is refused with exit 2, and never echoed", async () => {
    for (const args of [["--client-secret", "flag-secret-value"], ["--client-secret=flag-secret-value"]]) {
      const run = await cli(["token", ...args], basicEnv)
      assertFailure(run, 2, "never taken from a flag value", "OAUTH2_CLIENT_SECRET")
      assert.notInclude(run.stderr, "flag-secret-value")
    }
  })

  it("a method that needs a secret, none given and no terminal: exit 2 at once, no prompt, no hang", async () => {
    const env = { OAUTH2_TOKEN_URL: tokenEndpoint, OAUTH2_CLIENT_ID: clients.basic.id }
    assertFailure(
      await cli(["token"], { ...env, OAUTH2_AUTH_METHOD: "client_secret_basic" }),
      2,
      "needs a client secret",
      "--client-secret-file"
    )
    assertFailure(await cli(["token", "--prompt-secret"], env), 2, "needs a terminal")
  })

  it("a malformed variable or flag: exit 2", async () => {
    assertFailure(await cli(["token"], { ...basicEnv, OAUTH2_TIMEOUT: "soon" }), 2, "OAUTH2_TIMEOUT")
    assertFailure(await cli(["token", "--token-url", "http://auth.example.com/token"], basicEnv), 2, "https")
    assertFailure(await cli(["call", "not a url"], basicEnv), 2, "absolute http(s) URL")
    const unknown = await cli(["token", "--no-such-flag"], basicEnv)
    assert.strictEqual(unknown.code, 2)
    assert.strictEqual(unknown.stdout, "")
  })

  it("a refusal: exit 1 with the server's error and what to check", async () => {
    const run = await cli(["token"], { ...basicEnv, OAUTH2_CLIENT_SECRET: "wrong-secret-Zq9" })
    assertFailure(run, 1, "invalid_client", "client secret")
    assert.notInclude(run.stderr, "wrong-secret-Zq9")
  })

  it("a transport error: exit 1", async () => {
    const closed = http.createServer()
    const { url, close } = await listen(closed)
    await close()
    const run = await cli(["token", "--token-url", `${url}/token`, "--timeout", "2 seconds"], basicEnv)
    assertFailure(run, 1, url, "ECONNREFUSED")
    assert.include(run.stderr, "retrying") // the retries are logged, on stderr
  })

  it("call with a refused client: exit 1, nothing on stdout", async () => {
    const run = await cli(["call", `${apiUrl}/hello`], { ...basicEnv, OAUTH2_CLIENT_SECRET: "wrong-secret-Zq9" })
    assertFailure(run, 1, "invalid_client")
  })
})

describe("effect-oauth2 discover", () => {
  const issuer = inject("issuer")

  it("prints the issuer's metadata as JSON, the token endpoint on stderr, and reads no credentials", async () => {
    // Only the issuer: no client id, no secret.
    const run = await cli(["discover"], { OAUTH2_ISSUER: issuer })
    assert.strictEqual(run.code, 0, run.stderr)
    const metadata = JSON.parse(run.stdout) as Record<string, unknown>
    assert.strictEqual(metadata.issuer, issuer)
    assert.strictEqual(metadata.token_endpoint, tokenEndpoint)
    assert.include(run.stderr, `token endpoint: ${tokenEndpoint}`)
    const flagged = await cli(["discover", "--issuer", issuer, "--location", "openid-configuration"])
    assert.strictEqual(flagged.code, 0, flagged.stderr)
    assert.strictEqual((JSON.parse(flagged.stdout) as Record<string, unknown>).issuer, issuer)
  })

  it("takes the issuer as its argument (effect-oauth2 discover ISSUER); two different issuers: exit 2", async () => {
    const run = await cli(["discover", "--location", "oauth-authorization-server", issuer])
    assert.strictEqual(run.code, 0, run.stderr)
    assert.strictEqual((JSON.parse(run.stdout) as Record<string, unknown>).token_endpoint, tokenEndpoint)
    assertFailure(await cli(["discover", "--issuer", "https://other.example", issuer]), 2, "two issuers")
  })

  it("no issuer: exit 2 naming the variable and the flag; a wrong issuer: exit 1 with the §3.3 mismatch", async () => {
    assertFailure(await cli(["discover"]), 2, "OAUTH2_ISSUER", "--issuer")
    // The server's metadata names another issuer than the one asked for (a trailing slash differs).
    assertFailure(await cli(["discover", "--issuer", `${issuer}/`]), 1, issuer)
  })

  it("token with --issuer instead of --token-url discovers the endpoint", async () => {
    const { OAUTH2_TOKEN_URL: _, ...withoutUrl } = basicEnv
    const run = await cli(["token", "--issuer", issuer], withoutUrl)
    assert.strictEqual(run.code, 0, run.stderr)
    assert.match(run.stdout.trim(), /^\S+$/)
  })
})
