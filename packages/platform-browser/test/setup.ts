/**
 * Setup of the browser test project (see the "browser" entry of vitest.workspace.ts).
 *
 * Vitest's browser mode sends test results from the page to Node as JSON. An Effect failure raised inside a span
 * (the token request runs in one) reaches vitest as an error that carries the span, whose times are `bigint`s, and
 * `JSON.stringify` throws on a `bigint`: the file's results are then lost behind "Do not know how to serialize a
 * BigInt". Serializing bigints as strings keeps failures readable.
 */
const prototype = BigInt.prototype as unknown as { toJSON?: (this: bigint) => string }

prototype.toJSON = function() {
  return this.toString()
}
