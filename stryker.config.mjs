// @ts-check
import * as fs from "node:fs"
import * as path from "node:path"
/**
 * StrykerJS mutation testing of packages/core/src (`npm run mutate`; not part of `npm test`). See the README's
 * "Development" section for the run time and the score, and reports/mutation/survivors.md for the mutants that
 * survive.
 *
 * `npm run mutate` (scripts/mutate.mjs) runs the sources in the parts below, one Stryker run each, so that a run
 * cut short keeps the parts it finished, and each part keeps its own incremental state. `MUTATE_PART=<name>` selects
 * one part here; without it, `npx stryker run` mutates all of packages/core/src in one run.
 */

/** The parts of packages/core/src, by concern. Every source file is in exactly one (`npm run mutate` checks). */
export const parts = {
  // The token request and what every request goes through.
  request: [
    "internal/grant.ts",
    "internal/client.ts",
    "internal/timeout.ts",
    "internal/metrics.ts",
    "internal/redact.ts",
    "internal/unicode.ts",
    "internal/resolve.ts"
  ],
  // What comes back: token responses, errors, credentials, challenges.
  responses: ["TokenResponse.ts", "OAuth2Error.ts", "Credentials.ts", "WwwAuthenticate.ts"],
  // Client authentication and DPoP.
  auth: [
    "ClientAuth.ts",
    "internal/clientAssertion.ts",
    "internal/jwt.ts",
    "internal/authConfig.ts",
    "internal/dpop.ts",
    "Dpop.ts"
  ],
  // The public services: discovery, stores, keyed clients, the token lifecycle's API, the layers.
  services: [
    "internal/discovery.ts",
    "Discovery.ts",
    "TokenStore.ts",
    "KeyedClient.ts",
    "internal/keyedClient.ts",
    "AccessToken.ts",
    "ClientCredentials.ts",
    "OAuth2Client.ts",
    "OAuth2HttpClient.ts"
  ],
  // The testkit.
  testkit: ["Testing.ts", "internal/testing.ts"],
  // The token lifecycle, fleet coordination, the request path's rules, retry and URLs.
  lifecycle: [
    "internal/accessToken.ts",
    "internal/coordination.ts",
    "internal/requestPath/*.ts",
    "internal/retry.ts",
    "internal/retryAfter.ts",
    "internal/url.ts"
  ]
}

/** The files Stryker mutates in a full run, relative to packages/core/src: every source but the re-exports. */
export const coreSources = () =>
  fs.readdirSync(new URL("packages/core/src/", import.meta.url), { recursive: true })
    .map((file) => String(file).split(path.sep).join("/"))
    .filter((file) => file.endsWith(".ts") && file !== "index.ts")
    .sort()

const part = process.env["MUTATE_PART"]
if (part !== undefined && !(part in parts)) {
  throw new Error(`MUTATE_PART=${part}: not one of ${Object.keys(parts).join(", ")}`)
}
const out = part === undefined ? "reports/mutation" : "reports/mutation/parts"
const name = part ?? "mutation"

/** @type {import("@stryker-mutator/api/core").PartialStrykerOptions} */
export default {
  testRunner: "vitest",
  vitest: { configFile: "vitest.stryker.config.ts", related: false },
  plugins: ["@stryker-mutator/vitest-runner"],
  mutate: part === undefined
    ? [
      "packages/core/src/**/*.ts",
      // Re-exports only: no code to mutate.
      "!packages/core/src/index.ts"
    ]
    : parts[/** @type {keyof typeof parts} */ (part)].map((file) => `packages/core/src/${file}`),
  coverageAnalysis: "perTest",
  // A static mutant (module-level code: the Schemas, constants) is run against every test, not only those that
  // cover it; they are left out, and counted as "ignored", not in the score.
  ignoreStatic: true,
  concurrency: 2,
  // A mutant "times out" (and counts as detected) when its run takes longer than 3 × the covering tests' time in the
  // initial run + 10 s: room enough that a loaded machine does not pass a slow survivor off as a timeout.
  timeoutMS: 10_000,
  timeoutFactor: 3,
  reporters: ["json", "clear-text", "progress"],
  jsonReporter: { fileName: `${out}/${name}.json` },
  clearTextReporter: { allowColor: false, logTests: false, reportMutants: false, reportScoreTable: true },
  // Re-runs test only the mutants whose code or covering tests changed (`npm run mutate -- --force` for all).
  incremental: true,
  incrementalFile: `${out}/${name}.incremental.json`,
  tempDirName: ".stryker-tmp",
  cleanTempDir: "always",
  thresholds: { high: 90, low: 85, break: null }
}
