import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { AGENT_CONFIG_PATH, CONSUL_IMAGE, DATA_PATH, Datacenter } from "../../components/datacenter";
import { renderAgentConfig } from "../../mesh";
import { problemPaths } from "../support/problem-paths";
import { setupMocks, valueOf, type MockHarness } from "../support/pulumi-mocks";

const CONTAINER = "docker:index/container:Container";

/** Every secure default turned off, explicitly: the plain layout some tests below read. */
const OPEN = { tls: { enabled: false }, gossipEncryption: { enabled: false }, acl: { enabled: false } } as const;
/** TLS and gossip encryption off, ACLs as the test says. */
const CLEAR = { tls: { enabled: false }, gossipEncryption: { enabled: false } } as const;

describe("Datacenter (Pulumi mocks)", () => {
  let mocks: MockHarness;
  beforeEach(async () => {
    mocks = await setupMocks();
  });

  test("a lone datacenter, secure by default: its own CA, server certificate, gossip key and tokens, all over TLS", async () => {
    const dc = new Datacenter("dc1", { datacenter: { name: "dc1" } });
    await mocks.settle();
    const self = mocks.get("dc1", "consul-mesh:index:Datacenter").urn;
    for (const name of [
      "dc1-ca",
      "dc1-server-certificate",
      "dc1-gossip-key",
      "dc1-management-token",
      "dc1-agent-token-secret",
      "dc1-agent-token",
    ])
      expect(mocks.get(name).parent).toBe(self);
    expect(mocks.get("dc1-server-certificate").inputs).toMatchObject({
      datacenter: "dc1",
      nodes: ["dc1-server-0"],
      hosts: ["dc1-server-0", "10.250.1.10", "consul-dc1"], // and localhost, 127.0.0.1: always
    });
    const server = mocks.get("dc1-server-0");
    expect(server.secretInputs).toContain("uploads");
    expect(server.inputs.uploads.map((u: { file: string }) => u.file)).toEqual([
      AGENT_CONFIG_PATH,
      "/consul/config/tls/ca.pem",
      "/consul/config/tls/server.pem",
      "/consul/config/tls/server-key.pem",
    ]);
    expect(server.inputs.uploads[1].content).toBe("ca-pem-of-dc1-ca");
    expect(server.inputs.uploads[3].content).toBe("key-of-dc1-server-certificate");
    const config = JSON.parse(server.inputs.uploads[0].content);
    expect(config.encrypt).toBe(createHash("sha256").update("dc1-gossip-key").digest("base64"));
    expect(config.tls.internal_rpc).toEqual({ verify_server_hostname: true });
    expect(config.acl.tokens).toEqual({
      initial_management: "generated-secret-of-dc1-management-token",
      agent: "generated-secret-of-dc1-agent-token-secret",
    });
    expect(server.inputs.envs).toEqual([
      "CONSUL_HTTP_ADDR=https://127.0.0.1:8501",
      "CONSUL_CACERT=/consul/config/tls/ca.pem",
    ]);
    expect(server.inputs.ports).toEqual([{ internal: 8501, external: 8500, ip: "127.0.0.1", protocol: "tcp" }]);
    expect(mocks.get("dc1-provider").inputs).toMatchObject({
      address: "127.0.0.1:8500",
      scheme: "https",
      caPem: "ca-pem-of-dc1-ca",
      token: "generated-secret-of-dc1-management-token",
    });
    expect(mocks.get("dc1-agent-token").inputs).toMatchObject({
      address: "https://127.0.0.1:8500",
      caPem: "ca-pem-of-dc1-ca",
      datacenter: "dc1",
      nodeIdentities: [{ nodeName: "dc1-server-0", datacenter: "dc1" }],
    });
    expect(await valueOf(dc.httpAddress)).toBe("https://127.0.0.1:8500");
    expect(dc.lanHttpAddress).toBe("https://10.250.1.10:8501");
    expect(dc.lanGrpcAddress).toBe("https://10.250.1.10:8503");
    expect(dc.aclProvider).toBe(dc.provider);
  });

  test("a lone datacenter, every default off: LAN network, pulled Consul image, one server with the rendered agent config, a provider", async () => {
    const dc = new Datacenter("dc1", { datacenter: { name: "dc1", ...OPEN } });
    await mocks.settle();
    const self = mocks.get("dc1", "consul-mesh:index:Datacenter");

    const network = mocks.get("dc1-lan");
    expect(network.type).toBe("docker:index/network:Network");
    expect(network.inputs).toMatchObject({ name: "consul-mesh-dc1-lan", ipamConfigs: [{ subnet: "10.250.1.0/24" }] });

    const image = mocks.get("dc1-image");
    expect(image.inputs).toEqual({ name: CONSUL_IMAGE, keepLocally: true });
    expect(CONSUL_IMAGE).toMatch(/^hashicorp\/consul:\d+\.\d+\.\d+$/);

    const servers = mocks.byType(CONTAINER);
    expect(servers.map((s) => s.name)).toEqual(["dc1-server-0"]);
    const server = servers[0].inputs;
    expect(server.name).toBe("consul-mesh-dc1-server-0");
    expect(server.image).toBe(`sha256:mock-image-of-${CONSUL_IMAGE}`);
    expect(server.command).toEqual(["agent", "-node=dc1-server-0", "-advertise=10.250.1.10"]);
    expect(server.networksAdvanced).toEqual([
      { name: "consul-mesh-dc1-lan", ipv4Address: "10.250.1.10", aliases: ["dc1-server-0", "consul-dc1"] },
    ]);
    expect(server.ports).toEqual([{ internal: 8500, external: 8500, ip: "127.0.0.1", protocol: "tcp" }]);
    // Consul's data lives on a named volume, so a replaced container keeps the cluster's state;
    // fixed names, addresses and ports mean the old container must go before the new one.
    expect(mocks.get("dc1-server-0-data").inputs).toMatchObject({ name: "consul-mesh-dc1-server-0-data" });
    expect(server.volumes).toEqual([{ volumeName: "consul-mesh-dc1-server-0-data", containerPath: DATA_PATH }]);
    expect(servers[0].options.deleteBeforeReplace).toBe(true);
    expect(network.options.deleteBeforeReplace).toBe(true);
    expect(server.wait).toBe(true);
    expect(server.healthcheck.tests.join(" ")).toContain("consul catalog services");

    const expected = renderAgentConfig({ primaryDatacenter: "dc1", datacenters: [{ name: "dc1", ...OPEN }] }, "dc1", {
      retryJoinWan: [],
      bindAddr: "0.0.0.0",
    });
    expect(server.uploads).toHaveLength(1);
    expect(server.uploads[0].file).toBe(AGENT_CONFIG_PATH);
    expect(JSON.parse(server.uploads[0].content)).toEqual(expected);
    expect(expected).toMatchObject({
      datacenter: "dc1",
      primary_datacenter: "dc1",
      connect: { enabled: true },
      ports: { grpc: 8502 },
      enable_central_service_config: true,
    });

    const provider = mocks.get("dc1-provider");
    expect(provider.type).toBe("pulumi:providers:consul");
    expect(provider.inputs).toMatchObject({ address: "127.0.0.1:8500", scheme: "http", datacenter: "dc1" });
    expect(provider.inputs.token).toBeUndefined();
    expect(provider.options.dependencies).toContain(servers[0].urn);

    for (const child of [network, image, servers[0], provider, mocks.get("dc1-server-0-data")])
      expect(child.parent).toBe(self.urn);
    expect(await valueOf(dc.httpAddress)).toBe("http://127.0.0.1:8500");
    expect(dc.lanHttpAddress).toBe("http://10.250.1.10:8500");
    expect(dc.managementToken).toBeUndefined();
  });

  test("three servers on the WAN: advertise addresses, LAN joins, WAN joins in the agent config", async () => {
    new Datacenter("dc2", {
      datacenter: { name: "dc2", primaryDatacenter: "dc1", servers: 3, ...OPEN },
      lanSubnet: "10.99.2.0/24",
      httpHostPort: 8501,
      wan: {
        networkName: "consul-mesh-wan",
        serverAddresses: ["10.250.0.30", "10.250.0.31", "10.250.0.32"],
        retryJoinWan: ["10.250.0.10"],
      },
      pullImage: false,
      image: "hashicorp/consul:local",
    });
    await mocks.settle();
    expect(mocks.byType("docker:index/remoteImage:RemoteImage")).toHaveLength(0);
    const servers = mocks.byType(CONTAINER).sort((a, b) => a.name.localeCompare(b.name));
    expect(servers.map((s) => s.name)).toEqual(["dc2-server-0", "dc2-server-1", "dc2-server-2"]);
    expect(servers[1].inputs.image).toBe("hashicorp/consul:local");
    expect(servers[1].inputs.command).toEqual([
      "agent",
      "-node=dc2-server-1",
      "-advertise=10.99.2.11",
      "-advertise-wan=10.250.0.31",
      "-retry-join=10.99.2.10",
      "-retry-join=10.99.2.12",
      "-retry-interval-wan=5s",
    ]);
    // A secondary is healthy (so created, with `wait`) only once it sees the primary over the WAN.
    const health = servers[1].inputs.healthcheck.tests;
    expect(health[0]).toBe("CMD-SHELL");
    expect(health[1]).toContain("consul catalog services");
    expect(health[1]).toContain("consul catalog datacenters | grep -qx 'dc1'");
    expect(servers[1].inputs.wait).toBe(true);
    expect(servers[1].inputs.networksAdvanced).toEqual([
      { name: "consul-mesh-dc2-lan", ipv4Address: "10.99.2.11", aliases: ["dc2-server-1", "consul-dc2"] },
      { name: "consul-mesh-wan", ipv4Address: "10.250.0.31", aliases: ["dc2-server-1.wan"] },
    ]);
    expect(servers[1].inputs.ports).toEqual([]);
    expect(servers[0].inputs.ports).toEqual([{ internal: 8500, external: 8501, ip: "127.0.0.1", protocol: "tcp" }]);
    const config = JSON.parse(servers[2].inputs.uploads[0].content);
    expect(config).toMatchObject({
      datacenter: "dc2",
      primary_datacenter: "dc1",
      bootstrap_expect: 3,
      retry_join_wan: ["10.250.0.10"],
      bind_addr: "0.0.0.0",
    });
    expect(mocks.get("dc2-provider").options.dependencies.sort()).toEqual(servers.map((s) => s.urn).sort());
  });

  test("ACLs with a given token: the config upload, the provider token and the output stay secret", async () => {
    const dc = new Datacenter("dc1", {
      datacenter: { name: "dc1", ...CLEAR, acl: { enabled: true } },
      initialManagementToken: pulumi.secret("11111111-aaaa-4bbb-8ccc-222222222222"),
    });
    await mocks.settle();
    const server = mocks.byType(CONTAINER)[0];
    expect(server.secretInputs).toContain("uploads");
    const config = JSON.parse(server.inputs.uploads[0].content);
    expect(config.acl).toEqual({
      enabled: true,
      default_policy: "deny",
      enable_token_persistence: true,
      tokens: {
        initial_management: "11111111-aaaa-4bbb-8ccc-222222222222",
        // The servers' own token, not the management token.
        agent: "generated-secret-of-dc1-agent-token-secret",
      },
    });
    // Healthy only once the ACL system answers (an anonymous read), not merely once a leader exists.
    expect(server.inputs.healthcheck.tests[1]).toBe("consul catalog services > /dev/null");
    const provider = mocks.get("dc1-provider");
    expect(provider.inputs.token).toBe("11111111-aaaa-4bbb-8ccc-222222222222");
    expect(provider.secretInputs).toContain("token");
    expect(await pulumi.isSecret(dc.managementToken as pulumi.Output<string>)).toBe(true);
    expect(await pulumi.isSecret(dc.agentConfig)).toBe(true);
    expect(mocks.byType("pulumi-nodejs:dynamic:GeneratedToken").map((r) => r.name)).toEqual(["dc1-agent-token-secret"]);
  });

  test("ACLs with a plain-text token still mark it secret everywhere", async () => {
    const dc = new Datacenter("dc1", {
      datacenter: { name: "dc1", acl: { enabled: true } },
      initialManagementToken: "plain",
    });
    await mocks.settle();
    expect(mocks.byType(CONTAINER)[0].secretInputs).toContain("uploads");
    expect(mocks.get("dc1-provider").secretInputs).toContain("token");
    expect(await pulumi.isSecret(dc.managementToken as pulumi.Output<string>)).toBe(true);
  });

  test("ACLs without a token: one is generated as a secret child and configures servers and provider", async () => {
    const dc = new Datacenter("dc1", { datacenter: { name: "dc1", acl: { enabled: true, defaultPolicy: "allow" } } });
    await mocks.settle();
    const generated = mocks.get("dc1-management-token");
    expect(generated.type).toBe("pulumi-nodejs:dynamic:GeneratedToken");
    expect(generated.parent).toBe(mocks.get("dc1", "consul-mesh:index:Datacenter").urn);
    const config = JSON.parse(mocks.byType(CONTAINER)[0].inputs.uploads[0].content);
    expect(config.acl).toMatchObject({
      enabled: true,
      default_policy: "allow",
      tokens: { initial_management: "generated-secret-of-dc1-management-token" },
    });
    expect(mocks.get("dc1-provider").inputs.token).toBe("generated-secret-of-dc1-management-token");
    expect(await valueOf(dc.managementToken as pulumi.Output<string>)).toBe("generated-secret-of-dc1-management-token");
    expect(await pulumi.isSecret(dc.managementToken as pulumi.Output<string>)).toBe(true);
  });

  test("the primary's health needs a leader only; a lone datacenter does not retry WAN joins", async () => {
    new Datacenter("dc1", {
      datacenter: { name: "dc1", ...OPEN },
      wan: { networkName: "consul-mesh-wan", serverAddresses: ["10.250.0.10"], retryJoinWan: ["10.250.0.30"] },
    });
    new Datacenter("solo", { datacenter: { name: "solo" }, lanSubnet: "10.99.9.0/24", httpHostPort: 8599 });
    await mocks.settle();
    const primary = mocks.get("dc1-server-0").inputs;
    expect(primary.healthcheck.tests[1]).toBe("consul catalog services > /dev/null");
    expect(primary.command).toContain("-retry-interval-wan=5s");
    expect(mocks.get("solo-server-0").inputs.command).toEqual([
      "agent",
      "-node=solo-server-0",
      "-advertise=10.99.9.10",
    ]);
  });

  test("a trust domain pins Consul's cluster ID (connect.ca_config.cluster_id)", async () => {
    new Datacenter("dc1", { datacenter: { name: "dc1" }, trustDomain: "5fcd4b81-a2ca-405a-ac62-0fac602c1949.consul" });
    await mocks.settle();
    const config = JSON.parse(mocks.get("dc1-server-0").inputs.uploads[0].content);
    expect(config.connect).toEqual({
      enabled: true,
      ca_config: { cluster_id: "5fcd4b81-a2ca-405a-ac62-0fac602c1949" },
    });
    expect(
      problemPaths(() => new Datacenter("x", { datacenter: { name: "dc1" }, trustDomain: "example.consul" })),
    ).toEqual(["trustDomain"]);
  });

  test("a trust domain given as an output (e.g. drawn once) pins the cluster ID once known, with the token secret", async () => {
    const dc = new Datacenter("dc1", {
      datacenter: { name: "dc1", acl: { enabled: true } },
      initialManagementToken: pulumi.secret("11111111-aaaa-4bbb-8ccc-222222222222"),
      trustDomain: pulumi.output("5fcd4b81-a2ca-405a-ac62-0fac602c1949.consul"),
    });
    await mocks.settle();
    const server = mocks.get("dc1-server-0");
    expect(JSON.parse(server.inputs.uploads[0].content).connect.ca_config).toEqual({
      cluster_id: "5fcd4b81-a2ca-405a-ac62-0fac602c1949",
    });
    expect(server.secretInputs).toContain("uploads");
    expect(await pulumi.isSecret(dc.agentConfig)).toBe(true);
  });

  test("host addresses as Inputs (another resource's IP): the same server, the values once known", async () => {
    const dc = new Datacenter("dc2", {
      datacenter: { name: "dc2", primaryDatacenter: "dc1", ...OPEN },
      lanSubnet: "10.250.2.0/24",
      httpHostAddress: pulumi.output("10.0.0.6"),
      httpHostPort: 8501,
      wanHost: { address: pulumi.output("10.0.0.6"), retryJoinWan: [Promise.resolve("10.0.0.5")] },
    });
    await mocks.settle();
    expect(await valueOf(dc.httpAddress)).toBe("http://10.0.0.6:8501");
    expect(mocks.get("dc2-provider").inputs.address).toBe("10.0.0.6:8501");
    const [server] = mocks.byType(CONTAINER);
    expect(server.inputs.command).toContain("-advertise-wan=10.0.0.6");
    expect(server.inputs.ports).toEqual(
      expect.arrayContaining([
        { internal: 8500, external: 8501, ip: "10.0.0.6", protocol: "tcp" },
        { internal: 8302, external: 8302, ip: "10.0.0.6", protocol: "udp" },
      ]),
    );
    expect(JSON.parse(server.inputs.uploads[0].content).retry_join_wan).toEqual(["10.0.0.5"]);
  });

  test("a secondary with ACLs needs its primary: the management token, and its server tokens made there first", async () => {
    const spec = { name: "dc2", primaryDatacenter: "dc1", ...CLEAR, acl: { enabled: true } };
    expect(problemPaths(() => new Datacenter("x", { datacenter: spec }))).toEqual(["primary"]);
    expect(() => new Datacenter("y", { datacenter: spec })).toThrow(/primary: .*give the primary Datacenter/);
    const dc1 = new Datacenter("dc1", {
      datacenter: { name: "dc1", ...CLEAR, acl: { enabled: true } },
      initialManagementToken: "11111111-aaaa-4bbb-8ccc-222222222222",
    });
    const dc2 = new Datacenter("dc2", {
      datacenter: spec,
      primary: dc1,
      lanSubnet: "10.250.2.0/24",
      httpHostPort: 8501,
    });
    await mocks.settle();
    expect(await valueOf(dc2.managementToken as pulumi.Output<string>)).toBe("11111111-aaaa-4bbb-8ccc-222222222222");
    expect(dc2.aclProvider).toBe(dc1.provider);
    const config = JSON.parse(mocks.get("dc2-server-0").inputs.uploads[0].content);
    // Its own replication and agent tokens, made in the primary through its provider for ACLs.
    expect(config.acl.tokens).toEqual({
      replication: "generated-secret-of-dc2-replication-token-secret",
      agent: "generated-secret-of-dc2-agent-token-secret",
    });
    expect(mocks.byType("pulumi-nodejs:dynamic:GeneratedToken").map((r) => r.name)).not.toContain(
      "dc2-management-token",
    );
    // Made through the primary's API once its servers run, before dc2's servers start.
    expect(mocks.get("dc2-replication-policy").options.provider.startsWith(mocks.get("dc1-provider").urn)).toBe(true);
    for (const name of ["dc2-replication-token", "dc2-agent-token"]) {
      const token = mocks.get(name);
      expect(token.inputs).toMatchObject({ address: "http://127.0.0.1:8500", datacenter: "dc1" });
      expect(token.options.dependencies).toContain(mocks.get("dc1-server-0").urn);
      expect(mocks.get("dc2-server-0").options.dependencies).toContain(token.urn);
    }
    expect(mocks.get("dc2-replication-token").inputs.policies).toEqual(["dc2-replication"]);
  });

  test("every invalid argument is reported at once, by field, before any resource exists", async () => {
    const paths = problemPaths(
      () =>
        new Datacenter("bad", {
          datacenter: {
            name: "DC 1",
            connect: { enabled: false },
            ports: { grpc: -1 },
            tls: { enabled: false },
            servers: 0,
            acl: { enabled: true, defaultPolicy: "maybe" as "allow" },
          },
          lanSubnet: "10.0.0.5/24",
          httpHostPort: 70000,
        }),
    );
    expect(paths).toEqual(
      expect.arrayContaining([
        "datacenter.name",
        "datacenter.connect.enabled",
        "datacenter.ports.grpc",
        "datacenter.servers",
        "datacenter.acl.defaultPolicy",
        "lanSubnet",
        "httpHostPort",
      ]),
    );
    await mocks.settle();
    expect(mocks.resources).toHaveLength(0);
  });

  test("a WAN attachment must address every server; more than 10 servers is refused", () => {
    expect(
      problemPaths(
        () =>
          new Datacenter("x", {
            datacenter: { name: "dc1", servers: 2 },
            wan: { networkName: "w", serverAddresses: ["10.250.0.10"], retryJoinWan: [] },
          }),
      ),
    ).toEqual(["wan.serverAddresses", "ca", "gossipKey"]);
    expect(problemPaths(() => new Datacenter("y", { datacenter: { name: "dc1", servers: 11 } }))).toEqual([
      "datacenter.servers",
    ]);
  });

  test("the error message names each field", () => {
    expect(
      () => new Datacenter("z", { datacenter: { name: "dc1", tls: { enabled: false }, ports: { grpc: 0 } } }),
    ).toThrow(/datacenter\.ports\.grpc: gRPC must be enabled/);
    expect(
      () =>
        new Datacenter("w", {
          datacenter: { name: "dc2", primaryDatacenter: "dc1" },
          wan: { networkName: "w", serverAddresses: ["10.250.0.30"], retryJoinWan: [] },
        }),
    ).toThrow(
      /primary: [\s\S]*ca: datacenter "dc2" is federated with TLS on[\s\S]*gossipKey: datacenter "dc2" is federated/,
    );
  });
});
