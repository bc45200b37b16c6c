import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as mesh from "../../mesh";

const MESH_DIR = join(__dirname, "..", "..", "mesh");
const sources = readdirSync(MESH_DIR).filter((f) => f.endsWith(".ts"));

/** The module specifiers of a file's import and export statements and require calls (not of strings in messages). */
function importsOf(text: string): string[] {
  const statements =
    /^\s*(?:import|export)\s[^;]*?\bfrom\s+["']([^"']+)["']|^\s*import\s+["']([^"']+)["']|\brequire\(\s*["']([^"']+)["']\s*\)/gm;
  return [...text.matchAll(statements)].map((m) => m[1] ?? m[2] ?? m[3]);
}

describe("mesh/ stays pure", () => {
  it("finds the imports of a file that has outside ones", () => {
    const text =
      'import { a } from "./a";\nimport {\n  b,\n} from "node:fs";\nimport "side-effect";\nconst c = require("c");\nconst m = `from "${x}"`;';
    expect(importsOf(text)).toEqual(["./a", "node:fs", "side-effect", "c"]);
  });

  it.each(sources)("%s imports only other mesh/ modules", (file) => {
    const text = readFileSync(join(MESH_DIR, file), "utf8");
    const specifiers = importsOf(text);
    for (const specifier of specifiers) expect(specifier).toMatch(/^\.\/[a-z0-9-]+$/);
  });

  it("index.ts re-exports every public module", () => {
    const index = readFileSync(join(MESH_DIR, "index.ts"), "utf8");
    // Internal helpers: hcl.ts (only hclString is public), guards.ts, consul-config-keys.ts, and
    // the parts of the validation (validateMesh is public).
    const internal = [
      "hcl.ts",
      "guards.ts",
      "consul-config-keys.ts",
      "problem-collector.ts",
      "validate-infrastructure.ts",
    ];
    for (const file of sources.filter((f) => f !== "index.ts" && !internal.includes(f))) {
      expect(index).toContain(`export * from "./${file.replace(/\.ts$/, "")}";`);
    }
  });

  it("exports the functions the issue names", () => {
    for (const name of [
      "resolveMeshGatewayMode",
      "serviceSni",
      "gatewaySni",
      "parseSni",
      "toServiceRegistration",
      "fromServiceRegistration",
      "toServiceHcl",
      "toConfigEntry",
      "toConfigEntryHcl",
      "validateMesh",
      "assertValidMesh",
      "planRoutes",
      "formatRoutePlan",
      "renderGatewayRoutes",
      "renderAgentConfig",
      "toGatewayRegistration",
      "defaultMesh",
    ]) {
      expect(typeof (mesh as Record<string, unknown>)[name]).toBe("function");
    }
    expect(new mesh.MeshValidationError([{ path: "p", message: "m" }]).code).toBe("E_MESH_INVALID");
  });
});
