import { Credentials } from "@effect-oauth2/core"
import * as Redacted from "effect/Redacted"

/** Credentials for a test: a Bearer token with no scopes and no endpoint, with the given fields over them. */
export const make = (fields: Partial<ConstructorParameters<typeof Credentials.Credentials>[0]> = {}) =>
  new Credentials.Credentials({
    accessToken: Redacted.make("access token"),
    tokenType: "Bearer",
    scopes: [],
    tokenEndpoint: "",
    ...fields
  })

/**
 * An hour-long Bearer token issued at time 0 by `https://as.example/token`, as the grant stores it: `expiresAt` is
 * 3590 s, the server's hour less the grant's 10 s grace.
 */
export const hourLong = (token: string) =>
  make({
    accessToken: Redacted.make(token),
    tokenEndpoint: "https://as.example/token",
    extra: {},
    issuedAt: 0,
    expiresIn: 3600,
    expiresAt: 3_590_000
  })
