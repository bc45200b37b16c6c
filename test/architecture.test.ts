/**
 * The layer rules of ARCHITECTURE.md, checked on every import of the product's sources: which
 * folder may import which, and which packages each may use. A rule broken here is a design
 * change: change ARCHITECTURE.md with it.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import ts from "typescript";

const ROOT = path.join(__dirname, "..");

/**
 * Each layer (a folder, or one file) and what its files may import: other layers, and
 * packages. The most specific layer of a file applies. Node's built-in modules are allowed
 * everywhere but in `mesh/`, which has no I/O.
 */
const LAYERS: Record<string, { layers: string[]; packages?: string[]; builtins?: false }> = {
  "mesh/errors.ts": { layers: [], builtins: false },
  "mesh/model": { layers: ["mesh/model", "mesh/errors.ts"], builtins: false },
  "mesh/validate": { layers: ["mesh/validate", "mesh/model", "mesh/errors.ts"], builtins: false },
  "mesh/plan": { layers: ["mesh/plan", "mesh/model", "mesh/errors.ts"], builtins: false },
  "mesh/render": { layers: ["mesh/render", "mesh/model", "mesh/errors.ts"], builtins: false },
  "mesh/read": { layers: ["mesh/read", "mesh/render", "mesh/model", "mesh/errors.ts"], builtins: false },
  "mesh/diagram": {
    layers: ["mesh/diagram", "mesh/plan", "mesh/model", "mesh/errors.ts"],
    packages: ["@viz-js/viz"],
    builtins: false,
  },
  "mesh/index.ts": { layers: ["mesh"], builtins: false },
  consul: { layers: ["consul", "mesh/model", "mesh/read"] },
  "gateway/routing": { layers: ["gateway/routing", "mesh/model", "mesh/render", "mesh/errors.ts"], packages: ["zod"] },
  "gateway/admin": { layers: ["gateway/admin", "gateway/routing", "mesh/model"], packages: ["pino", "prom-client"] },
  "gateway/errors.ts": { layers: ["consul", "mesh/render"] },
  "gateway/net": {
    layers: ["gateway/net", "gateway/routing", "gateway/admin", "gateway/errors.ts", "mesh/model"],
    packages: ["pino"],
  },
  "gateway/sources": {
    layers: [
      "gateway/sources",
      "gateway/routing",
      "gateway/admin",
      "gateway/errors.ts",
      "consul",
      "mesh/model",
      "mesh/render",
    ],
    packages: ["pino", "@grpc/grpc-js", "protobufjs"],
  },
  gateway: { layers: ["gateway", "consul", "mesh/model", "mesh/render", "mesh/errors.ts"], packages: ["pino", "zod"] },
  "components/plans": { layers: ["components/plans", "components/errors.ts", "mesh"], builtins: false },
  // The demo service's program, as text for its container: its requires run there, not here.
  "components/plans/demo-app.ts": { layers: [] },
  components: {
    layers: ["components", "consul", "mesh"],
    packages: ["@pulumi/pulumi", "@pulumi/consul", "@pulumi/docker"],
  },
  // The certificates: a well-kept X.509 library, never hand-written ASN.1.
  "components/dynamic/consul-secrets.ts": {
    layers: ["components", "consul", "mesh"],
    packages: ["@pulumi/pulumi", "@peculiar/x509", "reflect-metadata"],
  },
  cli: { layers: ["cli", "consul", "mesh"], packages: ["yaml", "js-hcl-parser"] },
};

/** The layer of a repository path: its most specific entry in {@link LAYERS}. */
function layerOf(file: string): string | undefined {
  return Object.keys(LAYERS)
    .filter((layer) => file === layer || file.startsWith(`${layer}/`))
    .sort((a, b) => b.length - a.length)[0];
}

/** Whether `file` lies in `layer` (a folder or a file). */
function within(file: string, layer: string): boolean {
  return file === layer || file.startsWith(`${layer}/`);
}

/** The sources of the product, as repository paths. */
function sources(): string[] {
  return ["mesh", "consul", "gateway", "components", "cli"].flatMap((top) =>
    (readdirSync(path.join(ROOT, top), { recursive: true }) as string[])
      .map((f) => `${top}/${f.split(path.sep).join("/")}`)
      .filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts")),
  );
}

/** The module specifiers a file imports, exports from or requires (what TypeScript itself reads). */
function importsOf(text: string): string[] {
  return ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName);
}

/** A relative specifier of `from` as a repository path (`./x` → `dir/x.ts`, or its `index.ts`). */
function resolve(from: string, specifier: string): string {
  const base = path.posix.normalize(path.posix.join(path.posix.dirname(from), specifier));
  for (const candidate of [`${base}.ts`, `${base}/index.ts`, base]) {
    try {
      readFileSync(path.join(ROOT, candidate));
      return candidate;
    } catch {
      // next candidate
    }
  }
  return base;
}

/** The package a bare specifier names (`@scope/name`, `name`). */
function packageOf(specifier: string): string {
  return /^(@[^/]+\/)?[^/]+/.exec(specifier)?.[0] ?? specifier;
}

/** Each import of the product that breaks a rule, as `file: specifier (why)`. */
function violations(): string[] {
  const found: string[] = [];
  for (const file of sources()) {
    const layer = layerOf(file);
    if (!layer) {
      found.push(`${file}: in no layer of LAYERS`);
      continue;
    }
    const rule = LAYERS[layer];
    for (const specifier of importsOf(readFileSync(path.join(ROOT, file), "utf8"))) {
      if (specifier.startsWith(".")) {
        const target = resolve(file, specifier);
        if (!rule.layers.some((allowed) => within(target, allowed)))
          found.push(`${file}: ${specifier} (${layer} may not import ${layerOf(target) ?? target})`);
      } else if (specifier.startsWith("node:")) {
        if (rule.builtins === false) found.push(`${file}: ${specifier} (${layer} does no I/O)`);
      } else if (!(rule.packages ?? []).includes(packageOf(specifier))) {
        found.push(`${file}: ${specifier} (${layer} may not use this package)`);
      }
    }
  }
  return found;
}

describe("layer rules (ARCHITECTURE.md)", () => {
  it("reads imports, exports and requires, not strings or comments", () => {
    const text =
      'import { a } from "./a";\nexport * from "./b";\nimport type {\n  C,\n} from "node:fs";\n' +
      'import "side";\nconst d = require("d");\n// require("e")\nconst m = `from "${x}"`;';
    expect(importsOf(text)).toEqual(["./a", "./b", "node:fs", "side", "d"]);
  });

  it("finds a broken rule", () => {
    expect(layerOf("mesh/model/types.ts")).toBe("mesh/model");
    expect(layerOf("gateway/net/proxy.ts")).toBe("gateway/net");
    expect(layerOf("gateway/gateway.ts")).toBe("gateway");
    expect(LAYERS["mesh/model"].layers.some((l) => within("mesh/plan/plan.ts", l))).toBe(false);
  });

  it("every import of mesh/, consul/, gateway/, components/ and cli/ keeps them", () => {
    expect(violations()).toEqual([]);
  });
});
