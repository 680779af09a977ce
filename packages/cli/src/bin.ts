#!/usr/bin/env node
/**
 * The `effect-oauth2` executable.
 *
 * @since 0.1.0
 */
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Cli from "./Cli.js"
import { layerStderr } from "./internal/terminal.js"

// What @effect/cli needs (a file system, paths, a terminal), and no more: NodeContext would also load the worker and
// process modules, which cost start-up time and are never used here.
const main: Effect.Effect<number> = Cli.run(process.argv).pipe(
  Effect.provide(Layer.mergeAll(NodeFileSystem.layer, NodePath.layer, layerStderr))
)

NodeRuntime.runMain(main, {
  disableErrorReporting: true,
  disablePrettyLogger: true,
  teardown: (exit, onExit) =>
    onExit(Exit.isSuccess(exit) && typeof exit.value === "number" ? exit.value : Cli.exitCodes.failure)
})
