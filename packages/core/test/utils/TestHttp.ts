import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"

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

const toResponse = (reply: Reply): Response => {
  if (reply instanceof Response) return reply
  const headers = new Headers(reply.headers ?? {})
  if (reply.json !== undefined && !headers.has("content-type")) headers.set("content-type", "application/json")
  const body = reply.json !== undefined ? JSON.stringify(reply.json) : reply.text ?? ""
  return new Response(reply.status === 204 || reply.status === 304 ? null : body, {
    status: reply.status ?? 200,
    headers
  })
}

const bodyText = (request: HttpClientRequest.HttpClientRequest): string => {
  const body = request.body
  switch (body._tag) {
    case "Uint8Array":
      return new TextDecoder().decode(body.body)
    case "Raw":
      return typeof body.body === "string" ? body.body : ""
    default:
      return ""
  }
}

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
 * A standard token response body.
 */
export const token = (
  accessToken: string,
  expiresIn: number | string | undefined = 3600,
  extra: Record<string, unknown> = {}
) => ({
  json: {
    access_token: accessToken,
    token_type: "Bearer",
    ...(expiresIn !== undefined ? { expires_in: expiresIn } : {}),
    ...extra
  }
})
