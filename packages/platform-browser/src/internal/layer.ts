import type { OAuth2Client, OAuth2Error } from "@effect-oauth2/core"
import { OAuth2HttpClient } from "@effect-oauth2/core"
import * as HttpClient from "@effect/platform/HttpClient"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { type TracePropagation, withTracePropagation } from "./tracing.js"

/** @internal */
export interface Options extends OAuth2Client.Options {
  readonly tracePropagation?: TracePropagation | undefined
}

/** @internal */
export const layerOver = (
  options: Options,
  platform: Layer.Layer<HttpClient.HttpClient>
): Layer.Layer<
  HttpClient.HttpClient | OAuth2Client.OAuth2Client,
  OAuth2Error.ConfigurationError | OAuth2Error.DiscoveryError
> => {
  const { tracePropagation, ...rest } = options
  const base = Layer.effect(
    HttpClient.HttpClient,
    Effect.map(HttpClient.HttpClient, withTracePropagation(tracePropagation ?? "same-origin"))
  ).pipe(Layer.provide(platform))
  return OAuth2HttpClient.layer(rest).pipe(Layer.provide(base))
}
