import { Credentials, OAuth2Client, TokenStore } from "@effect-oauth2/core"
import { FileTokenStore, NodeOAuth2 } from "@effect-oauth2/platform-node"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import * as HttpClient from "@effect/platform/HttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import { spawn } from "node:child_process"
import * as crypto from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { basicClient, bearer, captureLogs, servers } from "./utils/servers.js"

/** A fresh temporary directory, removed with the scope. */
const tempDirectory = Effect.acquireRelease(
  Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "effect-oauth2-store-"))),
  (directory) => Effect.sync(() => fs.rmSync(directory, { recursive: true, force: true }))
)

const credentials = (accessToken: string, overrides: Partial<Credentials.Credentials> = {}) =>
  new Credentials.Credentials({
    accessToken: Redacted.make(accessToken),
    tokenType: "Bearer",
    issuedAt: 1_700_000_000_000,
    expiresAt: 1_700_000_290_000,
    expiresIn: 300,
    scopes: ["api:read"],
    refreshToken: Redacted.make(`refresh-${accessToken}`),
    tokenEndpoint: "https://as.example.com/token",
    extra: { tenant: "acme" },
    ...overrides
  })

const key = JSON.stringify(["https://as.example.com/token", "client", "client_secret_basic", ["api:read"], []])

/**
 * The stored credentials once they are there (and differ from `not`): the lifecycle hands a new token to its callers
 * first and writes it to the store right after, so a test that reads the file at once waits a moment.
 */
const storedToken = (store: TokenStore.TokenStore, key: string, not?: string) =>
  store.get(key).pipe(
    Effect.flatMap((stored) =>
      Option.isSome(stored) && Redacted.value(stored.value.accessToken) !== not
        ? Effect.succeed(stored.value)
        : Effect.fail("not yet" as const)
    ),
    Effect.retry({ times: 100, schedule: Schedule.spaced("10 millis") }),
    Effect.orDie
  )

/** The TokenStoreError an exit failed with; the test fails on a success, a defect or another error. */
const storeErrorOf = (exit: Exit.Exit<unknown, unknown>): TokenStore.TokenStoreError => {
  if (Exit.isSuccess(exit)) return assert.fail("expected a TokenStoreError, got a success")
  const error = exit.cause._tag === "Fail" ? exit.cause.error : undefined
  if (!TokenStore.isTokenStoreError(error)) return assert.fail(`a TokenStoreError, not: ${String(exit.cause)}`)
  return error
}

const mode = (file: string) => fs.statSync(file).mode & 0o777

const filesIn = (directory: string) => fs.readdirSync(directory).sort()

const get = (url: string) =>
  Effect.flatMap(HttpClient.HttpClient, (client) => Effect.map(client.get(url), (response) => response.status))

