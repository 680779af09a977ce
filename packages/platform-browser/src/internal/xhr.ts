import * as BrowserHttpClient from "@effect/platform-browser/BrowserHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"

/**
 * The XHR response's `status` is read live from the `XMLHttpRequest`, and `@effect/platform` aborts the request
 * once `response.stream` has been read to the end; `abort()` on a finished XHR resets its `status` to 0. Code that
 * reads the body as a stream and then the status (the token request does: it bounds the body it reads) would see
 * 0. The status is final once the headers are in, so it is fixed on the response here.
 */
const fixStatus = (response: HttpClientResponse.HttpClientResponse): HttpClientResponse.HttpClientResponse =>
  Object.create(response, { status: { value: response.status, enumerable: true } })

/** @internal */
export const layerXMLHttpRequest: Layer.Layer<HttpClient.HttpClient> = Layer.effect(
  HttpClient.HttpClient,
  Effect.map(HttpClient.HttpClient, HttpClient.transformResponse(Effect.map(fixStatus)))
).pipe(Layer.provide(BrowserHttpClient.layerXMLHttpRequest))
