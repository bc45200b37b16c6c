/**
 * A tiny HCL writer for the shapes this project renders (blocks, attributes, lists of
 * objects), in the form the Consul documentation uses. Two-space indentation.
 */

/** One indentation step. */
export const HCL_INDENT = "  ";

/**
 * An HCL string literal: JSON escapes, and the `$` of `${` and the `%` of `%{` written as
 * `\u0024` and `\u0025`, so nothing is interpolated. Consul parses its config files, config
 * entries and ACL rules with HCL1, which has no `$${` escape (it would keep both `$`) and
 * fails on an unclosed `${`; a `\u` escape reads back as the plain character in HCL1 and HCL2.
 */
export function hclString(value: string): string {
  return JSON.stringify(value).replace(/([$%])\{/g, (_match, sigil: string) =>
    sigil === "$" ? "\\u0024{" : "\\u0025{",
  );
}

/** Whether `key` can be written bare (an HCL identifier); otherwise it is quoted. */
function hclKey(key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_-]*$/.test(key) ? key : hclString(key);
}

/**
 * An HCL value for a JSON-like value: strings, finite numbers, booleans, `null`, lists and
 * objects (`{ key = value }`, one attribute a line). `indent` is the current indentation.
 */
export function hclValue(value: unknown, indent: string): string {
  if (value === null || value === undefined) return "null";
  if (typeof value === "string") return hclString(value);
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : "null";
  if (typeof value === "boolean") return String(value);
  const inner = indent + HCL_INDENT;
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    if (value.every((v) => v === null || typeof v !== "object")) {
      return `[${value.map((v) => hclValue(v, indent)).join(", ")}]`;
    }
    return `[\n${value.map((v) => inner + hclValue(v, inner)).join(",\n")}\n${indent}]`;
  }
  if (typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return "{}";
    return `{\n${entries.map(([k, v]) => `${inner}${hclKey(k)} = ${hclValue(v, inner)}`).join("\n")}\n${indent}}`;
  }
  return "null";
}

/** A line of HCL output: `key = value`, a nested block `key { … }`, or raw text. */
export type HclNode =
  { attr: string; value: unknown } | { block: string; body: HclNode[] } | { attr: string; objects: HclNode[][] };

/** Renders nodes at `indent`, one per line; blocks and object lists nest. */
export function renderHcl(nodes: HclNode[], indent = ""): string {
  const lines: string[] = [];
  for (const node of nodes) {
    if ("block" in node) {
      lines.push(`${indent}${node.block} {`);
      const body = renderHcl(node.body, indent + HCL_INDENT);
      if (body) lines.push(body);
      lines.push(`${indent}}`);
    } else if ("objects" in node) {
      if (node.objects.length === 0) {
        lines.push(`${indent}${node.attr} = []`);
        continue;
      }
      const inner = indent + HCL_INDENT;
      const items = node.objects.map((body) => {
        const text = renderHcl(body, inner + HCL_INDENT);
        return `${inner}{\n${text ? text + "\n" : ""}${inner}}`;
      });
      lines.push(`${indent}${node.attr} = [\n${items.join(",\n")}\n${indent}]`);
    } else {
      lines.push(`${indent}${node.attr} = ${hclValue(node.value, indent)}`);
    }
  }
  return lines.join("\n");
}

/** Keeps the attributes whose value is set (not `undefined`), in order. */
export function attrs(pairs: [string, unknown][]): HclNode[] {
  return pairs.filter(([, v]) => v !== undefined).map(([attr, value]) => ({ attr, value }));
}
