/**
 * The messages of the errors (OAuth2Error.ts), word for word: they are what a user reads when a token request
 * fails. Pinned here: the RFC 6749 §5.2 refusal with each error code's hint, the invalid_client hint for each client
 * authentication method, the detail (error_description, else error_uri, else none), an unknown token endpoint
 * (`TokenResponse.decode` takes any string), the account of a retried request, the invalid response with and
 * without a content type and a body, the transport failure, both timeout stages, the configuration error, every
 * discovery failure kind with the locations tried before; and that a secret the server echoes never reaches one.
 */
import { OAuth2Error, TokenResponse } from "@effect-oauth2/core"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"

const tokenUrl = "https://as.example/token"

/** The sentence a retried failure ends with, for 4 attempts over 1.5 s. */
const gaveUp = " Gave up after 4 attempts over 1s 500ms: check that the token endpoint is up and reachable from this " +
  "host (its URL, DNS, proxy, firewall), or give the retry option a longer schedule or budget."
const retries = { attempts: 4, elapsedMillis: 1500.4 }

const basicHint = "Check the client id, the client secret and the client authentication method (auth): some servers " +
  "do not form-decode Basic credentials (RFC 6749 §2.3.1), so auth: ClientAuth.clientSecretBasicWith(\"none\") or " +
  "ClientAuth.clientSecretPost may help."

const assertionHint = "the assertion's audience (aud: the token endpoint by default; some servers want the issuer, " +
  "the audience option of the method), its alg, and the clocks of this host and the server (iat, exp)."

const tlsHint = (method: string) =>
  "Check the client id, that the client certificate is presented (the platform layer's tls option) and is the one " +
  `registered for ${method} (RFC 8705 §2), and that the token request goes to the mutual-TLS endpoint ` +
  "(mtls_endpoint_aliases)."

/** The hint for invalid_client, for each `token_endpoint_auth_method` (RFC 6749 §2.3, RFC 7523, RFC 8705). */
const clientHints: ReadonlyArray<readonly [string | undefined, string]> = [
  [undefined, basicHint],
  ["client_secret_basic", basicHint],
  [
    "client_secret_post",
    "Check the client id, the client secret and the client authentication method (auth): the secret was sent in the " +
    "form body (client_secret_post); the server may expect HTTP Basic (ClientAuth.clientSecretBasic)."
  ],
  [
    "client_secret_jwt",
    "Check the client id, the client secret (the HMAC key of the client_secret_jwt assertion), and " + assertionHint
  ],
  [
    "private_key_jwt",
    "Check the client id, that the server knows the client's public key (its registered JWKS or key, and the kid), " +
    "and " + assertionHint
  ],
  ["tls_client_auth", tlsHint("tls_client_auth")],
  ["self_signed_tls_client_auth", tlsHint("self_signed_tls_client_auth")],
  [
    "none",
    "Check the client id: this client sends no credentials (auth: none), and the server may require client " +
    "authentication."
  ]
]

