/**
 * `npm run bench`: starts the loopback token endpoint and API (servers.ts, in a child process), runs every
 * scenario, prints a table and writes bench/results.json. `BENCH_ONLY=overhead,rotation npm run bench` runs some
 * scenarios only, as does `npm run bench -- overhead rotation` (neither writes results.json, unless `--write` is
 * given: then their sections replace those of results.json and the run is listed in `partialRuns`). See
 * bench/README.md.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import { performance } from "node:perf_hooks"
import * as clientAuth from "./clientAuth.js"
import * as coldBurst from "./coldBurst.js"
import * as dpop from "./dpop.js"
import * as fleet from "./fleet.js"
import * as grant from "./grant.js"
import { startServers } from "./lib.js"
import * as memory from "./memory.js"
import * as overhead from "./overhead.js"
import { type Row, table } from "./report.js"
import * as rotation from "./rotation.js"
import * as tenants from "./tenants.js"

type Name =
  | "overhead"
  | "coldBurst"
  | "rotation"
  | "grant"
  | "memory"
  | "clientAuth"
  | "dpop"
  | "fleet"
  | "tenants"

// `npm run bench -- grant overhead` or `BENCH_ONLY=grant,overhead npm run bench`: those scenarios only.
// `--write` with some scenarios: their sections replace those of results.json, the others are kept.
const write = process.argv.includes("--write")
const named = process.argv.slice(2).filter((arg) => arg !== "--write").flatMap((arg) => arg.split(","))
  .map((s) => s.trim()).filter((s) => s.length > 0)
const only = named.length > 0
  ? named
  : process.env.BENCH_ONLY?.split(",").map((s) => s.trim()).filter((s) => s.length > 0)
const selected = (name: Name) => only === undefined || only.includes(name)

const main = async () => {
  const started = performance.now()
  const cpus = os.cpus()
  const machine = {
    node: process.version,
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? "unknown",
    date: new Date().toISOString(),
    /** The 1-minute load average when the run started: above ~0.5 × cpus, other work skews every figure. */
    loadAverageAtStart: Math.round(os.loadavg()[0] * 100) / 100
  }
  console.log(`effect-oauth2 bench: Node ${machine.node}, ${machine.cpus} × ${machine.cpuModel}, ${machine.date}`)
  if (machine.loadAverageAtStart > machine.cpus / 2) {
    console.log(`  note: load average ${machine.loadAverageAtStart} on ${machine.cpus} CPUs; figures will be noisy`)
  }

  const servers = await startServers()
  const results: Record<string, unknown> = { ...machine }
  const rows: Array<Row> = []
  const step = async <A>(name: string, f: () => Promise<A>): Promise<A> => {
    const t = performance.now()
    process.stdout.write(`  ${name} ... `)
    const result = await f()
    console.log(`${((performance.now() - t) / 1000).toFixed(1)} s`)
    return result
  }
  try {
    if (selected("overhead")) {
      const r = await step("overhead", () => overhead.run(servers))
      results.overhead = r.figures
      rows.push(...r.rows)
    }
    if (selected("coldBurst")) {
      const r = await step("cold burst", () => coldBurst.run(servers))
      results.coldBurst = r.figures
      rows.push(...r.rows)
    }
    if (selected("rotation")) {
      const r = await step("rotation", () => rotation.run(servers))
      results.rotation = r.figures
      rows.push(...r.rows)
    }
    if (selected("grant")) {
      const r = await step("grant and cached path", () => grant.run(servers))
      results.grant = r.grant.figures
      results.cached = r.cached.figures
      rows.push(...r.grant.rows, ...r.cached.rows)
    }
    if (selected("memory")) {
      const r = await step("memory", () => memory.run(servers))
      results.memory = r.figures
      rows.push(...r.rows)
    }
    if (selected("clientAuth")) {
      const r = await step("client authentication", () => clientAuth.run())
      results.clientAuth = r.figures
      rows.push(...r.rows)
    }
    if (selected("dpop")) {
      const r = await step("dpop", () => dpop.run(servers))
      results.dpop = r.figures
      // The per-request cost of DPoP against Bearer, beside the other overhead figures.
      results.overhead = {
        ...(results.overhead as Record<string, unknown> | undefined),
        dpopMicrosPerRequest: r.figures.dpopOverheadMicrosPerRequest
      }
      rows.push(...r.rows)
    }
    if (selected("fleet")) {
      const r = await step("fleet", () => fleet.run(servers))
      results.fleet = r.figures
      rows.push(...r.rows)
    }
    if (selected("tenants")) {
      const r = await step("tenants", () => tenants.run(servers))
      results.tenants = r.figures
      rows.push(...r.rows)
    }
  } finally {
    await servers.close()
  }

  const seconds = (performance.now() - started) / 1000
  results.durationSeconds = Math.round(seconds * 10) / 10
  results.loadAverageAtEnd = Math.round(os.loadavg()[0] * 100) / 100
  console.log()
  console.log(table(rows))
  console.log()
  const misses = rows.filter((row) => row.ok === false)
  console.log(
    `${rows.filter((row) => row.ok === true).length} goals met, ${misses.length} missed; ` +
      `total ${seconds.toFixed(1)} s`
  )
  const file = new URL("./results.json", import.meta.url)
  if (only === undefined) {
    fs.writeFileSync(file, JSON.stringify(results, null, 2) + "\n")
    console.log(`wrote ${file.pathname}`)
  } else if (write) {
    const previous = JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>
    const { cpuModel, cpus, date, durationSeconds, loadAverageAtEnd, loadAverageAtStart, node, ...sections } = results
    const runs = Array.isArray(previous.partialRuns) ? previous.partialRuns : []
    // `dpop` alone adds overhead.dpopMicrosPerRequest to the overhead figures measured before.
    const overheadSection = "overhead" in sections && !only.includes("overhead")
      ? {
        overhead: { ...(previous.overhead as Record<string, unknown> | undefined), ...(sections.overhead as object) }
      }
      : {}
    const merged = {
      ...previous,
      ...sections,
      ...overheadSection,
      partialRuns: [...runs, {
        scenarios: only,
        node,
        cpus,
        cpuModel,
        date,
        durationSeconds,
        loadAverageAtStart,
        loadAverageAtEnd
      }]
    }
    fs.writeFileSync(file, JSON.stringify(merged, null, 2) + "\n")
    console.log(`merged ${only.join(", ")} into ${file.pathname}`)
  }
}

main().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
