#!/usr/bin/env node
// `npm run mutate [-- <part> ...] [--force] [--retest-timeouts] [--list]`: StrykerJS over packages/core/src, one run per part of
// stryker.config.mjs (all parts by default), then one merged report and the survivors list:
//
// - reports/mutation/parts/<part>.json: each part's Stryker report (not committed);
// - reports/mutation/parts/<part>.incremental.json.gz: each part's incremental state, committed, so that the next
//   run (on any machine) re-tests only the mutants whose code or covering tests changed (`--force`: all of them);
// - reports/mutation/mutation.json: the parts' reports merged (not committed);
// - reports/mutation/survivors.md: the score per file and each survivor with its reason (committed).
//
// `--retest-timeouts` forgets the timed-out mutants of the chosen parts' incremental state, so they are tested again
// (a run on a loaded machine can time a slow survivor out, and a timeout counts as detected).
//
// A part that fails stops the script; the parts finished before it keep their reports and state.
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import * as zlib from "node:zlib"
import { coreSources, parts } from "../stryker.config.mjs"

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..")
const dir = path.join(root, "reports/mutation/parts")
const args = process.argv.slice(2)
const force = args.includes("--force")
const retestTimeouts = args.includes("--retest-timeouts")
const chosen = args.filter((arg) => !arg.startsWith("--"))
for (const part of chosen) {
  if (!(part in parts)) {
    console.error(`unknown part ${JSON.stringify(part)}: one of ${Object.keys(parts).join(", ")}`)
    process.exit(2)
  }
}

// Every source file in exactly one part, so the merged report covers all of packages/core/src.
const sources = coreSources()
const matches = (pattern, file) =>
  pattern.endsWith("/*.ts")
    ? file.startsWith(pattern.slice(0, -"*.ts".length)) && !file.slice(pattern.length - 4).includes("/")
    : file === pattern
for (const file of sources) {
  const owners = Object.entries(parts).filter(([, patterns]) => patterns.some((pattern) => matches(pattern, file)))
  if (owners.length !== 1) {
    console.error(`packages/core/src/${file} is in ${owners.length} parts of stryker.config.mjs; it must be in one`)
    process.exit(2)
  }
}

if (args.includes("--list")) {
  for (const [part, patterns] of Object.entries(parts)) console.log(`${part}: ${patterns.join(", ")}`)
  process.exit(0)
}

fs.mkdirSync(dir, { recursive: true })
const started = Date.now()
for (const part of chosen.length > 0 ? chosen : Object.keys(parts)) {
  const state = path.join(dir, `${part}.incremental.json`)
  if (fs.existsSync(`${state}.gz`)) {
    const report = JSON.parse(zlib.gunzipSync(fs.readFileSync(`${state}.gz`)).toString("utf8"))
    if (retestTimeouts) {
      let forgotten = 0
      for (const file of Object.values(report.files)) {
        const before = file.mutants.length
        file.mutants = file.mutants.filter((mutant) => mutant.status !== "Timeout")
        forgotten += before - file.mutants.length
      }
      console.log(`part ${part}: ${forgotten} timed-out mutants to test again`)
    }
    fs.writeFileSync(state, JSON.stringify(report))
  }
  console.log(`\n=== part ${part}: ${parts[part].join(", ")}`)
  const partStarted = Date.now()
  const run = spawnSync("npx", ["stryker", "run", ...(force ? ["--force"] : [])], {
    cwd: root,
    stdio: "inherit",
    env: { ...process.env, MUTATE_PART: part }
  })
  if (run.status !== 0) {
    console.error(`part ${part}: stryker exited with ${run.status ?? run.signal}`)
    process.exit(1)
  }
  fs.writeFileSync(`${state}.gz`, zlib.gzipSync(fs.readFileSync(state), { level: 9 }))
  fs.rmSync(state)
  console.log(`=== part ${part}: ${Math.round((Date.now() - partStarted) / 1000)} s`)
}

// One report of all the parts that have one.
const reports = Object.keys(parts)
  .map((part) => path.join(dir, `${part}.json`))
  .filter((file) => fs.existsSync(file))
const merged = reports.reduce((into, file) => {
  const report = JSON.parse(fs.readFileSync(file, "utf8"))
  if (into === undefined) return report
  Object.assign(into.files, report.files)
  Object.assign(into.testFiles ?? {}, report.testFiles ?? {})
  return into
}, undefined)
if (merged !== undefined) {
  fs.writeFileSync(path.join(root, "reports/mutation/mutation.json"), JSON.stringify(merged))
  spawnSync("node", [path.join(root, "scripts/survivors.mjs"), "reports/mutation/mutation.json"], {
    cwd: root,
    stdio: "inherit"
  })
}
console.log(`mutate: ${Math.round((Date.now() - started) / 1000)} s`)
