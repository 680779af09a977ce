/**
 * A {@link TokenStore.TokenStore} on the file system, so a restarted service reuses its still-valid token instead
 * of asking for a new one (machine-to-machine tokens are often metered, and rate limited).
 *
 * - One file per store key, named by the SHA-256 of the key (`<64 hex>.json`), never by the key itself.
 * - The content is the credentials JSON of `Credentials.FromJson`: **the access token in clear text**, as private
 *   as the client secret. Files are created with mode `0600`, the directory (when this store creates it) with
 *   `0700`.
 * - Writes are atomic: a temporary file is written in the same directory (exclusive create, mode `0600`),
 *   flushed to disk, then renamed over the old file, so a reader (another replica, a restart after a crash) sees
 *   the old credentials or the new ones, never half a file.
 * - A file that cannot be decoded (truncated, edited, garbage) is a miss with a warning in the log, never a
 *   crash; the next token replaces it. Other I/O failures are `TokenStoreError`s, which the token lifecycle logs
 *   before carrying on without the store.
 * - The processes of one host that share the directory make one token request between them: the lease is a file
 *   beside the token file (`<64 hex>.lease`, created atomically with a hard link, mode `0600`, holding a random
 *   owner and the time it runs out); the others poll the token file every 50 ms until the holder has written the
 *   new token or given the lease up (`TokenStore.withLeaseRecords`). A 401 removes the token file only if it
 *   still holds the refused token.
 *
 * @since 0.1.0
 */
import { Credentials, TokenStore } from "@effect-oauth2/core"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as crypto from "node:crypto"
import * as nodePath from "node:path"

/**
 * The name of the file that holds the credentials of `key`: the SHA-256 of the key in hex, with `.json`.
 *
 * @example
 * ```ts
 * import { FileTokenStore } from "@effect-oauth2/platform-node"
 * import { OAuth2Client } from "@effect-oauth2/core"
 * import { Effect } from "effect"
 *
 * // which file holds the token of the client in the context
 * const file = Effect.map(OAuth2Client.OAuth2Client, (client) => FileTokenStore.fileName(client.cacheKey))
 * ```
 *
 * @since 0.1.0
 * @category utils
 */
export const fileName = (key: string): string => `${hashOf(key)}.json`

const hashOf = (key: string): string => crypto.createHash("sha256").update(key, "utf8").digest("hex")

/**
 * The name of the lease file of `key`, beside its token file: the SHA-256 of the key in hex, with `.lease`.
 *
 * @since 0.2.0
 * @category utils
 */
export const leaseFileName = (key: string): string => `${hashOf(key)}.lease`

const encode = Schema.encode(Credentials.FromJson)
const decode = Schema.decodeUnknown(Credentials.FromJson)

const isNotFound = (error: { readonly _tag: string; readonly reason?: string }): boolean =>
  error._tag === "SystemError" && error.reason === "NotFound"

const isAlreadyExists = (error: { readonly _tag: string; readonly reason?: string }): boolean =>
  error._tag === "SystemError" && error.reason === "AlreadyExists"

type Operation = TokenStore.TokenStoreError["operation"]

const storeError = (
  operation: Operation,
  description: string
) =>
(cause: unknown) => new TokenStore.TokenStoreError({ operation, description, cause })

/**
 * Turns anything unexpected (a defect of the file system layer) into a `TokenStoreError`: a store must never take
 * the token lifecycle down with it.
 */
const guard = <A>(
  operation: Operation,
  effect: Effect.Effect<A, TokenStore.TokenStoreError>
): Effect.Effect<A, TokenStore.TokenStoreError> =>
  Effect.catchAllDefect(effect, (defect) => Effect.fail(storeError(operation, "unexpected failure")(defect)))

