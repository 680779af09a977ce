import type { TokenStore } from "@effect-oauth2/core"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"

/** Lease records in a Map, as a file or a Web Storage entry would hold them; `records` shows what is held. */
export const inMemory = () => {
  const records = new Map<string, string>()
  const api: TokenStore.LeaseRecords = {
    create: (key, value) => Effect.sync(() => records.has(key) ? false : (records.set(key, value), true)),
    read: (key) => Effect.sync(() => Option.fromNullable(records.get(key))),
    remove: (key) => Effect.sync(() => void records.delete(key))
  }
  return { records, api }
}
