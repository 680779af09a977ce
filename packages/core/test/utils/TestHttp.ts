import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { bodyText, toResponse } from "../../src/internal/testing.js"

/**
 * A request as the in-memory client saw it.
 */
export interface Recorded {
  readonly method: string
  readonly url: URL
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
  readonly form: URLSearchParams
}

/**
 * What a handler answers: a web `Response`, an Effect of one (to sleep, or to fail as a transport error), or a
 * plain description.
 */
export type Reply =
  | Response
  | {
    readonly status?: number
    readonly json?: unknown
    readonly text?: string
    readonly headers?: Record<string, string>
  }

export type Handler = (
  request: Recorded,
  index: number
) => Reply | Effect.Effect<Reply, HttpClientError.HttpClientError>

/**
 * An in-memory HttpClient that records every request and answers with `handler`.
 */
export const make = (handler: Handler) => {
  const requests: Array<Recorded> = []
  const client = HttpClient.make((request, url) =>
    Effect.suspend(() => {
      const body = bodyText(request)
      const recorded: Recorded = {
        method: request.method,
        url,
        headers: { ...request.headers },
        body,
        form: new URLSearchParams(body)
      }
      const index = requests.length
      requests.push(recorded)
      const reply = handler(recorded, index)
      return Effect.map(
        Effect.isEffect(reply) ? reply : Effect.succeed(reply),
        (r) => HttpClientResponse.fromWeb(request, toResponse(r))
      )
    })
  )
  return {
    client,
    requests,
    layer: Layer.succeed(HttpClient.HttpClient, client),
    count: (predicate: (r: Recorded) => boolean = () => true) => requests.filter(predicate).length
  }
}

/**
 * A transport failure, as the platform clients report a refused connection.
 */
export const transportError = (description = "connection refused") =>
  Effect.flatMap(
    Effect.sync(() => new Request("http://127.0.0.1/")),
    () =>
      Effect.fail(
        new HttpClientError.RequestError({
          request: undefined as never,
          reason: "Transport",
          description
        })
      )
  )

/**
 * A standard token response body. `expiresIn` defaults to 3600; `null` leaves `expires_in` out.
 */
export const token = (
  accessToken: string,
  expiresIn: number | string | null | undefined = 3600,
  extra: Record<string, unknown> = {}
) => ({
  json: {
    access_token: accessToken,
    token_type: "Bearer",
    ...(expiresIn !== undefined && expiresIn !== null ? { expires_in: expiresIn } : {}),
    ...extra
  }
})

/**
 * A response whose body is given as bytes, so that no `Content-Type` is implied (a string body would get
 * `text/plain;charset=UTF-8` from the web `Response`).
 */
export const raw = (body: string, init: { readonly status?: number; readonly headers?: Record<string, string> } = {}) =>
  new Response(new TextEncoder().encode(body), { status: init.status ?? 200, headers: init.headers ?? {} })

/**
 * A streamed response without `Content-Length`: `chunks` chunks of `chunkSize` bytes (`x`), produced on demand.
 * `pulled()` tells how many chunks the reader asked for.
 */
export const streamed = (
  chunks: number,
  chunkSize: number,
  headers: Record<string, string> = { "content-type": "application/json" }
) => {
  let pulled = 0
  const chunk = new Uint8Array(chunkSize).fill(0x78)
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (pulled >= chunks) {
        controller.close()
        return
      }
      pulled++
      controller.enqueue(chunk)
    }
  })
  return { response: new Response(body, { status: 200, headers }), pulled: () => pulled }
}
