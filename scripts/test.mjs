#!/usr/bin/env node
// The README's test command: lint, typecheck, then every vitest project (core, platform-node, cli, testing, redis, and the
// browser project in Chromium), closing with the plain line "N passed, N failed" that CI reads. A failing lint or
// typecheck counts as one failed check each, and the exit code is non-zero when anything failed.
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..")
const tmp = path.join(root, ".ci-tmp")
fs.mkdirSync(tmp, { recursive: true })
const report = path.join(tmp, "vitest.json")
fs.rmSync(report, { force: true })

const run = (label, command, args) => {
  const started = Date.now()
  console.log(`\n▶ ${label}: ${command} ${args.join(" ")}`)
  const result = spawnSync(command, args, { cwd: root, stdio: "inherit", env: process.env })
  const ok = result.status === 0
  console.log(`${ok ? "✔" : "✘"} ${label} (${((Date.now() - started) / 1000).toFixed(1)} s)`)
  return ok
}

// The browser project drives Debian's chromium, the redis project Debian's redis-server. On a fresh Debian
// machine, as root, install what is missing; elsewhere say how.
const chromium = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium"
const onPath = (name) => spawnSync("sh", ["-c", `command -v ${name}`], { stdio: "ignore" }).status === 0
const needed = [
  ...(fs.existsSync(chromium) ? [] : ["chromium"]),
  ...(onPath(process.env.REDIS_SERVER_PATH ?? "redis-server") ? [] : ["redis-server"])
]
if (needed.length > 0) {
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0
  if (isRoot && fs.existsSync("/usr/bin/apt-get")) {
    console.log(`missing: installing Debian's ${needed.join(" and ")} (apt-get install ${needed.join(" ")})`)
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" }
    spawnSync("apt-get", ["update", "-qq"], { stdio: "inherit", env })
    spawnSync("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...needed], { stdio: "inherit", env })
  }
  if (!fs.existsSync(chromium)) {
    console.error(`The browser tests need Chromium at ${chromium}: install Debian's chromium or set CHROMIUM_PATH.`)
  }
  if (!onPath(process.env.REDIS_SERVER_PATH ?? "redis-server")) {
    console.error("The redis tests need redis-server: install Debian's redis-server or set REDIS_SERVER_PATH.")
  }
}

// The mutual-TLS tests make their certificates with Debian's openssl: the same, for a machine without it.
if (spawnSync("openssl", ["version"], { stdio: "ignore" }).status !== 0) {
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0
  if (isRoot && fs.existsSync("/usr/bin/apt-get")) {
    console.log("openssl is missing: installing Debian's openssl (apt-get install openssl)")
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" }
    spawnSync("apt-get", ["update", "-qq"], { stdio: "inherit", env })
    spawnSync("apt-get", ["install", "-y", "-qq", "--no-install-recommends", "openssl"], { stdio: "inherit", env })
  } else {
    console.error("The mutual-TLS tests need openssl: install Debian's openssl.")
  }
}

const extra = process.argv.slice(2)
const lint = run("lint", "npx", ["eslint", "."])
const typecheck = run("typecheck", "npx", ["tsc", "-p", "tsconfig.json"])
const tests = run("tests", "npx", [
  "vitest",
  "run",
  "--reporter=default",
  "--reporter=json",
  `--outputFile.json=${report}`,
  ...extra
])

let passed = 0
let failed = 0
let skipped = 0
if (fs.existsSync(report)) {
  const json = JSON.parse(fs.readFileSync(report, "utf8"))
  passed = json.numPassedTests
  failed = json.numFailedTests
  skipped = json.numPendingTests + json.numTodoTests
  if (!tests && failed === 0) failed = 1 // the run failed outside any test (a suite that did not load)
} else {
  failed = 1
}
if (!lint) failed++
if (!typecheck) failed++

console.log(
  `\nlint: ${lint ? "ok" : "FAILED"}, typecheck: ${typecheck ? "ok" : "FAILED"}, tests: ${tests ? "ok" : "FAILED"}`
)
console.log(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ""}`)
process.exit(lint && typecheck && tests && failed === 0 ? 0 : 1)
