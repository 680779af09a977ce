import {
  ClientAuth,
  ClientCredentials,
  Discovery,
  OAuth2Client,
  OAuth2Error,
  OAuth2HttpClient
} from "@effect-oauth2/core"
import { assert, describe, it } from "@effect/vitest"
import { deepStrictEqual, strictEqual } from "@effect/vitest/utils"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import * as FastCheck from "effect/FastCheck"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import * as jose from "jose"
import * as crypto from "node:crypto"
import { decodeBasic, failure, success } from "./utils/Grant.js"
import { captureLogs } from "./utils/Logs.js"
import * as TestHttp from "./utils/TestHttp.js"

const issuer = "https://as.example.com"
const oauthLocation = `${issuer}/.well-known/oauth-authorization-server`
const oidcLocation = `${issuer}/.well-known/openid-configuration`

const metadata = (extra: Record<string, unknown> = {}, iss = issuer) => ({
  json: { issuer: iss, token_endpoint: `${iss}/oauth2/token`, ...extra }
})

const notFound = { status: 404, json: { error: "not_found" } }

/** An in-memory server: metadata at the URLs of `documents`, tokens at any URL ending in /token. */
const server = (documents: Record<string, TestHttp.Reply | (() => TestHttp.Reply)>) =>
  TestHttp.make((request) => {
    const document = documents[request.url.href]
    if (document !== undefined) return typeof document === "function" ? document() : document
    if (request.url.pathname.endsWith("/token")) return TestHttp.token("at")
    return notFound
  })

const metadataRequests = (http: ReturnType<typeof TestHttp.make>) =>
  http.requests.filter((r) => r.url.pathname.includes("/.well-known/")).map((r) => r.url.href)

const tokenRequests = (http: ReturnType<typeof TestHttp.make>) => http.requests.filter((r) => r.method === "POST")

const discover = (http: ReturnType<typeof TestHttp.make>, iss: string = issuer, options: Discovery.Options = {}) =>
  Effect.exit(Discovery.discover(iss, { retry: false, ...options }).pipe(Effect.provide(http.layer)))

const discoveryError = <A>(exit: Exit.Exit<A, unknown>) => {
  const error = failure(exit)
  assert.isTrue(OAuth2Error.isDiscoveryError(error), `expected a DiscoveryError, got ${String(error)}`)
  return error as OAuth2Error.DiscoveryError
}

describe("Discovery.metadataUrl (RFC 8414 §3.1, OpenID Connect Discovery §4)", () => {
  it("inserts the RFC 8414 suffix before the issuer's path and appends the OIDC one", () => {
    const at = (iss: string, location: "oauth-authorization-server" | "openid-configuration") =>
      Discovery.metadataUrl(new URL(iss), location).href
    strictEqual(at("https://as.example.com", "oauth-authorization-server"), oauthLocation)
    strictEqual(at("https://as.example.com/", "oauth-authorization-server"), oauthLocation)
    strictEqual(
      at("https://as.example.com/tenant/a", "oauth-authorization-server"),
      "https://as.example.com/.well-known/oauth-authorization-server/tenant/a"
    )
    strictEqual(
      at("https://as.example.com/tenant/a/", "oauth-authorization-server"),
      "https://as.example.com/.well-known/oauth-authorization-server/tenant/a"
    )
    strictEqual(at("https://as.example.com", "openid-configuration"), oidcLocation)
    strictEqual(
      at("https://as.example.com/tenant/a/", "openid-configuration"),
      "https://as.example.com/tenant/a/.well-known/openid-configuration"
    )
  })

  it("for any issuer path: same origin, the suffix in its place, the path kept without its trailing slash", () => {
    // Dot segments ("." and "..") are left out: they are not path segments but steps that URL parsing removes, and
    // Node's parser keeps a trailing "/." after some segments (`new URL("https://h/-/.-/.").pathname` is "/-/.-/.").
    const segment = FastCheck.stringMatching(/^[A-Za-z0-9._~-]{1,12}$/).filter((s) => s !== "." && s !== "..")
    FastCheck.assert(
      FastCheck.property(FastCheck.array(segment, { maxLength: 4 }), FastCheck.boolean(), (segments, slash) => {
        const path = segments.map((s) => `/${s}`).join("")
        const iss = new URL(`https://as.example.com:8443${path}${slash ? "/" : ""}`)
        const kept = iss.pathname.replace(/\/+$/, "")
        const oauth = Discovery.metadataUrl(iss, "oauth-authorization-server")
        const oidc = Discovery.metadataUrl(iss, "openid-configuration")
        return oauth.origin === iss.origin && oidc.origin === iss.origin &&
          oauth.pathname === `/.well-known/oauth-authorization-server${kept}` &&
          oidc.pathname === `${kept}/.well-known/openid-configuration` && oauth.search === "" && oidc.search === ""
      })
    )
  })
})

