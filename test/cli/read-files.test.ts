/**
 * Consul configuration files as operators write them: every snippet of both seed documents
 * loads verbatim into the model the golden tests pin; agent configuration gives the
 * datacenter; parse errors and Consul-refused keys name their file and line or field.
 */
import { mkdtempSync, writeFileSync, mkdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { readConsulConfig, readTopologyFile } from "../../cli/read-files";
import { PlanUsageError } from "../../cli/errors";
import { defaultMesh, mergeFragments, validateMesh } from "../../mesh";
import { SEED_CONFIG_ENTRIES, SEED_SERVICES } from "../mesh/fixtures/seed-models";

const SEEDS = path.join(__dirname, "..", "mesh", "fixtures", "seeds");

function scratch(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "plan-files-"));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

describe("readConsulConfig: the seed documents' snippets, verbatim", () => {
  it.each(SEED_SERVICES)("$seed loads as the model of the golden tests", async ({ seed, model }) => {
    const fragment = await readConsulConfig(path.join(SEEDS, `${seed}.hcl`), "primary");
    expect(fragment.problems).toEqual([]);
    expect(fragment.mesh.services).toEqual([{ ...model, datacenter: "primary" }]);
    expect(fragment.origins.services).toEqual([`${path.join(SEEDS, `${seed}.hcl`)}: service ${model.name}`]);
  });

  it.each(SEED_CONFIG_ENTRIES)("$seed loads as the model of the golden tests", async ({ seed, model }) => {
    const fragment = await readConsulConfig(path.join(SEEDS, `${seed}.hcl`), undefined);
    expect(fragment.problems).toEqual([]);
    if (model.kind === "proxy-defaults") expect(fragment.mesh.proxyDefaults).toEqual(model);
    else expect(fragment.mesh.serviceDefaults).toEqual([model]);
  });

  it("reads the whole seed directory as one agent: 10 files, no agent configuration, so no datacenter", async () => {
    const fragment = await readConsulConfig(SEEDS, "dc1");
    expect(fragment.problems).toEqual([]);
    expect(fragment.mesh.datacenters).toEqual([]);
    expect(fragment.mesh.services).toHaveLength(SEED_SERVICES.length);
    expect(fragment.mesh.services!.every((s) => s.datacenter === "dc1")).toBe(true);
    expect(fragment.mesh.serviceDefaults).toHaveLength(2);
  });
});

