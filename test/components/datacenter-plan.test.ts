import { datacenterArgProblems, planDatacenter } from "../../components/plans/datacenter-plan";
import { renderAgentConfig } from "../../mesh";

const UUID = "11111111-2222-4333-8444-555555555555";

describe("datacenter plan", () => {
  test("a lone datacenter with the defaults: network, one server, the provider's address", () => {
    const plan = planDatacenter("dc1", { datacenter: { name: "dc1" } });
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
    expect(server.container.healthcheck.tests).toEqual([
      "CMD-SHELL",
      "wget -q -O - http://127.0.0.1:8500/v1/status/leader | grep -q :",
    ]);
    expect(server.lan).toEqual({ ipv4Address: "10.250.1.10", aliases: ["dc1-server-0", "consul-dc1"] });
    expect(server.wan).toBeUndefined();
  });

  test("a WAN-joined secondary of three servers: joins, WAN placement, health once the primary is known", () => {
    const plan = planDatacenter("m-dc2", {
      datacenter: { name: "dc2", servers: 3 },
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
    expect(plan.servers[0].container.healthcheck.tests[1]).toContain(`grep -q '"dc1"'`);
    expect(plan.httpAddress).toBe("http://0.0.0.0:8501");
    expect(JSON.parse(plan.agentConfig()).retry_join_wan).toEqual(["10.250.0.10"]);
  });

  test("ACLs: a token to generate unless one is given; the agent configuration carries it", () => {
    const spec = { name: "dc1", acl: { enabled: true } };
    const generated = planDatacenter("dc1", { datacenter: spec });
    expect(generated.aclEnabled).toBe(true);
    expect(generated.generatedToken).toBe("dc1-management-token");
    expect(generated.servers[0].container.healthcheck.tests[1]).toMatch(/v1\/catalog\/services$/);
    expect(planDatacenter("dc1", { datacenter: spec, initialManagementToken: "given" }).generatedToken).toBeUndefined();
    const config = JSON.parse(generated.agentConfig("secret"));
    expect(config).toEqual(
      renderAgentConfig({ primaryDatacenter: "dc1", datacenters: [spec] }, "dc1", {
        retryJoinWan: [],
        bindAddr: "0.0.0.0",
        initialManagementToken: "secret",
      }),
    );
  });

  test("a local image is not pulled; a pinned trust domain becomes the CA's cluster ID", () => {
    const plan = planDatacenter("dc1", {
      datacenter: { name: "dc1" },
      pullImage: false,
      trustDomain: `${UUID}.consul`,
    });
    expect(plan.remoteImage).toBeUndefined();
    expect(JSON.parse(plan.agentConfig()).connect.ca_config.cluster_id).toBe(UUID);
  });

  test("a trust domain known later (an output) pins the configuration it is rendered with, checked there", () => {
    const plan = planDatacenter("dc1", { datacenter: { name: "dc1" }, trustDomain: { unresolved: "trust domain" } });
    expect(JSON.parse(plan.agentConfig()).connect).toEqual({ enabled: true });
    expect(JSON.parse(plan.agentConfig("t", `${UUID}.consul`)).connect.ca_config.cluster_id).toBe(UUID);
    expect(() => plan.agentConfig(undefined, "example.consul")).toThrow(
      /Datacenter "dc1" arguments[\s\S]*trustDomain: "example.consul" is not "<uuid>.consul"/,
    );
  });

  test("problems, each at its field", () => {
    expect(datacenterArgProblems({ datacenter: { name: "dc1" } })).toEqual([]);
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
        "initialManagementToken",
        "primaryDatacenter",
        "trustDomain",
      ]),
    );
  });

  describe("wanHost: the WAN through ports published on the datacenter's Docker host", () => {
    const args = {
      datacenter: { name: "dc2", primaryDatacenter: "dc1" },
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
      expect(server.container.healthcheck.tests[1]).toContain('"dc1"');
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
          datacenter: { name: "dc1", servers: 2 },
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
