// Every TypeScript block of every README (the top one and each package's) typechecks with the repository's
// compiler options, so no example can break without this test failing, and each failure names its README, block
// and line. Markers: see utils/ReadmeBlocks.ts and the README's Development section.
import { assert, describe, it } from "@effect/vitest"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { extract, format, readmes, typecheck } from "./utils/ReadmeBlocks.js"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..")

describe("README examples", () => {
  it("every TypeScript block of every README typechecks", { timeout: 180_000 }, () => {
    const all = readmes(root)
    assert.isAtLeast(all.length, 4)
    const failures = typecheck(root, all)
    assert.deepStrictEqual(failures.map(format), [])
  })

  it("a broken block is reported by README, block number and README line", { timeout: 180_000 }, () => {
    const markdown = [
      "# Sample",
      "```ts",
      "import { Redacted } from \"effect\"",
      "export const ok = Redacted.make(\"x\")",
      "```",
      "",
      "```sh",
      "npm test",
      "```",
      "```ts fragment",
      "this is not TypeScript at all",
      "```",
      "```ts",
      "const secret = Redacted.make(\"x\") // Redacted is not imported",
      "```",
      "```ts",
      "import { Effect } from \"effect\"",
      "export const program = Effect.succeed(1)",
      "```",
      "```ts continued",
      "export const two: string = program",
      "```"
    ].join("\n")
    const failures = typecheck(root, [["packages/sample/README.md", markdown]])
    assert.deepStrictEqual(failures.map((f) => [f.readme, f.block, f.line]), [
      ["packages/sample/README.md", 3, 14],
      ["packages/sample/README.md", 5, 21]
    ])
    assert.include(failures[0].message, "TS2304")
    assert.include(failures[0].message, "Redacted")
    assert.include(format(failures[1]), "packages/sample/README.md, TypeScript block 5 (line 21): TS2322")
  })

  it("extract reads the language, the markers and the line of each block", () => {
    const blocks = extract("text\n```typescript\na\n```\n```ts continued\nb\nc\n```\n```ts fragment\nd\n```\n")
    assert.deepStrictEqual(blocks.map((b) => [b.index, b.line, b.marker, b.code]), [
      [1, 3, "module", "a"],
      [2, 6, "continued", "b\nc"],
      [3, 10, "fragment", "d"]
    ])
  })
})
