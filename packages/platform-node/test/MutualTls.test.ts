import { ClientAuth, OAuth2Client, OAuth2Error } from "@effect-oauth2/core"
import { NodeOAuth2 } from "@effect-oauth2/platform-node"
import type { AuthServer, ResourceServer, TestPki } from "@effect-oauth2/testing"
import { listen, makeTestPki, mtlsClients, startAuthServer, startResourceServer } from "@effect-oauth2/testing"
import { Agent, fetch as undiciFetch } from "@effect/platform-node/Undici"
import * as HttpClient from "@effect/platform/HttpClient"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as ConfigError from "effect/ConfigError"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as jose from "jose"
import * as fs from "node:fs"
import * as https from "node:https"
import * as os from "node:os"
import * as path from "node:path"
import type { TLSSocket } from "node:tls"

let pki: TestPki
let as: AuthServer
let rs: ResourceServer
let dir: string

beforeAll(async () => {
  pki = await makeTestPki()
  as = await startAuthServer({ mtls: { pki } })
  rs = await startResourceServer({
    issuer: as.issuer,
    jwksUri: as.jwksUri,
    tls: { key: pki.server.key, cert: pki.server.cert, ca: pki.ca.cert }
  })
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "effect-oauth2-mtls-"))
}, 60_000)

afterAll(async () => {
  await Promise.all([rs?.close(), as?.close()])
  if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true })
})

const tlsFor = (certificate: { readonly cert: string; readonly key: string }): NodeOAuth2.TlsOptions => ({
  cert: certificate.cert,
  key: Redacted.make(certificate.key),
  ca: pki.ca.cert
})

/** GET /hello through the layer's HttpClient: status, body, and the token used. */
const hello = Effect.gen(function*() {
  const client = yield* HttpClient.HttpClient
  const response = yield* client.get(`${rs.url}/hello`)
  const body = (yield* response.json) as Record<string, unknown>
  const credentials = yield* (yield* OAuth2Client.OAuth2Client).token.get
  return { status: response.status, body, credentials }
})

/** A request to the API with a token, over a connection with `certificate` (or none). */
const callApi = (token: string, certificate?: { readonly cert: string; readonly key: string }) =>
  Effect.promise(async () => {
    const dispatcher = new Agent({ connect: { ca: pki.ca.cert, ...certificate } })
    try {
      const response = await undiciFetch(`${rs.url}/hello`, {
        headers: { authorization: `Bearer ${token}` },
        dispatcher
      })
      return { status: response.status, challenge: response.headers.get("www-authenticate") ?? "" }
    } finally {
      await dispatcher.destroy()
    }
  })

const failureOf = <A, E>(exit: Exit.Exit<A, E>): E => {
  assert.isTrue(Exit.isFailure(exit), "expected a failure")
  const error = Exit.isFailure(exit) ? Cause.failureOption(exit.cause) : Option.none()
  assert.isTrue(Option.isSome(error), Exit.isFailure(exit) ? Cause.pretty(exit.cause) : "")
  return Option.getOrThrow(error)
}

