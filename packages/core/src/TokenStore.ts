/**
 * Where credentials are kept between requests, processes and replicas. The token lifecycle reads a store on a
 * cold start and writes every new token to it, so a restarted service reuses a valid token instead of asking for
 * a new one (machine-to-machine tokens are often metered). The key is the token cache key (token endpoint, client
 * id, auth method, scopes and parameters; never the secret).
 *
 * Store failures never break requests: the lifecycle logs them and carries on as on a miss.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"
import type { Credentials } from "./Credentials.js"

/**
 * @since 0.1.0
 * @category type ids
 */
export const TypeId: unique symbol = Symbol.for("@effect-oauth2/core/TokenStore")

/**
 * @since 0.1.0
 * @category type ids
 */
export type TypeId = typeof TypeId

/**
 * A store failed to read, write or remove.
 *
 * @since 0.1.0
 * @category errors
 */
export class TokenStoreError extends Schema.TaggedError<TokenStoreError>("@effect-oauth2/core/TokenStoreError")(
  "TokenStoreError",
  {
    operation: Schema.Literal("get", "set", "remove"),
    description: Schema.String,
    cause: Schema.optionalWith(Schema.Defect, { exact: true })
  }
) {
  /**
   * @since 0.1.0
   */
  readonly [TypeId]: TypeId = TypeId

  /**
   * @since 0.1.0
   */
  override get message(): string {
    return `Token store ${this.operation} failed: ${this.description}`
  }
}

/**
 * @since 0.1.0
 * @category guards
 */
export const isTokenStoreError = (u: unknown): u is TokenStoreError => Predicate.hasProperty(u, TypeId)

/**
 * A place to keep credentials by key.
 *
 * @since 0.1.0
 * @category models
 */
export interface TokenStore {
  readonly get: (key: string) => Effect.Effect<Option.Option<Credentials>, TokenStoreError>
  readonly set: (key: string, credentials: Credentials) => Effect.Effect<void, TokenStoreError>
  readonly remove: (key: string) => Effect.Effect<void, TokenStoreError>
}

/**
 * A store in this process's memory: the default. Tokens live as long as the store value.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeMemory = (): TokenStore => {
  const map = new Map<string, Credentials>()
  return {
    get: (key) => Effect.sync(() => Option.fromNullable(map.get(key))),
    set: (key, credentials) => Effect.sync(() => void map.set(key, credentials)),
    remove: (key) => Effect.sync(() => void map.delete(key))
  }
}