describe("OAuth2Error messages (mutation)", () => {
  describe("ErrorResponse (RFC 6749 §5.2)", () => {
    const refused = (status: number, error: string) =>
      `The authorization server refused the token request (HTTP ${status}, error "${error}") from ${tokenUrl}.`

    it("each error code the grant can get has its hint; any other code (invalid_request, or unknown) has none", () => {
      const hints: ReadonlyArray<readonly [string, string]> = [
        ["invalid_scope", "Check the requested scopes against those the client may ask for."],
        ["unauthorized_client", "The client may not use the client_credentials grant; check its registration."],
        ["unsupported_grant_type", "The server does not support the client_credentials grant for this client."],
        ["invalid_target", "Check the resource / audience parameters."],
        ["temporarily_unavailable", "The server is temporarily unavailable; the request may be retried."]
      ]
      for (const [error, hint] of hints) {
        assert.strictEqual(
          new OAuth2Error.ErrorResponse({ tokenEndpoint: tokenUrl, status: 400, error }).message,
          `${refused(400, error)} ${hint}`,
          error
        )
      }
      for (const error of ["invalid_request", "invalid_grant", "custom_error"]) {
        assert.strictEqual(
          new OAuth2Error.ErrorResponse({ tokenEndpoint: tokenUrl, status: 400, error }).message,
          refused(400, error),
          error
        )
      }
    })

    it("invalid_client: what to check for the client authentication method that was used", () => {
      for (const [authMethod, hint] of clientHints) {
        const error = new OAuth2Error.ErrorResponse({
          tokenEndpoint: tokenUrl,
          status: 401,
          error: "invalid_client",
          ...(authMethod !== undefined ? { authMethod } : {})
        })
        assert.strictEqual(error.message, `${refused(401, "invalid_client")} ${hint}`, String(authMethod))
      }
    })

    it("the detail: error_description, else error_uri, else nothing", () => {
      const base = { tokenEndpoint: tokenUrl, status: 400, error: "invalid_scope" } as const
      const hint = " Check the requested scopes against those the client may ask for."
      assert.strictEqual(
        new OAuth2Error.ErrorResponse({ ...base, errorDescription: "scope x is unknown", errorUri: "https://e/1" })
          .message,
        `The authorization server refused the token request (HTTP 400, error "invalid_scope") from ${tokenUrl}: ` +
          `scope x is unknown.${hint}`
      )
      assert.strictEqual(
        new OAuth2Error.ErrorResponse({ ...base, errorUri: "https://e/1" }).message,
        `The authorization server refused the token request (HTTP 400, error "invalid_scope") from ${tokenUrl}: ` +
          `see https://e/1.${hint}`
      )
      assert.strictEqual(new OAuth2Error.ErrorResponse(base).message, `${refused(400, "invalid_scope")}${hint}`)
      // A description that ends a sentence itself gets no second full stop.
      assert.strictEqual(
        new OAuth2Error.ErrorResponse({ ...base, errorDescription: "Unknown scope x." }).message,
        `The authorization server refused the token request (HTTP 400, error "invalid_scope") from ${tokenUrl}: ` +
          `Unknown scope x.${hint}`
      )
    })

    it("an unknown token endpoint (TokenResponse.decode with tokenEndpoint \"\") is left out", () => {
      assert.strictEqual(
        new OAuth2Error.ErrorResponse({ tokenEndpoint: "", status: 400, error: "invalid_request" }).message,
        "The authorization server refused the token request (HTTP 400, error \"invalid_request\")."
      )
    })

    it("a retried request ends with the attempts, the time and what to check, after the hint or without one", () => {
      assert.strictEqual(
        new OAuth2Error.ErrorResponse({ tokenEndpoint: tokenUrl, status: 503, error: "server_error", retries }).message,
        `${refused(503, "server_error")}${gaveUp}`
      )
      assert.strictEqual(
        new OAuth2Error.ErrorResponse({
          tokenEndpoint: tokenUrl,
          status: 503,
          error: "temporarily_unavailable",
          retries
        }).message,
        `${
          refused(503, "temporarily_unavailable")
        } The server is temporarily unavailable; the request may be retried.${gaveUp}`
      )
    })
  })

  describe("InvalidResponse", () => {
    it("the status, the content type when sent, the reason, and the body excerpt when there is one", () => {
      const base = { tokenEndpoint: tokenUrl, status: 502, reason: "HTTP status 502", bodyExcerpt: "" } as const
      assert.strictEqual(
        new OAuth2Error.InvalidResponse(base).message,
        `Invalid OAuth 2.0 token response from ${tokenUrl} (HTTP 502): HTTP status 502.`
      )
      assert.strictEqual(
        new OAuth2Error.InvalidResponse({ ...base, contentType: "text/html", bodyExcerpt: "<h1>Bad \"gateway\"</h1>" })
          .message,
        `Invalid OAuth 2.0 token response from ${tokenUrl} (HTTP 502, content type text/html): HTTP status 502. ` +
          `Body starts: "<h1>Bad \\"gateway\\"</h1>"`
      )
    })

    it("an unknown token endpoint is left out; a retried request says how it ended, before the body", () => {
      assert.strictEqual(
        new OAuth2Error.InvalidResponse({ tokenEndpoint: "", status: 500, reason: "r", bodyExcerpt: "" }).message,
        "Invalid OAuth 2.0 token response (HTTP 500): r."
      )
      assert.strictEqual(
        new OAuth2Error.InvalidResponse({
          tokenEndpoint: tokenUrl,
          status: 500,
          reason: "r",
          bodyExcerpt: "b",
          retries
        })
          .message,
        `Invalid OAuth 2.0 token response from ${tokenUrl} (HTTP 500): r.${gaveUp} Body starts: "b"`
      )
    })

    it("a 401 or 403 reads as a refusal, with the hint of the method used", () => {
      for (const [authMethod, hint] of clientHints) {
        const error = new OAuth2Error.InvalidResponse({
          tokenEndpoint: tokenUrl,
          status: 401,
          reason: "no §5.2 body",
          bodyExcerpt: "",
          ...(authMethod !== undefined ? { authMethod } : {})
        })
        assert.strictEqual(
          error.message,
          `The authorization server refused the token request from ${tokenUrl} (HTTP 401): no §5.2 body. ${hint}`,
          String(authMethod)
        )
      }
      assert.strictEqual(
        new OAuth2Error.InvalidResponse({
          tokenEndpoint: "",
          status: 403,
          reason: "r",
          contentType: "text/html",
          bodyExcerpt: "Forbidden",
          authMethod: "none"
        }).message,
        "The authorization server refused the token request (HTTP 403, content type text/html): r. Check the client " +
          "id: this client sends no credentials (auth: none), and the server may require client authentication. " +
          "Body starts: \"Forbidden\""
      )
    })
  })

  describe("TransportError, TimeoutError, ConfigurationError", () => {
    it("TransportError: the endpoint when known and the description; a retried one says how it ended", () => {
      assert.strictEqual(
        new OAuth2Error.TransportError({ tokenEndpoint: tokenUrl, description: "connection refused" }).message,
        `The token request to ${tokenUrl} failed: connection refused.`
      )
      assert.strictEqual(
        new OAuth2Error.TransportError({ tokenEndpoint: "", description: "connection refused" }).message,
        "The token request failed: connection refused."
      )
      assert.strictEqual(
        new OAuth2Error.TransportError({ tokenEndpoint: "", description: "the connection was reset!" }).message,
        "The token request failed: the connection was reset!"
      )
      assert.strictEqual(
        new OAuth2Error.TransportError({ tokenEndpoint: tokenUrl, description: "connection refused", retries }).message,
        `The token request to ${tokenUrl} failed: connection refused.${gaveUp}`
      )
    })

    it("TimeoutError: one attempt, or the request and its retries (the budget)", () => {
      assert.strictEqual(
        new OAuth2Error.TimeoutError({ tokenEndpoint: tokenUrl, stage: "attempt", timeoutMillis: 1500 }).message,
        `The token request to ${tokenUrl} timed out after 1s 500ms.`
      )
      assert.strictEqual(
        new OAuth2Error.TimeoutError({ tokenEndpoint: tokenUrl, stage: "budget", timeoutMillis: 60_000, retries })
          .message,
        `The token request and its retries to ${tokenUrl} timed out after 1m.${gaveUp}`
      )
    })

    it("ConfigurationError: the reason", () => {
      assert.strictEqual(
        new OAuth2Error.ConfigurationError({ reason: "tokenUrl must use https" }).message,
        "Invalid OAuth 2.0 client configuration: tokenUrl must use https"
      )
    })
  })

  describe("DiscoveryError", () => {
    const issuer = "https://as.example"
    const url = `${issuer}/.well-known/openid-configuration`
    const hints: ReadonlyArray<readonly [OAuth2Error.DiscoveryFailure, string]> = [
      [
        "NotFound",
        "Check the issuer: it is the server's issuer identifier (the \"issuer\" of its metadata), not its token URL; " +
        "or set tokenUrl instead of issuer."
      ],
      ["Status", "Check that the issuer URL is right and the server is up."],
      [
        "NotJson",
        "Check the issuer URL: the server answered with a page, not with metadata (a login page or a proxy's error " +
        "page)."
      ],
      ["InvalidMetadata", "The server's metadata does not follow RFC 8414; set tokenUrl instead of issuer."],
      [
        "IssuerMismatch",
        "Set issuer to exactly the value the server publishes (RFC 8414 §3.3: no trailing slash added or removed, same " +
        "host name). No token request was sent."
      ],
      ["NoTokenEndpoint", "Set tokenUrl instead of issuer."],
      ["Insecure", "Use https, or allowInsecureHttp for a trusted private network."],
      ["Transport", "Check that the server is reachable from here (DNS, proxy, firewall, TLS)."],
      ["Timeout", "Check that the server is reachable, or raise timeout."]
    ]

    it("each kind: the issuer, the URL, the reason and what to do", () => {
      for (const [kind, hint] of hints) {
        assert.strictEqual(
          new OAuth2Error.DiscoveryError({ issuer, url, kind, reason: "the reason" }).message,
          `Discovery of the authorization server ${issuer} failed at ${url}: the reason. ${hint}`,
          kind
        )
      }
    })

    it("the locations tried before, in order; an empty list reads as none", () => {
      const base = { issuer, url, kind: "NotFound", reason: "HTTP 404, no metadata there" } as const
      const end = `. ${hints[0]![1]}`
      assert.strictEqual(
        new OAuth2Error.DiscoveryError({ ...base, tried: ["https://a/x: HTTP 404", "https://b/y: HTTP 410"] }).message,
        `Discovery of the authorization server ${issuer} failed at ${url}: HTTP 404, no metadata there ` +
          `(after https://a/x: HTTP 404; https://b/y: HTTP 410)${end}`
      )
      const none = `Discovery of the authorization server ${issuer} failed at ${url}: HTTP 404, no metadata there${end}`
      assert.strictEqual(new OAuth2Error.DiscoveryError(base).message, none)
      assert.strictEqual(new OAuth2Error.DiscoveryError({ ...base, tried: [] }).message, none)
    })
  })

  describe("no secret in a message", () => {
    const secret = "S3CRET-q8:+/-value"

    it.effect("a §5.2 refusal whose error_description echoes the secret: masked, the rest of the message intact", () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(TokenResponse.decode({
          status: 401,
          contentType: "application/json",
          body: JSON.stringify({ error: "invalid_client", error_description: `secret ${secret} is wrong` })
        }, { tokenEndpoint: tokenUrl, secrets: [secret] }))
        assert.strictEqual(
          error.message,
          `The authorization server refused the token request (HTTP 401, error "invalid_client") from ${tokenUrl}: ` +
            `secret *** is wrong. ${basicHint}`
        )
        assert.notInclude(JSON.stringify(error), secret)
      }))

    it.effect("a 403 HTML page that echoes the secret: masked in the body excerpt", () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(TokenResponse.decode({
          status: 403,
          contentType: "text/html",
          body: `<p>secret ${secret} refused</p>`
        }, { tokenEndpoint: tokenUrl, secrets: [secret] }))
        assert.strictEqual(
          error.message,
          `The authorization server refused the token request from ${tokenUrl} (HTTP 403, content type text/html): ` +
            `the server refused the client with HTTP status 403 and no RFC 6749 §5.2 error body. ${basicHint} ` +
            `Body starts: "<p>secret *** refused</p>"`
        )
        assert.notInclude(JSON.stringify(error), secret)
      }))
  })
})
