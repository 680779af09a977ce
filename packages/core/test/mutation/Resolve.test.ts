/**
 * The build-time resolution of the options (internal/resolve.ts): discovery turns an issuer into the token endpoint
 * and informs the choice of client authentication, the auth method's `resolve` gets a checked token URL, and the
 * DPoP key is compared with the algorithms the server lists. Every mistake is a typed error that names what to fix;
 * every doubtful choice is a warning that says what was done.
 */
import { ClientAuth, ClientCredentials, OAuth2Error } from "@effect-oauth2/core"
import { assert, describe, it } from "@effect/vitest"
import { deepStrictEqual, strictEqual } from "@effect/vitest/utils"
import * as Effect from "effect/Effect"
import * as LogLevel from "effect/LogLevel"
import * as Redacted from "effect/Redacted"
import { decodeBasic, failure } from "../utils/Grant.js"
import { captureLogs } from "../utils/Logs.js"
import * as TestHttp from "../utils/TestHttp.js"

const issuer = "https://as.example.com"
const oauthLocation = `${issuer}/.well-known/oauth-authorization-server`

/** An in-memory authorization server: `document` at the RFC 8414 location of `iss`, tokens at any …/token. */
const server = (document: Record<string, unknown>, iss = issuer, tokenReply: TestHttp.Reply = TestHttp.token("at")) =>
  TestHttp.make((request) => {
    if (request.url.href === `${iss}/.well-known/oauth-authorization-server`) return { json: document }
    if (request.url.pathname.endsWith("/token")) return tokenReply
    return { status: 404, json: { error: "not_found" } }
  })

const tokenRequests = (http: ReturnType<typeof TestHttp.make>) => http.requests.filter((r) => r.method === "POST")

const warnings = (logs: ReadonlyArray<string>) => logs.filter((line) => line.startsWith("WARN"))

const secret = Redacted.make("secret")

/** A grant with `issuer` against `http`, its exit and its log lines. */
const discovered = (http: ReturnType<typeof TestHttp.make>, options: Partial<ClientCredentials.Options> = {}) =>
  captureLogs(
    Effect.exit(
      ClientCredentials.grant({ issuer, clientId: "svc", retry: false, ...options }).pipe(Effect.provide(http.layer))
    ),
    LogLevel.Debug
  )

const metadata = (extra: Record<string, unknown> = {}) => ({
  issuer,
  token_endpoint: `${issuer}/oauth2/token`,
  ...extra
})

describe("resolve: the client authentication method of a discovered server", () => {
  it.effect("an explicit method the server lists, or any method when the list is absent: no warning", () =>
    Effect.gen(function*() {
      for (
        const document of [metadata({ token_endpoint_auth_methods_supported: ["client_secret_post"] }), metadata()]
      ) {
        const http = server(document)
        const { logs, value } = yield* discovered(http, { clientSecret: secret, auth: ClientAuth.clientSecretPost })
        strictEqual(value._tag, "Success")
        strictEqual(tokenRequests(http)[0]!.form.get("client_secret"), "secret")
        deepStrictEqual(warnings(logs), [])
      }
    }))

  it.effect("an explicit method the server does not list: the warning names every listed method, or none", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<readonly [ReadonlyArray<string>, string]> = [
        [["private_key_jwt", "tls_client_auth"], "private_key_jwt, tls_client_auth"],
        [[], "none"]
      ]
      for (const [supported, listed] of cases) {
        const http = server(metadata({ token_endpoint_auth_methods_supported: supported }))
        const { logs, value } = yield* discovered(http, { clientSecret: secret, auth: ClientAuth.clientSecretPost })
        strictEqual(value._tag, "Success")
        deepStrictEqual(warnings(logs), [
          `WARN OAuth2: the authorization server ${issuer} does not list client_secret_post in ` +
          `token_endpoint_auth_methods_supported (it lists ${listed}); trying it anyway`
        ])
      }
    }))

  it.effect("a client without a secret stays a public client (none) even when the server lists only client_secret_post", () =>
    Effect.gen(function*() {
      const http = server(metadata({ token_endpoint_auth_methods_supported: ["client_secret_post"] }))
      const { logs, value } = yield* discovered(http)
      strictEqual(value._tag, "Success")
      const request = tokenRequests(http)[0]!
      strictEqual(request.headers["authorization"], undefined)
      deepStrictEqual([...request.form.keys()].sort(), ["client_id", "grant_type"])
      strictEqual(request.form.get("client_id"), "svc")
      deepStrictEqual(warnings(logs), [])
    }))

  it.effect("a secret and a server listing neither secret method: client_secret_basic, with a warning saying so", () =>
    Effect.gen(function*() {
      const http = server(metadata({ token_endpoint_auth_methods_supported: ["private_key_jwt", "tls_client_auth"] }))
      const { logs, value } = yield* discovered(http, { clientSecret: secret })
      strictEqual(value._tag, "Success")
      const request = tokenRequests(http)[0]!
      strictEqual(decodeBasic(request.headers["authorization"]), "svc:secret")
      strictEqual(request.form.get("client_secret"), null)
      deepStrictEqual(warnings(logs), [
        `WARN OAuth2: the authorization server ${issuer} lists neither client_secret_basic nor client_secret_post ` +
        "(it lists private_key_jwt, tls_client_auth); using client_secret_basic. " +
        "Set auth to the method the client is registered for"
      ])
    }))
})

