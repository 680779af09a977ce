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
