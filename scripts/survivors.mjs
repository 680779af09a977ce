#!/usr/bin/env node
// `npm run mutate:survivors`: reads Stryker's JSON report (reports/mutation/mutation.json, written by
// `npm run mutate`) and rewrites reports/mutation/survivors.md: the score per file, then every mutant that survived
// (or that no test covers), grouped by file, one line each with the reason it is left alone.
//
// The reasons are kept across runs: each line is keyed by file, mutator, original code and replacement (not by line
// number, which moves when the code above it changes), so a re-run after a change keeps the reasons of the
// survivors that are still there and marks new ones "TODO". Write a reason after the "—" of a line.
//
// Several reports can be given (`npm run mutate:survivors -- a.json b.json`), e.g. from runs over parts of the
// sources (`npm run mutate -- --mutate <files>`, each report copied aside, or a config file that imports
// stryker.config.mjs and sets `mutate` and `jsonReporter.fileName`): their files are merged, and a file in a later
// report replaces the same file of an earlier one. `--out <file>` writes the list elsewhere (its reasons are read
// from that file).
import * as fs from "node:fs"
import * as path from "node:path"
import { coreSources } from "../stryker.config.mjs"

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..")
const args = process.argv.slice(2)
const outAt = args.indexOf("--out")
const outFile = path.resolve(root, outAt === -1 ? "reports/mutation/survivors.md" : args[outAt + 1])
if (outAt !== -1) args.splice(outAt, 2)
const reportFiles = (args.length > 0 ? args : ["reports/mutation/mutation.json"]).map((file) =>
  path.resolve(root, file)
)

const report = { files: {} }
for (const reportFile of reportFiles) {
  if (!fs.existsSync(reportFile)) {
    console.error(`${path.relative(root, reportFile)} not found: run \`npm run mutate\` first.`)
    process.exit(1)
  }
  const { files } = JSON.parse(fs.readFileSync(reportFile, "utf8"))
  for (const [file, entry] of Object.entries(files)) report.files[path.relative(root, path.resolve(root, file))] = entry
}
const sources = reportFiles.map((file) => `\`${path.relative(root, file)}\``).join(", ")

const oneLine = (text) => text.replace(/\s+/g, " ").trim()
const clip = (text, max = 70) => (text.length > max ? `${text.slice(0, max - 1)}…` : text)
const original = (source, location) => {
  const lines = source.split("\n")
  const { end, start } = location
  if (start.line === end.line) return lines[start.line - 1].slice(start.column - 1, end.column - 1)
  return [
    lines[start.line - 1].slice(start.column - 1),
    ...lines.slice(start.line, end.line - 1),
    lines[end.line - 1].slice(0, end.column - 1)
  ].join("\n")
}
const keyOf = (file, mutator, from, to) => `${file} | ${mutator} | ${oneLine(from)} → ${oneLine(to)}`

// The reasons written so far, by key (the text between the backticks of a line, then "— reason").
// The lines of files this report has no result for are kept as they are, in a last section, so that a run over
// part of the sources does not lose the reasons written for the rest.
const reasons = new Map()
const carried = []
if (fs.existsSync(outFile)) {
  for (const line of fs.readFileSync(outFile, "utf8").split("\n")) {
    const match = /^- L\d+ <!-- (.+?) --> .*? — (.+)$/.exec(line)
    if (match === null) continue
    if (!match[2].startsWith("TODO")) reasons.set(match[1], match[2])
    if (!(match[1].split(" | ")[0] in report.files)) carried.push(line)
  }
}

