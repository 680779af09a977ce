/**
 * A fleet of real Node processes (member.ts), each with its own authenticated client, driven over IPC. Every wait
 * is bounded, and `close()` ends every process (SIGKILL for one that does not exit).
 *
 * member.ts is bundled once with esbuild (the compiler tsx itself uses) into one CommonJS file that plain `node`
 * runs: a process then starts in under a second, where loading the TypeScript sources through tsx's loader took
 * 5 to 10 s per process on a busy 2-core machine.
 */
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { type ChildProcess, fork } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import type { CallStats, Command, MemberConfig, Ready, Reply } from "./protocol.js"

const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.resolve(here, "../../../..")

/** Bundles member.ts into a temporary directory; returns the file and a function that removes the directory. */
const bundle = async (): Promise<{ readonly file: string; readonly remove: () => void }> => {
  const { build } = await import("esbuild")
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "effect-oauth2-fleet-"))
  const file = path.join(dir, "member.cjs")
  await build({
    entryPoints: [path.join(here, "member.ts")],
    absWorkingDir: root,
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node20",
    outfile: file,
    logLevel: "warning"
  })
  return { file, remove: () => fs.rmSync(dir, { recursive: true, force: true }) }
}

type Request = Command extends infer C ? C extends { readonly id: number } ? Omit<C, "id"> : never : never

export interface Member {
  readonly index: number
  readonly pid: number
  readonly alive: () => boolean
  /** Everything the process wrote to stdout and stderr. */
  readonly output: () => string
  readonly kill: (signal: NodeJS.Signals) => Promise<void>
  readonly configure: (config: MemberConfig) => Promise<void>
  readonly burst: (n: number) => Promise<CallStats>
  readonly run: (concurrency: number, pauseMs: number) => Promise<void>
  readonly stop: () => Promise<CallStats>
}

export interface Fleet {
  readonly members: ReadonlyArray<Member>
  /** The living members. */
  readonly alive: () => ReadonlyArray<Member>
  /** Replaces a dead member with a new process. */
  readonly respawn: (index: number) => Promise<Member>
  readonly close: () => Promise<void>
}

const withTimeout = <A>(promise: Promise<A>, ms: number, what: string): Promise<A> => {
  let timer: ReturnType<typeof setTimeout> | undefined
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)
    })
  ]).finally(() => clearTimeout(timer))
}

const spawnMember = async (script: string, index: number): Promise<Member & { readonly process: ChildProcess }> => {
  const child = fork(script, [], {
    cwd: root,
    execArgv: [],
    env: { ...process.env, FLEET_MEMBER: String(index), NODE_OPTIONS: "" },
    stdio: ["ignore", "pipe", "pipe", "ipc"]
  })
  let output = ""
  child.stdout?.on("data", (chunk) => {
    output += chunk.toString()
  })
  child.stderr?.on("data", (chunk) => {
    output += chunk.toString()
  })
  let exited = false
  const exit = new Promise<void>((resolve) =>
    child.once("exit", () => {
      exited = true
      resolve()
    })
  )
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>()
  let nextId = 0
  const earlyExit = (code: number | null) =>
    rejectReady(new Error(`fleet member ${index} exited early (${code}): ${output}`))
  let rejectReady: (error: Error) => void = () => undefined
  const ready = withTimeout(
    new Promise<Ready>((resolve, reject) => {
      rejectReady = reject
      child.once("error", reject)
      child.once("exit", earlyExit)
      child.on("message", (message: Ready | Reply) => {
        if ("ready" in message) return resolve(message)
        const waiter = pending.get(message.id)
        pending.delete(message.id)
        if (message.ok) waiter?.resolve(message.result)
        else waiter?.reject(new Error(`fleet member ${index}: ${message.error}`))
      })
    }),
    60_000,
    `fleet member ${index} start`
  )
  void exit.then(() => {
    for (const waiter of pending.values()) waiter.reject(new Error(`fleet member ${index} exited: ${output}`))
    pending.clear()
  })
  try {
    await ready
  } catch (error) {
    child.kill("SIGKILL")
    throw error
  }
  child.off("exit", earlyExit)
  const send = <A>(request: Request, ms = 60_000): Promise<A> =>
    withTimeout(
      new Promise<A>((resolve, reject) => {
        if (exited) return reject(new Error(`fleet member ${index} is not running`))
        const id = nextId++
        pending.set(id, { resolve: resolve as (value: unknown) => void, reject })
        child.send({ ...request, id })
      }),
      ms,
      `fleet member ${index} ${request.op}`
    )
  return {
    index,
    pid: child.pid!,
    process: child,
    alive: () => !exited,
    output: () => output,
    kill: async (signal) => {
      if (exited) return
      child.kill(signal)
      await withTimeout(exit, 10_000, `fleet member ${index} ${signal}`)
    },
    configure: (config) => send({ op: "configure", config }),
    burst: (n) => send({ op: "burst", n }),
    run: (concurrency, pauseMs) => send({ op: "run", concurrency, pauseMs }),
    stop: () => send({ op: "stop" }),
    close: async () => {
      if (exited) return
      await send({ op: "exit" }, 10_000).catch(() => undefined)
      await withTimeout(exit, 5_000, "exit").catch(() => child.kill("SIGKILL"))
    }
  } as Member & { readonly process: ChildProcess; readonly close: () => Promise<void> }
}

/** Starts `size` members (in parallel); if one fails to start, the others are stopped. */
export const startFleet = async (size: number): Promise<Fleet> => {
  const { file, remove } = await bundle()
  const started = await Promise.allSettled(Array.from({ length: size }, (_, i) => spawnMember(file, i)))
  const members = started.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []))
  const closeAll = () =>
    Promise.all(members.map((m) => (m as unknown as { close: () => Promise<void> }).close())).then(remove)
  const failure = started.find((r) => r.status === "rejected")
  if (failure !== undefined) {
    await closeAll()
    throw (failure as PromiseRejectedResult).reason
  }
  return {
    members,
    alive: () => members.filter((m) => m.alive()),
    respawn: async (index) => {
      const member = await spawnMember(file, index)
      members[index] = member
      return member
    },
    close: closeAll
  }
}

/** A fleet for the scope: closed, every process ended, when the scope closes. */
export const fleet = (size: number): Effect.Effect<Fleet, never, Scope.Scope> =>
  Effect.acquireRelease(Effect.promise(() => startFleet(size)), (f) => Effect.promise(() => f.close()))

/** Every member at once (the point of a fleet test): resolves when all have answered. */
export const all = <A>(members: ReadonlyArray<Member>, f: (member: Member) => Promise<A>): Promise<Array<A>> =>
  Promise.all(members.map(f))