/**
 * A file token store in `directory` over any `@effect/platform` `FileSystem` and `Path` (Node, Bun, or a test
 * file system). Nothing is touched until the first use; the directory is created, mode `0700`, on the first
 * write. {@link make} is this store on Node's file system, as a plain value.
 *
 * @example
 * ```ts
 * import { FileTokenStore, NodeOAuth2 } from "@effect-oauth2/platform-node"
 * import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
 * import * as NodePath from "@effect/platform-node/NodePath"
 * import { Effect, Layer, Redacted } from "effect"
 *
 * const Auth = Layer.unwrapEffect(
 *   Effect.map(FileTokenStore.makeWith("/var/lib/my-service/tokens"), (store) =>
 *     NodeOAuth2.layer({
 *       tokenUrl: "https://auth.example.com/oauth2/token",
 *       clientId: "my-service",
 *       clientSecret: Redacted.make(process.env.CLIENT_SECRET!),
 *       store
 *     }))
 * ).pipe(Layer.provide([NodeFileSystem.layer, NodePath.layer]))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeWith = (
  directory: string
): Effect.Effect<TokenStore.Coordinated, never, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const root = path.resolve(directory)
    const fileOf = (key: string) => path.join(root, fileName(key))

    const get = (key: string): Effect.Effect<Option.Option<Credentials.Credentials>, TokenStore.TokenStoreError> =>
      Effect.gen(function*() {
        const file = fileOf(key)
        const text = yield* fs.readFileString(file).pipe(
          Effect.map(Option.some<string>),
          Effect.catchIf(isNotFound, () => Effect.succeed(Option.none<string>())),
          Effect.mapError(storeError("get", `cannot read ${file}`))
        )
        if (Option.isNone(text)) return Option.none()
        const decoded = yield* Effect.option(decode(text.value))
        if (Option.isNone(decoded)) {
          // The parse error is not logged: it could quote the file, and the file holds a token.
          yield* Effect.logWarning(
            `OAuth2 file token store: ${file} does not hold valid credentials; treating it as a miss ` +
              "(the next token replaces it)"
          )
        }
        return decoded
      })

    /** Writes `text` to a new temporary file beside `file` (exclusive create, mode 0600, flushed). */
    const writeTemp = (operation: Operation, file: string, text: string) =>
      Effect.gen(function*() {
        const temp = `${file}.${crypto.randomBytes(8).toString("hex")}.tmp`
        yield* fs.makeDirectory(root, { recursive: true, mode: 0o700 }).pipe(
          Effect.mapError(storeError(operation, `cannot create the directory ${root}`))
        )
        yield* Effect.scoped(
          Effect.flatMap(
            // "wx": create exclusively, never through an existing file or symlink; 0600 whatever the umask.
            fs.open(temp, { flag: "wx", mode: 0o600 }),
            (handle) => Effect.zipRight(handle.writeAll(new TextEncoder().encode(text)), handle.sync)
          )
        ).pipe(
          Effect.mapError(storeError(operation, `cannot write ${temp}`)),
          Effect.onError(() => Effect.ignore(fs.remove(temp)))
        )
        return temp
      })

    const set = (key: string, credentials: Credentials.Credentials): Effect.Effect<void, TokenStore.TokenStoreError> =>
      Effect.gen(function*() {
        const file = fileOf(key)
        const json = yield* encode(credentials).pipe(
          Effect.mapError(storeError("set", "cannot encode the credentials"))
        )
        const temp = yield* writeTemp("set", file, json)
        yield* fs.rename(temp, file).pipe(
          Effect.mapError(storeError("set", `cannot write ${file}`)),
          Effect.onError(() => Effect.ignore(fs.remove(temp)))
        )
      })

    const remove = (key: string): Effect.Effect<void, TokenStore.TokenStoreError> => {
      const file = fileOf(key)
      return fs.remove(file).pipe(
        Effect.catchIf(isNotFound, () => Effect.void),
        Effect.mapError(storeError("remove", `cannot remove ${file}`))
      )
    }

    // The lease file appears whole or not at all: it is written under a temporary name and hard-linked into place,
    // and the link fails if a lease file is already there.
    const leaseOf = (key: string) => path.join(root, leaseFileName(key))
    const records: TokenStore.LeaseRecords = {
      create: (key, value) =>
        guard(
          "lease",
          Effect.flatMap(writeTemp("lease", leaseOf(key), value), (temp) =>
            fs.link(temp, leaseOf(key)).pipe(
              Effect.as(true),
              Effect.catchIf(isAlreadyExists, () => Effect.succeed(false)),
              Effect.mapError(storeError("lease", `cannot create ${leaseOf(key)}`)),
              Effect.ensuring(Effect.ignore(fs.remove(temp)))
            ))
        ),
      read: (key) =>
        guard(
          "lease",
          fs.readFileString(leaseOf(key)).pipe(
            Effect.map(Option.some<string>),
            Effect.catchIf(isNotFound, () => Effect.succeed(Option.none<string>())),
            Effect.mapError(storeError("lease", `cannot read ${leaseOf(key)}`))
          )
        ),
      remove: (key) =>
        guard(
          "release",
          fs.remove(leaseOf(key)).pipe(
            Effect.catchIf(isNotFound, () => Effect.void),
            Effect.mapError(storeError("release", `cannot remove ${leaseOf(key)}`))
          )
        )
    }

    return TokenStore.withLeaseRecords(
      {
        get: (key) => guard("get", get(key)),
        set: (key, credentials) => guard("set", set(key, credentials)),
        remove: (key) => guard("remove", remove(key))
      },
      records,
      { pollInterval: "50 millis" }
    )
  })

const nodeContext = Layer.merge(NodeFileSystem.layer, NodePath.layer)

/**
 * A file token store in `directory` on Node's file system: a plain value, like the core's
 * `TokenStore.makeMemory()`, to pass as the `store` option. Nothing is touched until the first use; the
 * directory is created, mode `0700`, on the first write. Give each service its own directory, on a local disk,
 * readable by that service's user only.
 *
 * @example
 * ```ts
 * import { FileTokenStore, NodeOAuth2 } from "@effect-oauth2/platform-node"
 * import { Redacted } from "effect"
 *
 * const Auth = NodeOAuth2.layer({
 *   tokenUrl: "https://auth.example.com/oauth2/token",
 *   clientId: "my-service",
 *   clientSecret: Redacted.make(process.env.CLIENT_SECRET!),
 *   store: FileTokenStore.make("/var/lib/my-service/tokens")
 * })
 *
 * // or with the environment variables
 * const FromEnv = NodeOAuth2.layerFromEnv("OAUTH2", { store: FileTokenStore.make(".token-store") })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (directory: string): TokenStore.Coordinated => {
  // Resolved now, so a later change of the working directory does not move the store.
  const absolute = nodePath.resolve(directory)
  let store: TokenStore.Coordinated | undefined
  const resolved: Effect.Effect<TokenStore.Coordinated> = Effect.suspend(() =>
    store !== undefined ? Effect.succeed(store) : Effect.provide(
      Effect.tap(makeWith(absolute), (made) => {
        store = made
      }),
      nodeContext
    )
  )
  return {
    get: (key) => Effect.flatMap(resolved, (s) => s.get(key)),
    set: (key, credentials) => Effect.flatMap(resolved, (s) => s.set(key, credentials)),
    remove: (key) => Effect.flatMap(resolved, (s) => s.remove(key)),
    acquireLease: (key, ttl) => Effect.flatMap(resolved, (s) => s.acquireLease(key, ttl)),
    awaitNewer: (key, after, timeout) => Effect.flatMap(resolved, (s) => s.awaitNewer(key, after, timeout)),
    removeIf: (key, token) => Effect.flatMap(resolved, (s) => s.removeIf(key, token))
  }
}
