/**
 * `mesh/mesh.schema.json`, the topology file's JSON Schema, is current with `mesh/model/types.ts` and
 * accepts what the model accepts. Validated with Ajv (draft-07), as editors and CI tools would.
 */
import { readFileSync } from "node:fs";
import Ajv from "ajv";
import { defaultMesh } from "../../mesh";
import { meshSchemaText, SCHEMA_FILE } from "../../scripts/mesh-schema";
import { largeMesh } from "../support/large-mesh";

const committed = readFileSync(SCHEMA_FILE, "utf8");
const validate = new Ajv({ allErrors: true }).compile(JSON.parse(committed));

/** Where Ajv finds each problem of `document`, e.g. `.services[0].port should be number`. */
function problems(document: unknown): string[] {
  return validate(document) ? [] : (validate.errors ?? []).map((e) => `${e.dataPath} ${e.message}`);
}

describe("mesh/mesh.schema.json", () => {
  test("is what `npm run schema` generates from mesh/model/types.ts: run it when this fails", () => {
    expect(committed).toBe(meshSchemaText());
  }, 30_000);

  test("names itself and describes the model from its TSDoc", () => {
    expect(JSON.parse(committed)).toMatchObject({
      $schema: "http://json-schema.org/draft-07/schema#",
      $id: "urn:consul-mesh-gateway:mesh.schema.json",
      title: "Consul mesh topology",
      properties: {
        trustDomain: {
          description: "The Connect trust domain, `<cluster-id>.consul`. Default: `DEFAULT_TRUST_DOMAIN`.",
        },
      },
    });
  });

  test("accepts the default mesh, a generated one with every proxy form, and a $schema key", () => {
    expect(problems(defaultMesh())).toEqual([]);
    expect(problems(largeMesh({ datacenters: 3, services: 12, upstreamsPerService: 2 }))).toEqual([]);
    expect(problems({ $schema: "./mesh.schema.json", datacenters: [{ name: "dc1" }] })).toEqual([]);
  });

  /** A mesh whose only upstream is `upstream`, at {@link UPSTREAM}. */
  const withUpstream = (upstream: Record<string, unknown>) => ({
    datacenters: [{ name: "dc1" }],
    services: [
      { name: "web", datacenter: "dc1", port: 8080, connect: { sidecarService: { proxy: { upstreams: [upstream] } } } },
    ],
  });
  const UPSTREAM = ".services[0].connect.sidecarService.proxy.upstreams[0]";

  test.each([
    ["no datacenters", { services: [] }, " should have required property 'datacenters'"],
    [
      "a Consul spelling",
      withUpstream({ destination_name: "api", destinationName: "api", localBindPort: 1 }),
      `${UPSTREAM} should NOT have additional properties`,
    ],
    [
      "an unknown mode",
      withUpstream({ destinationName: "api", localBindPort: 1, meshGateway: { mode: "sometimes" } }),
      `${UPSTREAM}.meshGateway.mode should be equal to one of the allowed values`,
    ],
    [
      "a port as text",
      { datacenters: [{ name: "dc1" }], gateways: [{ datacenter: "dc1", port: "8443" }] },
      ".gateways[0].port should be number",
    ],
    [
      "an entry of another kind",
      { datacenters: [], serviceDefaults: [{ kind: "service-resolver", name: "web" }] },
      ".serviceDefaults[0].kind should be equal to constant",
    ],
  ])("refuses %s", (_, document, problem) => {
    expect(problems(document)).toContain(problem);
  });
});
