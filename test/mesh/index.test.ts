import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as mesh from "../../mesh";

const MESH_DIR = join(__dirname, "..", "..", "mesh");
const sources = readdirSync(MESH_DIR).filter((f) => f.endsWith(".ts"));

describe("mesh/ stays pure", () => {
  it.each(sources)("%s imports only other mesh/ modules", (file) => {
    const text = readFileSync(join(MESH_DIR, file), "utf8");
    const specifiers = [...text.matchAll(/(?:from|import|require\()\s*["']([^"']+)["']/g)].map((m) => m[1]);
    for (const specifier of specifiers) expect(specifier).toMatch(/^\.\/[a-z0-9-]+$/);
  });

  it("index.ts re-exports every public module", () => {
    const index = readFileSync(join(MESH_DIR, "index.ts"), "utf8");
    // Internal helpers: hcl.ts (only hclString is public) and guards.ts.
    for (const file of sources.filter((f) => !["index.ts", "hcl.ts", "guards.ts"].includes(f))) {
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
