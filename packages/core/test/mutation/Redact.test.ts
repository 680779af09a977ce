/**
 * Masking of texts taken from responses (internal/redact.ts): given secret values, token and secret fields of a JSON
 * body whatever the shape of their value, form fields, echoed Basic credentials and JWTs; then `excerpt`'s cut.
 */
import { assert, describe, it } from "@effect/vitest"
import { excerpt, mask } from "../../src/internal/redact.js"

describe("redact (mutation)", () => {
  describe("given secret values", () => {
    it("a secret of 4 characters or more is masked at every occurrence", () => {
      assert.strictEqual(mask("id=abcd; again abcd.", ["abcd"]), "id=***; again ***.")
      assert.strictEqual(mask("s3cret-value here", ["s3cret-value"]), "*** here")
    })

    it("a secret shorter than 4 characters is not masked (it would mask ordinary text)", () => {
      assert.strictEqual(mask("abc is abc", ["abc"]), "abc is abc")
      assert.strictEqual(mask("plain text", [""]), "plain text")
    })
  })

  describe("JSON token fields", () => {
    it("a string value is masked up to its closing quote; what follows is kept", () => {
      assert.strictEqual(
        mask(`{"access_token":"abcd","token_type":"Bearer"}`),
        `{"access_token":"***","token_type":"Bearer"}`
      )
    })

    it("a string value holding commas, spaces and brackets is masked whole", () => {
      assert.strictEqual(mask(`{"password":"a, b]} c","x":1}`), `{"password":"***","x":1}`)
    })

    it("an escaped quote does not end a string value", () => {
      assert.strictEqual(mask(`{"client_secret":"ab\\"cd","x":1}`), `{"client_secret":"***","x":1}`)
    })

    it("a string value cut off before its closing quote is masked to the end", () => {
      assert.strictEqual(mask(`{"refresh_token":"abcdef`), `{"refresh_token":"***"`)
      assert.strictEqual(mask(`{"refresh_token":"abc\\`), `{"refresh_token":"***"`)
    })

    it("an array value is masked whole, nested arrays and brackets inside strings included", () => {
      assert.strictEqual(mask(`{"id_token":[1,2],"x":1}`), `{"id_token":"***","x":1}`)
      assert.strictEqual(mask(`{"id_token":[[1],[2,[3]]],"x":1}`), `{"id_token":"***","x":1}`)
      assert.strictEqual(mask(`{"id_token":["a]b","c[d"],"x":1}`), `{"id_token":"***","x":1}`)
    })

    it("an object value is masked whole, nested objects and braces inside strings included", () => {
      assert.strictEqual(mask(`{"assertion":{"a":1,"b":2},"x":1}`), `{"assertion":"***","x":1}`)
      assert.strictEqual(mask(`{"assertion":{"a":{"b":{}}},"x":1}`), `{"assertion":"***","x":1}`)
      assert.strictEqual(mask(`{"assertion":{"a":"}{","b":"\\"}"},"x":1}`), `{"assertion":"***","x":1}`)
      assert.strictEqual(mask(`{"assertion":{"a":[1,{"b":[]}]},"x":1}`), `{"assertion":"***","x":1}`)
    })

    it("an array or object value cut off before it closes is masked to the end", () => {
      assert.strictEqual(mask(`{"code":[1,[2`), `{"code":"***"`)
      assert.strictEqual(mask(`{"code":{"a":"b`), `{"code":"***"`)
    })

    it("a bare word value ends at a comma, a closing bracket or brace, or whitespace", () => {
      assert.strictEqual(mask(`{"access_token":abcd,"x":1}`), `{"access_token":"***","x":1}`)
      assert.strictEqual(mask(`{"access_token":12345}`), `{"access_token":"***"}`)
      assert.strictEqual(mask(`[{"access_token":null}]`), `[{"access_token":"***"}]`)
      assert.strictEqual(mask(`"access_token": abcd efgh`), `"access_token": "***" efgh`)
      assert.strictEqual(mask(`"access_token":abcd\tefgh`), `"access_token":"***"\tefgh`)
      assert.strictEqual(mask(`"access_token":abcd`), `"access_token":"***"`)
    })

    it("a field with no value at the end of the text gets the mask and nothing more", () => {
      assert.strictEqual(mask(`{"access_token":`), `{"access_token":"***"`)
    })

    it("field names match in any letter case, with whitespace around the colon", () => {
      assert.strictEqual(
        mask(`{"Access_Token" : "abcd", "CLIENT_SECRET":\n"efgh"}`),
        `{"Access_Token" : "***", "CLIENT_SECRET":\n"***"}`
      )
    })

    it("every token field of a body is masked; the text between them is kept", () => {
      assert.strictEqual(
        mask(`{"access_token":"a1","token_type":"Bearer","refresh_token":["r"],"id_token":{"k":"v"},"n":2}`),
        `{"access_token":"***","token_type":"Bearer","refresh_token":"***","id_token":"***","n":2}`
      )
    })

    it("a field name inside a masked value is not looked at again", () => {
      assert.strictEqual(mask(`{"code":"password" : 1}`), `{"code":"***" : 1}`)
      assert.strictEqual(mask(`{"code":{"password":"x"},"y":1}`), `{"code":"***","y":1}`)
    })

    it("a field whose name only ends like a token field is kept", () => {
      assert.strictEqual(mask(`{"my_code":"abcd"}`), `{"my_code":"abcd"}`)
    })
  })

  describe("form fields", () => {
    it("a form field's value is masked, its name kept as written", () => {
      assert.strictEqual(mask("code=abcd"), "code=***")
      assert.strictEqual(mask("grant_type=x&Client_Secret=abcd&scope=y"), "grant_type=x&Client_Secret=***&scope=y")
    })

    it("form fields are found after ? # & or whitespace, not inside a longer name", () => {
      assert.strictEqual(
        mask("https://cb.example/?code=abcd&state=1#access_token=efgh see password=ijkl\tmy_code=keep"),
        "https://cb.example/?code=***&state=1#access_token=*** see password=***\tmy_code=keep"
      )
    })
  })

  describe("Basic credentials and JWTs", () => {
    it("an echoed Basic credential of 8 base64 characters or more is masked, the scheme kept", () => {
      assert.strictEqual(mask("Authorization: Basic dXNlcjpwYXNz"), "Authorization: Basic ***")
      assert.strictEqual(mask("basic  Y2xpZW50OnNlY3JldA== end"), "basic  *** end")
    })

    it("a shorter word after Basic is kept", () => {
      assert.strictEqual(mask("Basic auth failed"), "Basic auth failed")
    })

    it("anything shaped like a JWT is masked", () => {
      assert.strictEqual(mask("bad assertion eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln here"), "bad assertion *** here")
      assert.strictEqual(mask("unsigned eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0. here"), "unsigned *** here")
    })
  })

  describe("mask", () => {
    it("a text with nothing secret in it is returned unchanged", () => {
      const text = "invalid_client: client authentication failed (see https://as.example/docs?a=1&b=2)"
      assert.strictEqual(mask(text), text)
      assert.strictEqual(mask(text, ["elsewhere"]), text)
    })
  })

  describe("excerpt", () => {
    it("masks, collapses runs of whitespace to one space and trims", () => {
      assert.strictEqual(
        excerpt("  \n {\"access_token\": \"abcd\",\n\n  \"x\":  1}\t "),
        "{\"access_token\": \"***\", \"x\": 1}"
      )
    })

    it("a text of at most max characters is kept whole, without an ellipsis", () => {
      assert.strictEqual(excerpt("0123456789", [], 10), "0123456789")
      assert.strictEqual(excerpt("012345678", [], 10), "012345678")
    })

    it("a longer text is cut to max characters and ends with …", () => {
      assert.strictEqual(excerpt("0123456789A", [], 10), "0123456789…")
      assert.strictEqual(excerpt("x".repeat(400)), `${"x".repeat(300)}…`)
    })

    it("given secrets are masked before the cut, so no part of one is left at the cut", () => {
      assert.strictEqual(excerpt("error: s3cretvalue", ["s3cretvalue"], 10), "error: ***")
      assert.strictEqual(excerpt("0123456 s3cretvalue", ["s3cretvalue"], 10), "0123456 **…")
    })

    it("a body longer than max * 4 is cut there before the fields are masked", () => {
      // Cut at 120 characters: the token value is cut off, so it is masked to the end of the cut text.
      const body = `{"access_token":"${"a".repeat(120)}"} tail`
      assert.strictEqual(excerpt(body, [], 30), `{"access_token":"***"`)
    })

    it("what the max * 4 pre-cut leaves of a Basic credential at the end of the cut text is masked", () => {
      // Cut at 120 characters: "Basic Y2xp", 4 base64 characters, too few to be recognised as a Basic credential.
      assert.strictEqual(excerpt(`${" ".repeat(110)}Basic Y2xpZW50OnNlY3JldA==`, [], 30), "Basic ***")
      assert.strictEqual(excerpt(`${" ".repeat(110)}basic\tY2xpZW50OnNlY3JldA==`, [], 30), "basic ***")
      assert.strictEqual(excerpt(`${" ".repeat(109)}Basic \n Y2xpZW50OnNlY3JldA==`, [], 30), "Basic ***")
    })

    it("what the max * 4 pre-cut leaves of a JWT at the end of the cut text is masked", () => {
      const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"
      assert.strictEqual(excerpt(`${" ".repeat(100)}see ${jwt}`, [], 30), "see ***")
      assert.strictEqual(excerpt(`${" ".repeat(85)}see ${jwt}`, [], 30), "see ***")
      assert.strictEqual(excerpt(`${" ".repeat(111)}see eyJhbG`, [], 30), "see ***")
    })

    it("a Basic or eyJ word before the end of the cut text, or at the end of an uncut text, is kept", () => {
      assert.strictEqual(
        excerpt(`${" ".repeat(95)}Basic auth and eyJ0 then more text`, [], 30),
        "Basic auth and eyJ0 then"
      )
      assert.strictEqual(excerpt(`${" ".repeat(100)}use the words here Basic`, [], 30), "use the words here B")
      assert.strictEqual(excerpt("login: Basic auth", [], 30), "login: Basic auth")
      assert.strictEqual(excerpt("see eyJhbG", [], 30), "see eyJhbG")
      // 120 characters, exactly max * 4: not cut.
      assert.strictEqual(excerpt(`${" ".repeat(110)}see eyJhbG`, [], 30), "see eyJhbG")
    })

    it("a body of exactly max * 4 characters is not cut before masking", () => {
      const body = `{"access_token":"${"a".repeat(96)}"} tail`
      assert.strictEqual(body.length, 120)
      assert.strictEqual(excerpt(body, [], 30), `{"access_token":"***"} tail`)
    })
  })
})
