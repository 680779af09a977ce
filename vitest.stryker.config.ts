import { defineConfig } from "vitest/config"
import { shared } from "./vitest.shared.js"

/**
 * The tests StrykerJS runs against each mutant of packages/core/src (`npm run mutate`): the core unit, property,
 * fuzz and fault tests. Left out: the integration tests (they need the oidc-provider server of globalSetup and
 * exercise the same code paths as the unit tests, more slowly) and the README typecheck (it runs tsc; a mutant
 * never changes a type). The fuzzers run 500 cases per property instead of 10,000: enough to reach every branch,
 * and each mutant that a property covers reruns it.
 */
process.env.FUZZ_RUNS ??= "500"

// One inline project: with no `test.projects`, vitest would pick up vitest.workspace.ts (all projects) by itself.
export default defineConfig({
  test: {
    projects: [{
      ...shared,
      test: {
        name: "core",
        environment: "node",
        include: ["packages/core/test/**/*.test.ts"],
        exclude: ["packages/core/test/integration/**", "packages/core/test/ReadmeTypecheck.test.ts"],
        sequence: { concurrent: false },
        testTimeout: 30_000,
        hookTimeout: 30_000
      }
    }]
  }
})
