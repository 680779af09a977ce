/** Rows of the printed table. */

export interface Row {
  readonly scenario: string
  readonly figure: string
  readonly value: string
  /** The goal, as text; absent for figures given for context. */
  readonly goal?: string
  readonly ok?: boolean
}

export interface ScenarioResult<A> {
  readonly figures: A
  readonly rows: ReadonlyArray<Row>
}

export const fmt = (value: number, digits = 0): string =>
  Number.isFinite(value)
    ? value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits })
    : String(value)

export const bytes = (value: number): string => {
  const abs = Math.abs(value)
  return abs >= 1024 * 1024
    ? `${fmt(value / (1024 * 1024), 2)} MiB`
    : abs >= 1024
    ? `${fmt(value / 1024, 1)} KiB`
    : `${fmt(value)} B`
}

export const table = (rows: ReadonlyArray<Row>): string => {
  const header = ["scenario", "figure", "value", "goal", ""]
  const cells = rows.map((row) => [
    row.scenario,
    row.figure,
    row.value,
    row.goal ?? "",
    row.ok === undefined ? "" : row.ok ? "ok" : "MISS"
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)))
  const line = (c: ReadonlyArray<string>) =>
    c.map((cell, i) => (i === 2 ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join("  ").trimEnd()
  const out = [line(header), widths.map((w) => "-".repeat(w)).join("  ")]
  let last = ""
  for (const c of cells) {
    out.push(line(c[0] === last ? ["", ...c.slice(1)] : c))
    last = c[0]
  }
  return out.join("\n")
}