describe("resolve: discovery", () => {
  it.effect("allowInsecureHttp reaches discovery and the discovered endpoint: an http issuer on a private network works", () =>
    Effect.gen(function*() {
      const insecure = "http://as.internal"
      const http = server({ issuer: insecure, token_endpoint: `${insecure}/oauth2/token` }, insecure)
      const exit = yield* Effect.exit(
        ClientCredentials.grant({
          issuer: insecure,
          clientId: "svc",
          clientSecret: secret,
          allowInsecureHttp: true,
          retry: false
        }).pipe(Effect.provide(http.layer))
      )
      strictEqual(exit._tag, "Success")
      deepStrictEqual(http.requests.map((r) => `${r.method} ${r.url.href}`), [
        `GET ${insecure}/.well-known/oauth-authorization-server`,
        `POST ${insecure}/oauth2/token`
      ])
    }))

  it.effect("no token_endpoint: a NoTokenEndpoint DiscoveryError naming the issuer and the metadata URL", () =>
    Effect.gen(function*() {
      const http = server({ issuer })
      const { value } = yield* discovered(http, { clientSecret: secret })
      const error = failure(value)
      assert.isTrue(OAuth2Error.isDiscoveryError(error))
      const { issuer: named, kind, reason, url } = error as OAuth2Error.DiscoveryError
      deepStrictEqual({ issuer: named, url, kind, reason }, {
        issuer,
        url: oauthLocation,
        kind: "NoTokenEndpoint",
        reason: "the metadata has no token_endpoint"
      })
    }))

  it.effect("metadata found at the OpenID Connect location: its DiscoveryError names that location, not RFC 8414's", () =>
    Effect.gen(function*() {
      const oidcLocation = `${issuer}/.well-known/openid-configuration`
      const http = TestHttp.make((request) =>
        request.url.href === oidcLocation
          ? { json: { issuer, token_endpoint: "http://as.example.com/token" } }
          : { status: 404, json: { error: "not_found" } }
      )
      const { value } = yield* discovered(http, { clientSecret: secret })
      const error = failure(value) as OAuth2Error.DiscoveryError
      strictEqual(error._tag, "DiscoveryError")
      deepStrictEqual([error.kind, error.url], ["Insecure", oidcLocation])
      deepStrictEqual(http.requests.map((r) => r.url.href), [oauthLocation, oidcLocation])
    }))

  it.effect("a plain http token_endpoint: an Insecure DiscoveryError whose reason names token_endpoint", () =>
    Effect.gen(function*() {
      const http = server(metadata({ token_endpoint: "http://as.example.com/token" }))
      const { value } = yield* discovered(http, { clientSecret: secret })
      const error = failure(value) as OAuth2Error.DiscoveryError
      strictEqual(error._tag, "DiscoveryError")
      strictEqual(error.kind, "Insecure")
      strictEqual(error.url, oauthLocation)
      strictEqual(
        error.reason,
        "the metadata's token endpoint is unusable: token_endpoint http://as.example.com uses plain http; https is " +
          "required (RFC 6749 §3.2) except for loopback hosts. Set allowInsecureHttp: true only for a trusted " +
          "private network"
      )
      strictEqual(tokenRequests(http).length, 0)
    }))

  it.effect("the discovered token endpoint is logged at debug level, without its query", () =>
    Effect.gen(function*() {
      const http = server(metadata({ token_endpoint: `${issuer}/oauth2/token?tenant=a` }))
      const { logs, value } = yield* discovered(http, { clientSecret: secret })
      strictEqual(value._tag, "Success")
      deepStrictEqual(logs.filter((line) => line.includes("discovered")), [
        `DEBUG OAuth2: discovered the token endpoint ${issuer}/oauth2/token of ${issuer}`
      ])
    }))
})

