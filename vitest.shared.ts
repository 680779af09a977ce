import * as path from "node:path"
import { fileURLToPath } from "node:url"
import type { ViteUserConfig } from "vitest/config"

const root = path.dirname(fileURLToPath(import.meta.url))

/**
 * Aliases every workspace package to its sources, so tests never need a build.
 */
export const alias = {
  "@effect-oauth2/core": path.join(root, "packages/core/src"),
  "@effect-oauth2/platform-node": path.join(root, "packages/platform-node/src"),
  "@effect-oauth2/platform-browser": path.join(root, "packages/platform-browser/src"),
  "@effect-oauth2/cli": path.join(root, "packages/cli/src"),
  "@effect-oauth2/redis": path.join(root, "packages/redis/src"),
  "@effect-oauth2/testing": path.join(root, "testing/src")
}

export const shared: ViteUserConfig = {
  resolve: {
    alias: [
      ...Object.entries(alias).map(([find, replacement]) => ({
        find: new RegExp(`^${find}$`),
        replacement: path.join(replacement, "index.ts")
      })),
      ...Object.entries(alias).map(([find, replacement]) => ({
        find: new RegExp(`^${find}/(.*)$`),
        replacement: path.join(replacement, "$1.ts")
      }))
    ]
  }
}
