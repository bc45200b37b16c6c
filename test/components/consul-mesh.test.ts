import * as pulumi from "@pulumi/pulumi";
import { ConsulMesh } from "../../components/consul-mesh";
import { DEFAULT_GATEWAY_IMAGE_NAME } from "../../components/images/gateway-image";
import { CONSUL_CA_FILE_PATH, ROUTES_FILE_PATH } from "../../components/mesh-gateway";
import {
  DEFAULT_TRUST_DOMAIN,
  defaultMesh,
  MeshValidationError,
  planRoutes,
  renderGatewayRoutes,
  validateMesh,
  type Mesh,
} from "../../mesh";
import {
  isKnown,
  mockUuidOf,
  recordOutputs,
  setupMocks,
  valueOf,
  type MockHarness,
  type RecordedResource,
} from "../support/pulumi-mocks";

const T = {
  mesh: "consul-mesh:index:ConsulMesh",
  wan: "consul-mesh:index:WanFederation",
  dc: "consul-mesh:index:Datacenter",
  gateway: "consul-mesh:index:MeshGateway",
  service: "consul-mesh:index:ConnectService",
  proxyDefaults: "consul-mesh:index:ProxyDefaults",
  serviceDefaults: "consul-mesh:index:ServiceDefaults",
  container: "docker:index/container:Container",
  network: "docker:index/network:Network",
  entry: "consul:index/configEntry:ConfigEntry",
  registration: "pulumi-nodejs:dynamic:AgentServiceRegistration",
  trustDomain: "pulumi-nodejs:dynamic:GeneratedTrustDomain",
  provider: "pulumi:providers:consul",
};

/** The default mesh without its pinned trust domain, as a stack that pins none declares it. */
function unpinnedMesh(): Mesh {
  const { trustDomain: _, ...mesh } = defaultMesh();
  return mesh;
}

function countByType(resources: RecordedResource[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of resources) out[r.type] = (out[r.type] ?? 0) + 1;
  return out;
}

