/**
 * How the testkit's token endpoint (Testing) authenticates clients (RFC 6749 §2.3), as a user's test sees it on the
 * wire: which Basic headers it reads, the exact 400/401 answers for malformed, missing, doubled or failed client
 * authentication, and the client id the record keeps.
 */
import { Testing } from "@effect-oauth2/core"
import { assert, describe, it } from "@effect/vitest"
import { deepStrictEqual, strictEqual } from "@effect/vitest/utils"
import * as Effect from "effect/Effect"
import { base64, basic, cacheHeaders, type Made, noStore, postForm } from "../utils/Testkit.js"

const clients: ReadonlyArray<Testing.Client> = [
  { id: "basic", secret: "basic-secret" },
  { id: "weird:client id", secret: "weird-secret" },
  { id: "raw+id%41", secret: "raw-secret", basicDecoding: "none" },
  { id: "a b", secret: "ab-secret", basicDecoding: "none" },
  { id: "post", secret: "post-secret", authMethod: "client_secret_post" },
  { id: "public", authMethod: "none" },
  { id: "implicit-public" }
]

const server = Testing.make({ clients })
const grantType = "grant_type=client_credentials"

/** The last token request the server recorded, as [clientId, authMethod, outcome, error]. */
const lastRecord = (made: Made) =>
  Effect.map(made.server.tokenRequests, (records) => {
    const last = records[records.length - 1]!
    return [last.clientId, last.authMethod, last.outcome, last.error]
  })

const malformedBasic = {
  error: "invalid_request",
  error_description: "the Basic credentials are not base64 of UTF-8 id:secret"
}

describe("Testing: client_secret_basic headers", () => {
  it.effect("more than one space after the scheme is still a Basic header", () =>
    Effect.gen(function*() {
      const made = yield* server
      const answer = yield* postForm(made, grantType, {
        authorization: `Basic  ${base64("basic:basic-secret")}`
      })
      strictEqual(answer.status, 200)
      deepStrictEqual(yield* lastRecord(made), ["basic", "client_secret_basic", "issued", undefined])
    }))

  it.effect("a header that is not exactly `Basic <base64>` is a 400 invalid_request, with no-store", () =>
    Effect.gen(function*() {
      const made = yield* server
      const credentials = base64("basic:basic-secret")
      for (
        const header of [
          `Basic ${credentials}!`, // something after the credentials
          `Basic x basic ${credentials}`, // a second Basic further on
          `Basic ${base64("basic-basic-secret")}`, // no colon
          `Basic ${base64(new Uint8Array([0xff, 0x3a, 0x78]))}` // not UTF-8
        ]
      ) {
        const answer = yield* postForm(made, grantType, { authorization: header })
        strictEqual(answer.status, 400, header)
        deepStrictEqual(answer.json, malformedBasic, header)
        deepStrictEqual(cacheHeaders(answer), noStore)
        deepStrictEqual(yield* lastRecord(made), [undefined, undefined, "refused", "invalid_request"])
      }
    }))

  it.effect("a client registered with basicDecoding \"none\" is found by its id as sent, '+' and '%' included", () =>
    Effect.gen(function*() {
      const made = yield* server
      const answer = yield* postForm(made, grantType, { authorization: basic("raw+id%41:raw-secret") })
      strictEqual(answer.status, 200)
      deepStrictEqual(yield* lastRecord(made), ["raw+id%41", "client_secret_basic", "issued", undefined])
    }))

  it.effect("a form-encoded id does not reach a client that is registered without form decoding", () =>
    Effect.gen(function*() {
      const made = yield* server
      // "a+b" form-decodes to "a b", but the client "a b" reads its credentials as they are: "a+b" is not its id.
      const answer = yield* postForm(made, grantType, { authorization: basic("a+b:ab-secret") })
      strictEqual(answer.status, 401)
      strictEqual((answer.json as { error: string }).error, "invalid_client")
      deepStrictEqual(yield* lastRecord(made), ["a b", undefined, "refused", "invalid_client"])
    }))

  it.effect("a secret with a malformed %-escape fails authentication: 401 with a Basic challenge", () =>
    Effect.gen(function*() {
      const made = yield* server
      const answer = yield* postForm(made, grantType, { authorization: basic("basic:%zz") })
      strictEqual(answer.status, 401)
      deepStrictEqual(answer.json, { error: "invalid_client", error_description: "client authentication failed" })
      strictEqual(answer.headers["www-authenticate"], "Basic realm=\"token\"")
      deepStrictEqual(yield* lastRecord(made), ["basic", undefined, "refused", "invalid_client"])
    }))

  it.effect("with an undecodable secret, the record keeps the id as sent, not form-decoded", () =>
    Effect.gen(function*() {
      const made = yield* server
      const answer = yield* postForm(made, grantType, { authorization: basic("weird%3Aclient+id:%zz") })
      strictEqual(answer.status, 401)
      deepStrictEqual(yield* lastRecord(made), ["weird%3Aclient+id", undefined, "refused", "invalid_client"])
    }))

  it.effect("an Authorization header of another scheme is not read as Basic, nor answered with a Basic challenge", () =>
    Effect.gen(function*() {
      const made = yield* server
      const other = { authorization: "Other basic x" }
      const publicAnswer = yield* postForm(made, `${grantType}&client_id=public`, other)
      strictEqual(publicAnswer.status, 200)
      deepStrictEqual(yield* lastRecord(made), ["public", "none", "issued", undefined])
      // a confidential client named by client_id alone: refused, but not with a challenge for a scheme not used
      const refused = yield* postForm(made, `${grantType}&client_id=basic`, other)
      strictEqual(refused.status, 401)
      deepStrictEqual(refused.json, { error: "invalid_client", error_description: "client authentication failed" })
      strictEqual(refused.headers["www-authenticate"], undefined)
    }))
})

