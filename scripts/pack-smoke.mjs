#!/usr/bin/env node
// `npm run pack:smoke`: the CLI as a user installs it. Builds the packages, packs core, platform-node and cli with
// `npm pack`, installs the three tarballs into a new project in a temporary folder (the other dependencies come from
// the npm registry), and runs `npx effect-oauth2` there: `--version`, and `token` without configuration, which must
// exit 2 naming the variable. Not part of `npm test`: it needs the registry and takes about a minute.
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..")
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "effect-oauth2-pack-"))
const tarballs = path.join(dir, "tarballs")
const project = path.join(dir, "project")
fs.mkdirSync(tarballs)
fs.mkdirSync(project)

const run = (command, args, cwd, env = process.env) => {
  const result = spawnSync(command, args, { cwd, env, encoding: "utf8" })
  return { code: result.status, stdout: result.stdout ?? "", stderr: result.stderr ?? "" }
}
const must = (label, result) => {
  if (result.code !== 0) throw new Error(`${label} failed (exit ${result.code}):\n${result.stderr}`)
  return result
}

try {
  must("npm run build", run("npm", ["run", "build"], root))
  for (const name of ["core", "platform-node", "cli"]) {
    must(`npm pack ${name}`, run("npm", ["pack", "--pack-destination", tarballs], path.join(root, "packages", name)))
  }
  must("npm init", run("npm", ["init", "-y"], project))
  const files = fs.readdirSync(tarballs).map((file) => path.join(tarballs, file))
  must("npm install", run("npm", ["install", "--no-audit", "--no-fund", ...files], project))

  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("OAUTH2_")))
  const version = must("npx effect-oauth2 --version", run("npx", ["effect-oauth2", "--version"], project, env))
  const unconfigured = run("npx", ["effect-oauth2", "token"], project, env)
  const checks = [
    ["--version prints a version", /^\d+\.\d+\.\d+/.test(version.stdout.trim())],
    ["token without configuration exits 2", unconfigured.code === 2],
    ["and names OAUTH2_TOKEN_URL on stderr", unconfigured.stderr.includes("OAUTH2_TOKEN_URL")],
    ["and prints nothing on stdout", unconfigured.stdout === ""]
  ]
  for (const [label, ok] of checks) console.log(`${ok ? "✔" : "✘"} ${label}`)
  process.exitCode = checks.every(([, ok]) => ok) ? 0 : 1
} catch (error) {
  console.error(error instanceof Error ? error.message : error)
  process.exitCode = 1
} finally {
  fs.rmSync(dir, { recursive: true, force: true })
}