describe("Discovery.discover", () => {
  it.effect("reads the RFC 8414 location first and returns the typed metadata, unknown members kept", () =>
    Effect.gen(function*() {
      const http = server({
        [oauthLocation]: metadata({ token_endpoint_auth_methods_supported: ["private_key_jwt"], vendor_flag: 7 })
      })
      const found = success(yield* discover(http))
      strictEqual(found.issuer, issuer)
      strictEqual(found.token_endpoint, `${issuer}/oauth2/token`)
      deepStrictEqual(found.token_endpoint_auth_methods_supported, ["private_key_jwt"])
      strictEqual(found.vendor_flag, 7)
      deepStrictEqual(metadataRequests(http), [oauthLocation])
      strictEqual(http.requests[0]!.method, "GET")
      strictEqual(http.requests[0]!.headers["accept"], "application/json")
    }))

  it.effect("falls back to the OpenID Connect location when the RFC 8414 one answers 404", () =>
    Effect.gen(function*() {
      const http = server({ [oidcLocation]: metadata() })
      strictEqual(success(yield* discover(http)).issuer, issuer)
      deepStrictEqual(metadataRequests(http), [oauthLocation, oidcLocation])
    }))

  it.effect("falls back when the RFC 8414 location serves an HTML page (a 200 login page)", () =>
    Effect.gen(function*() {
      const http = server({
        [oauthLocation]: {
          status: 200,
          text: "<!doctype html><title>Sign in</title>",
          headers: { "content-type": "text/html" }
        },
        [oidcLocation]: metadata()
      })
      strictEqual(success(yield* discover(http)).issuer, issuer)
    }))

  it.effect("location reads one place only", () =>
    Effect.gen(function*() {
      const http = server({ [oidcLocation]: metadata() })
      const error = discoveryError(yield* discover(http, issuer, { location: "oauth-authorization-server" }))
      strictEqual(error.kind, "NotFound")
      deepStrictEqual(metadataRequests(http), [oauthLocation])
      success(yield* discover(http, issuer, { location: "openid-configuration" }))
    }))

  it.effect("404 at both locations: NotFound, naming the URL tried last and the one before", () =>
    Effect.gen(function*() {
      const error = discoveryError(yield* discover(server({})))
      strictEqual(error.kind, "NotFound")
      strictEqual(error.status, 404)
      strictEqual(error.url, oidcLocation)
      deepStrictEqual(error.tried, [`${oauthLocation}: HTTP 404, no metadata there`])
      assert.include(error.message, oidcLocation)
      assert.include(error.message, oauthLocation)
      assert.include(error.message, "not its token URL")
    }))

  it.effect("HTML at both locations: NotJson, saying it was an HTML page", () =>
    Effect.gen(function*() {
      const page = { status: 200, text: "<html><body>Welcome</body></html>", headers: { "content-type": "text/html" } }
      const error = discoveryError(yield* discover(server({ [oauthLocation]: page, [oidcLocation]: page })))
      strictEqual(error.kind, "NotJson")
      assert.include(error.reason, "an HTML page instead of JSON metadata (content type text/html")
    }))

  it.effect("a body that is not JSON, or JSON that is not an object: NotJson / InvalidMetadata", () =>
    Effect.gen(function*() {
      const text = { status: 200, text: "issuer=x", headers: { "content-type": "text/plain" } }
      strictEqual(
        discoveryError(yield* discover(server({ [oauthLocation]: text, [oidcLocation]: text }))).kind,
        "NotJson"
      )
      const list = { status: 200, json: [1, 2] }
      const error = discoveryError(yield* discover(server({ [oauthLocation]: list, [oidcLocation]: list })))
      strictEqual(error.kind, "InvalidMetadata")
    }))

  it.effect("metadata sent as text/plain is read as JSON", () =>
    Effect.gen(function*() {
      const http = server({
        [oauthLocation]: {
          status: 200,
          text: JSON.stringify(metadata().json),
          headers: { "content-type": "text/plain" }
        }
      })
      strictEqual(success(yield* discover(http)).issuer, issuer)
    }))

  it.effect("another issuer in the metadata: IssuerMismatch (RFC 8414 §3.3), and the other location is not tried", () =>
    Effect.gen(function*() {
      const http = server({ [oauthLocation]: metadata({}, "https://evil.example.com"), [oidcLocation]: metadata() })
      const error = discoveryError(yield* discover(http))
      strictEqual(error.kind, "IssuerMismatch")
      assert.include(error.reason, `"https://evil.example.com", not the "${issuer}" asked for`)
      deepStrictEqual(metadataRequests(http), [oauthLocation])
    }))

  it.effect("the match is exact: a trailing slash is another issuer", () =>
    Effect.gen(function*() {
      const http = server({ [oauthLocation]: metadata() })
      strictEqual(discoveryError(yield* discover(http, `${issuer}/`)).kind, "IssuerMismatch")
    }))

  it.effect("a wrongly typed member the client uses is InvalidMetadata; another known member is dropped", () =>
    Effect.gen(function*() {
      const bad = metadata({ token_endpoint: 42 })
      const error = discoveryError(yield* discover(server({ [oauthLocation]: bad, [oidcLocation]: bad })))
      strictEqual(error.kind, "InvalidMetadata")
      assert.include(error.reason, "token_endpoint")
      const lenient = success(
        yield* discover(server({ [oauthLocation]: metadata({ scopes_supported: "a b", jwks_uri: null }) }))
      )
      strictEqual(lenient.scopes_supported, undefined)
      assert.isFalse("jwks_uri" in lenient)
    }))

  it.effect("a body over maxResponseBytes is refused", () =>
    Effect.gen(function*() {
      const big = metadata({ padding: "x".repeat(5000) })
      const error = discoveryError(
        yield* discover(server({ [oauthLocation]: big, [oidcLocation]: big }), issuer, { maxResponseBytes: 1000 })
      )
      assert.include(error.reason, "larger than maxResponseBytes (1000 bytes)")
    }))

  it.effect("a server that does not answer: Timeout after the timeout, in TestClock time", () =>
    Effect.gen(function*() {
      const http = TestHttp.make(() => Effect.never)
      const fiber = yield* Effect.fork(discover(http, issuer, { timeout: "5 seconds" }))
      yield* TestClock.adjust(Duration.seconds(4))
      strictEqual((yield* Fiber.poll(fiber))._tag, "None")
      yield* TestClock.adjust(Duration.seconds(1))
      const error = discoveryError(yield* Fiber.join(fiber))
      strictEqual(error.kind, "Timeout")
      strictEqual(error.url, oauthLocation)
      assert.include(error.message, "no answer within 5s")
      deepStrictEqual(metadataRequests(http), [oauthLocation])
    }))

  it.effect("transient failures are retried with the token requests' policy, then the last error", () =>
    Effect.gen(function*() {
      let calls = 0
      const http = server({
        [oauthLocation]: () => (++calls < 3 ? { status: 503, text: "busy" } : metadata())
      })
      const fiber = yield* Effect.fork(
        captureLogs(Effect.exit(Discovery.discover(issuer).pipe(Effect.provide(http.layer))))
      )
      yield* TestClock.adjust(Duration.minutes(1))
      const { logs, value } = yield* Fiber.join(fiber)
      strictEqual(success(value).issuer, issuer)
      strictEqual(calls, 3)
      strictEqual(logs.filter((line) => line.includes("OAuth2 discovery request failed, retrying")).length, 2)

      const down = server({ [oauthLocation]: { status: 502, text: "bad gateway" } })
      const failed = yield* Effect.fork(Effect.exit(Discovery.discover(issuer).pipe(Effect.provide(down.layer))))
      yield* TestClock.adjust(Duration.minutes(1))
      const error = discoveryError(yield* Fiber.join(failed))
      strictEqual(error.kind, "Status")
      strictEqual(error.status, 502)
      // 4 attempts at the RFC 8414 location; a server error is not a reason to try the other location.
      deepStrictEqual(metadataRequests(down), Array(4).fill(oauthLocation))
    }))

  it.effect("a transport failure is a Transport DiscoveryError naming the URL", () =>
    Effect.gen(function*() {
      const http = TestHttp.make(() => TestHttp.transportError("getaddrinfo ENOTFOUND as.example.com"))
      const error = discoveryError(yield* discover(http))
      strictEqual(error.kind, "Transport")
      assert.include(error.message, `failed at ${oauthLocation}: getaddrinfo ENOTFOUND`)
    }))

  it.effect("an issuer that is not https (off loopback), or has a query, is a ConfigurationError; nothing is sent", () =>
    Effect.gen(function*() {
      const http = server({})
      for (const bad of ["http://as.example.com", "https://as.example.com?tenant=a", "as.example.com"]) {
        const error = failure(yield* discover(http, bad))
        strictEqual(error._tag, "ConfigurationError", bad)
      }
      strictEqual(http.requests.length, 0)
      const loopback = server({
        "http://127.0.0.1:8080/.well-known/oauth-authorization-server": metadata({}, "http://127.0.0.1:8080")
      })
      success(yield* discover(loopback, "http://127.0.0.1:8080"))
    }))
})

