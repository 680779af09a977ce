/**
 * A parser for the `WWW-Authenticate` response header (RFC 9110 §11.6.1), enough to read RFC 6750 §3 Bearer
 * challenges such as `Bearer realm="api", error="invalid_token", error_description="expired"`.
 *
 * It never throws: malformed input gives the challenges it could read, possibly none.
 *
 * @since 0.1.0
 */

/**
 * One challenge: the scheme (lower-cased), its parameters (names lower-cased, quoted values unescaped), and its
 * token68 when it has one instead of parameters.
 *
 * @since 0.1.0
 * @category models
 */
export interface Challenge {
  readonly scheme: string
  readonly params: Readonly<Record<string, string>>
  readonly token68?: string | undefined
}

/**
 * The error of an RFC 6750 §3 Bearer challenge.
 *
 * @since 0.1.0
 * @category models
 */
export interface BearerError {
  readonly error: string
  readonly errorDescription?: string | undefined
  readonly errorUri?: string | undefined
  readonly scope?: string | undefined
}

const isTchar = (c: string) => /[!#$%&'*+\-.^_`|~0-9A-Za-z]/.test(c)
const isSpace = (c: string | undefined) => c === " " || c === "\t"

/**
 * The largest header parsed; the rest is ignored.
 *
 * @since 0.1.0
 * @category constants
 */
export const maxLength = 8192

/**
 * Parses a `WWW-Authenticate` value into its challenges.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parse = (header: string | undefined): ReadonlyArray<Challenge> => {
  if (header === undefined) return []
  const input = header.length > maxLength ? header.slice(0, maxLength) : header
  const n = input.length
  interface Building {
    readonly scheme: string
    readonly params: Record<string, string>
    token68: string | undefined
    fresh: boolean
  }
  const challenges: Array<Building> = []
  let i = 0
  const skipSpaces = () => {
    while (i < n && isSpace(input[i])) i++
  }
  const readWhile = (test: (c: string) => boolean) => {
    const start = i
    while (i < n && test(input[i]!)) i++
    return input.slice(start, i)
  }
  const readQuoted = () => {
    i++ // opening quote
    let value = ""
    while (i < n && input[i] !== "\"") {
      if (input[i] === "\\" && i + 1 < n) i++
      value += input[i]
      i++
    }
    i++ // closing quote, or past the end
    return value
  }
  const readValue = () => input[i] === "\"" ? readQuoted() : readWhile(isTchar)
  const atListEnd = (from: number) => {
    let k = from
    while (k < n && isSpace(input[k])) k++
    return k >= n || input[k] === ","
  }

  while (i < n) {
    while (i < n && (isSpace(input[i]) || input[i] === ",")) i++
    if (i >= n) break
    const start = i
    const name = readWhile(isTchar)
    if (name.length === 0) {
      i++ // not a token character: skip it
      continue
    }
    const current = challenges[challenges.length - 1]
    const nameEnd = i
    skipSpaces()
    if (input[i] === "=") {
      let j = i
      while (j < n && input[j] === "=") j++
      if (current !== undefined && current.fresh && nameEnd === i && atListEnd(j)) {
        // token68 with '=' padding right after the scheme ("Negotiate abc==")
        current.token68 = name + input.slice(i, j)
        current.fresh = false
        i = j
        continue
      }
      i++
      skipSpaces()
      const value = readValue()
      if (current !== undefined) {
        const key = name.toLowerCase()
        if (!(key in current.params)) current.params[key] = value
        current.fresh = false
      }
      continue
    }
    if (current !== undefined && current.fresh && start > 0 && isSpace(input[start - 1]) && atListEnd(i)) {
      // a token68 without padding right after the scheme
      const word = name + readWhile((c) => /[A-Za-z0-9\-._~+/]/.test(c))
      if (atListEnd(i)) {
        current.token68 = word
        current.fresh = false
        continue
      }
    }
    i = nameEnd
    challenges.push({ scheme: name.toLowerCase(), params: {}, token68: undefined, fresh: true })
  }
  return challenges.map(({ params, scheme, token68 }) =>
    token68 !== undefined ? { scheme, params, token68 } : { scheme, params }
  )
}

/**
 * The error of the first Bearer challenge that has one (RFC 6750 §3.1: `invalid_request`, `invalid_token`,
 * `insufficient_scope`, or another code), or `undefined`.
 *
 * @since 0.1.0
 * @category parsing
 */
export const bearerError = (header: string | undefined): BearerError | undefined => {
  for (const challenge of parse(header)) {
    if (challenge.scheme !== "bearer") continue
    const error = challenge.params["error"]
    if (error === undefined) continue
    return {
      error,
      ...(challenge.params["error_description"] !== undefined
        ? { errorDescription: challenge.params["error_description"] }
        : {}),
      ...(challenge.params["error_uri"] !== undefined ? { errorUri: challenge.params["error_uri"] } : {}),
      ...(challenge.params["scope"] !== undefined ? { scope: challenge.params["scope"] } : {})
    }
  }
  return undefined
}
