import type { TestProjectConfiguration } from "vitest/config"
import { shared } from "./vitest.shared.js"

const chromium = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium"

/**
 * The test projects of the repository. `vitest.config.ts` hands this list to `test.projects`, the form vitest
 * 3.2 recommends, so the projects are declared here and vitest prints no workspace-file deprecation.
 */
export const projects: Array<TestProjectConfiguration> = [
  {
    ...shared,
    test: {
      name: "core",
      environment: "node",
      include: ["packages/core/test/**/*.test.ts"],
      globalSetup: ["testing/src/globalSetup.ts"],
      sequence: { concurrent: false },
      testTimeout: 30_000,
      hookTimeout: 30_000
    }
  },
  {
    ...shared,
    test: {
      name: "platform-node",
      environment: "node",
      include: ["packages/platform-node/test/**/*.test.ts"],
      globalSetup: ["testing/src/globalSetup.ts"],
      testTimeout: 30_000,
      hookTimeout: 30_000
    }
  },
  {
    ...shared,
    test: {
      // the smoke test of the test servers themselves (testing/test-servers.smoke.ts)
      name: "testing",
      environment: "node",
      include: ["testing/test/**/*.test.ts"],
      testTimeout: 150_000,
      hookTimeout: 30_000
    }
  },
  {
    ...shared,
    test: {
      name: "cli",
      environment: "node",
      include: ["packages/cli/test/**/*.test.ts"],
      globalSetup: ["testing/src/globalSetup.ts"],
      testTimeout: 60_000,
      hookTimeout: 30_000
    }
  },
  {
    ...shared,
    test: {
      name: "redis",
      environment: "node",
      include: ["packages/redis/test/**/*.test.ts"],
      // The fleet tests start 8 Node processes: one file at a time, and only after the other projects are done
      // (group 1), so that their load does not skew the timing tests of the others on a 2-core machine.
      poolOptions: { forks: { singleFork: true } },
      sequence: { groupOrder: 1 },
      testTimeout: 60_000,
      hookTimeout: 60_000
    }
  },
  {
    ...shared,
    // Vite scans the browser tests (and the workspace sources they import) for dependencies before the first run:
    // they import Effect by deep path (`effect/Effect`, ...), and a module Vite only discovers mid-run makes it
    // re-optimize and reload the page ("Vite unexpectedly reloaded a test"). With a warm cache
    // (node_modules/.vite) a newly added import can still cause one such reload; the next run is clean.
    optimizeDeps: {
      entries: ["packages/platform-browser/test/**/*.test.ts"]
    },
    test: {
      name: "browser",
      include: ["packages/platform-browser/test/**/*.test.ts"],
      globalSetup: ["testing/src/globalSetup.ts"],
      setupFiles: ["packages/platform-browser/test/setup.ts"],
      testTimeout: 30_000,
      hookTimeout: 30_000,
      browser: {
        enabled: true,
        headless: true,
        provider: "playwright",
        screenshotFailures: false,
        instances: [
          {
            browser: "chromium",
            launch: {
              executablePath: chromium,
              args: [
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync"
              ]
            }
          }
        ]
      }
    }
  }
]
