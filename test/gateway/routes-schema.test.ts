import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseRoutesFile, routesJsonSchema } from "../../gateway/routing/routes-schema";
import { routeTableFromRoutesFile, routeTableToRoutesFile } from "../../gateway/routing/route-table";

const SCHEMA_FILE = path.join(__dirname, "../../gateway/routing/routes.schema.json");
const TD = "5fcd4b81-a2ca-405a-ac62-0fac602c1949.consul";

describe("routes file schema", () => {
  test("gateway/routing/routes.schema.json is the current z.toJSONSchema() output (UPDATE_ROUTES_SCHEMA=1 rewrites it)", () => {
    const current = `${JSON.stringify(routesJsonSchema(), null, 2)}\n`;
    if (process.env.UPDATE_ROUTES_SCHEMA === "1") writeFileSync(SCHEMA_FILE, current);
    expect(readFileSync(SCHEMA_FILE, "utf8")).toBe(current);
  });

  test("the issue's example file is valid; defaults stay implicit", () => {
    const example = {
      datacenter: "dc1",
      trustDomain: TD,
      services: [
        {
          name: "web",
          namespace: "default",
          partition: "default",
          subset: "v2",
          endpoints: [{ address: "127.0.0.1", port: 21000 }],
        },
      ],
      gateways: [{ datacenter: "dc2", partition: "default", endpoints: [{ address: "127.0.0.1", port: 8444 }] }],
    };
    expect(parseRoutesFile(example)).toEqual({ ok: true, routes: example });
    expect(parseRoutesFile({ $schema: "./routes.schema.json", datacenter: "dc1", trustDomain: TD })).toEqual({
      ok: true,
      routes: { datacenter: "dc1", trustDomain: TD, services: [], gateways: [] },
    });
  });

  test.each([
    [{ trustDomain: TD }, "datacenter"],
    [{ datacenter: "dc 1", trustDomain: TD }, "datacenter: datacenter must be a DNS label"],
    [{ datacenter: "dc1", trustDomain: "bad/td" }, "trustDomain"],
    [
      { datacenter: "dc1", trustDomain: TD, services: [{ name: "web", endpoints: [{ address: "a", port: 70000 }] }] },
      "services[0].endpoints[0].port",
    ],
    [
      { datacenter: "dc1", trustDomain: TD, services: [{ name: "web", endpoints: [{ address: "", port: 1 }] }] },
      "services[0].endpoints[0].address",
    ],
    [{ datacenter: "dc1", trustDomain: TD, gateways: [{ endpoints: [] }] }, "gateways[0].datacenter"],
    [{ datacenter: "dc1", trustDomain: TD, services: [{ name: "web", endpoints: [], weight: 3 }] }, "services[0]"],
  ])("refuses %j naming %s", (input, field) => {
    const result = parseRoutesFile(input);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toContain(field);
  });

  test("a table round-trips to routes file form, lower-cased, merged and with defaults filled", () => {
    const table = routeTableFromRoutesFile({
      datacenter: "DC1",
      trustDomain: TD.toUpperCase(),
      services: [
        { name: "Web", endpoints: [{ address: "10.0.0.1", port: 1 }] },
        { name: "web", endpoints: [{ address: "10.0.0.2", port: 2 }] },
      ],
      gateways: [
        { datacenter: "dc2", endpoints: [{ address: "10.0.1.1", port: 8443 }] },
        { datacenter: "dc1", endpoints: [{ address: "10.9.9.9", port: 8443 }] },
      ],
    });
    expect(routeTableToRoutesFile(table)).toEqual({
      datacenter: "dc1",
      trustDomain: TD,
      services: [
        {
          name: "web",
          namespace: "default",
          partition: "default",
          endpoints: [
            { address: "10.0.0.1", port: 1 },
            { address: "10.0.0.2", port: 2 },
          ],
        },
      ],
      gateways: [{ datacenter: "dc2", partition: "default", endpoints: [{ address: "10.0.1.1", port: 8443 }] }],
    });
  });
});
