/**
 * The `WWW-Authenticate` parser (RFC 9110 §11.6.1, §11.2), whole outputs: the RFC's own example, auth-params with
 * token and quoted values (quoted-pairs unescaped), bad whitespace around "=", token68 (only right after the scheme,
 * separated by spaces, alone up to a comma or the end), bare schemes in a list, the first value of a repeated
 * parameter, and the documented recovery from malformed input (it never throws; what cannot be read adds nothing):
 * a parameter before any scheme, stray characters, an unterminated quoted-string, and the `maxLength` cut.
 */
import { WwwAuthenticate } from "@effect-oauth2/core"
import { assert, describe, it } from "@effect/vitest"

const parse = WwwAuthenticate.parse

describe("WwwAuthenticate.parse (mutation)", () => {
  it("no header, an empty one, or one of separators only has no challenge", () => {
    assert.deepStrictEqual(parse(undefined), [])
    assert.deepStrictEqual(parse(""), [])
    assert.deepStrictEqual(parse(" , ,\t"), [])
  })

  it("the RFC 9110 §11.6.1 example: two challenges, token and quoted values, quoted-pairs unescaped", () => {
    assert.deepStrictEqual(
      parse(`Basic realm="simple", Newauth realm="apps", type=1, title="Login to \\"apps\\""`),
      [
        { scheme: "basic", params: { realm: "simple" } },
        { scheme: "newauth", params: { realm: "apps", type: "1", title: "Login to \"apps\"" } }
      ]
    )
  })

  it("a quoted-pair stands for the character after the backslash, a backslash included (RFC 9110 §5.6.4)", () => {
    assert.deepStrictEqual(parse(`Bearer error_description="a \\\\ b \\x \\"c\\""`), [
      { scheme: "bearer", params: { error_description: "a \\ b x \"c\"" } }
    ])
  })

  it("schemes and parameter names are case-insensitive: both come out lower-cased, values as sent", () => {
    assert.deepStrictEqual(parse(`BEARER Realm="API", Error=Invalid_Token`), [
      { scheme: "bearer", params: { realm: "API", error: "Invalid_Token" } }
    ])
  })

  it("bad whitespace around \"=\" (RFC 9110 §11.2: token BWS \"=\" BWS), as spaces", () => {
    assert.deepStrictEqual(parse(`Bearer realm = "api" , error =  invalid_token`), [
      { scheme: "bearer", params: { realm: "api", error: "invalid_token" } }
    ])
  })

  it("bad whitespace around \"=\" as tabs, and tabs around list commas", () => {
    assert.deepStrictEqual(parse(`Bearer realm\t=\t"api"\t,\terror\t=invalid_token`), [
      { scheme: "bearer", params: { realm: "api", error: "invalid_token" } }
    ])
  })

  it("a list of bare schemes: a scheme after a comma is a new challenge, not a token68 of the one before", () => {
    assert.deepStrictEqual(parse("Basic, Bearer"), [
      { scheme: "basic", params: {} },
      { scheme: "bearer", params: {} }
    ])
    assert.deepStrictEqual(parse("Basic ,Bearer realm=\"a\", Negotiate"), [
      { scheme: "basic", params: {} },
      { scheme: "bearer", params: { realm: "a" } },
      { scheme: "negotiate", params: {} }
    ])
  })

  it("a token68 after the scheme and a space, with or without \"=\" padding, up to the end of the header", () => {
    assert.deepStrictEqual(parse("Negotiate abc=="), [{ scheme: "negotiate", params: {}, token68: "abc==" }])
    assert.deepStrictEqual(parse("Basic dXNlcjpwYXNz"), [{ scheme: "basic", params: {}, token68: "dXNlcjpwYXNz" }])
    assert.deepStrictEqual(parse("Newauth  a"), [{ scheme: "newauth", params: {}, token68: "a" }])
  })

  it("a token68 of every allowed character, up to a comma with or without spaces before it", () => {
    assert.deepStrictEqual(parse(`Negotiate aZ09-._~+/== , Basic realm="x"`), [
      { scheme: "negotiate", params: {}, token68: "aZ09-._~+/==" },
      { scheme: "basic", params: { realm: "x" } }
    ])
    assert.deepStrictEqual(parse("Newauth abc, Basic abc="), [
      { scheme: "newauth", params: {}, token68: "abc" },
      { scheme: "basic", params: {}, token68: "abc=" }
    ])
  })

  it("a name followed by \"=\" and a value is an auth-param, not a token68 with padding", () => {
    assert.deepStrictEqual(parse("Newauth realm=apps"), [{ scheme: "newauth", params: { realm: "apps" } }])
  })

  it("a token68 must be separated from its scheme by a space: \"Basic/abc\" gives no token68", () => {
    const parsed = parse("Basic/abc")
    assert.deepStrictEqual(parsed[0], { scheme: "basic", params: {} })
    assert.isTrue(parsed.every((challenge) => !("token68" in challenge)), JSON.stringify(parsed))
  })

  it("a parameter name may start with a token character that cannot start a token68", () => {
    assert.deepStrictEqual(parse("Custom #x=1, !y=\"2\""), [{ scheme: "custom", params: { "#x": "1", "!y": "2" } }])
  })

  it("a challenge has a token68 or parameters, not both: parameters after a token68 are dropped", () => {
    assert.deepStrictEqual(parse(`Newauth abc==, realm="x", Basic realm="y"`), [
      { scheme: "newauth", params: {}, token68: "abc==" },
      { scheme: "basic", params: { realm: "y" } }
    ])
  })

  it("a repeated parameter name (RFC 9110 §11.2: MUST occur once) keeps its first value, in any letter case", () => {
    assert.deepStrictEqual(parse(`Bearer error="invalid_token", ERROR="other", error=third`), [
      { scheme: "bearer", params: { error: "invalid_token" } }
    ])
  })

  it("a parameter before any scheme belongs to no challenge and is dropped (no throw)", () => {
    assert.deepStrictEqual(parse(`realm="x", Basic`), [{ scheme: "basic", params: {} }])
    assert.deepStrictEqual(parse(`error=invalid_token`), [])
  })

  it("stray characters that belong to no token add nothing", () => {
    assert.deepStrictEqual(parse(`Basic realm="x" ;`), [{ scheme: "basic", params: { realm: "x" } }])
    // a "=" with no name before it gives no parameter with an empty name
    const parsed = parse(`Bearer error="invalid_token", =x`)
    assert.deepStrictEqual(parsed[0], { scheme: "bearer", params: { error: "invalid_token" } })
    for (const challenge of parsed) {
      assert.notStrictEqual(challenge.scheme, "")
      assert.notProperty(challenge.params, "")
    }
  })

  it("an unterminated quoted-string ends at the end of the header, with what was there", () => {
    assert.deepStrictEqual(parse(`Bearer error="invalid_token`), [
      { scheme: "bearer", params: { error: "invalid_token" } }
    ])
    // a backslash with nothing after it escapes nothing, and nothing is invented past the end
    assert.deepStrictEqual(parse(`Bearer realm="abc\\`), [{ scheme: "bearer", params: { realm: "abc\\" } }])
  })

  it("a header longer than maxLength (8192) is read up to maxLength characters only", () => {
    assert.strictEqual(WwwAuthenticate.maxLength, 8192)
    const realm = "r".repeat(WwwAuthenticate.maxLength - `Bearer realm="", Basic`.length)
    const header = `Bearer realm="${realm}", Basic`
    assert.strictEqual(header.length, WwwAuthenticate.maxLength)
    const expected = [
      { scheme: "bearer", params: { realm } },
      { scheme: "basic", params: {} }
    ]
    assert.deepStrictEqual(parse(header), expected)
    assert.deepStrictEqual(parse(`${header}x`), expected)
    assert.deepStrictEqual(parse(`${header}x, Negotiate abc==`), expected)
  })
})
