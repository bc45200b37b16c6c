import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  fromServiceRegistration,
  toConfigEntry,
  toConfigEntryHcl,
  toServiceHcl,
  toServiceRegistration,
  type ServiceDefinition,
} from "../../mesh";
import { SEED_CONFIG_ENTRIES, SEED_SERVICES } from "./fixtures/seed-models";

/** HCL compared modulo whitespace and a trailing comma before `]` (HCL allows both). */
function normalize(hcl: string): string {
  return hcl
    .replace(/,\s*\]/g, " ]")
    .replace(/\s+/g, " ")
    .trim();
}

function seed(name: string): string {
  return readFileSync(join(__dirname, "fixtures", "seeds", `${name}.hcl`), "utf8");
}

describe("seed service definitions (golden)", () => {
  describe.each(SEED_SERVICES)("$seed", ({ seed: name, model, json }) => {
    it("renders the equivalent registration JSON", () => {
      expect(toServiceRegistration(model)).toEqual(json);
      // Exact key order too: what Consul and a Pulumi diff see.
      expect(JSON.stringify(toServiceRegistration(model))).toBe(JSON.stringify(json));
    });

    it("renders the seed's HCL", () => {
      expect(normalize(toServiceHcl(model))).toBe(normalize(seed(name)));
    });

    it("JSON → model → HCL gives the seed's HCL again", () => {
      const back = fromServiceRegistration(toServiceRegistration(model));
      expect(back).toEqual(model);
      expect(normalize(toServiceHcl(back))).toBe(normalize(seed(name)));
    });
  });

  it("the comparison is not vacuous: another mode does not match the seed", () => {
    const changed: ServiceDefinition = {
      ...SEED_SERVICES[0].model,
      proxy: { ...SEED_SERVICES[0].model.proxy, meshGateway: { mode: "local" } },
    };
    expect(normalize(toServiceHcl(changed))).not.toBe(normalize(seed(SEED_SERVICES[0].seed)));
  });
});

describe("seed config entries (golden)", () => {
  describe.each(SEED_CONFIG_ENTRIES)("$seed", ({ seed: name, model, json }) => {
    it("renders the exact PUT /v1/config body", () => {
      expect(JSON.stringify(toConfigEntry(model))).toBe(json);
    });
    it("renders the seed's HCL", () => {
      expect(normalize(toConfigEntryHcl(model))).toBe(normalize(seed(name)));
    });
  });
});
