import * as NodeTerminal from "@effect/platform-node/NodeTerminal"
import * as Terminal from "@effect/platform/Terminal"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"

/**
 * Node's terminal with its output on stderr: a prompt (the client secret) must not land in stdout, which
 * `$(effect-oauth2 token)` captures.
 *
 * @internal
 */
export const layerStderr: Layer.Layer<Terminal.Terminal> = Layer.effect(
  Terminal.Terminal,
  Effect.map(Terminal.Terminal, (terminal) =>
    Terminal.Terminal.of({
      ...terminal,
      columns: Effect.sync(() => process.stderr.columns ?? 0),
      rows: Effect.sync(() => process.stderr.rows ?? 0),
      isTTY: Effect.sync(() => Boolean(process.stderr.isTTY && process.stdin.isTTY)),
      display: (text) => Effect.sync(() => void process.stderr.write(text))
    }))
).pipe(Layer.provide(NodeTerminal.layer))

/** Whether a prompt can be shown and answered. @internal */
export const canPrompt = (): boolean => Boolean(process.stdin.isTTY && process.stderr.isTTY)
