import * as HttpClient from "@effect/platform/HttpClient"
import * as Effect from "effect/Effect"

/** @internal */
export type TracePropagation = "same-origin" | "all" | "none"

const sameOrigin = (url: string): boolean => {
  const here = globalThis.location as Location | undefined
  if (here === undefined) return false
  try {
    return new URL(url, here.href).origin === here.origin
  } catch {
    return false
  }
}

/**
 * `@effect/platform`'s HttpClient adds `traceparent` and `b3` headers to every request. Cross-origin, they are not
 * CORS-safelisted: every request needs a preflight, and one the server does not allow them in fails as a
 * transport error. By default they go to the page's own origin only.
 *
 * @internal
 */
export const withTracePropagation =
  (mode: TracePropagation) => (client: HttpClient.HttpClient): HttpClient.HttpClient =>
    mode === "all" ? client : HttpClient.transform(client, (effect, request) =>
      Effect.locally(
        effect,
        HttpClient.currentTracerPropagation,
        mode === "same-origin" && sameOrigin(request.url)
      ))