describe("mutual TLS on Node (RFC 8705)", () => {
  const cases = () =>
    [
      { name: "tls_client_auth", clientId: mtlsClients.tls, auth: ClientAuth.tlsClientAuth, certificate: pki.client },
      {
        name: "self_signed_tls_client_auth",
        clientId: mtlsClients.selfSigned,
        auth: ClientAuth.selfSignedTlsClientAuth,
        certificate: pki.selfSigned
      }
    ] as const

  it.live("each method through NodeOAuth2.layer: the mTLS alias from discovery, a bound token, the API answers", () =>
    Effect.gen(function*() {
      for (const { auth, certificate, clientId, name } of cases()) {
        const result = yield* hello.pipe(
          Effect.provide(
            NodeOAuth2.layer({ issuer: as.issuer, clientId, auth, tls: tlsFor(certificate), origins: [rs.url] })
          )
        )
        assert.strictEqual(result.status, 200, name)
        assert.strictEqual(result.body.client_id, clientId)
        // The token came from mtls_endpoint_aliases.token_endpoint, over TLS with the certificate...
        assert.strictEqual(result.credentials.tokenEndpoint, as.mtlsTokenEndpoint)
        // ...and is bound to it (RFC 8705 §3.1).
        const claims = jose.decodeJwt(Redacted.value(result.credentials.accessToken))
        assert.deepStrictEqual(claims.cnf, { "x5t#S256": certificate.thumbprint })
      }
    }))

  it.live("the API refuses the bound token without the certificate, and with another one", () =>
    Effect.gen(function*() {
      const { credentials } = yield* hello.pipe(
        Effect.provide(NodeOAuth2.layer({
          issuer: as.issuer,
          clientId: mtlsClients.tls,
          auth: ClientAuth.tlsClientAuth,
          tls: tlsFor(pki.client),
          origins: [rs.url]
        }))
      )
      const token = Redacted.value(credentials.accessToken)
      const withIt = yield* callApi(token, pki.client)
      assert.strictEqual(withIt.status, 200)
      const without = yield* callApi(token)
      assert.strictEqual(without.status, 401)
      assert.include(without.challenge, "bound to a client certificate and none was presented")
      const other = yield* callApi(token, pki.other)
      assert.strictEqual(other.status, 401)
      assert.include(other.challenge, "bound to another client certificate")
    }))

  it.live("the token URL given directly (the TLS endpoint) works too", () =>
    Effect.gen(function*() {
      const result = yield* hello.pipe(
        Effect.provide(NodeOAuth2.layer({
          tokenUrl: as.mtlsTokenEndpoint!,
          clientId: mtlsClients.tls,
          auth: ClientAuth.tlsClientAuth,
          tls: tlsFor(pki.client),
          origins: [rs.url]
        }))
      )
      assert.strictEqual(result.status, 200)
    }))

  it.live("without the alias (the plain endpoint sees no certificate) or with another certificate: invalid_client", () =>
    Effect.gen(function*() {
      const refusal = (options: NodeOAuth2.Options) =>
        Effect.gen(function*() {
          const client = yield* OAuth2Client.OAuth2Client
          return yield* Effect.flip(client.token.get)
        }).pipe(Effect.provide(NodeOAuth2.layer({ ...options, retry: false })))
      const plain = yield* refusal({
        issuer: as.issuer,
        clientId: mtlsClients.tls,
        auth: ClientAuth.tlsClientAuth,
        tls: tlsFor(pki.client),
        useMtlsEndpointAliases: false
      })
      assert.isTrue(OAuth2Error.isErrorResponse(plain) && plain.error === "invalid_client", String(plain))
      const other = yield* refusal({
        issuer: as.issuer,
        clientId: mtlsClients.tls,
        auth: ClientAuth.tlsClientAuth,
        tls: tlsFor(pki.other)
      })
      assert.isTrue(OAuth2Error.isErrorResponse(other) && other.error === "invalid_client", String(other))
    }))

  it.live("the layer owns its dispatcher: the API connection, made with the certificate, closes with the layer", () =>
    Effect.gen(function*() {
      const open = new Set<string>()
      const server = https.createServer(
        { key: pki.server.key, cert: pki.server.cert, ca: pki.ca.cert, requestCert: true, rejectUnauthorized: true },
        (req, res) => {
          res.writeHead(200, { "content-type": "application/json", connection: "keep-alive" })
          res.end(JSON.stringify({ peer: (req.socket as TLSSocket).getPeerCertificate().subject?.CN }))
        }
      )
      server.on("secureConnection", (socket) => {
        const id = `${socket.remotePort}`
        open.add(id)
        socket.on("close", () => open.delete(id))
      })
      const { close, url } = yield* Effect.promise(() => listen(server, { scheme: "https" }))
      yield* Effect.addFinalizer(() => Effect.promise(close))
      const body = yield* Effect.gen(function*() {
        const client = yield* HttpClient.HttpClient
        const response = yield* client.get(`${url}/x`)
        assert.strictEqual(open.size, 1)
        return yield* response.json
      }).pipe(
        Effect.provide(NodeOAuth2.layer({
          tokenUrl: as.mtlsTokenEndpoint!,
          clientId: mtlsClients.tls,
          auth: ClientAuth.tlsClientAuth,
          tls: tlsFor(pki.client),
          origins: [url]
        }))
      )
      // The API saw the client certificate (the server requires one, and rejects any the CA did not issue).
      assert.deepStrictEqual(body, { peer: "mtls-client" })
      // The keep-alive connection is gone once the layer is closed: its dispatcher was destroyed.
      for (let i = 0; i < 100 && open.size > 0; i++) yield* Effect.promise(() => new Promise((r) => setTimeout(r, 20)))
      assert.strictEqual(open.size, 0)
    }).pipe(Effect.scoped))

  it.live("a certificate and key that do not belong together, or are not PEM: a ConfigurationError at build", () =>
    Effect.gen(function*() {
      const attempts: ReadonlyArray<NodeOAuth2.TlsOptions> = [
        { cert: pki.client.cert, key: Redacted.make(pki.other.key) },
        { cert: "not a certificate", key: Redacted.make(pki.client.key) },
        { cert: pki.client.cert, key: Redacted.make("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----") }
      ]
      for (const tls of attempts) {
        const exit = yield* Effect.exit(
          Layer.build(
            NodeOAuth2.layer({ issuer: as.issuer, clientId: mtlsClients.tls, auth: ClientAuth.tlsClientAuth, tls })
          )
            .pipe(Effect.scoped)
        )
        const error = failureOf(exit)
        assert.strictEqual(error._tag, "ConfigurationError")
        assert.include(error.message, "tls: the client certificate and key cannot be used")
        for (const key of [pki.client.key, pki.other.key]) {
          for (const line of key.split("\n").filter((l) => l.length > 20 && !l.startsWith("-----"))) {
            assert.notInclude(error.message, line)
          }
        }
      }
    }))
})