describe("ConsulMesh (Pulumi mocks)", () => {
  let mocks: MockHarness;
  beforeEach(async () => {
    mocks = await setupMocks();
  });

  test("the default two-datacenter mesh: every child, parented, with the route plan as an output", async () => {
    const mesh = new ConsulMesh("mesh", defaultMesh());
    await mocks.settle();
    expect(countByType(mocks.resources)).toEqual({
      [T.mesh]: 1,
      [T.wan]: 1,
      [T.dc]: 2,
      [T.gateway]: 2,
      [T.service]: 4,
      [T.network]: 3,
      "docker:index/remoteImage:RemoteImage": 2,
      [T.container]: 4,
      "docker:index/volume:Volume": 2,
      [T.provider]: 2,
      [T.registration]: 4,
      // The secure defaults: one CA and one gossip key, a certificate per datacenter, the
      // management token and the servers' own tokens, a policy and token per gateway, the
      // secondary's replication policy, and an intention per declared upstream's destination.
      "pulumi-nodejs:dynamic:ConsulCertificateAuthority": 1,
      "pulumi-nodejs:dynamic:ConsulServerCertificate": 2,
      "pulumi-nodejs:dynamic:GossipKey": 1,
      "pulumi-nodejs:dynamic:GeneratedToken": 4,
      "pulumi-nodejs:dynamic:PresetAclToken": 3,
      "consul:index/aclPolicy:AclPolicy": 3,
      "consul:index/aclToken:AclToken": 2,
      "consul-mesh:index:ServiceIntentions": 3,
      "consul:index/configEntryServiceIntentions:ConfigEntryServiceIntentions": 3,
    });
    const root = mocks.get("mesh", T.mesh);
    expect(
      mocks
        .childrenOf(root.urn)
        .map((r) => r.name)
        .sort(),
    ).toEqual([
      "mesh-ca",
      "mesh-dc1",
      "mesh-dc2",
      "mesh-gateway-dc1-mesh-gateway",
      "mesh-gateway-dc2-mesh-gateway",
      "mesh-gossip-key",
      "mesh-intentions-api",
      "mesh-intentions-db",
      "mesh-intentions-logging",
      "mesh-management-token",
      "mesh-service-dc1-web",
      "mesh-service-dc2-api",
      "mesh-service-dc2-db",
      "mesh-service-dc2-logging",
      "mesh-wan",
    ]);
    // Every other resource hangs below one of those components.
    for (const r of mocks.resources) if (r !== root) expect(r.parent).not.toBe("");

    const plan = await valueOf(mesh.routePlan);
    expect(plan).toEqual(planRoutes(defaultMesh()));
    expect(plan.routes.map((r) => [r.destination.name, r.mode, r.usesGateway])).toEqual([
      ["api", "remote", true],
      ["db", "local", true],
      ["logging", "none", false],
    ]);
    // ASCII, so that a preview's cut at 150 bytes never splits a character.
    const text = await valueOf(mesh.routePlanText);
    expect(text).toContain(
      "web (dc1) -> mesh-gateway dc1 LAN (mesh-gateway-dc1:8443) -> mesh-gateway dc2 WAN (mesh-gateway-dc2:8443) -> db (dc2)",
    );
    expect(text).toMatch(/^[\x20-\x7e\n]*$/);
    // One line per upstream, short enough for a preview to show whole.
    const summary = await valueOf(mesh.routeSummary);
    expect(summary).toEqual([
      "web (dc1) -> api (dc2): remote (upstream) via mesh-gateway dc2",
      "web (dc1) -> db (dc2): local (upstream) via mesh-gateway dc1, mesh-gateway dc2",
      "web (dc1) -> logging (dc2): none (upstream) direct",
    ]);
  });

  test("datacenters are WAN joined: each server's agent config lists the other's WAN address", async () => {
    new ConsulMesh("mesh", defaultMesh());
    await mocks.settle();
    const config = (name: string) => JSON.parse(mocks.get(name).inputs.uploads[0].content);
    expect(config("mesh-dc1-server-0")).toMatchObject({
      datacenter: "dc1",
      primary_datacenter: "dc1",
      retry_join_wan: ["10.250.0.30"],
    });
    expect(config("mesh-dc2-server-0")).toMatchObject({
      datacenter: "dc2",
      primary_datacenter: "dc1",
      retry_join_wan: ["10.250.0.10"],
    });
    expect(mocks.get("mesh-dc2-provider").inputs).toMatchObject({ address: "127.0.0.1:8501", datacenter: "dc2" });
  });

  test("gateways run the default image on LAN and WAN, with the model's host names as aliases and their IP addresses registered (consul mode)", async () => {
    new ConsulMesh("mesh", defaultMesh());
    await mocks.settle();
    const gw = mocks.get("mesh-gateway-dc2-mesh-gateway-gateway-0");
    expect(gw.inputs.image).toBe(DEFAULT_GATEWAY_IMAGE_NAME);
    expect(gw.inputs.networksAdvanced).toEqual([
      { name: "consul-mesh-dc2-lan", ipv4Address: "10.250.2.20", aliases: ["mesh-gateway-dc2"] },
      { name: "consul-mesh-wan", ipv4Address: "10.250.0.40", aliases: ["mesh-gateway-dc2"] },
    ]);
    expect(gw.inputs.command).toEqual(
      expect.arrayContaining([
        "--consul",
        "https://10.250.2.10:8501",
        "--lan-address",
        "10.250.2.20:8443",
        "--wan-address",
        "10.250.0.40:8443",
      ]),
    );
    // Its own token, and the CA that verifies its agent.
    expect(gw.inputs.envs).toEqual(["CONSUL_HTTP_TOKEN=secret-of-accessor-of-mesh-gateway-dc2-mesh-gateway-token"]);
    expect(gw.secretInputs).toContain("envs");
    expect(gw.inputs.uploads).toEqual([{ file: CONSUL_CA_FILE_PATH, content: "ca-pem-of-mesh-ca" }]);
  });

  test("connect services are registered with their own datacenter's agent", async () => {
    new ConsulMesh("mesh", defaultMesh());
    await mocks.settle();
    const web = mocks.get("mesh-service-dc1-web-registration");
    expect(web.inputs.address).toBe("https://127.0.0.1:8500");
    expect(web.inputs.caPem).toBe("ca-pem-of-mesh-ca");
    expect(
      web.inputs.registration.Connect.SidecarService.Proxy.Upstreams.map(
        (u: { MeshGateway: { Mode: string } }) => u.MeshGateway.Mode,
      ),
    ).toEqual(["remote", "local", "none"]);
    expect(mocks.get("mesh-service-dc2-api-registration").inputs.address).toBe("https://127.0.0.1:8501");
  });

  test("config entries go to the primary datacenter's provider", async () => {
    new ConsulMesh("mesh", {
      ...defaultMesh(),
      proxyDefaults: { kind: "proxy-defaults", name: "global", meshGateway: { mode: "local" } },
      serviceDefaults: [{ kind: "service-defaults", name: "web", meshGateway: { mode: "remote" } }],
    });
    await mocks.settle();
    const entries = mocks.byType(T.entry);
    expect(entries.map((e) => [e.inputs.kind, e.inputs.name, e.inputs.configJson])).toEqual([
      [
        "proxy-defaults",
        "global",
        '{"TransparentProxy":{},"MeshGateway":{"Mode":"local"},"Expose":{},"AccessLogs":{}}',
      ],
      ["service-defaults", "web", '{"TransparentProxy":{},"MeshGateway":{"Mode":"remote"},"Expose":{}}'],
    ]);
    const primary = mocks.get("mesh-dc1-provider").urn;
    for (const e of entries) expect(e.options.provider.startsWith(primary)).toBe(true);
  });

  test("file mode: each gateway gets the routes file mesh/ renders for its datacenter", async () => {
    const model = defaultMesh();
    const mesh = new ConsulMesh("mesh", { ...model, routeSource: "file" });
    await mocks.settle();
    for (const dc of ["dc1", "dc2"]) {
      const c = mocks.get(`mesh-gateway-${dc}-mesh-gateway-gateway-0`);
      expect(c.inputs.command).toEqual(expect.arrayContaining(["--routes", ROUTES_FILE_PATH]));
      const uploaded = JSON.parse(c.inputs.uploads[0].content);
      expect(uploaded).toEqual(renderGatewayRoutes(model, dc));
    }
    expect((await valueOf(mesh.routesFiles["dc1/mesh-gateway"])).gateways).toEqual([
      { datacenter: "dc2", partition: "default", endpoints: [{ address: "mesh-gateway-dc2", port: 8443 }] },
    ]);
    expect(
      mocks
        .byType(T.registration)
        .map((r) => r.name)
        .sort(),
    ).toEqual([
      "mesh-gateway-dc1-mesh-gateway-registration-0",
      "mesh-gateway-dc2-mesh-gateway-registration-0",
      "mesh-service-dc1-web-registration",
      "mesh-service-dc2-api-registration",
      "mesh-service-dc2-db-registration",
      "mesh-service-dc2-logging-registration",
    ]);
  });

  test("file mode: gateways declared without addresses are routed at their planned WAN addresses", async () => {
    const model = defaultMesh();
    model.gateways = [{ datacenter: "dc1" }, { datacenter: "dc2" }];
    const mesh = new ConsulMesh("mesh", { ...model, routeSource: "file" });
    await mocks.settle();
    expect((await valueOf(mesh.routesFiles["dc1/mesh-gateway"])).gateways[0].endpoints).toEqual([
      { address: "10.250.0.40", port: 8443 },
    ]);
    expect((await valueOf(mesh.routesFiles["dc2/mesh-gateway"])).gateways[0].endpoints).toEqual([
      { address: "10.250.0.20", port: 8443 },
    ]);
    expect(mocks.get("mesh-gateway-dc1-mesh-gateway-registration-0").inputs.registration.TaggedAddresses).toEqual({
      lan: { Address: "10.250.1.20", Port: 8443 },
      wan: { Address: "10.250.0.20", Port: 8443 },
    });
  });

  test("ACLs (the default): one management token for the stack; the servers' and gateways' own tokens; all secret", async () => {
    new ConsulMesh("mesh", defaultMesh());
    await mocks.settle();
    expect(
      mocks
        .byType("pulumi-nodejs:dynamic:GeneratedToken")
        .map((r) => r.name)
        .sort(),
    ).toEqual([
      "mesh-dc1-agent-token-secret",
      "mesh-dc2-agent-token-secret",
      "mesh-dc2-replication-token-secret",
      "mesh-management-token",
    ]);
    for (const dc of ["dc1", "dc2"]) {
      const server = mocks.get(`mesh-${dc}-server-0`);
      expect(server.secretInputs).toContain("uploads");
      const tokens = JSON.parse(server.inputs.uploads[0].content).acl.tokens;
      const agent = `generated-secret-of-mesh-${dc}-agent-token-secret`;
      // The management token is the primary's initial one, known to no agent else; the secondary
      // replicates with a token of its own.
      expect(tokens).toEqual(
        dc === "dc1"
          ? { initial_management: "generated-secret-of-mesh-management-token", agent }
          : { replication: "generated-secret-of-mesh-dc2-replication-token-secret", agent },
      );
      // Each server's token is a node identity of its own node, created with the secret its configuration holds.
      const preset = mocks.get(`mesh-${dc}-agent-token`);
      expect(preset.inputs).toMatchObject({
        secretId: agent,
        nodeIdentities: [{ nodeName: `${dc}-server-0`, datacenter: dc }],
        datacenter: "dc1",
      });
      expect(preset.secretInputs).toEqual(expect.arrayContaining(["secretId", "token"]));
      expect(mocks.get(`mesh-${dc}-provider`).secretInputs).toContain("token");
      expect(mocks.get(`mesh-gateway-${dc}-mesh-gateway-gateway-0`).secretInputs).toContain("envs");
    }
    expect(
      mocks
        .byType("consul:index/aclPolicy:AclPolicy")
        .map((p) => p.inputs.name)
        .sort(),
    ).toEqual(["dc1-mesh-gateway", "dc2-mesh-gateway", "dc2-replication"]);
    // Policies and tokens are global: dc2's are written and read back in the primary, where
    // they exist at once (dc2 sees them only after replication), through dc1's provider; dc2's
    // server tokens before dc2's servers start.
    const primary = mocks.get("mesh-dc1-provider").urn;
    for (const r of [
      ...mocks.byType("consul:index/aclPolicy:AclPolicy"),
      ...mocks.byType("consul:index/aclToken:AclToken"),
    ]) {
      expect(r.options.provider.startsWith(primary)).toBe(true);
    }
    expect(mocks.get("mesh-dc2-replication-token").inputs.address).toBe("https://127.0.0.1:8500");
    expect(mocks.get("mesh-dc2-server-0").options.dependencies).toEqual(
      expect.arrayContaining([mocks.get("mesh-dc2-agent-token").urn, mocks.get("mesh-dc2-replication-token").urn]),
    );
    const reads = mocks.calls.filter((x) => x.token === "consul:index/getAclTokenSecretId:getAclTokenSecretId");
    expect(reads).toHaveLength(2);
    for (const call of reads) expect(call.provider?.startsWith(primary)).toBe(true);
    for (const reg of mocks.byType(T.registration)) expect(reg.secretInputs).toEqual(["token"]);
  });

  test("the servers are pinned to the model's trust domain, so the route plan's SNI names are Consul's", async () => {
    new ConsulMesh("mesh", defaultMesh());
    await mocks.settle();
    const clusterId = DEFAULT_TRUST_DOMAIN.replace(/\.consul$/, "");
    for (const dc of ["dc1", "dc2"]) {
      const config = JSON.parse(mocks.get(`mesh-${dc}-server-0`).inputs.uploads[0].content);
      expect(config.connect).toEqual({ enabled: true, ca_config: { cluster_id: clusterId } });
    }
    // A trust domain Consul cannot be given is refused in file mode, where gateways rely on it.
    expect(
      () => new ConsulMesh("file", { ...defaultMesh(), trustDomain: "example.consul", routeSource: "file" }),
    ).toThrow(/trustDomain: .*<uuid>\.consul/);
  });

  test.each(["consul", "file"] as const)(
    "no trust domain given (%s mode): one drawn once, not secret, exported, and the same everywhere",
    async (routeSource) => {
      const outputs = recordOutputs();
      const mesh = new ConsulMesh("mesh", { ...unpinnedMesh(), routeSource });
      await mocks.settle();
      const drawn = mocks.byType(T.trustDomain);
      expect(drawn.map((r) => [r.name, r.parent])).toEqual([["mesh-trust-domain", mocks.get("mesh", T.mesh).urn]]);
      expect(drawn[0].options.additionalSecretOutputs).toEqual([]);
      const clusterId = mockUuidOf("mesh-trust-domain");
      const trustDomain = `${clusterId}.consul`;
      expect(await valueOf(mesh.trustDomain)).toBe(trustDomain);
      expect(await pulumi.isSecret(mesh.trustDomain)).toBe(false);
      expect(outputs.get(mocks.get("mesh", T.mesh).urn)?.trustDomain).toBe(trustDomain);
      for (const dc of ["dc1", "dc2"]) {
        const config = JSON.parse(mocks.get(`mesh-${dc}-server-0`).inputs.uploads[0].content);
        expect(config.connect.ca_config).toEqual({ cluster_id: clusterId });
        const gw = mocks.get(`mesh-gateway-${dc}-mesh-gateway-gateway-0`);
        expect(gw.inputs.command.slice(0, 4)).toEqual(["--datacenter", dc, "--trust-domain", trustDomain]);
        if (routeSource === "file") {
          const expected = renderGatewayRoutes({ ...unpinnedMesh(), trustDomain }, dc);
          expect(JSON.parse(gw.inputs.uploads[0].content)).toEqual(expected);
          expect(await valueOf(mesh.routesFiles[`${dc}/mesh-gateway`])).toEqual(expected);
        } else expect(gw.inputs.uploads).toEqual([{ file: CONSUL_CA_FILE_PATH, content: "ca-pem-of-mesh-ca" }]);
      }
      const plan = await valueOf(mesh.routePlan);
      expect(plan).toEqual(planRoutes({ ...unpinnedMesh(), trustDomain }));
      expect(plan.routes.map((r) => r.sni.endsWith(`.internal.${trustDomain}`))).toEqual([true, true, true]);
      expect(await valueOf(mesh.routePlanText)).toContain(`api.default.dc2.internal.${trustDomain}`);
      expect(Object.keys(mesh.routesFiles).sort()).toEqual(
        routeSource === "file" ? ["dc1/mesh-gateway", "dc2/mesh-gateway"] : [],
      );
    },
  );

  test("a pinned trust domain: nothing drawn, and the pinned one everywhere", async () => {
    const clusterId = "5fcd4b81-a2ca-405a-ac62-0fac602c1949";
    const trustDomain = `${clusterId}.consul`;
    const model = { ...unpinnedMesh(), trustDomain };
    const mesh = new ConsulMesh("mesh", { ...model, routeSource: "file" });
    await mocks.settle();
    expect(mocks.byType(T.trustDomain)).toEqual([]);
    expect(await valueOf(mesh.trustDomain)).toBe(trustDomain);
    for (const dc of ["dc1", "dc2"]) {
      const config = JSON.parse(mocks.get(`mesh-${dc}-server-0`).inputs.uploads[0].content);
      expect(config.connect.ca_config).toEqual({ cluster_id: clusterId });
      const gw = mocks.get(`mesh-gateway-${dc}-mesh-gateway-gateway-0`);
      expect(gw.inputs.command.slice(0, 4)).toEqual(["--datacenter", dc, "--trust-domain", trustDomain]);
      expect(JSON.parse(gw.inputs.uploads[0].content)).toEqual(renderGatewayRoutes(model, dc));
    }
    expect(await valueOf(mesh.routePlan)).toEqual(planRoutes(model));
  });

  test("the first preview, before the trust domain is drawn: the same resources, and routeSummary known", async () => {
    const names = (m: MockHarness) => m.resources.map((r) => `${r.type} ${r.name}`).sort();
    const drawn = await setupMocks();
    new ConsulMesh("mesh", { ...unpinnedMesh(), routeSource: "file" });
    await drawn.settle();
    // A preview of a stack that has not drawn it yet: the engine knows no value.
    const preview = await setupMocks({
      preview: true,
      state: (args) => (args.type === T.trustDomain ? { value: undefined } : undefined),
    });
    const mesh = new ConsulMesh("mesh", { ...unpinnedMesh(), routeSource: "file" });
    await preview.settle();
    expect(names(preview)).toEqual(names(drawn));
    expect(await isKnown(mesh.trustDomain)).toBe(false);
    expect(await isKnown(mesh.routePlan)).toBe(false);
    expect(await isKnown(mesh.routeSummary)).toBe(true);
    expect(await valueOf(mesh.routeSummary)).toEqual([
      "web (dc1) -> api (dc2): remote (upstream) via mesh-gateway dc2",
      "web (dc1) -> db (dc2): local (upstream) via mesh-gateway dc1, mesh-gateway dc2",
      "web (dc1) -> logging (dc2): none (upstream) direct",
    ]);
  });

  test("refuses the instance fields of a running Consul (id, node), which it could not honour", () => {
    const mesh = defaultMesh();
    mesh.gateways![0].id = "mesh-gateway-2";
    mesh.services![0].node = "node-2";
    let error: unknown;
    try {
      new ConsulMesh("instances", mesh);
    } catch (e) {
      error = e;
    }
    expect((error as MeshValidationError).problems.map((p) => p.path)).toEqual(["gateways[0].id", "services[0].node"]);
  });

  test("a given management token is used as is (and is secret)", async () => {
    const mesh = new ConsulMesh("mesh", { ...defaultMesh(), initialManagementToken: pulumi.secret("given") });
    await mocks.settle();
    expect(mocks.byType("pulumi-nodejs:dynamic:GeneratedToken").map((r) => r.name)).not.toContain(
      "mesh-management-token",
    );
    expect(await pulumi.isSecret(mesh.datacenters.dc1.managementToken as pulumi.Output<string>)).toBe(true);
    expect(await valueOf(mesh.datacenters.dc2.managementToken as pulumi.Output<string>)).toBe("given");
    expect(JSON.parse(mocks.get("mesh-dc1-server-0").inputs.uploads[0].content).acl.tokens.initial_management).toBe(
      "given",
    );
  });

  test("an invalid mesh fails with every problem in one error, before any resource exists", async () => {
    const model: Mesh = defaultMesh();
    model.datacenters.push({ name: "dc1" });
    model.datacenters[1].primaryDatacenter = "dc2";
    // gRPC off is refused only without TLS (which has it on 8503), and then with TLS on in dc1.
    model.datacenters[1].tls = { enabled: false };
    model.datacenters[1].ports = { grpc: -1 };
    model.proxyDefaults = { kind: "proxy-defaults", name: "default", meshGateway: { mode: "local" } };
    model.gateways = model.gateways?.filter((g) => g.datacenter === "dc1");
    const web = model.services?.[0];
    web?.connect?.sidecarService.proxy?.upstreams?.push({
      destinationName: "cache",
      datacenter: "dc2",
      localBindPort: 10000,
    });
    const expected = validateMesh(model).map((p) => p.path);
    expect(expected.length).toBeGreaterThanOrEqual(6);

    let error: unknown;
    try {
      new ConsulMesh("mesh", {
        ...model,
        lanSubnets: { dc9: "10.1.0.0/24" },
        httpHostPorts: { dc1: 9000, dc2: 9000 },
        workloads: { appImage: "node:20", sidecarImage: "consul-envoy", demoHostPort: 9000 },
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MeshValidationError);
    const paths = (error as MeshValidationError).problems.map((p) => p.path);
    expect(paths).toEqual([...expected, "lanSubnets.dc9", "httpHostPorts.dc2", "workloads.demoHostPort"]);
    for (const path of paths) expect((error as Error).message).toContain(`${path}: `);
    expect(paths).toEqual(
      expect.arrayContaining([
        "datacenters[2].name",
        "datacenters[1].primaryDatacenter",
        "datacenters[1].ports.grpc",
        "datacenters[1].tls.enabled",
        "proxyDefaults.name",
        "services[0].connect.sidecarService.proxy.upstreams[3].destinationName",
        "services[0].connect.sidecarService.proxy.upstreams[3].localBindPort",
      ]),
    );
    await mocks.settle();
    expect(mocks.resources).toHaveLength(0);
  });

  test("stable previews: the same mesh gives identical resources and inputs, run after run", async () => {
    const snapshot = async () => {
      const m = await setupMocks({ preview: true });
      new ConsulMesh("mesh", { ...defaultMesh(), routeSource: "file" });
      await m.settle();
      return m.resources
        .map((r) => ({ type: r.type, name: r.name, parent: r.parent, inputs: r.rawInputs }))
        .sort((a, b) => a.name.localeCompare(b.name));
    };
    const first = await snapshot();
    const second = await snapshot();
    expect(second).toEqual(first);
    expect(first.length).toBe(51);
  });
});