describe("FileTokenStore", () => {
  it.scoped("writes credentials to a file named by the SHA-256 of the key, and reads them back", () =>
    Effect.gen(function*() {
      const directory = yield* tempDirectory
      const store = FileTokenStore.make(directory)
      assert.isTrue(Option.isNone(yield* store.get(key)), "a missing file is a miss")
      const written = credentials("access-1")
      yield* store.set(key, written)

      const name = `${crypto.createHash("sha256").update(key).digest("hex")}.json`
      assert.strictEqual(FileTokenStore.fileName(key), name)
      assert.deepStrictEqual(filesIn(directory), [name])
      const text = fs.readFileSync(path.join(directory, name), "utf8")
      assert.deepStrictEqual(
        yield* Schema.decode(Credentials.FromJson)(text),
        written,
        "the file is Credentials.FromJson"
      )

      const read = yield* store.get(key)
      assert.isTrue(Option.isSome(read))
      const loaded = Option.getOrThrow(read)
      assert.strictEqual(Redacted.value(loaded.accessToken), "access-1")
      assert.strictEqual(Redacted.value(loaded.refreshToken!), "refresh-access-1")
      assert.strictEqual(loaded.expiresAt, written.expiresAt)
      assert.strictEqual(loaded.issuedAt, written.issuedAt)
      assert.deepStrictEqual(loaded.scopes, ["api:read"])
      assert.deepStrictEqual(loaded.extra, { tenant: "acme" })
      assert.isTrue(Option.isNone(yield* store.get(`${key}-other`)), "another key is another file")
    }))

  it.scoped("creates files with mode 0600 and its directory with mode 0700", () =>
    Effect.gen(function*() {
      const directory = path.join(yield* tempDirectory, "nested", "tokens")
      const store = FileTokenStore.make(directory)
      assert.isFalse(fs.existsSync(directory), "nothing is created before the first write")
      yield* store.set(key, credentials("access-1"))
      assert.strictEqual(mode(directory), 0o700)
      assert.strictEqual(mode(path.dirname(directory)), 0o700)
      assert.strictEqual(mode(path.join(directory, FileTokenStore.fileName(key))), 0o600)
      yield* store.set(key, credentials("access-2"))
      assert.strictEqual(mode(path.join(directory, FileTokenStore.fileName(key))), 0o600)
    }))

  it.scoped("keeps 0600 even when an existing file was more open", () =>
    Effect.gen(function*() {
      const directory = yield* tempDirectory
      const file = path.join(directory, FileTokenStore.fileName(key))
      fs.writeFileSync(file, "{}", { mode: 0o644 })
      fs.chmodSync(file, 0o644)
      yield* FileTokenStore.make(directory).set(key, credentials("access-1"))
      assert.strictEqual(mode(file), 0o600)
    }))

  it.scoped("writes atomically: concurrent writes leave one whole file and no temporary files", () =>
    Effect.gen(function*() {
      const directory = yield* tempDirectory
      const store = FileTokenStore.make(directory)
      const tokens = Array.from({ length: 25 }, (_, i) => `access-${i}-${"x".repeat(2000)}`)
      yield* Effect.forEach(tokens, (token) => store.set(key, credentials(token)), { concurrency: "unbounded" })
      assert.deepStrictEqual(filesIn(directory), [FileTokenStore.fileName(key)])
      const read = Option.getOrThrow(yield* store.get(key))
      assert.include(tokens, Redacted.value(read.accessToken))
    }))

  it.scoped("a reader in a second process racing the writers never sees a torn file", () =>
    Effect.gen(function*() {
      const directory = yield* tempDirectory
      const store = FileTokenStore.make(directory)
      const file = path.join(directory, FileTokenStore.fileName(key))
      // The reader: another Node process reading the file as fast as it can until its stdin closes, then printing
      // how many reads found the file missing, whole (parses as JSON) or torn (anything else).
      const reader = spawn(process.execPath, [
        "-e",
        `const fs = require("node:fs")
        const counts = { missing: 0, whole: 0, torn: 0 }
        let open = true
        process.stdin.on("end", () => { open = false }).resume()
        const loop = () => {
          for (let i = 0; i < 50; i++) {
            let text
            try { text = fs.readFileSync(${JSON.stringify(file)}, "utf8") } catch { counts.missing++; continue }
            try { JSON.parse(text); counts.whole++ } catch { counts.torn++ }
          }
          if (open) setImmediate(loop); else process.stdout.write(JSON.stringify(counts))
        }
        process.stdout.write("ready\\n")
        loop()`
      ], { stdio: ["pipe", "pipe", "inherit"] })
      let output = ""
      reader.stdout.on("data", (chunk: Buffer) => {
        output += chunk.toString("utf8")
      })
      const exited = new Promise<number | null>((resolve) => reader.on("exit", (code) => resolve(code)))
      yield* Effect.addFinalizer(() => Effect.sync(() => reader.kill()))
      yield* Effect.promise(async () => {
        while (!output.includes("ready\n")) await new Promise((resolve) => setTimeout(resolve, 5))
      })
      // 4 writers, 25 writes each, of ~32 KiB files: a write that is not atomic shows a reader a partial file
      // (a plain fs.writeFile in place of the store's write: thousands of torn reads in every run)
      const big = "x".repeat(32 * 1024)
      for (let round = 0; round < 25; round++) {
        yield* Effect.forEach(
          [0, 1, 2, 3],
          (writer) => store.set(key, credentials(`access-${round}-${writer}-${big}`)),
          { concurrency: "unbounded" }
        )
      }
      reader.stdin.end()
      const code = yield* Effect.promise(() => exited)
      assert.strictEqual(code, 0)
      const counts = JSON.parse(output.slice(output.indexOf("\n") + 1)) as Record<string, number>
      assert.strictEqual(counts.torn, 0, `the reader saw a torn file: ${JSON.stringify(counts)}`)
      assert.isAbove(counts.whole!, 0, `the reader never saw the file: ${JSON.stringify(counts)}`)
      assert.deepStrictEqual(filesIn(directory), [FileTokenStore.fileName(key)])
    }), 180_000)

  it.scoped("removes its temporary file when the write fails", () =>
    Effect.gen(function*() {
      const directory = yield* tempDirectory
      // The target is a non-empty directory: the rename over it fails.
      const target = path.join(directory, FileTokenStore.fileName(key))
      fs.mkdirSync(target)
      fs.writeFileSync(path.join(target, "keep"), "")
      const error = storeErrorOf(yield* Effect.exit(FileTokenStore.make(directory).set(key, credentials("access-1"))))
      assert.strictEqual(error.operation, "set")
      assert.notInclude(error.message, "access-1")
      assert.deepStrictEqual(filesIn(directory), [FileTokenStore.fileName(key)], "no temporary file is left")
    }))

  it.scoped("remove deletes the file, and a missing file is fine", () =>
    Effect.gen(function*() {
      const directory = yield* tempDirectory
      const store = FileTokenStore.make(directory)
      yield* store.set(key, credentials("access-1"))
      yield* store.remove(key)
      assert.deepStrictEqual(filesIn(directory), [])
      yield* store.remove(key)
      assert.isTrue(Option.isNone(yield* store.get(key)))
    }))

  it.scoped("a corrupt file is a miss with a warning that quotes nothing of the file", () =>
    Effect.gen(function*() {
      const directory = yield* tempDirectory
      const store = FileTokenStore.make(directory)
      const file = path.join(directory, FileTokenStore.fileName(key))
      const corrupt = [
        "garbage",
        `{"accessToken":"leaked-token-1","tokenType":"Bear`,
        `{"accessToken":"leaked-token-2"}`,
        `{"accessToken":12,"tokenType":"Bearer","scopes":[],"tokenEndpoint":"x"}`,
        ""
      ]
      for (const content of corrupt) {
        fs.writeFileSync(file, content)
        const { logs, value } = yield* captureLogs(store.get(key))
        assert.isTrue(Option.isNone(value), `miss for ${JSON.stringify(content)}`)
        assert.strictEqual(logs.length, 1)
        assert.match(logs[0], /^WARN .*does not hold valid credentials/)
        assert.notInclude(logs[0], "leaked-token")
      }
    }))

  it.scoped("an entry that cannot be read (a directory in place of the file) is a TokenStoreError, not a crash", () =>
    Effect.gen(function*() {
      const directory = yield* tempDirectory
      fs.mkdirSync(path.join(directory, FileTokenStore.fileName(key)))
      const store = FileTokenStore.make(directory)
      const error = storeErrorOf(yield* Effect.exit(store.get(key)))
      assert.strictEqual(error.operation, "get")
    }))

  it.scoped("the lease is a 0600 file beside the token file: one of 20 concurrent takers gets it, release removes it", () =>
    Effect.gen(function*() {
      const directory = yield* tempDirectory
      // 20 store values over one directory, as 20 processes would have
      const stores = Array.from({ length: 20 }, () => FileTokenStore.make(directory))
      const leases = yield* Effect.forEach(stores, (store) => store.acquireLease(key, Duration.seconds(10)), {
        concurrency: "unbounded"
      })
      const granted = leases.filter(Option.isSome)
      assert.strictEqual(granted.length, 1)
      const leaseFile = path.join(directory, FileTokenStore.leaseFileName(key))
      assert.deepStrictEqual(filesIn(directory), [path.basename(leaseFile)], "no temporary file is left")
      assert.strictEqual(mode(leaseFile), 0o600)
      assert.deepStrictEqual(Object.keys(JSON.parse(fs.readFileSync(leaseFile, "utf8"))).sort(), ["owner", "until"])
      yield* granted[0].value.release
      assert.deepStrictEqual(filesIn(directory), [])
    }))

  it.scopedLive("a lease file past its time is taken over; removeIf removes the file only when it holds that token", () =>
    Effect.gen(function*() {
      const directory = yield* tempDirectory
      const store = FileTokenStore.make(directory)
      fs.writeFileSync(
        path.join(directory, FileTokenStore.leaseFileName(key)),
        JSON.stringify({ owner: "dead", until: 1 })
      )
      assert.isTrue(Option.isSome(yield* store.acquireLease(key, Duration.seconds(10))))
      yield* store.set(key, credentials("access-2"))
      assert.isFalse(yield* store.removeIf(key, Redacted.make("access-1")))
      assert.isTrue(fs.existsSync(path.join(directory, FileTokenStore.fileName(key))))
      assert.isTrue(yield* store.removeIf(key, Redacted.make("access-2")))
      assert.isFalse(fs.existsSync(path.join(directory, FileTokenStore.fileName(key))))
    }))

  it.scoped("makeWith works over any @effect/platform FileSystem", () =>
    Effect.gen(function*() {
      const directory = yield* tempDirectory
      const store = yield* FileTokenStore.makeWith(directory)
      yield* store.set(key, credentials("access-1"))
      const read = Option.getOrThrow(yield* FileTokenStore.make(directory).get(key))
      assert.strictEqual(Redacted.value(read.accessToken), "access-1")
    }).pipe(Effect.provide(Layer.merge(NodeFileSystem.layer, NodePath.layer))))
})