describe("Testing: client_secret_post and none", () => {
  it.effect("client_secret without exactly one non-empty client_id is a 400 invalid_request", () =>
    Effect.gen(function*() {
      const made = yield* server
      for (const body of [`${grantType}&client_secret=post-secret`, `${grantType}&client_id=&client_secret=x`]) {
        const answer = yield* postForm(made, body)
        strictEqual(answer.status, 400, body)
        deepStrictEqual(answer.json, {
          error: "invalid_request",
          error_description: "client_secret_post needs exactly one client_id"
        })
        deepStrictEqual(cacheHeaders(answer), noStore)
        deepStrictEqual(yield* lastRecord(made), [undefined, undefined, "refused", "invalid_request"])
      }
    }))

  it.effect("a request that names no client is a 401 invalid_client \"no client identified\"", () =>
    Effect.gen(function*() {
      const made = yield* server
      for (const body of [grantType, `${grantType}&client_id=`]) {
        const answer = yield* postForm(made, body)
        strictEqual(answer.status, 401, body)
        deepStrictEqual(answer.json, { error: "invalid_client", error_description: "no client identified" })
        deepStrictEqual(cacheHeaders(answer), noStore)
        strictEqual(answer.headers["www-authenticate"], undefined)
        deepStrictEqual(yield* lastRecord(made), [undefined, undefined, "refused", "invalid_client"])
      }
    }))

  it.effect("a client registered with neither secret nor authMethod is a public client (none)", () =>
    Effect.gen(function*() {
      const made = yield* server
      const answer = yield* postForm(made, `${grantType}&client_id=implicit-public`)
      strictEqual(answer.status, 200)
      deepStrictEqual(yield* lastRecord(made), ["implicit-public", "none", "issued", undefined])
    }))

  it.effect("Basic and client_secret_post in one request: 400 naming both methods (RFC 6749 §2.3)", () =>
    Effect.gen(function*() {
      const made = yield* server
      const answer = yield* postForm(made, `${grantType}&client_id=post&client_secret=post-secret`, {
        authorization: basic("basic:basic-secret")
      })
      strictEqual(answer.status, 400)
      deepStrictEqual(answer.json, {
        error: "invalid_request",
        error_description: "more than one client authentication method: client_secret_basic, client_secret_post"
      })
      deepStrictEqual(yield* lastRecord(made), ["basic", undefined, "refused", "invalid_request"])
    }))

  it.effect("an added authenticator's { error } is a 400 invalid_request with that description", () =>
    Effect.gen(function*() {
      const keyHeader: Testing.Authenticator = {
        method: "x_api_key",
        identify: (request) => request.headers["x-api-key"] === undefined ? undefined : { error: "bad key format" },
        verify: () => Effect.succeed(false)
      }
      const made = yield* Testing.make({ clients, authenticators: [keyHeader] })
      const answer = yield* postForm(made, `${grantType}&client_id=public`, { "x-api-key": "?" })
      strictEqual(answer.status, 400)
      deepStrictEqual(answer.json, { error: "invalid_request", error_description: "bad key format" })
      deepStrictEqual(yield* lastRecord(made), [undefined, undefined, "refused", "invalid_request"])
      assert.strictEqual((yield* postForm(made, `${grantType}&client_id=public`)).status, 200)
    }))
})
