import { OAuth2Client } from "@effect-oauth2/core"
import { NodeOAuth2 } from "@effect-oauth2/platform-node"
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as FileSystem from "@effect/platform/FileSystem"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { flags, resolve } from "./config.js"
import { CommandFailed, UsageError } from "./errors.js"
import { stdout } from "./output.js"

const token = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

const parseHeader = (line: string): Effect.Effect<readonly [string, string], UsageError> => {
  const colon = line.indexOf(":")
  const name = colon === -1 ? "" : line.slice(0, colon).trim()
  return token.test(name)
    ? Effect.succeed([name.toLowerCase(), line.slice(colon + 1).trim()] as const)
    // The line is not repeated: it may be a credential typed in the wrong place.
    : Effect.fail(new UsageError({ message: "-H takes \"Name: value\" (an HTTP header name, a colon, a value)" }))
}

const readBody = (data: string) =>
  data.startsWith("@")
    ? Effect.flatMap(FileSystem.FileSystem, (fs) => fs.readFileString(data.slice(1))).pipe(
      Effect.mapError(() => new UsageError({ message: `-d: cannot read the file ${data.slice(1)}` }))
    )
    : Effect.succeed(data)

const parseUrl = (url: string) =>
  Effect.try({
    try: () => {
      const parsed = new URL(url)
      if (parsed.protocol !== "https:" && parsed.protocol !== "http:") throw new Error("scheme")
      return parsed
    },
    catch: () => new UsageError({ message: "URL must be an absolute http(s) URL" })
  })

/**
 * `effect-oauth2 call URL`: one request through the authenticated layer, like curl; the body on stdout.
 *
 * @internal
 */
export const command = Command.make(
  "call",
  {
    ...flags,
    url: Args.text({ name: "URL" }).pipe(Args.withDescription("the URL to request")),
    method: Options.text("request").pipe(
      Options.withAlias("X"),
      Options.optional,
      Options.withDescription("the HTTP method; default GET, or POST with -d")
    ),
    headers: Options.text("header").pipe(
      Options.withAlias("H"),
      Options.repeated,
      Options.withDescription("a request header, \"Name: value\" (repeatable)")
    ),
    data: Options.text("data").pipe(
      Options.withAlias("d"),
      Options.optional,
      Options.withDescription("the request body; @file reads it from a file (form-encoded unless -H sets a type)")
    ),
    include: Options.boolean("include").pipe(
      Options.withAlias("i"),
      Options.withDescription("print the status line and the response headers before the body")
    ),
    fail: Options.boolean("fail").pipe(
      Options.withAlias("f"),
      Options.withDescription("exit 1 on an HTTP status of 400 or more, printing nothing on stdout")
    )
  },
  (input) =>
    Effect.gen(function*() {
      const url = yield* parseUrl(input.url)
      const headers = yield* Effect.forEach(input.headers, parseHeader)
      const body = Option.isSome(input.data) ? yield* readBody(input.data.value) : undefined
      const method = Option.getOrElse(input.method, () => (body !== undefined ? "POST" : "GET")).toUpperCase()
      if (!token.test(method)) return yield* new UsageError({ message: "-X takes an HTTP method such as GET or POST" })
      const contentType = headers.find(([name]) => name === "content-type")?.[1] ??
        "application/x-www-form-urlencoded"
      let request = HttpClientRequest.make(method as "GET")(url, { headers: Object.fromEntries(headers) })
      if (body !== undefined) request = HttpClientRequest.bodyText(request, body, contentType)

      const options = yield* resolve(input)
      const { response, text } = yield* Effect.gen(function*() {
        const client = yield* OAuth2Client.OAuth2Client
        const response = yield* client.typedHttpClient.execute(request)
        return { response, text: yield* response.text }
      }).pipe(Effect.scoped, Effect.provide(NodeOAuth2.layer(options)))

      if (input.fail && response.status >= 400) {
        return yield* new CommandFailed({ message: `HTTP ${response.status} from ${url.origin}${url.pathname}` })
      }
      if (input.include) {
        const lines = Object.entries(response.headers).map(([name, value]) => `${name}: ${value}`)
        yield* stdout(`HTTP ${response.status}\n${lines.join("\n")}\n\n`)
      }
      yield* stdout(text)
    })
).pipe(
  Command.withDescription(
    "Make one request with the access token (the same layer as the library's) and print the response body"
  )
)