const detected = new Set(["Killed", "Timeout"])
const undetected = new Set(["Survived", "NoCoverage"])
const rows = []
const sections = []
const totals = { killed: 0, survived: 0, valid: 0, ignored: 0, invalid: 0 }
for (const [file, { mutants, source }] of Object.entries(report.files).sort(([a], [b]) => a.localeCompare(b))) {
  const relative = path.relative(root, path.resolve(root, file))
  const count = { killed: 0, survived: 0, ignored: 0, invalid: 0 }
  const lines = []
  // Identical mutants (same mutator, code and replacement) at several places of a file: the second is keyed
  // "<key> #2", and so on, counted over all the file's mutants in source order, so that each can have its own
  // reason; one without its own reason takes the first one's.
  const occurrences = new Map()
  const inOrder = [...mutants].sort((a, b) =>
    a.location.start.line - b.location.start.line || a.location.start.column - b.location.start.column
  )
  for (const mutant of inOrder) {
    const from = original(source, mutant.location)
    const to = mutant.replacement ?? mutant.mutatorName
    const base = keyOf(relative, mutant.mutatorName, from, to)
    const nth = (occurrences.get(base) ?? 0) + 1
    occurrences.set(base, nth)
    if (detected.has(mutant.status)) count.killed++
    else if (undetected.has(mutant.status)) {
      count.survived++
      const key = nth === 1 ? base : `${base} #${nth}`
      const reason = reasons.get(key) ?? reasons.get(base) ?? "TODO: why it is equivalent or not worth a test"
      const what = `${mutant.mutatorName}${mutant.status === "NoCoverage" ? " (no test covers it)" : ""}`
      lines.push(
        `- L${mutant.location.start.line} <!-- ${key} --> ${what}: \`${clip(oneLine(from))}\` → \`${
          clip(oneLine(to))
        }\` — ${reason}`
      )
    } else if (mutant.status === "Ignored") count.ignored++
    else count.invalid++ // CompileError, RuntimeError
  }
  const valid = count.killed + count.survived
  totals.killed += count.killed
  totals.survived += count.survived
  totals.valid += valid
  totals.ignored += count.ignored
  totals.invalid += count.invalid
  rows.push(
    `| ${relative} | ${
      valid === 0 ? "n/a" : ((100 * count.killed) / valid).toFixed(1)
    } | ${count.killed} | ${count.survived} | ${count.ignored} |`
  )
  if (lines.length > 0) sections.push(`### ${relative}\n\n${lines.join("\n")}\n`)
}

// The sources of packages/core/src (but the re-exports of index.ts) that the report has no result for.
const missing = coreSources()
  .map((file) => `packages/core/src/${file}`)
  .filter((file) => !(file in report.files))

const score = totals.valid === 0 ? 0 : (100 * totals.killed) / totals.valid
const todo = sections.join("\n").split("\n").filter((line) => line.includes("— TODO")).length
const text = `# Surviving mutants

Written by \`npm run mutate:survivors\` from ${sources} (\`npm run mutate\`). Each survivor
has one line: where, the mutator, the original code → the mutant, and — after the dash — why it is left alone
(equivalent, or not worth a test). The reasons are kept when the file is regenerated; a new survivor reads "TODO".

Score (killed + timed out ÷ valid): **${
  score.toFixed(1)
} %** — ${totals.killed} detected, ${totals.survived} undetected,
${totals.ignored} ignored (static), ${totals.invalid} invalid.

${
  missing.length === 0
    ? "Every source file of packages/core/src is in the report."
    : `Not in the report (not measured yet), ${missing.length} files: ${
      missing.map((file) => `\`${file}\``).join(", ")
    }.`
}

| file | score % | detected | undetected | ignored |
|---|---|---|---|---|
${rows.join("\n")}

## Survivors

${sections.join("\n")}${
  carried.length === 0 ? "" : `
## From earlier runs, for files not in this report

${[...new Set(carried)].join("\n")}
`
}`
fs.writeFileSync(outFile, text)
console.log(
  `${path.relative(root, outFile)}: score ${score.toFixed(1)} % (${totals.killed}/${totals.valid}), ` +
    `${totals.survived} survivors${todo > 0 ? `, ${todo} without a reason yet` : ""}`
)
