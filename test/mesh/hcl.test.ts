import fc from "fast-check";
import { attrs, hclString, hclValue, renderHcl } from "../../mesh/render/hcl";

describe("hclString", () => {
  it("escapes like JSON, and interpolation sigils as \\u escapes (HCL1, which Consul parses, has no $${ escape)", () => {
    expect(hclString('a"b\\c\n')).toBe('"a\\"b\\\\c\\n"');
    expect(hclString("${x} %{y} $z %w")).toBe('"\\u0024{x} \\u0025{y} $z %w"');
  });

  it("reads back as the same string with Go/HCL1 escapes and never opens an interpolation (property)", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "grapheme", maxLength: 40 }),
        fc.constantFrom("", "${", "%{", "$${", "${a}", "}"),
        (a, b) => {
          const value = a + b + a;
          const out = hclString(value);
          // HCL1's Unquote copies a raw "${…}" verbatim and fails on an unclosed one; none may remain.
          expect(out).not.toMatch(/[$%]\{/);
          expect(JSON.parse(out)).toBe(value);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("hclValue", () => {
  it("renders scalars, lists and objects", () => {
    expect(hclValue(1.5, "")).toBe("1.5");
    expect(hclValue(true, "")).toBe("true");
    expect(hclValue(null, "")).toBe("null");
    expect(hclValue(Number.NaN, "")).toBe("null");
    expect(hclValue([], "")).toBe("[]");
    expect(hclValue({}, "")).toBe("{}");
    expect(hclValue(["a", 1], "")).toBe('["a", 1]');
    expect(hclValue([{ a: 1 }], "")).toBe("[\n  {\n    a = 1\n  }\n]");
    expect(hclValue({ "x.y": 1, ok_key: undefined }, "")).toBe('{\n  "x.y" = 1\n}');
  });
});

describe("renderHcl", () => {
  it("nests blocks and object lists", () => {
    expect(
      renderHcl([
        {
          block: "a",
          body: [
            { attr: "l", objects: [attrs([["x", 1]]), []] },
            { block: "e", body: [] },
          ],
        },
      ]),
    ).toBe("a {\n  l = [\n    {\n      x = 1\n    },\n    {\n    }\n  ]\n  e {\n  }\n}");
  });
  it("drops unset attributes", () => {
    expect(
      attrs([
        ["a", undefined],
        ["b", 0],
      ]),
    ).toEqual([{ attr: "b", value: 0 }]);
  });
});
