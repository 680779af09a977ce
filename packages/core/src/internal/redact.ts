/** @internal */
export const maxExcerpt = 300

const sensitiveKeys = "access_token|refresh_token|id_token|client_secret|client_assertion|assertion|password|code"

const jsonField = new RegExp(`("(?:${sensitiveKeys})"\\s*:\\s*)("(?:[^"\\\\]|\\\\.)*"|[^,}\\s]+)`, "gi")
const formField = new RegExp(`(^|[&?#\\s])(${sensitiveKeys})=([^&\\s]*)`, "gi")
// An echoed `Authorization: Basic` header: its base64 is the client id and secret.
const basicCredentials = /\b(Basic\s+)[A-Za-z0-9+/]{8,}={0,2}/gi

const maskSecrets = (text: string, secrets: ReadonlyArray<string>): string => {
  for (const secret of secrets) {
    if (secret.length >= 4) text = text.split(secret).join("***")
  }
  return text
}

const maskFields = (text: string): string =>
  text.replace(jsonField, (_, key: string) => `${key}"***"`).replace(
    formField,
    (_, lead: string, key: string) => `${lead}${key}=***`
  ).replace(basicCredentials, (_, lead: string) => `${lead}***`)

/**
 * Masks every occurrence of the given secret values, the values of token and secret fields (JSON or form) and
 * echoed Basic credentials in a text taken from a response (a reason, an error description, a Location).
 *
 * @internal
 */
export const mask = (text: string, secrets: ReadonlyArray<string> = []): string =>
  maskFields(maskSecrets(text, secrets))

/**
 * {@link mask}s a body, then cuts the result to a short excerpt. Secrets are masked before the body is cut, so
 * that no part of one survives at the cut.
 *
 * @internal
 */
export const excerpt = (body: string, secrets: ReadonlyArray<string> = [], max = maxExcerpt): string => {
  let text = maskSecrets(body, secrets)
  text = maskFields(text.length > max * 4 ? text.slice(0, max * 4) : text)
  text = text.replace(/\s+/g, " ").trim()
  return text.length > max ? `${text.slice(0, max)}…` : text
}
