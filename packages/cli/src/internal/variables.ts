import type * as ConfigError from "effect/ConfigError"

/**
 * The variables of `OAuth2HttpClient.config` that a flag overrides: the flag's field, the variable's key (after
 * the prefix) and the flag as typed.
 *
 * @internal
 */
export const overridable = [
  ["tokenUrl", "TOKEN_URL", "--token-url"],
  ["issuer", "ISSUER", "--issuer"],
  ["clientId", "CLIENT_ID", "--client-id"],
  ["scopes", "SCOPES", "--scopes"],
  ["audience", "AUDIENCE", "--audience"],
  ["resource", "RESOURCE", "--resource"],
  ["authMethod", "AUTH_METHOD", "--auth-method"],
  ["origins", "ORIGINS", "--origins"],
  ["timeout", "TIMEOUT", "--timeout"]
] as const

const flagOf = (variable: string): string | undefined => {
  if (variable.endsWith("CLIENT_SECRET")) return "--client-secret-file or --prompt-secret"
  // The token endpoint can also be discovered from the issuer.
  if (variable.endsWith("TOKEN_URL")) {
    return `--token-url; or set ${variable.slice(0, -"TOKEN_URL".length)}ISSUER or pass --issuer`
  }
  return overridable.find(([, key]) => variable === key || variable.endsWith(`_${key}`))?.[2]
}

/**
 * A configuration error as a user fixes it: each variable that is missing or malformed, and the flag that can
 * stand for it. (An `Or` of two sources says the same thing twice; its first branch is enough.)
 *
 * @internal
 */
export const explain = (error: ConfigError.ConfigError): string => {
  const lines: Array<string> = []
  const walk = (e: ConfigError.ConfigError): void => {
    switch (e._op) {
      case "And":
        walk(e.left)
        walk(e.right)
        return
      case "Or":
        walk(e.left)
        return
      default: {
        const variable = e.path[e.path.length - 1] ?? "a variable"
        const flag = flagOf(variable)
        lines.push(
          e._op === "MissingData"
            ? `${variable} is not set${flag !== undefined ? ` (set it, or pass ${flag})` : ""}`
            : `${variable}: ${e.message}`
        )
      }
    }
  }
  walk(error)
  return Array.from(new Set(lines)).join("; ")
}