describe("the client certificate and key files from the environment (Node only)", () => {
  const write = (name: string, content: string) => {
    const file = path.join(dir, name)
    fs.writeFileSync(file, content, { mode: 0o600 })
    return file
  }
  const env = (variables: Record<string, string>) =>
    Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(variables))))

  it.live("OAUTH2_TLS_CERT_FILE, OAUTH2_TLS_KEY_FILE, OAUTH2_TLS_CA_FILE: tls_client_auth by default, end to end", () =>
    Effect.gen(function*() {
      const variables = {
        OAUTH2_ISSUER: as.issuer,
        OAUTH2_CLIENT_ID: mtlsClients.tls,
        OAUTH2_TLS_CERT_FILE: write("client.crt", pki.client.cert),
        OAUTH2_TLS_KEY_FILE: write("client.key", pki.client.key),
        OAUTH2_TLS_CA_FILE: write("ca.crt", pki.ca.cert),
        OAUTH2_ORIGINS: rs.url
      }
      const options = yield* NodeOAuth2.config().pipe(Effect.provide(env(variables)))
      assert.strictEqual(options.auth?.method, "tls_client_auth")
      assert.strictEqual(options.tls?.cert, pki.client.cert)
      assert.isTrue(Redacted.isRedacted(options.tls?.key))
      const result = yield* hello.pipe(Effect.provide(NodeOAuth2.layerFromEnv().pipe(Layer.provide(env(variables)))))
      assert.strictEqual(result.status, 200)
      assert.strictEqual(result.body.client_id, mtlsClients.tls)
    }))

  it.live("OAUTH2_PRIVATE_KEY_FILE: private_key_jwt with the key from the file", () =>
    Effect.gen(function*() {
      const variables = {
        OAUTH2_ISSUER: as.issuer,
        OAUTH2_CLIENT_ID: as.jwtClients.rs256.id,
        OAUTH2_PRIVATE_KEY_FILE: write("jwt.pem", as.jwtClients.rs256.privateKeyPem),
        OAUTH2_KEY_ID: as.jwtClients.rs256.kid
      }
      const credentials = yield* Effect.gen(function*() {
        return yield* (yield* OAuth2Client.OAuth2Client).token.get
      }).pipe(Effect.provide(NodeOAuth2.layerFromEnv().pipe(Layer.provide(env(variables)))))
      assert.strictEqual(jose.decodeJwt(Redacted.value(credentials.accessToken)).client_id, as.jwtClients.rs256.id)
    }))

  const configError = (variables: Record<string, string>) =>
    Effect.gen(function*() {
      const error = failureOf(yield* Effect.exit(NodeOAuth2.config().pipe(Effect.provide(env(variables)))))
      assert.isTrue(ConfigError.isConfigError(error), String(error))
      const text = String(error)
      assert.notInclude(text, pki.client.key.split("\n")[1]!)
      return text
    })

  it.live("a missing or unreadable file is a ConfigError naming the variable", () =>
    Effect.gen(function*() {
      const base = { OAUTH2_ISSUER: as.issuer, OAUTH2_CLIENT_ID: "svc" }
      const missing = yield* configError({ ...base, OAUTH2_PRIVATE_KEY_FILE: path.join(dir, "nope.pem") })
      assert.include(missing, "OAUTH2_PRIVATE_KEY_FILE")
      assert.include(missing, "ENOENT")
      const unreadable = yield* configError({
        ...base,
        OAUTH2_TLS_CERT_FILE: dir,
        OAUTH2_TLS_KEY_FILE: write("k.pem", pki.client.key)
      })
      assert.include(unreadable, "OAUTH2_TLS_CERT_FILE")
      assert.include(unreadable, "EISDIR")
      const empty = yield* configError({ ...base, OAUTH2_TLS_CA_FILE: write("empty.pem", "\n") })
      assert.include(empty, "OAUTH2_TLS_CA_FILE")
      assert.include(empty, "is empty")
    }))

  it.live("a certificate without its key (or the reverse), a CA alone, both key variables: ConfigErrors naming them", () =>
    Effect.gen(function*() {
      const base = { OAUTH2_ISSUER: as.issuer, OAUTH2_CLIENT_ID: "svc" }
      const cert = write("c.crt", pki.client.cert)
      const key = write("c.key", pki.client.key)
      assert.include(yield* configError({ ...base, OAUTH2_TLS_CERT_FILE: cert }), "OAUTH2_TLS_KEY_FILE")
      assert.include(yield* configError({ ...base, OAUTH2_TLS_KEY_FILE: key }), "OAUTH2_TLS_CERT_FILE")
      assert.include(yield* configError({ ...base, OAUTH2_TLS_CA_FILE: cert }), "NODE_EXTRA_CA_CERTS")
      const both = yield* configError({
        ...base,
        OAUTH2_PRIVATE_KEY: as.jwtClients.es256.privateKeyPem,
        OAUTH2_PRIVATE_KEY_FILE: write("k2.pem", as.jwtClients.es256.privateKeyPem)
      })
      assert.include(both, "Set OAUTH2_PRIVATE_KEY or OAUTH2_PRIVATE_KEY_FILE, not both")
      assert.notInclude(both, as.jwtClients.es256.privateKeyPem.split("\n")[1]!)
    }))
})
