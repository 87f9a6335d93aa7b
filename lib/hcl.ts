/**
 * The one encoder for free text that must reach Terraform literally.
 *
 * In cdktf every plain attribute string is a Terraform *template*, in the JSON
 * synth (`cdk.tf.json`) and the HCL synth (`cdk.tf`) alike: `${…}` is an
 * interpolation and `%{…}` a directive. That is cdktf's escape hatch for raw
 * Terraform expressions, and it is also a trap: a config-derived tag value, a
 * description or an environment value such as `price: ${PRICE}` would be
 * evaluated by Terraform instead of being passed through.
 *
 * Strings inside `Fn.jsonencode(...)` and other Terraform function arguments do
 * NOT need this: cdktf (patched, see `patches/cdktf@0.21.0.patch`) escapes
 * string literals inside expressions itself. Tokens (`bucket.arn`, …) must not
 * go through it either: they are meant to be evaluated.
 */

/**
 * Returns the template text that Terraform evaluates to exactly `s`.
 *
 * Use it for any plain attribute value that carries text from config or users
 * and is not meant to contain Terraform expressions: tags, descriptions,
 * container environment values set as attributes, SSM parameter values, regexes.
 * It escapes `${` as `$${` and `%{` as `%%{`; nothing else is special in a
 * Terraform template (quotes, backslashes and newlines are handled by the JSON
 * and HCL encoders).
 *
 * @example
 * new SsmParameter(this, "p", { name, type: "String", value: tfLiteral(config.banner) });
 */
export function tfLiteral(s: string): string {
  return s.replace(/\$\{/g, "$$$${").replace(/%\{/g, "%%{");
}

/**
 * The inverse of {@link tfLiteral}: the value of a template that contains no
 * interpolation or directive. Scans left to right like HCL's template scanner:
 * `$${` and `%%{` are the literal `${` and `%{`; any other `${` or `%{` means the
 * template is not literal, and this throws.
 */
export function decodeTemplateLiteral(template: string): string {
  let out = "";
  for (let i = 0; i < template.length; ) {
    const three = template.slice(i, i + 3);
    if (three === "$${" || three === "%%{") {
      out += three.slice(1);
      i += 3;
    } else if (three.startsWith("${") || three.startsWith("%{")) {
      throw new Error(
        `Not a literal template: ${JSON.stringify(template)} has a template sequence at ${i}`,
      );
    } else {
      out += template[i];
      i += 1;
    }
  }
  return out;
}
