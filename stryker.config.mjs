// @ts-check
/**
 * StrykerJS mutation testing of packages/core/src (`npm run mutate`; not part of `npm test`). See the README's
 * "Development" section for the run time and the score, and reports/mutation/survivors.md for the mutants that
 * survive (regenerate the list with `npm run mutate:survivors`).
 *
 * @type {import("@stryker-mutator/api/core").PartialStrykerOptions}
 */
export default {
  testRunner: "vitest",
  vitest: { configFile: "vitest.stryker.config.ts", related: false },
  plugins: ["@stryker-mutator/vitest-runner"],
  mutate: [
    "packages/core/src/**/*.ts",
    // Re-exports only: no code to mutate.
    "!packages/core/src/index.ts"
  ],
  coverageAnalysis: "perTest",
  // A static mutant (module-level code: the Schemas, constants) is run against every test, not only those that
  // cover it; they are left out, and counted as "ignored", not in the score.
  ignoreStatic: true,
  concurrency: 2,
  timeoutMS: 5_000,
  timeoutFactor: 2,
  reporters: ["json", "clear-text", "progress"],
  jsonReporter: { fileName: "reports/mutation/mutation.json" },
  clearTextReporter: { allowColor: false, logTests: false, reportMutants: false, reportScoreTable: true },
  // Re-runs test only the mutants whose code or covering tests changed (`npm run mutate -- --force` for all).
  incremental: true,
  incrementalFile: "reports/mutation/stryker-incremental.json",
  tempDirName: ".stryker-tmp",
  cleanTempDir: "always",
  thresholds: { high: 90, low: 85, break: null }
}
