import { describe, expect, it } from "vitest";
import { decodeTemplateLiteral, tfLiteral } from "../lib/hcl.js";

describe("tfLiteral", () => {
  it("escapes template sequences and nothing else", () => {
    expect(tfLiteral("a ${b} %{c} d")).toBe("a $${b} %%{c} d");
    expect(tfLiteral('q" b\\ n\n é ✓ 🚀 $ % { }')).toBe('q" b\\ n\n é ✓ 🚀 $ % { }');
  });

  it("escapes already-escaped sequences again, so they stay literal", () => {
    // Terraform 1.11 evaluates "$$${x}" to "$${x}": a "$", then the escape "$${".
    expect(tfLiteral("$${x}")).toBe("$" + "$${x}");
    expect(tfLiteral("%%{x}")).toBe("%" + "%%{x}");
  });

  it("leaves regexes with $ anchors alone", () => {
    expect(tfLiteral("^/api/v1/scim/v2/.*$")).toBe("^/api/v1/scim/v2/.*$");
  });

  it.each([
    "",
    "plain",
    "${x}",
    "%{ if x }",
    "$${x}",
    "$$${x}",
    "%%{x}",
    "a$",
    "$",
    "%",
    "{${}}",
    'q"uote \\${x} é ✓ 🚀\n',
  ])("round-trips %j through decodeTemplateLiteral", (s) => {
    expect(decodeTemplateLiteral(tfLiteral(s))).toBe(s);
  });
});

describe("decodeTemplateLiteral", () => {
  it("decodes the escapes like Terraform does", () => {
    // values checked with `terraform output -json` (Terraform 1.11)
    expect(decodeTemplateLiteral("x$$${b}")).toBe("x$${b}");
    expect(decodeTemplateLiteral("x$$$${b}")).toBe("x$$${b}");
    expect(decodeTemplateLiteral("x%%%{b}")).toBe("x%%{b}");
    expect(decodeTemplateLiteral("$$")).toBe("$$");
  });

  it("rejects templates with interpolations or directives", () => {
    expect(() => decodeTemplateLiteral("a ${b}")).toThrow(/Not a literal template/);
    expect(() => decodeTemplateLiteral("%{ if x }")).toThrow(/Not a literal template/);
  });
});
