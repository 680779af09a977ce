/**
 * The options of the JWT assertion methods checked when the client is built (internal/clientAssertion.ts): a
 * lifetime that is not a duration or is zero, an empty audience (a string, an empty list, a list with an empty
 * value), the explicit `"token_endpoint"` audience, and the protected header handed to `modifyAssertion` (the key's
 * `alg`, and a `kid` only when the key has one).
 */
import { ClientAuth } from "@effect-oauth2/core"
import { describe, it } from "@effect/vitest"
import { deepStrictEqual, strictEqual } from "@effect/vitest/utils"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as jose from "jose"
import * as crypto from "node:crypto"
import { failure, tokenUrl } from "../utils/Grant.js"

const ec = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" })
const ecPem = ec.privateKey.export({ format: "pem", type: "pkcs8" }) as string

const context: ClientAuth.ResolveContext = {
  tokenEndpoint: new URL(tokenUrl),
  issuer: undefined,
  clientId: "svc",
  clientSecret: undefined
}

const privateKeyJwt = (options: Partial<ClientAuth.PrivateKeyJwtOptions>) =>
  ClientAuth.privateKeyJwt({ key: Redacted.make(ecPem), ...options })

/** The reason of the ConfigurationError that resolving `auth` fails with. */
const resolveReason = (auth: ClientAuth.ClientAuth) =>
  Effect.map(Effect.exit(auth.resolve!(context)), (exit) => failure(exit).reason)

/** The body of one token request authenticated by `auth`, resolved first. */
const authenticated = (auth: ClientAuth.ClientAuth) =>
  Effect.gen(function*() {
    const resolved = yield* auth.resolve!(context)
    const request = yield* resolved.authenticate({
      url: new URL(tokenUrl),
      headers: {},
      body: [["grant_type", "client_credentials"]],
      clientId: "svc",
      clientSecret: undefined
    })
    return new Map(request.body)
  })

const empty = "private_key_jwt: audience must not be empty"

describe("clientAssertion options (mutation)", () => {
  it.effect("a lifetime that is not a duration is a ConfigurationError", () =>
    Effect.gen(function*() {
      strictEqual(
        yield* resolveReason(privateKeyJwt({ lifetime: "one minute" as Duration.DurationInput })),
        "private_key_jwt: lifetime is not a duration"
      )
    }))

  it.effect("a lifetime of zero is refused, one of 1 ms is taken as a second", () =>
    Effect.gen(function*() {
      strictEqual(
        yield* resolveReason(privateKeyJwt({ lifetime: Duration.zero })),
        "private_key_jwt: lifetime must be more than 0 and at most 5 minutes"
      )
      const claims = jose.decodeJwt(
        (yield* authenticated(privateKeyJwt({ lifetime: Duration.millis(1) })))
          .get("client_assertion")!
      )
      strictEqual(claims.exp! - claims.iat!, 1)
    }))

  it.effect("an empty audience is refused: an empty string, an empty list, a list with an empty value", () =>
    Effect.gen(function*() {
      strictEqual(yield* resolveReason(privateKeyJwt({ audience: "" })), empty)
      strictEqual(yield* resolveReason(privateKeyJwt({ audience: [] })), empty)
      strictEqual(yield* resolveReason(privateKeyJwt({ audience: ["https://as.example.com", ""] })), empty)
      strictEqual(yield* resolveReason(privateKeyJwt({ audience: ["", "https://as.example.com"] })), empty)
      strictEqual(
        yield* resolveReason(ClientAuth.clientSecretJwt({ audience: [""] })),
        "client_secret_jwt: audience must not be empty"
      )
    }))

  it.effect("the audience \"token_endpoint\", given explicitly, is the token endpoint URL", () =>
    Effect.gen(function*() {
      const body = yield* authenticated(privateKeyJwt({ audience: "token_endpoint" }))
      strictEqual(jose.decodeJwt(body.get("client_assertion")!).aud, tokenUrl)
      const list = yield* authenticated(privateKeyJwt({ audience: ["https://as.example.com", "https://b.example"] }))
      deepStrictEqual(jose.decodeJwt(list.get("client_assertion")!).aud, [
        "https://as.example.com",
        "https://b.example"
      ])
    }))

  it.effect("modifyAssertion sees the key's alg, and a kid only when the key has one", () =>
    Effect.gen(function*() {
      const headers: Array<Readonly<Record<string, unknown>>> = []
      const modifyAssertion = (assertion: ClientAuth.Assertion) => {
        headers.push(assertion.header)
        return assertion
      }
      yield* authenticated(privateKeyJwt({ modifyAssertion }))
      yield* authenticated(privateKeyJwt({ modifyAssertion, kid: "key-1" }))
      deepStrictEqual(headers.map((header) => Object.keys(header)), [["alg"], ["alg", "kid"]])
      deepStrictEqual(headers, [{ alg: "ES256" }, { alg: "ES256", kid: "key-1" }])
    }))
})
