import * as fs from "node:fs";
import * as path from "node:path";

const root = path.join(__dirname, "../..");

/** The top-level `key: value` pairs of a Pulumi.yaml (enough for the keys checked here). */
function topLevel(file: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of fs.readFileSync(file, "utf8").split("\n")) {
    const m = /^([a-z]+):\s*(.*)$/.exec(line);
    if (m) out[m[1]] = m[2].replace(/^"(.*)"$/, "$1");
  }
  return out;
}

describe("Pulumi projects", () => {
  test("the root Pulumi.yaml is the default stack: a nodejs (TypeScript) project whose main is the two-datacenter example's file", () => {
    const file = path.join(root, "Pulumi.yaml");
    const project = topLevel(file);
    expect(project.name).toBe("consul-mesh-gateway");
    expect(project.description.length).toBeGreaterThan(20);
    expect(fs.readFileSync(file, "utf8")).toMatch(/^runtime:\n {2}name: nodejs\n {2}options:\n {4}typescript: true$/m);
    // A file, not a folder: given a folder, the Node.js language host runs the nearest
    // package.json's entry point, which here is the library itself (a stack with no resources).
    expect(project.main).toBe("examples/two-datacenters/index.ts");
    expect(fs.statSync(path.join(root, project.main)).isFile()).toBe(true);
  });

  // Every folder of examples/ but ci/ (the pull-request workflow) is a Pulumi project.
  const examples = fs
    .readdirSync(path.join(root, "examples"))
    .filter((d) => d !== "ci" && fs.statSync(path.join(root, "examples", d)).isDirectory());

  test("examples/ci holds the pull-request workflow", () => {
    expect(fs.readdirSync(path.join(root, "examples", "ci"))).toEqual(["pull-request.yml"]);
  });

  test("there is one example per seed configuration, and one per way of running it", () => {
    expect(examples.sort()).toEqual([
      "cluster-peering",
      "datacenter-per-host",
      "existing-consul",
      "global-gateways",
      "per-service",
      "per-service-instance-connect-proxy",
      "per-service-instance-sidecar",
      "per-upstream",
      "two-datacenters",
    ]);
  });

  test.each(examples)("examples/%s is a project of its own, with a test", (name) => {
    const dir = path.join(root, "examples", name);
    const project = topLevel(path.join(dir, "Pulumi.yaml"));
    expect(project.name).toBe(`consul-mesh-${name}`);
    expect(fs.existsSync(path.join(dir, project.main))).toBe(true);
    expect(JSON.parse(fs.readFileSync(path.join(dir, "tsconfig.json"), "utf8")).extends).toBe("../../tsconfig.json");
    // It imports the library by its package name, as a user's stack does.
    expect(fs.readFileSync(path.join(dir, "index.ts"), "utf8")).toMatch(/from "consul-mesh-gateway"/);
    expect(fs.existsSync(path.join(__dirname, `${name}.test.ts`))).toBe(true);
  });
});
