/**
 * The origin policy's decision cache (internal/requestPath/origins.ts): a decision is made once per
 * `scheme://authority` prefix (the hot path parses no URL), a URL without a prefix is parsed every time and takes no
 * place in the cache, and at most 256 prefixes are remembered, the oldest going first.
 *
 * What is counted is how often the policy parses a URL (`new URL`), with the global `URL` wrapped for the length of
 * one test and restored after it.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Either from "effect/Either"
import * as origins from "../../src/internal/requestPath/origins.js"

/** Runs `f` with every `new URL(...)` counted; the global `URL` is restored afterwards. */
const countingParses = <A>(f: (parses: () => number) => A): A => {
  const original = globalThis.URL
  let count = 0
  class CountingURL extends original {
    constructor(url: string | URL, base?: string | URL) {
      count++
      super(url, base)
    }
  }
  globalThis.URL = CountingURL as typeof URL
  try {
    return f(() => count)
  } finally {
    globalThis.URL = original
  }
}

const policy = () => Either.getOrThrow(origins.make("*", false))

/** The number of URL parses that `allows(url)` costs, and its decision. */
const cost = (p: origins.OriginPolicy, parses: () => number, url: string) => {
  const before = parses()
  const decision = p.allows(url)
  return [decision, parses() - before] as const
}

describe("requestPath/origins decision cache (mutation)", () => {
  it("a second request to the same origin is decided without parsing its URL", () =>
    countingParses((parses) => {
      const p = policy()
      assert.deepStrictEqual(cost(p, parses, "https://api.example/a"), [true, 1])
      assert.deepStrictEqual(cost(p, parses, "https://api.example/b?x=1"), [true, 0])
      assert.deepStrictEqual(cost(p, parses, "http://api.example/a"), [false, 1])
      assert.deepStrictEqual(cost(p, parses, "http://api.example/c"), [false, 0])
    }))

  it("an origin whose URL does not parse is remembered as undecided, and not parsed again", () =>
    countingParses((parses) => {
      const p = policy()
      // The prefix pattern takes "bad host" as an authority; the URL parser refuses it.
      assert.deepStrictEqual(cost(p, parses, "https://bad host/a"), [undefined, 1])
      assert.deepStrictEqual(cost(p, parses, "https://bad host/b"), [undefined, 0])
    }))

  it("a URL without a prefix is parsed each time", () =>
    countingParses((parses) => {
      const p = policy()
      assert.deepStrictEqual(cost(p, parses, "https:///api.example/a"), [true, 1])
      assert.deepStrictEqual(cost(p, parses, "https:///api.example/a"), [true, 1])
    }))

  it("256 origins are remembered; the 257th pushes out the oldest", () =>
    countingParses((parses) => {
      const p = policy()
      for (let i = 0; i < 256; i++) p.allows(`https://o${i}.example/`)
      // All 256 still remembered, the oldest and the newest alike.
      assert.deepStrictEqual(cost(p, parses, "https://o0.example/x"), [true, 0])
      assert.deepStrictEqual(cost(p, parses, "https://o255.example/x"), [true, 0])
      assert.deepStrictEqual(cost(p, parses, "https://o256.example/"), [true, 1])
      assert.deepStrictEqual(cost(p, parses, "https://o0.example/x"), [true, 1])
      assert.deepStrictEqual(cost(p, parses, "https://o2.example/x"), [true, 0])
    }))

  it("a URL without a prefix takes no place among the 256", () =>
    countingParses((parses) => {
      const p = policy()
      for (let i = 0; i < 255; i++) p.allows(`https://o${i}.example/`)
      p.allows("https:///no-prefix.example/")
      p.allows("https://o255.example/")
      assert.deepStrictEqual(cost(p, parses, "https://o0.example/x"), [true, 0])
    }))
})
