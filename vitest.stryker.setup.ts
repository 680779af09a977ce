/**
 * A setup file of `vitest.stryker.config.ts` only (`npm run mutate`). That config keeps one test worker alive from
 * one Stryker run to the next, with effect and the other dependencies loaded; this file makes each run start with
 * the workspace's own modules (the sources Stryker mutates, the test helpers) forgotten, so they are imported afresh
 * once per run, as in the new worker vitest would otherwise start for every run.
 *
 * Without it, state a module keeps (a memo, a once-per-origin set) would carry from one mutant's run to the next:
 * a mutant that poisons a memo could fail later mutants' tests (false kills), and a memo filled before a mutant ran
 * could keep its code from running (false survivors). A run is known by Stryker's provided `mode` and
 * `activeMutant`: each mutant is run once, so consecutive runs never share them.
 */
import * as path from "node:path"
import { inject } from "vitest"

interface WorkerState {
  readonly moduleCache: Map<string, unknown>
}

const provided = inject as unknown as (key: string) => unknown
const run = `${String(provided("mode"))}:${String(provided("activeMutant"))}`
const memory = globalThis as { __strykerLastRun?: string; readonly __vitest_worker__?: WorkerState }
const state = memory.__vitest_worker__
if (state !== undefined && memory.__strykerLastRun !== run) {
  memory.__strykerLastRun = run
  const root = process.cwd() + path.sep
  for (const id of [...state.moduleCache.keys()]) {
    if (id.startsWith(root) && !id.includes(`${path.sep}node_modules${path.sep}`) && id !== import.meta.filename) {
      state.moduleCache.delete(id)
    }
  }
}