describe("readConsulConfig: agent configuration", () => {
  it("takes the datacenter, primary and prerequisites from the agent's files and places the services there", async () => {
    const dir = scratch({
      "agent.hcl":
        'datacenter = "dc2"\nprimary_datacenter = "dc1"\nconnect { enabled = true }\nports { grpc = 8502 }\n',
      "web.json": JSON.stringify({ service: { name: "web", port: 8080, connect: { sidecar_service: {} } } }),
      "gateway.hcl": [
        "service {",
        '  name = "mesh-gateway"',
        '  kind = "mesh-gateway"',
        "  port = 8443",
        '  tagged_addresses { lan { address = "10.0.0.5"  port = 8443 } wan { address = "203.0.113.5"  port = 443 } }',
        "}",
      ].join("\n"),
    });
    const fragment = await readConsulConfig(dir, "dc1");
    expect(fragment.problems).toEqual([]);
    expect(fragment.mesh.datacenters).toEqual([
      { name: "dc2", primaryDatacenter: "dc1", connect: { enabled: true }, ports: { grpc: 8502 } },
    ]);
    expect(fragment.origins.datacenters).toEqual([`${path.join(dir, "agent.hcl")}: agent configuration`]);
    expect(fragment.mesh.services).toEqual([
      { name: "web", port: 8080, connect: { sidecarService: {} }, datacenter: "dc2" },
    ]);
    expect(fragment.mesh.gateways).toEqual([
      {
        datacenter: "dc2",
        name: "mesh-gateway",
        port: 8443,
        taggedAddresses: { lan: { address: "10.0.0.5", port: 8443 }, wan: { address: "203.0.113.5", port: 443 } },
      },
    ]);
  });

  it("reads WAN federation through the mesh gateways from the agent's connect block", async () => {
    const dir = scratch({
      "agent.hcl": [
        'datacenter = "dc2"',
        'primary_datacenter = "dc1"',
        "connect {",
        "  enabled = true",
        "  enable_mesh_gateway_wan_federation = true",
        "}",
        'primary_gateways = ["198.51.100.1:8443"]',
        "",
      ].join("\n"),
    });
    const fragment = await readConsulConfig(dir, "dc1");
    expect(fragment.problems).toEqual([]);
    expect(fragment.mesh.wanFederation).toEqual({ mode: "mesh-gateways" });
    expect(fragment.origins.mesh).toBe(`${path.join(dir, "agent.hcl")}: agent configuration`);
    const gossip = await readConsulConfig(scratch({ "agent.hcl": 'datacenter = "dc2"\n' }), "dc1");
    expect(gossip.mesh.wanFederation).toBeUndefined();
    expect(mergeFragments([gossip, fragment]).mesh.wanFederation).toEqual({ mode: "mesh-gateways" });
  });

  it("reads cluster peering turned off, which a peer held there is refused for", async () => {
    const fragment = await readConsulConfig(
      scratch({ "agent.hcl": 'datacenter = "dc1"\npeering {\n  enabled = false\n}\n' }),
      undefined,
    );
    expect(fragment.mesh.datacenters[0].peering).toEqual({ enabled: false });
    const problems = validateMesh({ ...fragment.mesh, peers: [{ name: "cluster-b" }] }).map((p) => p.path);
    expect(problems).toEqual(["datacenters[0].peering.enabled"]);
  });

  it("places the services of two agents of one datacenter on their nodes (node_name), so one ID on both is no clash", async () => {
    const service = JSON.stringify({ service: { name: "web", port: 8080 } });
    const a = await readConsulConfig(
      scratch({ "agent.hcl": 'datacenter = "dc1"\nnode_name = "node-a"\n', "web.json": service }),
      undefined,
    );
    const b = await readConsulConfig(
      scratch({ "agent.hcl": 'datacenter = "dc1"\nnode_name = "node-b"\n', "web.json": service }),
      undefined,
    );
    expect([...a.mesh.services!, ...b.mesh.services!].map((s) => s.node)).toEqual(["node-a", "node-b"]);
    const merged = mergeFragments([a, b]);
    expect(validateMesh(merged.mesh).filter((p) => /already registered/.test(p.message))).toEqual([]);
  });

  it("counts gRPC as off without ports.grpc (Consul 1.14+), unless the agent has TLS for grpc_tls", async () => {
    const plain = await readConsulConfig(scratch({ "a.hcl": 'datacenter = "dc1"\n' }), undefined);
    expect(plain.mesh.datacenters[0].ports).toEqual({ grpc: -1 });
    const tls = await readConsulConfig(
      scratch({ "a.hcl": 'datacenter = "dc1"\ntls { defaults { cert_file = "c.pem" } }\n' }),
      undefined,
    );
    expect(tls.mesh.datacenters[0].ports).toBeUndefined();
  });

  it("reads config entries bootstrapped in the agent configuration", async () => {
    const dir = scratch({
      "a.hcl":
        'datacenter = "dc1"\nconfig_entries {\n  bootstrap = [\n    { kind = "proxy-defaults"\n name = "global"\n mesh_gateway { mode = "local" } }\n  ]\n}\n',
    });
    const fragment = await readConsulConfig(dir, undefined);
    expect(fragment.mesh.proxyDefaults).toEqual({
      kind: "proxy-defaults",
      name: "global",
      meshGateway: { mode: "local" },
    });
  });

  it("names a directory whose files disagree on the datacenter", async () => {
    const dir = scratch({ "a.hcl": 'datacenter = "dc1"\n', "b.hcl": 'datacenter = "dc2"\n' });
    const fragment = await readConsulConfig(dir, undefined);
    expect(fragment.problems).toEqual([
      expect.objectContaining({
        origin: path.join(dir, "b.hcl"),
        field: "datacenter",
        message: expect.stringContaining("one directory is one agent"),
      }),
    ]);
  });
});

