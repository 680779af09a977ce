/**
 * Extracts the TypeScript blocks of README files and typechecks them with the repository's compiler options, in
 * memory (nothing is written), reporting each error by README, block number and README line.
 *
 * Fence markers (the words after the language):
 * - ```` ```ts ````: a module of its own; it must compile alone (its imports included).
 * - ```` ```ts continued ````: appended to the block before it (a recipe that uses the setup above it).
 * - ```` ```ts fragment ````: not compiled (a shape, a diff, an excerpt); use sparingly.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import ts from "typescript"

export interface Block {
  /** 1-based, counting the README's TypeScript blocks (fragments included). */
  readonly index: number
  /** The README line of the block's first code line (1-based). */
  readonly line: number
  readonly code: string
  readonly marker: "module" | "continued" | "fragment"
}

const fence = /^```(\S*)\s*(.*)$/

/** The TypeScript blocks of a markdown text, in order. */
export const extract = (markdown: string): ReadonlyArray<Block> => {
  const lines = markdown.split("\n")
  const blocks: Array<Block> = []
  let count = 0
  for (let i = 0; i < lines.length; i++) {
    const open = fence.exec(lines[i])
    if (open === null) continue
    const end = lines.findIndex((line, j) => j > i && /^```\s*$/.test(line))
    if (end === -1) break
    const language = open[1].toLowerCase()
    if (language === "ts" || language === "typescript") {
      const words = open[2].split(/\s+/)
      blocks.push({
        index: ++count,
        line: i + 2,
        code: lines.slice(i + 1, end).join("\n"),
        marker: words.includes("fragment") ? "fragment" : words.includes("continued") ? "continued" : "module"
      })
    }
    i = end
  }
  return blocks
}

interface Segment {
  readonly block: Block
  /** The file line (0-based) where the block starts. */
  readonly offset: number
}

interface Unit {
  readonly readme: string
  readonly fileName: string
  readonly text: string
  readonly segments: ReadonlyArray<Segment>
}

/** Groups blocks into compilation units: a module, followed by the blocks that continue it. */
const units = (readme: string, blocks: ReadonlyArray<Block>, dir: string): Array<Unit> => {
  const result: Array<{ readme: string; fileName: string; parts: Array<Block> }> = []
  for (const block of blocks) {
    if (block.marker === "fragment") continue
    const last = result[result.length - 1]
    if (block.marker === "continued" && last !== undefined) last.parts.push(block)
    else {
      const id = readme.replace(/[^\w]+/g, "_")
      result.push({ readme, fileName: path.join(dir, `${id}.block${block.index}.ts`), parts: [block] })
    }
  }
  return result.map(({ fileName, parts, readme }) => {
    let text = ""
    const segments: Array<Segment> = []
    for (const block of parts) {
      segments.push({ block, offset: text.split("\n").length - 1 })
      text += `${block.code}\n`
    }
    // A module of its own even without imports, so that top-level names of different blocks never collide.
    return { readme, fileName, text: `${text}export {}\n`, segments }
  })
}

export interface Failure {
  readonly readme: string
  readonly block: number
  readonly line: number
  readonly message: string
}

/** Renders a failure the way a reader looks for it: which README, which block, which line. */
export const format = (failure: Failure): string =>
  `${failure.readme}, TypeScript block ${failure.block} (line ${failure.line}): ${failure.message}`

/**
 * Typechecks the blocks of the given READMEs (name → markdown) with the options of `tsconfig.json` at `root`,
 * as files in `root` (so packages and path aliases resolve as they do for the sources).
 */
export const typecheck = (root: string, readmes: ReadonlyArray<readonly [string, string]>): ReadonlyArray<Failure> => {
  const configPath = path.join(root, "tsconfig.json")
  const parsed = ts.getParsedCommandLineOfConfigFile(configPath, {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
      throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n"))
    }
  })!
  // A snippet declares what it shows; an unused name in it is no mistake.
  const options: ts.CompilerOptions = {
    ...parsed.options,
    noEmit: true,
    noUnusedLocals: false,
    noUnusedParameters: false
  }
  const dir = path.join(root, ".readme-blocks")
  const all = readmes.flatMap(([name, markdown]) => units(name, extract(markdown), dir))
  const byFile = new Map(all.map((unit) => [path.resolve(unit.fileName), unit]))
  const host = ts.createCompilerHost(options)
  const getSourceFile = host.getSourceFile.bind(host)
  host.getSourceFile = (fileName, language, onError, shouldCreate) => {
    const unit = byFile.get(path.resolve(fileName))
    return unit !== undefined
      ? ts.createSourceFile(fileName, unit.text, language, true)
      : getSourceFile(fileName, language, onError, shouldCreate)
  }
  const fileExists = host.fileExists.bind(host)
  host.fileExists = (fileName) => byFile.has(path.resolve(fileName)) || fileExists(fileName)
  const readFile = host.readFile.bind(host)
  host.readFile = (fileName) => byFile.get(path.resolve(fileName))?.text ?? readFile(fileName)

  const program = ts.createProgram([...byFile.keys()], options, host)
  const failures: Array<Failure> = []
  for (const [fileName, unit] of byFile) {
    const source = program.getSourceFile(fileName)!
    const diagnostics = [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)]
    for (const diagnostic of diagnostics) {
      const fileLine = diagnostic.start !== undefined
        ? source.getLineAndCharacterOfPosition(diagnostic.start).line
        : 0
      const segment = [...unit.segments].reverse().find((s) => s.offset <= fileLine) ?? unit.segments[0]
      failures.push({
        readme: unit.readme,
        block: segment.block.index,
        line: segment.block.line + fileLine - segment.offset,
        message: `TS${diagnostic.code}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, " ")}`
      })
    }
  }
  return failures
}

/** The READMEs of the repository: the top one and one per package, as (relative name, markdown). */
export const readmes = (root: string): ReadonlyArray<readonly [string, string]> => {
  const names = ["README.md"]
  for (const entry of fs.readdirSync(path.join(root, "packages")).sort()) {
    const name = path.join("packages", entry, "README.md")
    if (fs.existsSync(path.join(root, name))) names.push(name)
  }
  return names.map((name) => [name, fs.readFileSync(path.join(root, name), "utf8")] as const)
}
