import { ClientCredentials, type Credentials, OAuth2Error } from "@effect-oauth2/core"
import { assert } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as TestHttp from "./TestHttp.js"

export const tokenUrl = "https://as.example.com/oauth2/token"

/**
 * Runs the grant once against an in-memory token endpoint. Defaults: client `client` / `secret`, no retry (the
 * retry tests opt in).
 */
export const run = (
  handler: TestHttp.Handler,
  options: Partial<ClientCredentials.Options> = {}
) =>
  Effect.gen(function*() {
    const http = TestHttp.make(handler)
    const exit = yield* ClientCredentials.grant({
      tokenUrl,
      clientId: "client",
      clientSecret: Redacted.make("secret"),
      retry: false,
      ...options
    }).pipe(Effect.provide(http.layer), Effect.exit)
    return { exit, requests: http.requests, http }
  })

/**
 * The typed failure of an exit. Fails the test on success, on a defect and on an interruption.
 */
export const failure = <A, E>(exit: Exit.Exit<A, E>): E => {
  if (Exit.isSuccess(exit)) return assert.fail(`expected a failure, got a success`)
  assert.isFalse(Cause.isDie(exit.cause), `expected a typed failure, got a defect: ${Cause.pretty(exit.cause)}`)
  assert.isTrue(Cause.isFailType(exit.cause), `expected a single typed failure: ${Cause.pretty(exit.cause)}`)
  return Option.getOrThrow(Cause.failureOption(exit.cause))
}

/**
 * The value of a successful exit. Fails the test otherwise, with the error's message.
 */
export const success = <A, E>(exit: Exit.Exit<A, E>): A => {
  if (Exit.isFailure(exit)) return assert.fail(`expected a success, got ${Cause.pretty(exit.cause)}`)
  return exit.value
}

/**
 * The grant's failure, checked to be an OAuth2Error with the given tag.
 */
export const failureOf = <Tag extends OAuth2Error.OAuth2Error["_tag"]>(
  exit: Exit.Exit<Credentials.Credentials, OAuth2Error.OAuth2Error>,
  tag: Tag
): Extract<OAuth2Error.OAuth2Error, { readonly _tag: Tag }> => {
  const error = failure(exit)
  assert.isTrue(OAuth2Error.isOAuth2Error(error))
  assert.strictEqual(error._tag, tag, `expected ${tag}, got ${error._tag}: ${error.message}`)
  return error as Extract<OAuth2Error.OAuth2Error, { readonly _tag: Tag }>
}

/**
 * Decodes the `user:password` of a `Basic` Authorization header value as UTF-8.
 */
export const decodeBasic = (header: string | undefined): string => {
  assert.isDefined(header)
  assert.match(header!, /^Basic [A-Za-z0-9+/]+=*$/)
  return Buffer.from(header!.slice("Basic ".length), "base64").toString("utf8")
}
