/**
 * JWT client assertions (RFC 7523 §2.2 and §3, RFC 7521 §4.2, OpenID Connect Core §9): `private_key_jwt` and
 * `client_secret_jwt`. The key is imported and checked once, when the client is built (`resolve`); every attempt
 * then signs a new assertion with a new `jti` and times from `Clock`.
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as ClientAuth from "../ClientAuth.js"
import { ConfigurationError } from "../OAuth2Error.js"
import * as jwt from "./jwt.js"
import { display } from "./url.js"

/**
 * The `client_assertion_type` of a JWT client assertion (RFC 7523 §2.2).
 *
 * @internal
 */
export const assertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

/** @internal */
export const defaultLifetime = Duration.seconds(60)
/** @internal */
export const maxLifetime = Duration.minutes(5)

const fail = (method: string, reason: string) => new ConfigurationError({ reason: `${method}: ${reason}` })

const lifetimeSeconds = (
  method: string,
  input: Duration.DurationInput | undefined
): Effect.Effect<number, ConfigurationError> => {
  const decoded = Duration.decodeUnknown(input ?? defaultLifetime)
  if (Option.isNone(decoded)) return Effect.fail(fail(method, "lifetime is not a duration"))
  const millis = Duration.toMillis(decoded.value)
  if (!(millis > 0) || millis > Duration.toMillis(maxLifetime)) {
    return Effect.fail(fail(method, "lifetime must be more than 0 and at most 5 minutes"))
  }
  return Effect.succeed(Math.ceil(millis / 1000))
}

const audienceFor = (
  method: string,
  audience: ClientAuth.AssertionAudience | undefined,
  context: ClientAuth.ResolveContext
): Effect.Effect<string | ReadonlyArray<string>, ConfigurationError> => {
  if (audience === undefined || audience === "token_endpoint") return Effect.succeed(display(context.tokenEndpoint))
  if (audience === "issuer") {
    return context.issuer !== undefined
      ? Effect.succeed(context.issuer)
      : Effect.fail(
        fail(method, `audience "issuer" needs the issuer: set the issuer option, or give the audience value itself`)
      )
  }
  if (typeof audience === "string") {
    return audience.length > 0 ? Effect.succeed(audience) : Effect.fail(fail(method, "audience must not be empty"))
  }
  return audience.length > 0 && audience.every((value) => value.length > 0)
    ? Effect.succeed(audience)
    : Effect.fail(fail(method, "audience must not be empty"))
}

/**
 * A JWT client authentication method: `resolve` imports the key and fixes the claims that do not change; the
 * resolved method signs a new assertion per attempt. Used unresolved (outside a grant), it resolves against each
 * request.
 *
 * @internal
 */
export const make = (
  method: "private_key_jwt" | "client_secret_jwt",
  options: ClientAuth.AssertionOptions,
  signer: (context: ClientAuth.ResolveContext) => Effect.Effect<jwt.Signer, ConfigurationError>
): ClientAuth.ClientAuth => {
  const resolve = (context: ClientAuth.ResolveContext): Effect.Effect<ClientAuth.ClientAuth, ConfigurationError> =>
    Effect.gen(function*() {
      const clientId = context.clientId
      if (clientId === undefined) {
        return yield* fail(method, "needs a clientId (the assertion's iss and sub)")
      }
      const seconds = yield* lifetimeSeconds(method, options.lifetime)
      const aud = yield* audienceFor(method, options.audience, context)
      const key = yield* signer(context)
      const modify = options.modifyAssertion
      const authenticate = (request: ClientAuth.TokenRequest) =>
        Effect.gen(function*() {
          const iat = Math.floor((yield* Clock.currentTimeMillis) / 1000)
          const initial: ClientAuth.Assertion = {
            header: key.kid !== undefined ? { alg: key.alg, kid: key.kid } : { alg: key.alg },
            claims: { iss: clientId, sub: clientId, aud, jti: yield* jwt.randomId, iat, exp: iat + seconds }
          }
          const assertion = modify === undefined ? initial : yield* Effect.try({
            try: () => modify(initial),
            catch: () => fail(method, "modifyAssertion threw")
          })
          const signed = yield* key.sign(assertion.header, assertion.claims)
          return {
            ...request,
            body: [
              ...request.body,
              ["client_id", clientId],
              ["client_assertion_type", assertionType],
              ["client_assertion", signed]
            ]
          } satisfies ClientAuth.TokenRequest
        })
      return { method, authenticate }
    })
  return {
    method,
    resolve,
    authenticate: (request) =>
      Effect.flatMap(
        resolve({
          tokenEndpoint: request.url,
          issuer: undefined,
          clientId: request.clientId,
          clientSecret: request.clientSecret
        }),
        (resolved) => resolved.authenticate(request)
      )
  }
}
