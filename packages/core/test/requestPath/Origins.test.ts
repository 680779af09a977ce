import { assert, describe, it } from "@effect/vitest"
import * as Either from "effect/Either"
import * as FastCheck from "effect/FastCheck"
import * as origins from "../../src/internal/requestPath/origins.js"

const policy = (list: ReadonlyArray<string> | "*" | undefined, allowInsecureHttp = false) =>
  Either.getOrThrow(origins.make(list, allowInsecureHttp))

describe("requestPath/origins", () => {
  it("explicit origins: only those origins, whatever the path, query or default port", () => {
    const p = policy(["https://api.example.com", "https://other.example.com:8443/ignored/path"])
    assert.isTrue(p.explicit)
    assert.isTrue(p.allows("https://api.example.com/v1/items?x=1"))
    assert.isTrue(p.allows("https://api.example.com:443/"))
    assert.isTrue(p.allows("https://other.example.com:8443/a"))
    assert.isFalse(p.allows("https://other.example.com/a"))
    assert.isFalse(p.allows("https://api.example.com.evil.test/"))
    assert.isFalse(p.allows("http://api.example.com/"))
  })

  it("an explicit plain-http origin off loopback still needs allowInsecureHttp", () => {
    assert.isFalse(policy(["http://api.internal"]).allows("http://api.internal/x"))
    assert.isTrue(policy(["http://api.internal"], true).allows("http://api.internal/x"))
    assert.isTrue(policy(["http://127.0.0.1:8080"]).allows("http://127.0.0.1:8080/x"))
  })

  it("\"*\" (the default): every https origin and loopback http, never plain http over a network", () => {
    for (const p of [policy("*"), policy(undefined)]) {
      assert.isFalse(p.explicit)
      assert.isTrue(p.allows("https://anything.example/"))
      assert.isTrue(p.allows("http://localhost:3000/"))
      assert.isTrue(p.allows("http://[::1]:3000/"))
      assert.isFalse(p.allows("http://api.example.com/"))
    }
    assert.isTrue(policy("*", true).allows("http://api.example.com/"))
  })

  it("a relative or unparsable URL is undecided (left for the platform client to report)", () => {
    const p = policy("*")
    assert.isUndefined(p.allows("/relative"))
    assert.isUndefined(p.allows("https://exa mple.com/"))
    assert.isUndefined(p.allows("https://exa mple.com/"), "the cached answer is the same")
  })

  it("an origin that is not a URL is a ConfigurationError that quotes it", () => {
    const result = origins.make(["not a url"], false)
    assert.isTrue(Either.isLeft(result))
    if (Either.isLeft(result)) assert.include(result.left.message, "\"not a url\" is not a URL")
  })

  it("prefixOf: the scheme and authority of an absolute URL string", () => {
    assert.strictEqual(origins.prefixOf("https://a.example:8443/p?q#h"), "https://a.example:8443")
    assert.strictEqual(origins.prefixOf("HTTPS://A.example"), "HTTPS://A.example")
    assert.isUndefined(origins.prefixOf("/p"))
  })

  it("the cached decision is the decision: a fresh policy and a warmed one agree on any URL", () => {
    const host = FastCheck.constantFrom("api.example.com", "localhost", "127.0.0.1", "other.test", "[::1]")
    const url = FastCheck.tuple(
      FastCheck.constantFrom("https", "http", "HTTPS", "ftp"),
      host,
      FastCheck.option(FastCheck.integer({ min: 1, max: 65535 }), { nil: undefined }),
      FastCheck.webPath()
    ).map(([scheme, h, port, path]) => `${scheme}://${h}${port === undefined ? "" : `:${port}`}${path}`)
    const warmed = policy(["https://api.example.com", "http://localhost:3000"])
    FastCheck.assert(
      FastCheck.property(url, (u) => {
        const fresh = policy(["https://api.example.com", "http://localhost:3000"])
        assert.strictEqual(warmed.allows(u), fresh.allows(u), u)
        assert.strictEqual(warmed.allows(u), fresh.allows(u), u)
      }),
      { numRuns: 300 }
    )
  })
})
