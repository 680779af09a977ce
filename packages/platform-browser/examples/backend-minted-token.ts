/**
 * Tokens minted by your backend: the page never holds a client secret.
 *
 * The backend keeps the secret and runs the client credentials grant (for example with
 * `@effect-oauth2/platform-node`), and exposes a same-origin endpoint that hands a short-lived, narrowly scoped
 * access token to signed-in users (its session cookie says who they are). The page keeps that token fresh with the
 * core token lifecycle, `AccessToken.make` (cached, one request for any number of callers, refreshed ahead of
 * expiry, failures never cached), and attaches it to requests for the API's origin.
 *
 * Tested in Chromium by packages/platform-browser/test/BackendMintedToken.test.ts.
 */
import { AccessToken, Credentials, OAuth2Error } from "@effect-oauth2/core"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"

/** What the backend answers: the RFC 6749 §5.1 fields it passes on from its own token response. */
const BackendToken = Schema.Struct({
  access_token: Schema.String,
  token_type: Schema.String,
  expires_in: Schema.Number,
  scope: Schema.optional(Schema.String)
})

/** Asks the backend for a token. Any failure is reported as a `TransportError`, which the lifecycle retries. */
export const fetchFromBackend = (
  endpoint: string
): Effect.Effect<Credentials.Credentials, OAuth2Error.OAuth2Error, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const issuedAt = yield* Clock.currentTimeMillis
    const response = yield* client.post(endpoint).pipe(Effect.flatMap(HttpClientResponse.filterStatusOk))
    const body = yield* HttpClientResponse.schemaBodyJson(BackendToken)(response)
    return new Credentials.Credentials({
      accessToken: Redacted.make(body.access_token),
      tokenType: body.token_type,
      issuedAt,
      expiresIn: body.expires_in,
      expiresAt: issuedAt + body.expires_in * 1000,
      scopes: body.scope === undefined ? [] : body.scope.split(" "),
      tokenEndpoint: endpoint,
      extra: {}
    })
  }).pipe(
    Effect.catchAll((cause) =>
      Effect.fail(
        new OAuth2Error.TransportError({
          tokenEndpoint: endpoint,
          description: `the backend did not hand out a token (${cause._tag})`,
          cause
        })
      )
    )
  )

/**
 * An `HttpClient` whose requests to `apiOrigin` carry the backend-minted token. `endpoint` is the backend's token
 * route (same origin as the page, so its session cookie goes along).
 */
export const layer = (options: {
  readonly endpoint: string
  readonly apiOrigin: string
}): Layer.Layer<HttpClient.HttpClient> =>
  Layer.scoped(
    HttpClient.HttpClient,
    Effect.gen(function*() {
      // No `traceparent` / `b3` headers: cross-origin they need the API's CORS to allow them.
      const base = HttpClient.withTracerPropagation(yield* HttpClient.HttpClient, false)
      const token = yield* AccessToken.make(
        Effect.provideService(fetchFromBackend(options.endpoint), HttpClient.HttpClient, base)
      )
      return HttpClient.mapRequestEffect(base, (request) =>
        new URL(request.url, globalThis.location?.href).origin !== options.apiOrigin
          ? Effect.succeed(request)
          : token.get.pipe(
            Effect.map((credentials) =>
              HttpClientRequest.bearerToken(request, credentials.accessToken)
            ),
            Effect.mapError((cause) =>
              new HttpClientError.RequestError({ request, reason: "Transport", cause, description: cause.message })
            )
          ))
    })
  ).pipe(Layer.provide(FetchHttpClient.layer))