describe("resolve: the auth method's resolve step", () => {
  /** A custom method with a `resolve` step that records what it was given. */
  const recording = () => {
    const seen: Array<ClientAuth.ResolveContext> = []
    const auth: ClientAuth.ClientAuth = {
      ...ClientAuth.clientSecretPost,
      resolve: (context) => Effect.sync(() => (seen.push(context), ClientAuth.clientSecretPost))
    }
    return { auth, seen }
  }

  it.effect("a tokenUrl over plain http fails as a ConfigurationError naming tokenUrl, before resolve runs", () =>
    Effect.gen(function*() {
      const { auth, seen } = recording()
      const http = server(metadata())
      const exit = yield* Effect.exit(
        ClientCredentials.grant({
          tokenUrl: "http://as.internal/token",
          clientId: "svc",
          clientSecret: secret,
          auth,
          retry: false
        }).pipe(Effect.provide(http.layer))
      )
      const error = failure(exit)
      assert.isTrue(OAuth2Error.isConfigurationError(error))
      strictEqual(
        (error as OAuth2Error.ConfigurationError).reason,
        "tokenUrl http://as.internal uses plain http; https is required (RFC 6749 §3.2) except for loopback hosts. " +
          "Set allowInsecureHttp: true only for a trusted private network"
      )
      strictEqual(seen.length, 0)
      strictEqual(http.requests.length, 0)
    }))

  it.effect("with allowInsecureHttp, resolve gets the http token URL, the client id and the secret", () =>
    Effect.gen(function*() {
      const { auth, seen } = recording()
      const http = server(metadata())
      const exit = yield* Effect.exit(
        ClientCredentials.grant({
          tokenUrl: "http://as.internal/token",
          clientId: "svc",
          clientSecret: secret,
          auth,
          allowInsecureHttp: true,
          retry: false
        }).pipe(Effect.provide(http.layer))
      )
      strictEqual(exit._tag, "Success")
      strictEqual(seen.length, 1)
      strictEqual(seen[0]!.tokenEndpoint.href, "http://as.internal/token")
      strictEqual(seen[0]!.clientId, "svc")
      strictEqual(seen[0]!.clientSecret, secret)
      strictEqual(tokenRequests(http)[0]!.url.href, "http://as.internal/token")
    }))
})

describe("resolve: the DPoP key and the server's dpop_signing_alg_values_supported", () => {
  const dpopToken = TestHttp.token("at", 3600, { token_type: "DPoP" })

  it.effect("a key whose alg the server does not list: a warning naming it and every listed alg, then it is tried", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<readonly [ReadonlyArray<string>, string]> = [
        [["RS256", "PS256"], "RS256, PS256"],
        [[], "none"]
      ]
      for (const [supported, listed] of cases) {
        const http = server(metadata({ dpop_signing_alg_values_supported: supported }), issuer, dpopToken)
        const { logs, value } = yield* discovered(http, { clientSecret: secret, dpop: true })
        strictEqual(value._tag, "Success")
        deepStrictEqual(warnings(logs), [
          `WARN OAuth2: the authorization server ${issuer} does not list ES256 in dpop_signing_alg_values_supported ` +
          `(it lists ${listed}); trying it anyway`
        ])
        assert.isString(tokenRequests(http)[0]!.headers["dpop"])
      }
    }))

  it.effect("a key whose alg the server lists: no warning", () =>
    Effect.gen(function*() {
      const http = server(metadata({ dpop_signing_alg_values_supported: ["RS256", "ES256"] }), issuer, dpopToken)
      const { logs, value } = yield* discovered(http, { clientSecret: secret, dpop: true })
      strictEqual(value._tag, "Success")
      deepStrictEqual(warnings(logs), [])
    }))

  it.effect("a client without DPoP ignores the server's DPoP algorithms: no warning, no failure", () =>
    Effect.gen(function*() {
      const http = server(metadata({ dpop_signing_alg_values_supported: ["RS256"] }))
      const { logs, value } = yield* discovered(http, { clientSecret: secret })
      strictEqual(value._tag, "Success")
      deepStrictEqual(warnings(logs), [])
      strictEqual(tokenRequests(http)[0]!.headers["dpop"], undefined)
    }))
})
