/**
 * A `redis-server` (Debian's) of the test's own, on 127.0.0.1 and a random port, with persistence off: nothing
 * is written to disk, and a restart starts empty. It can be stopped and started again on the same port (an outage),
 * and is stopped for good by `close()`; a process exit kills it too.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"

export interface RedisServer {
  /** `redis://127.0.0.1:<port>` */
  readonly url: string
  readonly port: number
  /** Runs `redis-cli -h 127.0.0.1 -p <port> <args>` and returns its output (trimmed). */
  cli(...args: ReadonlyArray<string>): Promise<string>
  /** Stops the server (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>
  /** Starts it again on the same port, empty, and waits until it answers PING. */
  start(): Promise<void>
  /** Whether it is running. */
  running(): boolean
  /** Stops it if it runs and removes its directory. Idempotent. */
  close(): Promise<void>
}

const binary = process.env.REDIS_SERVER_PATH ?? "redis-server"
const cliBinary = process.env.REDIS_CLI_PATH ?? "redis-cli"

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      server.close(() => typeof address === "object" && address !== null ? resolve(address.port) : reject())
    })
  })

/** Resolves when the server answers PING, rejects after `ms`. */
const awaitPong = async (port: number, ms: number): Promise<void> => {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, "127.0.0.1")
      socket.setTimeout(500)
      let data = ""
      socket.on("connect", () => socket.write("PING\r\n"))
      socket.on("data", (chunk) => {
        data += chunk.toString()
        if (data.includes("PONG")) {
          socket.destroy()
          resolve(true)
        }
      })
      socket.on("error", () => resolve(false))
      socket.on("timeout", () => {
        socket.destroy()
        resolve(false)
      })
    })
    if (ok) return
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  throw new Error(`redis-server on port ${port} did not answer PING within ${ms} ms`)
}

const live = new Set<ChildProcess>()
let exitHookInstalled = false
const installExitHook = () => {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.once("exit", () => {
    for (const child of live) child.kill("SIGKILL")
  })
}

/** Starts a redis-server; fails with a message saying what to install when the binary is missing. */
export const startRedisServer = async (): Promise<RedisServer> => {
  installExitHook()
  const port = await freePort()
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "effect-oauth2-redis-"))
  let child: ChildProcess | undefined
  let exited: Promise<void> = Promise.resolve()

  const start = async () => {
    if (child !== undefined) return
    const spawned = spawn(binary, [
      "--bind",
      "127.0.0.1",
      "--port",
      String(port),
      "--save",
      "",
      "--appendonly",
      "no",
      "--daemonize",
      "no",
      "--dir",
      dir,
      "--loglevel",
      "warning"
    ], { stdio: ["ignore", "ignore", "pipe"] })
    child = spawned
    live.add(spawned)
    let stderr = ""
    spawned.stderr?.on("data", (chunk) => {
      stderr += chunk.toString()
    })
    const failed = new Promise<never>((_, reject) => {
      spawned.once("error", (error: NodeJS.ErrnoException) =>
        reject(
          error.code === "ENOENT"
            ? new Error(`${binary} not found: install Debian's redis-server (apt-get install redis-server)`)
            : error
        ))
      spawned.once("exit", (code) => reject(new Error(`redis-server exited (${code}): ${stderr}`)))
    })
    exited = new Promise((resolve) =>
      spawned.once("exit", () => {
        live.delete(spawned)
        resolve()
      })
    )
    try {
      await Promise.race([awaitPong(port, 10_000), failed])
    } catch (error) {
      spawned.kill("SIGKILL")
      child = undefined
      throw error
    }
    failed.catch(() => undefined)
  }

  const stop = async () => {
    if (child === undefined) return
    const stopping = child
    child = undefined
    stopping.kill("SIGTERM")
    const timer = setTimeout(() => stopping.kill("SIGKILL"), 5_000)
    await exited
    clearTimeout(timer)
  }

  await start()
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    cli: (...args) =>
      new Promise((resolve, reject) =>
        execFile(
          cliBinary,
          ["-h", "127.0.0.1", "-p", String(port), ...args],
          { timeout: 10_000 },
          (error, out) => error ? reject(error) : resolve(out.trim())
        )
      ),
    stop,
    start,
    running: () => child !== undefined,
    close: async () => {
      await stop()
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }
}
