/**
 * Helpers for the tests of the public testkit (`Testing`): raw requests to its in-memory server and what came back,
 * read as a user's test would read it (status, headers, the body as text and as JSON).
 */
import type { Testing } from "@effect-oauth2/core"
import type * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Effect from "effect/Effect"

/** A running testkit server and its in-memory HttpClient. */
export type Made = Effect.Effect.Success<ReturnType<typeof Testing.make>>

/** What a response carried. */
export interface Answer {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly text: string
  /** The body parsed as JSON; `undefined` when it is not JSON. */
  readonly json: unknown
}

const parse = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/** Reads a whole response. */
export const read = (response: HttpClientResponse.HttpClientResponse): Effect.Effect<Answer> =>
  Effect.map(Effect.orDie(response.text), (text) => ({
    status: response.status,
    headers: response.headers,
    text,
    json: parse(text)
  }))

/** Sends a request through the server's client and reads the answer. */
export const send = (made: Made, request: HttpClientRequest.HttpClientRequest): Effect.Effect<Answer> =>
  Effect.flatMap(Effect.orDie(made.client.execute(request)), read)

/** POSTs `body` to the token endpoint as `application/x-www-form-urlencoded`, with more headers if given. */
export const postForm = (
  made: Made,
  body: string,
  headers: Readonly<Record<string, string>> = {}
): Effect.Effect<Answer> =>
  send(
    made,
    HttpClientRequest.post(made.server.tokenUrl).pipe(
      HttpClientRequest.bodyText(body, "application/x-www-form-urlencoded"),
      HttpClientRequest.setHeaders(headers)
    )
  )

/** POSTs an arbitrary body to a URL. */
export const postBody = (made: Made, url: string, body: HttpBody.HttpBody): Effect.Effect<Answer> =>
  send(made, HttpClientRequest.post(url).pipe(HttpClientRequest.setBody(body)))

/** base64 of the given bytes (or of the UTF-8 of a string). */
export const base64 = (input: string | Uint8Array): string =>
  Buffer.from(typeof input === "string" ? new TextEncoder().encode(input) : input).toString("base64")

/** A `Basic` Authorization value for `id:secret`, exactly as given (no form-encoding). */
export const basic = (idAndSecret: string): string => `Basic ${base64(idAndSecret)}`

/** The headers every RFC 6749 §5.2 error body and §5.1 token answer of the server carries. */
export const noStore = { "cache-control": "no-store", pragma: "no-cache", "content-type": "application/json" }

/** The no-store headers of an answer, to compare with {@link noStore}. */
export const cacheHeaders = (answer: Answer) => ({
  "cache-control": answer.headers["cache-control"],
  pragma: answer.headers["pragma"],
  "content-type": answer.headers["content-type"]
})