describe("FileTokenStore with NodeOAuth2.layer", () => {
  it.scopedLive("a second layer lifetime reuses the stored token and makes no token request", () =>
    Effect.gen(function*() {
      const { api, auth } = yield* servers()
      const directory = yield* tempDirectory
      const layer = NodeOAuth2.layer(basicClient(auth.tokenEndpoint, { store: FileTokenStore.make(directory) }))

      const cacheKey = yield* Effect.scoped(
        Effect.gen(function*() {
          assert.strictEqual(yield* get(`${api.url}/hello`), 200)
          return (yield* OAuth2Client.OAuth2Client).cacheKey
        }).pipe(Effect.provide(layer))
      )
      assert.strictEqual(auth.tokenRequests(), 1)
      const file = path.join(directory, FileTokenStore.fileName(cacheKey))
      assert.deepStrictEqual(filesIn(directory), [path.basename(file)])
      assert.strictEqual(mode(file), 0o600)
      assert.notInclude(filesIn(directory).join(" "), "api:read", "the key is not in the file name")

      // A restart: a new layer, a new store value over the same directory.
      const restarted = NodeOAuth2.layer(basicClient(auth.tokenEndpoint, { store: FileTokenStore.make(directory) }))
      yield* Effect.scoped(
        Effect.gen(function*() {
          assert.strictEqual(yield* get(`${api.url}/hello`), 200)
          assert.strictEqual(yield* get(`${api.url}/api/again`), 200)
        }).pipe(Effect.provide(restarted))
      )
      assert.strictEqual(auth.tokenRequests(), 1, "the second lifetime made no token request")
      const seen = api.seenTokens().map(bearer)
      assert.strictEqual(new Set(seen).size, 1, "the same token served both lifetimes")
    }))

  it.scopedLive("two layers over one directory (two store values, as two processes) make one token request", () =>
    Effect.gen(function*() {
      const { api, auth } = yield* servers()
      const directory = yield* tempDirectory
      const burst = Effect.scoped(
        Effect.forEach(Array.from({ length: 50 }), () => get(`${api.url}/hello`), { concurrency: "unbounded" }).pipe(
          Effect.provide(NodeOAuth2.layer(basicClient(auth.tokenEndpoint, { store: FileTokenStore.make(directory) })))
        )
      )
      const [first, second] = yield* Effect.all([burst, burst], { concurrency: "unbounded" })
      assert.isTrue([...first, ...second].every((status) => status === 200))
      assert.strictEqual(auth.tokenRequests(), 1)
      assert.strictEqual(new Set(api.seenTokens()).size, 1)
      assert.deepStrictEqual(filesIn(directory).filter((name) => !name.endsWith(".json")), [], "no lease left")
    }))

  it.scopedLive("a corrupt file is a logged miss: a new token is fetched and the file is rewritten", () =>
    Effect.gen(function*() {
      const { api, auth } = yield* servers()
      const directory = yield* tempDirectory
      const layer = NodeOAuth2.layer(basicClient(auth.tokenEndpoint, { store: FileTokenStore.make(directory) }))
      const run = Effect.scoped(
        Effect.gen(function*() {
          assert.strictEqual(yield* get(`${api.url}/hello`), 200)
          return (yield* OAuth2Client.OAuth2Client).cacheKey
        }).pipe(Effect.provide(layer))
      )

      const cacheKey = yield* run
      const file = path.join(directory, FileTokenStore.fileName(cacheKey))
      fs.writeFileSync(file, "{ this is not json")
      const { logs } = yield* captureLogs(run)
      assert.strictEqual(auth.tokenRequests(), 2)
      assert.isTrue(logs.some((log) => /^WARN .*does not hold valid credentials/.test(log)), logs.join("\n"))
      const rewritten = yield* Schema.decode(Credentials.FromJson)(fs.readFileSync(file, "utf8"))
      assert.strictEqual(`Bearer ${Redacted.value(rewritten.accessToken)}`, api.seenTokens()[1])
      assert.strictEqual(mode(file), 0o600)
      assert.deepStrictEqual(filesIn(directory), [path.basename(file)])
    }))

  it.scopedLive("an unreadable entry does not crash: requests succeed and the store failures are logged", () =>
    Effect.gen(function*() {
      const { api, auth } = yield* servers()
      const directory = yield* tempDirectory
      const options = basicClient(auth.tokenEndpoint, { store: FileTokenStore.make(directory) })
      const { cacheKey } = yield* Effect.provide(
        OAuth2Client.OAuth2Client,
        NodeOAuth2.layer(options)
      ).pipe(Effect.scoped)
      // Running as root, chmod 000 would not stop us reading; a directory in the file's place does.
      const target = path.join(directory, FileTokenStore.fileName(cacheKey))
      fs.mkdirSync(target)
      fs.writeFileSync(path.join(target, "keep"), "")

      const { logs } = yield* captureLogs(Effect.scoped(
        Effect.gen(function*() {
          assert.strictEqual(yield* get(`${api.url}/hello`), 200)
          assert.strictEqual(yield* get(`${api.url}/hello`), 200)
        }).pipe(Effect.provide(NodeOAuth2.layer(options)))
      ))
      assert.strictEqual(auth.tokenRequests(), 1)
      const warnings = logs.filter((log) => log.startsWith("WARN") && log.includes("token store"))
      assert.isTrue(warnings.some((log) => log.includes("get failed")), logs.join("\n"))
      assert.isTrue(warnings.some((log) => log.includes("set failed")), logs.join("\n"))
      assert.isTrue(fs.statSync(target).isDirectory())
      assert.deepStrictEqual(filesIn(directory), [path.basename(target)], "no temporary file is left")
    }))

  it.scopedLive("a stored token past its service life is not used", () =>
    Effect.gen(function*() {
      const { api, auth } = yield* servers()
      const directory = yield* tempDirectory
      const store = FileTokenStore.make(directory)
      const options = basicClient(auth.tokenEndpoint, { store })
      const { cacheKey } = yield* Effect.provide(OAuth2Client.OAuth2Client, NodeOAuth2.layer(options)).pipe(
        Effect.scoped
      )
      const now = Date.now()
      yield* store.set(cacheKey, credentials("stale-token", { issuedAt: now - 600_000, expiresAt: now - 1000 }))
      yield* Effect.scoped(Effect.provide(get(`${api.url}/hello`), NodeOAuth2.layer(options)))
      assert.strictEqual(auth.tokenRequests(), 1)
      assert.notStrictEqual(api.seenTokens()[0], "Bearer stale-token")
      const stored = Option.getOrThrow(yield* store.get(cacheKey))
      assert.notStrictEqual(Redacted.value(stored.accessToken), "stale-token", "the new token replaced it")
    }))

  it.scopedLive("a token refused with 401 invalid_token is replaced in the file too", () =>
    Effect.gen(function*() {
      const { api, auth } = yield* servers()
      const directory = yield* tempDirectory
      const store = FileTokenStore.make(directory)
      yield* Effect.scoped(
        Effect.gen(function*() {
          assert.strictEqual(yield* get(`${api.url}/hello`), 200)
          const { cacheKey } = yield* OAuth2Client.OAuth2Client
          const first = Redacted.value((yield* storedToken(store, cacheKey)).accessToken)
          api.revoke(first)
          assert.strictEqual(yield* get(`${api.url}/hello`), 200)
          const second = Redacted.value((yield* storedToken(store, cacheKey, first)).accessToken)
          assert.notStrictEqual(second, first)
          assert.strictEqual(bearer(api.seenTokens()[2]), second)
        }).pipe(Effect.provide(NodeOAuth2.layer(basicClient(auth.tokenEndpoint, { store }))))
      )
      assert.strictEqual(auth.tokenRequests(), 2)
    }))
})
