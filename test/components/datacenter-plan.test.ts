import { datacenterArgProblems, planDatacenter, REPLICATION_RULES } from "../../components/plans/datacenter-plan";
import { renderAgentConfig } from "../../mesh";

const UUID = "11111111-2222-4333-8444-555555555555";

/** Every secure default turned off, explicitly: the plain layout the structural tests below read. */
const OPEN = { tls: { enabled: false }, gossipEncryption: { enabled: false }, acl: { enabled: false } } as const;

describe("datacenter plan", () => {
  test("a lone datacenter with the secure defaults: TLS on 8501/8503, its own CA and gossip key, ACL tokens", () => {
    const plan = planDatacenter("dc1", { datacenter: { name: "dc1" } });
    expect(plan.aclEnabled).toBe(true);
    expect(plan.generatedToken).toBe("dc1-management-token");
    expect(plan.ownGossipKey).toBe("dc1-gossip-key");
    expect(plan.tls).toEqual({
      certificate: "dc1-server-certificate",
      ownCa: "dc1-ca",
      nodes: ["dc1-server-0"],
      hosts: ["dc1-server-0", "10.250.1.10", "consul-dc1"],
      files: {
        ca: "/consul/config/tls/ca.pem",
        cert: "/consul/config/tls/server.pem",
        key: "/consul/config/tls/server-key.pem",
      },
    });
    expect(plan.aclTokens).toEqual({
      datacenter: "dc1",
      agent: {
        secret: "dc1-agent-token-secret",
        token: "dc1-agent-token",
        description: "Consul servers of dc1",
        nodeIdentities: [{ nodeName: "dc1-server-0", datacenter: "dc1" }],
      },
    });
    expect(plan.lanHttpAddress).toBe("https://10.250.1.10:8501");
    expect(plan.lanGrpcAddress).toBe("https://10.250.1.10:8503");
    expect(plan.httpAddress).toBe("https://127.0.0.1:8500");
    expect(plan.provider).toMatchObject({ address: "127.0.0.1:8500", scheme: "https" });
    const [server] = plan.servers;
    expect(server.container.ports).toEqual([{ internal: 8501, external: 8500, ip: "127.0.0.1", protocol: "tcp" }]);
    expect(server.container.envs).toEqual([
      "CONSUL_HTTP_ADDR=https://127.0.0.1:8501",
      "CONSUL_CACERT=/consul/config/tls/ca.pem",
    ]);
    expect(server.container.healthcheck.tests).toEqual(["CMD-SHELL", "consul catalog services > /dev/null"]);
    // The secrets go into the configuration as given; none is rendered without them.
    const config = JSON.parse(
      plan.agentConfig({ managementToken: "m", agentToken: "a", gossipKey: Buffer.alloc(32, 1).toString("base64") }),
    );
    expect(config.acl.tokens).toEqual({ initial_management: "m", agent: "a" });
    expect(config.encrypt).toBe(Buffer.alloc(32, 1).toString("base64"));
    expect(config.ports).toMatchObject({ http: -1, https: 8501, grpc_tls: 8503 });
    expect(() => plan.agentConfig()).toThrow(/gossipKey: gossip encryption is on in "dc1": give the key/);
  });

  test("through the gateways: the servers stay off the WAN; a secondary needs the primary's gateways", () => {
    const wan = { serverAddresses: [], retryJoinWan: [], mode: "mesh-gateways" as const };
    const args = {
      datacenter: { name: "dc2" },
      primaryDatacenter: "dc1",
      wan,
      ca: "x",
      gossipKey: "y",
      primary: "dc1",
    };
    expect(datacenterArgProblems(args).map((p) => p.path)).toEqual(["primaryGateways"]);
    const insecure = { ...args, datacenter: { name: "dc2", tls: { enabled: false } }, primaryGateways: "given" };
    expect(datacenterArgProblems(insecure).map((p) => p.path)).toEqual(["datacenter.tls.enabled"]);
    const plan = planDatacenter("dc2", { ...args, primaryGateways: "given" });
    expect(plan.servers[0].wan).toBeUndefined();
    expect(plan.servers[0].container.command.join(" ")).not.toMatch(/advertise-wan|retry-interval-wan/);
    const config = JSON.parse(
      plan.agentConfig({ gossipKey: Buffer.alloc(32, 1).toString("base64") }, undefined, ["10.250.0.20:8443"]),
    );
    expect(config.connect.enable_mesh_gateway_wan_federation).toBe(true);
    expect(config.primary_gateways).toEqual(["10.250.0.20:8443"]);
    expect(config.retry_join_wan).toEqual([]);
    const primary = planDatacenter("dc1", { datacenter: { name: "dc1" }, wan, ca: "x", gossipKey: "y" });
    const primaryConfig = JSON.parse(primary.agentConfig({ gossipKey: Buffer.alloc(32, 1).toString("base64") }));
    expect(primaryConfig.primary_gateways).toBeUndefined();
    expect(primaryConfig.connect.enable_mesh_gateway_wan_federation).toBe(true);
  });

  test("a secondary with ACLs: its replication token and policy; federated, it must be given the shared CA and key", () => {
    const wan = { serverAddresses: ["10.250.0.30"], retryJoinWan: ["10.250.0.10"] };
    const args = { datacenter: { name: "dc2" }, primaryDatacenter: "dc1", wan };
    expect(datacenterArgProblems(args).map((p) => [p.path, p.message])).toEqual([
      ["primary", expect.stringMatching(/give the primary Datacenter/)],
      ["ca", expect.stringMatching(/"dc2" is federated with TLS on: give the CA its federation shares/)],
      ["gossipKey", expect.stringMatching(/"dc2" is federated with gossip encryption on: give the key/)],
    ]);
    const plan = planDatacenter("dc2", { ...args, ca: "shared", gossipKey: "shared", primary: "dc1" });
    expect(plan.tls?.ownCa).toBeUndefined();
    expect(plan.ownGossipKey).toBeUndefined();
    expect(plan.tls?.hosts).toContain("10.250.0.30");
    expect(plan.aclTokens?.replication).toEqual({
      secret: "dc2-replication-token-secret",
      token: "dc2-replication-token",
      description: "ACL replication of dc2",
      policy: { resourceName: "dc2-replication-policy", name: "dc2-replication", rules: REPLICATION_RULES },
    });
    expect(plan.servers[0].container.healthcheck.tests[1]).toBe(
      "consul catalog services > /dev/null && consul catalog datacenters | grep -qx 'dc1'",
    );
  });

  test("a lone datacenter with every secure default turned off: network, one server, the provider's address", () => {
    const plan = planDatacenter("dc1", { datacenter: { name: "dc1", ...OPEN } });
    expect(plan.name).toBe("dc1");
    expect(plan.aclEnabled).toBe(false);
    expect(plan.lanNetwork).toEqual({
      resourceName: "dc1-lan",
      name: "consul-mesh-dc1-lan",
      driver: "bridge",
      ipamConfigs: [{ subnet: "10.250.1.0/24", ipRange: "10.250.1.128/25" }],
      labels: [{ label: "consul-mesh.datacenter", value: "dc1" }],
    });
    expect(plan.generatedToken).toBeUndefined();
    expect(plan.remoteImage).toBe("dc1-image");
    expect(plan.serverLanAddresses).toEqual(["10.250.1.10"]);
    expect(plan.lanHttpAddress).toBe("http://10.250.1.10:8500");
    expect(plan.httpAddress).toBe("http://127.0.0.1:8500");
    expect(plan.provider).toEqual({
      resourceName: "dc1-provider",
      address: "127.0.0.1:8500",
      scheme: "http",
      datacenter: "dc1",
    });
    const [server] = plan.servers;
    expect(server.resourceName).toBe("dc1-server-0");
    expect(server.volume).toEqual({
      resourceName: "dc1-server-0-data",
      name: "consul-mesh-dc1-server-0-data",
      labels: [{ label: "consul-mesh.datacenter", value: "dc1" }],
    });
    expect(server.container).toMatchObject({
      name: "consul-mesh-dc1-server-0",
      hostname: "dc1-server-0",
      command: ["agent", "-node=dc1-server-0", "-advertise=10.250.1.10"],
      ports: [{ internal: 8500, external: 8500, ip: "127.0.0.1", protocol: "tcp" }],
    });
    expect(server.container.envs).toEqual(["CONSUL_HTTP_ADDR=http://127.0.0.1:8500"]);
    expect(plan.tls).toBeUndefined();
    expect(plan.ownGossipKey).toBeUndefined();
    expect(plan.aclTokens).toBeUndefined();
    expect(server.lan).toEqual({ ipv4Address: "10.250.1.10", aliases: ["dc1-server-0", "consul-dc1"] });
    expect(server.wan).toBeUndefined();
  });

  test("a WAN-joined secondary of three servers: joins, WAN placement, health once the primary is known", () => {
    const plan = planDatacenter("m-dc2", {
      datacenter: { name: "dc2", servers: 3, ...OPEN },
      primaryDatacenter: "dc1",
      resourcePrefix: "p",
      lanSubnet: "10.9.0.0/16",
      httpHostPort: 8501,
      httpHostAddress: "0.0.0.0",
      wan: { serverAddresses: ["10.250.0.30", "10.250.0.31", "10.250.0.32"], retryJoinWan: ["10.250.0.10"] },
    });
    expect(plan.serverLanAddresses).toEqual(["10.9.0.10", "10.9.0.11", "10.9.0.12"]);
    expect(plan.servers.map((s) => s.container.name)).toEqual(["p-dc2-server-0", "p-dc2-server-1", "p-dc2-server-2"]);
    expect(plan.servers[1].container.command).toEqual([
      "agent",
      "-node=dc2-server-1",
      "-advertise=10.9.0.11",
      "-advertise-wan=10.250.0.31",
      "-retry-join=10.9.0.10",
      "-retry-join=10.9.0.12",
      "-retry-interval-wan=5s",
    ]);
    // Only server 0 publishes the HTTP API.
    expect(plan.servers.map((s) => s.container.ports.length)).toEqual([1, 0, 0]);
    expect(plan.servers[0].container.ports[0]).toMatchObject({ external: 8501, ip: "0.0.0.0" });
    expect(plan.servers[2].wan).toEqual({ ipv4Address: "10.250.0.32", aliases: ["dc2-server-2.wan"] });
    expect(plan.servers[0].container.healthcheck.tests[1]).toContain(`grep -qx 'dc1'`);
    expect(plan.httpAddress).toBe("http://0.0.0.0:8501");
    expect(JSON.parse(plan.agentConfig()).retry_join_wan).toEqual(["10.250.0.10"]);
  });

  test("ACLs: a token to generate unless one is given; the agent configuration carries it", () => {
    const spec = { ...OPEN, name: "dc1", acl: { enabled: true } };
    const generated = planDatacenter("dc1", { datacenter: spec });
    expect(generated.aclEnabled).toBe(true);
    expect(generated.generatedToken).toBe("dc1-management-token");
    expect(planDatacenter("dc1", { datacenter: spec, initialManagementToken: "given" }).generatedToken).toBeUndefined();
    const config = JSON.parse(generated.agentConfig({ managementToken: "secret", agentToken: "agent" }));
    expect(config).toEqual(
      renderAgentConfig({ primaryDatacenter: "dc1", datacenters: [spec] }, "dc1", {
        retryJoinWan: [],
        bindAddr: "0.0.0.0",
        initialManagementToken: "secret",
        agentToken: "agent",
      }),
    );
  });

  test("a local image is not pulled; a pinned trust domain becomes the CA's cluster ID", () => {
    const plan = planDatacenter("dc1", {
      datacenter: { name: "dc1", ...OPEN },
      pullImage: false,
      trustDomain: `${UUID}.consul`,
    });
    expect(plan.remoteImage).toBeUndefined();
    expect(JSON.parse(plan.agentConfig()).connect.ca_config.cluster_id).toBe(UUID);
  });

  test("a trust domain known later (an output) pins the configuration it is rendered with, checked there", () => {
    const plan = planDatacenter("dc1", {
      datacenter: { name: "dc1", ...OPEN },
      trustDomain: { unresolved: "trust domain" },
    });
    expect(JSON.parse(plan.agentConfig()).connect).toEqual({ enabled: true });
    expect(JSON.parse(plan.agentConfig({}, `${UUID}.consul`)).connect.ca_config.cluster_id).toBe(UUID);
    expect(() => plan.agentConfig(undefined, "example.consul")).toThrow(
      /Datacenter "dc1" arguments[\s\S]*trustDomain: "example.consul" is not "<uuid>.consul"/,
    );
  });

  test("problems, each at its field", () => {
    expect(datacenterArgProblems({ datacenter: { name: "dc1" } })).toEqual([]);
    // Nothing the components run presents a client certificate.
    expect(
      datacenterArgProblems({ datacenter: { name: "dc1", tls: { httpsVerifyIncoming: true } } }).map((p) => p.path),
    ).toEqual(["datacenter.tls.httpsVerifyIncoming"]);
    expect(
      datacenterArgProblems({
        datacenter: { name: "dc2", servers: 11, acl: { enabled: true } },
        primaryDatacenter: "dc 1",
        lanSubnet: "10.0.0.0/28",
        httpHostPort: 70000,
        wan: { serverAddresses: ["10.250.0.30"], retryJoinWan: [] },
        trustDomain: "Example.consul",
      }).map((p) => p.path),
    ).toEqual(
      expect.arrayContaining([
        "lanSubnet",
        "datacenter.servers",
        "wan.serverAddresses",
        "httpHostPort",
        "primary",
        "primaryDatacenter",
        "trustDomain",
      ]),
    );
  });

  describe("wanHost: the WAN through ports published on the datacenter's Docker host", () => {
    const args = {
      datacenter: { name: "dc2", primaryDatacenter: "dc1", ...OPEN },
      httpHostAddress: "10.0.0.6",
      httpHostPort: 8501,
      wanHost: { address: "10.0.0.6", retryJoinWan: ["10.0.0.5"] },
    };

    test("advertises the host on the WAN, publishes 8300 and 8302 (TCP and UDP) there, joins the other hosts", () => {
      expect(datacenterArgProblems(args)).toEqual([]);
      const plan = planDatacenter("dc2", args);
      const [server] = plan.servers;
      expect(server.container.command).toEqual([
        "agent",
        "-node=dc2-server-0",
        "-advertise=10.250.1.10",
        "-advertise-wan=10.0.0.6",
        "-retry-interval-wan=5s",
      ]);
      expect(server.container.ports).toEqual([
        { internal: 8500, external: 8501, ip: "10.0.0.6", protocol: "tcp" },
        { internal: 8300, external: 8300, ip: "10.0.0.6", protocol: "tcp" },
        { internal: 8302, external: 8302, ip: "10.0.0.6", protocol: "tcp" },
        { internal: 8302, external: 8302, ip: "10.0.0.6", protocol: "udp" },
      ]);
      expect(server.wan).toBeUndefined(); // no WAN Docker network
      expect(JSON.parse(plan.agentConfig()).retry_join_wan).toEqual(["10.0.0.5"]);
      // A secondary is healthy once the primary is known over the WAN.
      expect(server.container.healthcheck.tests[1]).toContain("grep -qx 'dc1'");
      expect(plan.httpAddress).toBe("http://10.0.0.6:8501");
      expect(plan.provider.address).toBe("10.0.0.6:8501");
    });

    test("publishAddress: the ports on another address of the host, the WAN address advertised as given", () => {
      const plan = planDatacenter("dc2", { ...args, wanHost: { address: "203.0.113.6", publishAddress: "0.0.0.0" } });
      const [server] = plan.servers;
      expect(server.container.command).toContain("-advertise-wan=203.0.113.6");
      expect(server.container.command).not.toContain("-retry-interval-wan=5s");
      expect(server.container.ports.slice(1).map((p) => p.ip)).toEqual(["0.0.0.0", "0.0.0.0", "0.0.0.0"]);
    });

    test("problems: more than one server, with wan beside it, bad addresses, each at its field", () => {
      const wan = { serverAddresses: ["10.250.0.10", "10.250.0.11"], retryJoinWan: [] };
      expect(
        datacenterArgProblems({
          datacenter: { name: "dc1", servers: 2, ...OPEN },
          wan,
          wanHost: { address: "a b", publishAddress: "", retryJoinWan: ["ok", "x/y"] },
        }).map((p) => p.path),
      ).toEqual([
        "wanHost",
        "datacenter.servers",
        "wanHost.address",
        "wanHost.publishAddress",
        "wanHost.retryJoinWan[1]",
      ]);
    });
  });
});
