/**
 * An unpaired UTF-16 surrogate: `encodeURI` throws on it, while URLSearchParams and TextEncoder silently send
 * U+FFFD instead, i.e. a different value.
 *
 * @internal
 */
export const hasLoneSurrogate = (s: string): boolean =>
  /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s)
