import { describe, expect, it } from "vitest";
import { evaluateTemplate, parseTemplate, queryEscape } from "../lib/hcl-template.js";

describe("parseTemplate", () => {
  it("splits literal text from sequences, decodes escapes and nested strings", () => {
    expect(parseTemplate('a $${b} ${x.y} %%{c} ${f("q\\"${z}")}')).toEqual(["a ${b} ", { $: ["x", ".", "y"] }, " %{c} ", { $: ["f", "(", JSON.stringify(['q"', { $: ["z"] }]), ")"] }]);
    expect(parseTemplate("%{ if a }b%{ endif }")).toEqual([{ "%": ["if", "a"] }, "b", { "%": ["endif"] }]);
  });
});

describe("evaluateTemplate", () => {
  const ref = (a: string) => `<${a}>`;

  it("yields an interpolation's value when it is the whole template, and text otherwise", () => {
    expect(evaluateTemplate('${jsonencode({"a" = [1, true, null, x.y]})}', ref)).toBe('{"a":[1,true,null,"<x.y>"]}');
    expect(evaluateTemplate('${[1, "a"]}', ref)).toEqual([1, "a"]);
    expect(evaluateTemplate("p ${[1]} ${a.b}", ref)).toBe("p [1] <a.b>");
  });

  it("reads references with [n] indexes and evaluates urlencode as Terraform does", () => {
    expect(evaluateTemplate("${aws_subnet.a[0].id}", ref)).toBe("<aws_subnet.a[0].id>");
    expect(evaluateTemplate('${urlencode("https://${d.x}/?a=b c&é")}', ref)).toBe("https%3A%2F%2F%3Cd.x%3E%2F%3Fa%3Db+c%26%C3%A9");
  });

  it("leaves what a reference is worth to the caller (locals included)", () => {
    const locals: Record<string, string> = { u: '${urlencode("a b")}' };
    const value = (a: string): unknown => (a.startsWith("local.") ? evaluateTemplate(locals[a.slice(6)]!, value) : ref(a));
    expect(evaluateTemplate("/out?rd=${local.u}", value)).toBe("/out?rd=a+b");
  });

  it("throws on what it does not evaluate", () => {
    expect(() => evaluateTemplate("%{ if a }b%{ endif }", ref)).toThrow(/directives are not supported/);
    expect(() => evaluateTemplate("${a + 1}", ref)).toThrow(/trailing tokens/);
    expect(() => evaluateTemplate("${lower(a)}", ref)).toThrow(/trailing tokens/);
    expect(() => evaluateTemplate("${urlencode([1])}", ref)).toThrow(/urlencode of a non-string/);
  });
});

describe("queryEscape", () => {
  it("is Go's url.QueryEscape: unreserved bytes kept, space as +, the rest %XX", () => {
    expect(queryEscape("a b&c=d/é~_.-")).toBe("a+b%26c%3Dd%2F%C3%A9~_.-");
  });
});