describe("readConsulConfig: what Consul would refuse, or what cannot be planned", () => {
  it("names a key Consul refuses in a routing block (a typo that would silently drop the mode)", async () => {
    const dir = scratch({
      "web.hcl":
        'service {\n  name = "web"\n  port = 1\n  connect { sidecar_service { proxy { upstreams = [ { destination_name = "api"\n local_bind_port = 9\n mesh_gatway { mode = "local" } } ] } } }\n}\n',
    });
    const fragment = await readConsulConfig(dir, undefined);
    expect(fragment.problems).toEqual([
      {
        origin: path.join(dir, "web.hcl"),
        field: "service.connect.sidecar_service.proxy.upstreams[0].mesh_gatway",
        message: expect.stringContaining('unknown key "mesh_gatway" in an upstream'),
      },
    ]);
  });

  it("leaves out a prepared-query upstream and says why", async () => {
    const dir = scratch({
      "web.hcl":
        'service {\n  name = "web"\n  port = 1\n  proxy { upstreams = [ { destination_type = "prepared_query"\n destination_name = "q"\n local_bind_port = 9 } ] }\n}\n',
    });
    const fragment = await readConsulConfig(dir, undefined);
    expect(fragment.problems).toEqual([
      expect.objectContaining({ message: expect.stringContaining("prepared query") }),
    ]);
    expect(fragment.mesh.services![0].proxy!.upstreams).toEqual([]);
  });

  it("names the file, line and column of HCL that does not parse, and keeps reading the others", async () => {
    const dir = scratch({
      "bad.hcl": 'service {\n  name = "web"\n',
      "good.json": JSON.stringify({ service: { name: "api", port: 2 } }),
    });
    const fragment = await readConsulConfig(dir, undefined);
    expect(fragment.problems).toEqual([
      {
        origin: path.join(dir, "bad.hcl"),
        field: expect.stringMatching(/^line \d+, column \d+$/),
        message: expect.stringContaining("not valid HCL"),
      },
    ]);
    expect(fragment.mesh.services!.map((s) => s.name)).toEqual(["api"]);
  });

  it("is a usage error for a path that does not exist", async () => {
    await expect(readConsulConfig("/nonexistent/consul.d", undefined)).rejects.toThrow(PlanUsageError);
    await expect(readConsulConfig("/nonexistent/consul.d", undefined)).rejects.toThrow(
      "--config /nonexistent/consul.d: no such file or directory",
    );
  });
});

describe("readTopologyFile", () => {
  it("reads the same mesh from YAML and JSON, naming each object by its place in the file", async () => {
    const mesh = defaultMesh();
    const dir = scratch({ "mesh.json": JSON.stringify(mesh) });
    const json = await readTopologyFile(path.join(dir, "mesh.json"));
    expect(json.mesh).toEqual({
      ...mesh,
      gateways: mesh.gateways ?? [],
      services: mesh.services ?? [],
      serviceDefaults: mesh.serviceDefaults ?? [],
    });
    expect(json.origins.services[1]).toBe(`${path.join(dir, "mesh.json")}: services[1]`);
    const { stringify } = await import("yaml");
    writeFileSync(path.join(dir, "mesh.yaml"), stringify(mesh));
    const yaml = await readTopologyFile(path.join(dir, "mesh.yaml"));
    expect(yaml.mesh).toEqual(json.mesh);
  });

  it("names the line of YAML that does not parse", async () => {
    const dir = scratch({ "mesh.yaml": "datacenters:\n  - name: dc1\n   bad: [\n" });
    const fragment = await readTopologyFile(path.join(dir, "mesh.yaml"));
    expect(fragment.problems).toEqual([
      expect.objectContaining({
        field: expect.stringMatching(/^line \d+, column \d+$/),
        message: expect.stringContaining("not valid YAML"),
      }),
    ]);
  });
});
