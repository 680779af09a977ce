/**
 * Helpers for the browser tests: the test servers' URLs, the registered clients, a counting `fetch`, captured logs.
 * Runs in Chromium: never import the server modules of `@effect-oauth2/testing` here (they use node:http).
 */
import type {} from "@effect-oauth2/testing/context"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import type * as LogLevel from "effect/LogLevel"
import * as Redacted from "effect/Redacted"
import { inject } from "vitest"

export const servers = {
  issuer: inject("issuer"),
  tokenEndpoint: inject("tokenEndpoint"),
  apiUrl: inject("apiUrl")
}

/** The clients registered in the embedded oidc-provider (testing/src/AuthServer.ts). */
export const clients = {
  basic: { clientId: "basic-client", clientSecret: Redacted.make("basic-secret-7Qx") },
  post: { clientId: "post-client", clientSecret: Redacted.make("post-secret-9Zr") },
  weird: { clientId: "weird:client id", clientSecret: Redacted.make("s3cr3t:+/%& =~") },
  /** Registered with `dpop_bound_access_tokens`: every token request needs a DPoP proof. */
  dpop: { clientId: "dpop-client", clientSecret: Redacted.make("dpop-secret-5Hn") }
} as const

/**
 * A path on the authorization server that oidc-provider answers (404) without any CORS header: a request to it
 * from the page is blocked by the browser's CORS check, while the server itself is up.
 */
export const noCorsUrl = (): string => `${servers.issuer}/no-cors-here/token`

/**
 * A loopback port nothing listens on: above the Linux ephemeral range (32768–60999), so no client socket uses it,
 * and not on Chromium's list of blocked ports.
 */
export const closedPortUrl = "http://127.0.0.1:65535/token"

export interface SeenRequest {
  readonly url: string
  readonly method: string
  readonly headers: Headers
}

/** A `fetch` that records every request it is asked to send, provided as `FetchHttpClient.Fetch`. */
export const countingFetch = () => {
  const requests: Array<SeenRequest> = []
  const counting: typeof globalThis.fetch = (input, init) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url
    requests.push({ url, method: init?.method ?? "GET", headers: new Headers(init?.headers) })
    return globalThis.fetch(input, init)
  }
  const tokenRequests = () => requests.filter((request) => request.url.split("?")[0] === servers.tokenEndpoint)
  const apiRequests = () => requests.filter((request) => request.url.startsWith(servers.apiUrl))
  return {
    requests,
    tokenRequests,
    apiRequests,
    /** The `Authorization` values of the API requests. */
    apiAuthorizations: () => apiRequests().map((request) => request.headers.get("authorization")),
    layer: Layer.succeed(FetchHttpClient.Fetch, counting)
  }
}

export interface CapturedLog {
  readonly level: LogLevel.LogLevel["label"]
  readonly message: string
}

/** Replaces the default logger with one that records every log line, in order. */
export const captureLogs = () => {
  const logs: Array<CapturedLog> = []
  const logger = Logger.make<unknown, void>(({ logLevel, message }) => {
    const parts = Array.isArray(message) ? message : [message]
    logs.push({ level: logLevel.label, message: parts.map((part) => String(part)).join(" ") })
  })
  return { logs, layer: Logger.replace(Logger.defaultLogger, logger) }
}

/** A key prefix of its own per test, so tests never see each other's entries. */
export const uniquePrefix = (name: string): string =>
  `effect-oauth2-test:${name}:${Math.random().toString(36).slice(2)}:`

/** Removes every entry whose key starts with `prefix` from both storages. */
export const removePrefixed = (prefix: string): Effect.Effect<void> =>
  Effect.sync(() => {
    for (const storage of [sessionStorage, localStorage]) {
      for (const key of Object.keys(storage)) {
        if (key.startsWith(prefix)) storage.removeItem(key)
      }
    }
  })
