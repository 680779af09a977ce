import * as path from "node:path"
import Tinypool from "tinypool"
import { defineConfig } from "vitest/config"
import { BaseSequencer, type TestSpecification, type Vitest } from "vitest/node"
import { shared } from "./vitest.shared.js"

/**
 * Keeps the one test worker alive from one Stryker run to the next. Vitest's threads pool replaces its workers before
 * every run (`recycleWorkers`), so each mutant would pay for a new worker that imports vitest, effect and the sources
 * again: about 0.7 s a mutant on a quiet machine, several seconds under load, most of a killed mutant's cost. The
 * setup file `vitest.stryker.setup.ts` forgets the workspace's own modules at the start of each run, so every run
 * still imports the sources afresh, with that run's mutant; only the dependencies stay loaded.
 *
 * A static mutant (module-level code, activated before the sources load) still gets a new worker, as Stryker
 * expects of a runner that can reload its environment. This config is only used by `npm run mutate`.
 */
let vitest: Vitest | undefined
const recycle = Tinypool.prototype.recycleWorkers
Tinypool.prototype.recycleWorkers = function(this: Tinypool, ...args: Parameters<Tinypool["recycleWorkers"]>) {
  const provided = vitest?.getProvidedContext() as Record<string, unknown> | undefined
  return provided?.mode === "mutant" && provided.mutantActivation !== "static"
    ? Promise.resolve()
    : recycle.apply(this, args)
}

/**
 * Files that failed last time first (the file that killed the previous mutant of a module often kills the next),
 * then the quickest first (new files before all). Vitest's own order runs the slowest first, but Stryker stops a run
 * at the first failing test, so a mutant one quick test kills should not wait for the slow files to run.
 */
class QuickFirst extends BaseSequencer {
  override async sort(files: Array<TestSpecification>): Promise<Array<TestSpecification>> {
    const cache = this.ctx.cache
    const key = (file: TestSpecification) =>
      `${file.project.name}:${path.relative(this.ctx.config.root, file.moduleId)}`
    const rank = (file: TestSpecification): [number, number] => {
      const results = cache.getFileTestResults(key(file))
      // A file with no recorded duration (new since the last run) first: in a re-run, new tests are what changed.
      return [results?.failed === true ? 0 : 1, results?.duration ?? 0]
    }
    return [...files].sort((a, b) => {
      const [failedA, durationA] = rank(a)
      const [failedB, durationB] = rank(b)
      return failedA - failedB || durationA - durationB
    })
  }
}

/**
 * The tests StrykerJS runs against each mutant of packages/core/src (`npm run mutate`): the core unit tests, on the
 * in-memory HttpClient and the TestClock, so that a mutant costs a fraction of a second. Left out, because each
 * mutant they cover would rerun seconds of real time, and a full run would take hours on 2 cores:
 *
 * - the fault tests (test/faults): real sockets and real backoffs (1 to 5 s per test);
 * - the fuzzers and the property test (test/fuzz, *.property.test.ts): thousands of cases per run;
 * - the integration tests (test/integration): they need the oidc-provider server of globalSetup;
 * - the README typecheck: it runs tsc, and a mutant never changes a type.
 *
 * The mutants those tests alone would kill count as survivors here, so the score is a lower bound.
 */
// One inline project: with no `test.projects`, vitest would pick up vitest.workspace.ts (all projects) by itself.
export default defineConfig({
  plugins: [{
    name: "stryker-warm-worker",
    configureVitest(context) {
      vitest = context.vitest
    }
  }],
  test: {
    // Stryker runs vitest with the threads pool and one thread. Isolation is a pool option: without it here, each test
    // file would get a fresh worker that imports effect and the sources again (about 0.7 s a file, every mutant).
    poolOptions: { threads: { isolate: false, singleThread: true } },
    sequence: { sequencer: QuickFirst },
    projects: [{
      ...shared,
      test: {
        name: "core",
        environment: "node",
        include: ["packages/core/test/**/*.test.ts"],
        exclude: [
          "packages/core/test/faults/**",
          "packages/core/test/fuzz/**",
          "packages/core/test/integration/**",
          "packages/core/test/**/*.property.test.ts",
          "packages/core/test/ReadmeTypecheck.test.ts"
        ],
        sequence: { concurrent: false },
        setupFiles: ["vitest.stryker.setup.ts"],
        // One module graph for all files and all mutant runs (Stryker switches mutants at run time, so nothing needs
        // a reload): the per-file import of effect and the sources is paid once, not once per mutant.
        isolate: false,
        testTimeout: 30_000,
        hookTimeout: 30_000
      }
    }]
  }
})
