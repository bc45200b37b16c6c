/**
 * The public API of the package, one report per entry point of `package.json`'s `exports`
 * (`api/*.api.txt`): a change to what users can import, or to a type they see, fails here until
 * the report is updated with it (`UPDATE_API_REPORT=1 npx jest test/api-report.test.ts`), so
 * that every change of the public surface is a reviewed line in a diff.
 */
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { apiProgram, apiReport } from "./support/api-report";

const ROOT = path.join(__dirname, "..");

/** Each entry point: its name in `exports`, its source and its report. */
const ENTRIES = [
  { subpath: ".", source: "components/index.ts", report: "api/consul-mesh-gateway.api.txt" },
  { subpath: "./mesh", source: "mesh/index.ts", report: "api/mesh.api.txt" },
  { subpath: "./gateway", source: "gateway/index.ts", report: "api/gateway.api.txt" },
  { subpath: "./consul", source: "consul/index.ts", report: "api/consul.api.txt" },
];

describe("the public API (api/*.api.txt)", () => {
  const program = apiProgram(
    ROOT,
    ENTRIES.map((e) => e.source),
  );

  it("has a report for every code entry point of package.json's exports", () => {
    const manifest = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
      exports: Record<string, unknown>;
    };
    const code = Object.entries(manifest.exports)
      .filter(([, target]) => typeof target === "object")
      .map(([subpath]) => subpath);
    expect(code.sort()).toEqual(ENTRIES.map((e) => e.subpath).sort());
  });

  it.each(ENTRIES)("$subpath ($source) is what $report says", ({ source, report }) => {
    const actual = apiReport(program, ROOT, source);
    const file = path.join(ROOT, report);
    if (process.env.UPDATE_API_REPORT === "1") writeFileSync(file, actual);
    expect(actual).toBe(readFileSync(file, "utf8"));
  });

  it("sees a change of a signature", () => {
    const report = apiReport(program, ROOT, "mesh/index.ts");
    expect(report).toMatch(/^function planRoutes\(mesh: Mesh\) => RoutePlan$/m);
    expect(report).toMatch(/^class MeshValidationError extends Error$/m);
  });
});