describe("issuer instead of tokenUrl", () => {
  it.effect("the grant sends its token request to the discovered token_endpoint", () =>
    Effect.gen(function*() {
      const http = server({ [oauthLocation]: metadata() })
      const credentials = yield* ClientCredentials.grant({
        issuer,
        clientId: "svc",
        clientSecret: Redacted.make("secret"),
        retry: false
      }).pipe(Effect.provide(http.layer))
      strictEqual(credentials.tokenEndpoint, `${issuer}/oauth2/token`)
      deepStrictEqual(http.requests.map((r) => `${r.method} ${r.url.href}`), [
        `GET ${oauthLocation}`,
        `POST ${issuer}/oauth2/token`
      ])
    }))

  it.effect("metadata is read once per client, not per token", () =>
    Effect.gen(function*() {
      const http = server({ [oauthLocation]: metadata() })
      yield* Effect.gen(function*() {
        const client = yield* OAuth2Client.make({ issuer, clientId: "svc", clientSecret: Redacted.make("secret") })
        yield* client.token.get
        yield* client.token.refresh
        yield* client.token.refresh
        strictEqual(JSON.parse(client.cacheKey)[0], `${issuer}/oauth2/token`)
      }).pipe(Effect.scoped, Effect.provide(http.layer))
      strictEqual(metadataRequests(http).length, 1)
      strictEqual(tokenRequests(http).length, 3)
    }))

  it.effect("a failed discovery fails the layer with the DiscoveryError, and no token request is sent", () =>
    Effect.gen(function*() {
      const http = server({ [oauthLocation]: metadata({}, "https://other.example.com") })
      const exit = yield* Layer.build(
        OAuth2HttpClient.layer({ issuer, clientId: "svc", clientSecret: Redacted.make("secret") }).pipe(
          Layer.provide(http.layer)
        )
      ).pipe(Effect.scoped, Effect.exit)
      strictEqual(discoveryError(exit).kind, "IssuerMismatch")
      strictEqual(tokenRequests(http).length, 0)
    }))

  it.effect("no token_endpoint in the metadata: NoTokenEndpoint", () =>
    Effect.gen(function*() {
      const http = server({ [oauthLocation]: { json: { issuer } } })
      const exit = yield* Effect.exit(
        ClientCredentials.grant({ issuer, clientId: "svc", retry: false }).pipe(Effect.provide(http.layer))
      )
      const error = discoveryError(exit)
      strictEqual(error.kind, "NoTokenEndpoint")
      assert.include(error.message, "Set tokenUrl instead of issuer")
    }))

  it.effect("a discovered token endpoint over plain http (off loopback) is refused: Insecure", () =>
    Effect.gen(function*() {
      const http = server({ [oauthLocation]: metadata({ token_endpoint: "http://as.example.com/token" }) })
      const exit = yield* Effect.exit(
        ClientCredentials.grant({ issuer, clientId: "svc", retry: false }).pipe(Effect.provide(http.layer))
      )
      const error = discoveryError(exit)
      strictEqual(error.kind, "Insecure")
      assert.include(error.reason, "plain http")
      strictEqual(tokenRequests(http).length, 0)
    }))

  it.effect("neither tokenUrl nor issuer: a ConfigurationError", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(
        ClientCredentials.grant({ clientId: "svc" }).pipe(Effect.provide(server({}).layer))
      )
      assert.include(String(failure(exit)), "set tokenUrl (the token endpoint) or issuer")
    }))

  it.effect("cacheKey needs the token endpoint: with issuer alone it says where to read the key", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(ClientCredentials.cacheKey({ issuer, clientId: "svc" }))
      assert.include(String(failure(exit)), "read cacheKey from the built OAuth2Client")
    }))

  describe("the client authentication method (RFC 8414 token_endpoint_auth_methods_supported)", () => {
    const grantWith = (supported: ReadonlyArray<string> | undefined, auth?: ClientAuth.ClientAuth) =>
      Effect.gen(function*() {
        const http = server({
          [oauthLocation]: metadata(supported === undefined ? {} : { token_endpoint_auth_methods_supported: supported })
        })
        const { logs, value } = yield* captureLogs(
          ClientCredentials.grant({
            issuer,
            clientId: "svc",
            clientSecret: Redacted.make("secret"),
            retry: false,
            ...(auth !== undefined ? { auth } : {})
          }).pipe(Effect.provide(http.layer))
        )
        strictEqual(value.accessToken.pipe(Redacted.value), "at")
        return { request: tokenRequests(http)[0]!, logs: logs.filter((line) => line.startsWith("WARN")) }
      })

    it.effect("a secret and no auth: client_secret_basic when listed or when the list is absent", () =>
      Effect.gen(function*() {
        for (const supported of [undefined, ["client_secret_post", "client_secret_basic"]]) {
          const { logs, request } = yield* grantWith(supported)
          strictEqual(decodeBasic(request.headers["authorization"]), "svc:secret")
          deepStrictEqual(logs, [])
        }
      }))

    it.effect("a secret and no auth: client_secret_post when the server lists only that", () =>
      Effect.gen(function*() {
        const { logs, request } = yield* grantWith(["private_key_jwt", "client_secret_post"])
        strictEqual(request.headers["authorization"], undefined)
        strictEqual(request.form.get("client_secret"), "secret")
        deepStrictEqual(logs, [])
      }))

    it.effect("an explicit method the server does not list is logged as a warning and still tried", () =>
      Effect.gen(function*() {
        const { logs, request } = yield* grantWith(["client_secret_basic"], ClientAuth.clientSecretPost)
        strictEqual(request.form.get("client_secret"), "secret")
        strictEqual(logs.length, 1)
        assert.include(logs[0]!, "does not list client_secret_post in token_endpoint_auth_methods_supported")
        assert.include(logs[0]!, "(it lists client_secret_basic); trying it anyway")
        assert.notInclude(logs[0]!, "secret\"")
      }))
  })

  describe("mTLS endpoint aliases (RFC 8705 §5)", () => {
    const aliases = { mtls_endpoint_aliases: { token_endpoint: "https://mtls.as.example.com/oauth2/token" } }
    const endpointFor = (options: Partial<ClientCredentials.Options>) =>
      Effect.gen(function*() {
        const http = server({ [oauthLocation]: metadata(aliases) })
        yield* ClientCredentials.grant({ issuer, clientId: "svc", retry: false, ...options }).pipe(
          Effect.provide(http.layer)
        )
        return tokenRequests(http)[0]!
      })

    it.effect("tls_client_auth and self_signed_tls_client_auth use the alias", () =>
      Effect.gen(function*() {
        for (const auth of [ClientAuth.tlsClientAuth, ClientAuth.selfSignedTlsClientAuth]) {
          strictEqual((yield* endpointFor({ auth })).url.href, aliases.mtls_endpoint_aliases.token_endpoint)
        }
      }))

    it.effect("other methods use token_endpoint, unless useMtlsEndpointAliases (a certificate in the HttpClient)", () =>
      Effect.gen(function*() {
        const secret = { clientSecret: Redacted.make("secret") }
        strictEqual((yield* endpointFor(secret)).url.href, `${issuer}/oauth2/token`)
        strictEqual(
          (yield* endpointFor({ ...secret, useMtlsEndpointAliases: true })).url.href,
          aliases.mtls_endpoint_aliases.token_endpoint
        )
        strictEqual(
          (yield* endpointFor({ auth: ClientAuth.tlsClientAuth, useMtlsEndpointAliases: false })).url.href,
          `${issuer}/oauth2/token`
        )
      }))

    it.effect("a private_key_jwt assertion's default aud is the endpoint used (the alias); \"issuer\" the discovered issuer", () =>
      Effect.gen(function*() {
        const pair = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" })
        const key = Redacted.make(pair.privateKey.export({ format: "pem", type: "pkcs8" }) as string)
        const audOf = (request: TestHttp.Recorded) => jose.decodeJwt(request.form.get("client_assertion")!).aud
        strictEqual(
          audOf(yield* endpointFor({ auth: ClientAuth.privateKeyJwt({ key }), useMtlsEndpointAliases: true })),
          aliases.mtls_endpoint_aliases.token_endpoint
        )
        strictEqual(
          audOf(yield* endpointFor({ auth: ClientAuth.privateKeyJwt({ key, audience: "issuer" }) })),
          issuer
        )
      }))
  })
})
