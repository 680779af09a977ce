/** @internal */
export const maxExcerpt = 300

const sensitiveKeys = "access_token|refresh_token|id_token|client_secret|client_assertion|assertion|password|code"

const jsonKey = new RegExp(`"(?:${sensitiveKeys})"\\s*:\\s*`, "gi")
const formField = new RegExp(`(^|[&?#\\s])(${sensitiveKeys})=([^&\\s]*)`, "gi")
// An echoed `Authorization: Basic` header: its base64 is the client id and secret.
const basicCredentials = /\b(Basic\s+)[A-Za-z0-9+/]{8,}={0,2}/gi
// A JWT (a client assertion, a token) wherever it is echoed: a description, a Location, an unnamed field.
const compactJwt = /\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g

// The end of a body cut (at `max * 4`) before its fields are masked may hold the start of a Basic credential or a JWT,
// too short for the patterns above: it is masked all the same.
const cutBasicCredentials = /(\bBasic\s+)[A-Za-z0-9+/]+$/i
const cutJwt = /\beyJ[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*)?$/

const maskSecrets = (text: string, secrets: ReadonlyArray<string>): string => {
  for (const secret of secrets) {
    if (secret.length >= 4) text = text.split(secret).join("***")
  }
  return text
}

/** The end of the JSON value starting at `start`: a string, a balanced array or object, or a bare word. */
const valueEnd = (text: string, start: number): number => {
  const n = text.length
  const skipString = (i: number) => {
    i++ // opening quote
    while (i < n && text[i] !== "\"") i += text[i] === "\\" ? 2 : 1
    return Math.min(n, i + 1)
  }
  const first = text[start]
  if (first === "\"") return skipString(start)
  if (first === "[" || first === "{") {
    let depth = 0
    let i = start
    while (i < n) {
      const c = text[i]
      if (c === "\"") {
        i = skipString(i)
        continue
      }
      if (c === "[" || c === "{") depth++
      else if (c === "]" || c === "}") {
        depth--
        if (depth === 0) return i + 1
      }
      i++
    }
    return n // cut off: mask to the end
  }
  let i = start
  while (i < n && !/[,}\]\s]/.test(text[i]!)) i++
  return i
}

// Token fields of a JSON body: whatever the value is (a string, an array, an object, a bare word), it is masked.
const maskJsonFields = (text: string): string => {
  let out = ""
  let last = 0
  jsonKey.lastIndex = 0
  for (let match = jsonKey.exec(text); match !== null; match = jsonKey.exec(text)) {
    const start = match.index + match[0].length
    if (start < last) continue
    const end = valueEnd(text, start)
    out += `${text.slice(last, start)}"***"`
    last = end
    jsonKey.lastIndex = Math.max(end, jsonKey.lastIndex)
  }
  return out + text.slice(last)
}

const maskFields = (text: string): string =>
  maskJsonFields(text).replace(
    formField,
    (_, lead: string, key: string) => `${lead}${key}=***`
  ).replace(basicCredentials, (_, lead: string) => `${lead}***`).replace(compactJwt, "***")

/**
 * Masks every occurrence of the given secret values, the values of token and secret fields (JSON or form), echoed
 * Basic credentials and anything shaped like a JWT in a text taken from a response (a reason, an error description,
 * a Location).
 *
 * @internal
 */
export const mask = (text: string, secrets: ReadonlyArray<string> = []): string =>
  maskFields(maskSecrets(text, secrets))

/**
 * {@link mask}s a body, then cuts the result to a short excerpt. Secrets are masked before the body is cut, so
 * that no part of one survives at the cut; a body longer than `max * 4` is cut there before its fields are masked,
 * and what the cut leaves of a Basic credential or a JWT is masked too.
 *
 * @internal
 */
export const excerpt = (body: string, secrets: ReadonlyArray<string> = [], max = maxExcerpt): string => {
  let text = maskSecrets(body, secrets)
  const cut = text.length > max * 4
  text = maskFields(cut ? text.slice(0, max * 4) : text)
  if (cut) text = text.replace(cutBasicCredentials, "$1***").replace(cutJwt, "***")
  text = text.replace(/\s+/g, " ").trim()
  return text.length > max ? `${text.slice(0, max)}…` : text
}
