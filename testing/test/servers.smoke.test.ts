/**
 * The smoke test of the test servers (`testing/test-servers.smoke.ts`, also runnable alone with
 * `npm run test:servers`), run as a child process: every check passes, and the closing line counts them all.
 */
import { assert, describe, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..")

describe("test servers smoke test", () => {
  it("every check passes", () => {
    const result = spawnSync(
      process.execPath,
      [path.join(root, "node_modules/tsx/dist/cli.mjs"), path.join(root, "testing/test-servers.smoke.ts")],
      { cwd: root, encoding: "utf8", timeout: 120_000 }
    )
    const lines = result.stdout.trim().split("\n")
    const checks = lines.filter((line) => /^(ok|FAIL) /.test(line))
    const failures = checks.filter((line) => line.startsWith("FAIL"))
    assert.deepStrictEqual(failures, [], result.stdout + result.stderr)
    assert.isAbove(checks.length, 0)
    assert.strictEqual(lines.at(-1), `${checks.length} passed, 0 failed`)
    assert.strictEqual(result.status, 0, result.stderr)
  }, 150_000)
})
