/** @internal */
export const maxExcerpt = 300

const sensitiveKeys = "access_token|refresh_token|id_token|client_secret|client_assertion|assertion|password|code"

const jsonField = new RegExp(`("(?:${sensitiveKeys})"\\s*:\\s*)("(?:[^"\\\\]|\\\\.)*"|[^,}\\s]+)`, "gi")
const formField = new RegExp(`(^|[&?\\s])(${sensitiveKeys})=([^&\\s]*)`, "gi")

/**
 * Masks the values of token and secret fields in a JSON or form body, and every occurrence of the given secret
 * values, then cuts the result to a short excerpt.
 *
 * @internal
 */
export const excerpt = (body: string, secrets: ReadonlyArray<string> = [], max = maxExcerpt): string => {
  let text = body.length > max * 4 ? body.slice(0, max * 4) : body
  for (const secret of secrets) {
    if (secret.length >= 4) text = text.split(secret).join("***")
  }
  text = text.replace(jsonField, (_, key: string) => `${key}"***"`).replace(
    formField,
    (_, lead: string, key: string) => `${lead}${key}=***`
  )
  text = text.replace(/\s+/g, " ").trim()
  return text.length > max ? `${text.slice(0, max)}…` : text
}
