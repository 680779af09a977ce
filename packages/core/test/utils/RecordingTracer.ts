import * as Cause from "effect/Cause"
import * as Exit from "effect/Exit"
import * as Tracer from "effect/Tracer"
import * as util from "node:util"

/** A span as recorded: its name, attributes, events and how it ended. */
export interface Recorded {
  readonly name: string
  readonly attributes: Map<string, unknown>
  readonly events: Array<{ readonly name: string; readonly attributes: Record<string, unknown> | undefined }>
  exit: Exit.Exit<unknown, unknown> | undefined
}

/**
 * A Tracer that keeps every span it is given, for tests that look at what observability would export.
 */
export const make = () => {
  const spans: Array<Recorded> = []
  const tracer = Tracer.make({
    span: (name, parent, context, links, startTime, kind) => {
      const record: Recorded = { name, attributes: new Map(), events: [], exit: undefined }
      spans.push(record)
      let status: Tracer.SpanStatus = { _tag: "Started", startTime }
      const span: Tracer.Span = {
        _tag: "Span",
        name,
        spanId: `span-${spans.length}`,
        traceId: "trace",
        parent,
        context,
        get status() {
          return status
        },
        attributes: record.attributes,
        links,
        sampled: true,
        kind,
        end(endTime, exit) {
          status = { _tag: "Ended", startTime, endTime, exit }
          record.exit = exit
        },
        attribute(key, value) {
          record.attributes.set(key, value)
        },
        event(eventName, _time, attributes) {
          record.events.push({ name: eventName, attributes })
        },
        addLinks() {}
      }
      return span
    },
    context: (f) => f()
  })
  /**
   * Everything an exporter sends, as text: names, attributes, events, and for a failed span its cause (exporters
   * record the failure, not the value a successful span returned).
   */
  const exported = () =>
    spans.map((span) =>
      util.inspect(
        {
          name: span.name,
          attributes: Object.fromEntries(span.attributes),
          events: span.events,
          failure: span.exit !== undefined && Exit.isFailure(span.exit) ? Cause.pretty(span.exit.cause) : undefined
        },
        { depth: 8 }
      )
    ).join("\n")
  return { tracer, spans, exported }
}
