import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  fromServiceRegistration,
  toConfigEntry,
  toConfigEntryHcl,
  toServiceHcl,
  toServiceRegistration,
  type ConfigEntry,
  type ServiceDefinition,
  type ServiceRegistrationJson,
} from "../../mesh";

/** HCL compared modulo whitespace and a trailing comma before `]` (HCL allows both). */
function normalize(hcl: string): string {
  return hcl.replace(/,\s*\]/g, " ]").replace(/\s+/g, " ").trim();
}

function seed(name: string): string {
  return readFileSync(join(__dirname, "fixtures", "seeds", `${name}.hcl`), "utf8");
}

const instanceUpstreams = [{ destinationName: "api", datacenter: "secondary", localBindPort: 10000 }];
const instanceUpstreamsJson = [{ DestinationName: "api", Datacenter: "secondary", LocalBindPort: 10000 }];
const perUpstream = [
  { destinationName: "api", localBindPort: 10000, meshGateway: { mode: "remote" as const } },
  { destinationName: "db", localBindPort: 10001, meshGateway: { mode: "local" as const } },
  { destinationName: "logging", localBindPort: 10002, meshGateway: { mode: "none" as const } },
];
const perUpstreamJson = [
  { DestinationName: "api", LocalBindPort: 10000, MeshGateway: { Mode: "remote" } },
  { DestinationName: "db", LocalBindPort: 10001, MeshGateway: { Mode: "local" } },
  { DestinationName: "logging", LocalBindPort: 10002, MeshGateway: { Mode: "none" } },
];

const services: { seed: string; model: ServiceDefinition; json: ServiceRegistrationJson }[] = [
  {
    seed: "000-instance-connect-proxy",
    model: {
      name: "web-sidecar-proxy",
      kind: "connect-proxy",
      port: 8181,
      proxy: { destinationServiceName: "web", meshGateway: { mode: "remote" }, upstreams: instanceUpstreams },
    },
    json: {
      Name: "web-sidecar-proxy",
      Kind: "connect-proxy",
      Port: 8181,
      Proxy: { DestinationServiceName: "web", MeshGateway: { Mode: "remote" }, Upstreams: instanceUpstreamsJson },
    },
  },
  {
    seed: "000-instance-sidecar",
    model: {
      name: "web",
      port: 8181,
      connect: { sidecarService: { proxy: { meshGateway: { mode: "remote" }, upstreams: instanceUpstreams } } },
    },
    json: {
      Name: "web",
      Port: 8181,
      Connect: { SidecarService: { Proxy: { MeshGateway: { Mode: "remote" }, Upstreams: instanceUpstreamsJson } } },
    },
  },
  {
    seed: "000-per-upstream",
    model: {
      name: "web-sidecar-proxy",
      kind: "connect-proxy",
      port: 8181,
      proxy: { destinationServiceName: "web", upstreams: perUpstream },
    },
    json: {
      Name: "web-sidecar-proxy",
      Kind: "connect-proxy",
      Port: 8181,
      Proxy: { DestinationServiceName: "web", Upstreams: perUpstreamJson },
    },
  },
  {
    seed: "004-instance-proxy",
    model: {
      name: "web-sidecar-proxy",
      port: 8181,
      proxy: { destinationServiceName: "web", meshGateway: { mode: "remote" }, upstreams: instanceUpstreams },
    },
    json: {
      Name: "web-sidecar-proxy",
      Port: 8181,
      Proxy: { DestinationServiceName: "web", MeshGateway: { Mode: "remote" }, Upstreams: instanceUpstreamsJson },
    },
  },
  {
    seed: "004-instance-sidecar",
    model: {
      name: "web",
      port: 8181,
      connect: { sidecarService: { proxy: { meshGateway: { mode: "remote" }, upstreams: instanceUpstreams } } },
    },
    json: {
      Name: "web",
      Port: 8181,
      Connect: { SidecarService: { Proxy: { MeshGateway: { Mode: "remote" }, Upstreams: instanceUpstreamsJson } } },
    },
  },
  {
    seed: "004-per-upstream",
    model: { name: "web-sidecar-proxy", port: 8181, proxy: { destinationServiceName: "web", upstreams: perUpstream } },
    json: { Name: "web-sidecar-proxy", Port: 8181, Proxy: { DestinationServiceName: "web", Upstreams: perUpstreamJson } },
  },
];

describe("seed service definitions (golden)", () => {
  describe.each(services)("$seed", ({ seed: name, model, json }) => {
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
      ...services[0].model,
      proxy: { ...services[0].model.proxy, meshGateway: { mode: "local" } },
    };
    expect(normalize(toServiceHcl(changed))).not.toBe(normalize(seed(services[0].seed)));
  });
});

const entries: { seed: string; model: ConfigEntry; json: string }[] = [
  {
    seed: "000-proxy-defaults",
    model: { kind: "proxy-defaults", name: "global", meshGateway: { mode: "local" } },
    json: '{"Kind":"proxy-defaults","Name":"global","MeshGateway":{"Mode":"local"}}',
  },
  {
    seed: "000-service-defaults",
    model: { kind: "service-defaults", name: "web", meshGateway: { mode: "local" } },
    json: '{"Kind":"service-defaults","Name":"web","MeshGateway":{"Mode":"local"}}',
  },
  {
    seed: "004-proxy-defaults",
    model: { kind: "proxy-defaults", name: "global", meshGateway: { mode: "local" } },
    json: '{"Kind":"proxy-defaults","Name":"global","MeshGateway":{"Mode":"local"}}',
  },
  {
    seed: "004-service-defaults",
    model: { kind: "service-defaults", name: "web", meshGateway: { mode: "local" } },
    json: '{"Kind":"service-defaults","Name":"web","MeshGateway":{"Mode":"local"}}',
  },
];

describe("seed config entries (golden)", () => {
  describe.each(entries)("$seed", ({ seed: name, model, json }) => {
    it("renders the exact PUT /v1/config body", () => {
      expect(JSON.stringify(toConfigEntry(model))).toBe(json);
    });
    it("renders the seed's HCL", () => {
      expect(normalize(toConfigEntryHcl(model))).toBe(normalize(seed(name)));
    });
  });
});
