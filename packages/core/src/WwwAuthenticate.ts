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
    readonly schemeEnd: number
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
  const atListEnd = (from: number) => {
    let k = from
    while (k < n && isSpace(input[k])) k++
    return k >= n || input[k] === ","
  }
  const onlySpaces = (from: number, to: number) => {
    for (let k = from; k < to; k++) if (!isSpace(input[k])) return false
    return true
  }
  const token68 = /[A-Za-z0-9\-._~+/]+=*/y

  while (i < n) {
    while (i < n && (isSpace(input[i]) || input[i] === ",")) i++
    if (i >= n) break
    const current = challenges[challenges.length - 1]
    // token68 (RFC 9110 §11.2): right after the scheme, separated from it by spaces only, alone up to a comma
    if (current !== undefined && current.fresh && i > current.schemeEnd && onlySpaces(current.schemeEnd, i)) {
      token68.lastIndex = i
      const match = token68.exec(input)
      if (match !== null && atListEnd(i + match[0].length)) {
        current.token68 = match[0]
        current.fresh = false
        i += match[0].length
        continue
      }
    }
    const name = readWhile(isTchar)
    if (name.length === 0) {
      i++ // not a token character: skip it
      continue
    }
    const nameEnd = i
    skipSpaces()
    if (input[i] === "=") {
      i++
      skipSpaces()
      const value = input[i] === "\"" ? readQuoted() : readWhile(isTchar)
      if (current !== undefined) {
        const key = name.toLowerCase()
        // a challenge has a token68 or parameters, not both; the first value of a parameter wins
        if (current.token68 === undefined && !Object.prototype.hasOwnProperty.call(current.params, key)) {
          Object.defineProperty(current.params, key, { value, enumerable: true, writable: true, configurable: true })
        }
        current.fresh = false
      }
      continue
    }
    i = nameEnd
    if (current !== undefined) current.fresh = false
    challenges.push({ scheme: name.toLowerCase(), params: {}, schemeEnd: nameEnd, token68: undefined, fresh: true })
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
    const error = Object.prototype.hasOwnProperty.call(challenge.params, "error")
      ? challenge.params["error"]
      : undefined
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
