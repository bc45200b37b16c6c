import {
  meshGatewayProblems,
  planMeshGateway,
  ROUTES_FILE_PATH,
  type GatewayDatacenter,
} from "../../components/plans/mesh-gateway-plan";
import { gatewayAclRules } from "../../mesh/render/gateway-acl-rules";

const dc1: GatewayDatacenter = {
  name: "dc1",
  lanSubnet: "10.250.1.0/24",
  lanHttpAddress: "http://10.250.1.10:8500",
  aclEnabled: false,
};
const wan = { subnet: "10.250.0.0/24", datacenterNames: ["dc1", "dc2"] };

describe("mesh gateway plan", () => {
  test("consul mode on the LAN only: one container, the CLI contract's flags, the WAN address is the LAN one", () => {
    const plan = planMeshGateway("gw", { datacenter: dc1 });
    expect(plan.serviceName).toBe("mesh-gateway");
    expect(plan.acl).toBeUndefined();
    expect(plan.routesFilePath).toBeUndefined();
    expect(plan.lanAddresses).toEqual(["10.250.1.20:8443"]);
    expect(plan.wanAddresses).toEqual(["10.250.1.20:8443"]);
    const [gw] = plan.instances;
    expect(gw.resourceName).toBe("gw-gateway-0");
    expect(gw.serviceId).toBe("mesh-gateway");
    expect(gw.container.name).toBe("consul-mesh-dc1-mesh-gateway-0");
    expect(gw.container.hostname).toBe("mesh-gateway-dc1-0");
    // Every flag with its value, in the order of the CLI contract.
    expect(gw.container.command.join(" ")).toBe(
      "--datacenter dc1 --listen 0.0.0.0:8443 --admin 0.0.0.0:19000 --drain-grace 25s " +
        "--consul http://10.250.1.10:8500 --service-name mesh-gateway --service-id mesh-gateway " +
        "--lan-address 10.250.1.20:8443 --wan-address 10.250.1.20:8443",
    );
    expect(gw.container.labels.map((l) => l.value)).toEqual(["dc1", "mesh-gateway", "mesh-gateway"]);
    expect(gw.tokenEnv).toBeUndefined();
    expect(gw.lan).toEqual({ ipv4Address: "10.250.1.20", aliases: ["mesh-gateway-dc1"] });
    expect(gw.hostNetwork).toBe(false);
    expect(gw.wan).toBeUndefined();
    expect(gw.registration).toBeUndefined();
  });

  test("through the gateways: --expose-servers in Consul mode; a routes file is refused by name", () => {
    const through = { ...wan, mode: "mesh-gateways" as const };
    const plan = planMeshGateway("gw", { datacenter: dc1, wan: through });
    expect(plan.instances[0].container.command).toContain("--expose-servers");
    expect(planMeshGateway("gw", { datacenter: dc1, wan }).instances[0].container.command).not.toContain(
      "--expose-servers",
    );
    expect(meshGatewayProblems({ datacenter: dc1, wan: through, routes: { source: "file" } })).toEqual([
      { path: "args.routes", message: expect.stringContaining("only with routes from Consul") },
    ]);
  });

  test("several containers from a slot on, federated: their own IDs, LAN and WAN addresses", () => {
    const plan = planMeshGateway("gw", {
      datacenter: { ...dc1, name: "dc2", lanSubnet: "10.250.2.0/24" },
      wan,
      serviceName: "edge",
      port: 9443,
      instances: 2,
      slot: 3,
      aliases: ["edge.example"],
      proxyConfig: { b: 1, a: { d: 2, c: 3 } },
      resourcePrefix: "p",
    });
    expect(plan.instances.map((i) => i.serviceId)).toEqual(["edge-0", "edge-1"]);
    expect(plan.instances.map((i) => i.container.name)).toEqual(["p-dc2-edge-0", "p-dc2-edge-1"]);
    expect(plan.lanAddresses).toEqual(["10.250.2.23:9443", "10.250.2.24:9443"]);
    expect(plan.wanAddresses).toEqual(["10.250.0.43:9443", "10.250.0.44:9443"]);
    expect(plan.instances[1].wan).toEqual({ ipv4Address: "10.250.0.44", aliases: ["edge.example"] });
    const command = plan.instances[0].container.command;
    expect(command.slice(-2)).toEqual(["--proxy-config", '{"a":{"c":3,"d":2},"b":1}']);
  });

  test("addresses given: registered as given, the containers keep their own IPs", () => {
    const plan = planMeshGateway("gw", { datacenter: dc1, wan, lanAddress: "gw.lan", wanAddress: "203.0.113.7" });
    expect(plan.lanAddresses).toEqual(["gw.lan:8443"]);
    expect(plan.wanAddresses).toEqual(["203.0.113.7:8443"]);
    expect(plan.instances[0].lan?.ipv4Address).toBe("10.250.1.20");
    expect(plan.instances[0].wan?.ipv4Address).toBe("10.250.0.20");
    // Without a WAN address, the LAN address given stands for both.
    expect(planMeshGateway("gw", { datacenter: dc1, lanAddress: "gw.lan" }).wanAddresses).toEqual(["gw.lan:8443"]);
  });

  test("file mode: the routes flag and path, no agent flags, a registration unless told not to", () => {
    const plan = planMeshGateway("gw", {
      datacenter: dc1,
      wan,
      routes: { source: "file" },
      proxyConfig: { x: 1 },
    });
    expect(plan.routesFilePath).toBe(ROUTES_FILE_PATH);
    const [gw] = plan.instances;
    expect(gw.container.command.slice(-2)).toEqual(["--routes", ROUTES_FILE_PATH]);
    expect(gw.container.command).not.toContain("--consul");
    expect(gw.registration?.resourceName).toBe("gw-registration-0");
    // Registered at the container's LAN and WAN IPs, with the proxy configuration given.
    expect(gw.registration?.body).toMatchObject({
      Kind: "mesh-gateway",
      ID: "mesh-gateway",
      TaggedAddresses: { lan: { Address: "10.250.1.20", Port: 8443 }, wan: { Address: "10.250.0.20", Port: 8443 } },
      Proxy: { Config: { x: 1 } },
    });
    const unregistered = planMeshGateway("gw", { datacenter: dc1, routes: { source: "file", register: false } });
    expect(unregistered.instances[0].registration).toBeUndefined();
  });

  test("ACLs: a policy and a global token of its own; in Consul mode the token's variable", () => {
    const plan = planMeshGateway("gw", { datacenter: { ...dc1, aclEnabled: true } });
    expect(plan.acl).toEqual({
      policy: {
        resourceName: "gw-policy",
        name: "dc1-mesh-gateway",
        description: "mesh gateway mesh-gateway in dc1: service:write on itself, service:read and node:read on all",
        rules: gatewayAclRules("mesh-gateway"),
      },
      token: { resourceName: "gw-token", description: "mesh gateway mesh-gateway in dc1", local: false },
    });
    expect(plan.instances[0].tokenEnv).toBe("CONSUL_HTTP_TOKEN");
    const file = planMeshGateway("gw", { datacenter: { ...dc1, aclEnabled: true }, routes: { source: "file" } });
    expect(file.instances[0].tokenEnv).toBeUndefined();
  });

  test("the trust domain goes into the command line as given, whatever its type", () => {
    const trustDomain = { unresolved: "trust domain" };
    const [gw] = planMeshGateway<unknown>("gw", { datacenter: dc1, trustDomain }).instances;
    expect(gw.container.command.slice(0, 4)).toEqual(["--datacenter", "dc1", "--trust-domain", trustDomain]);
  });

  test("an existing datacenter: on the host's network (admin on loopback) or its Docker network, at the address given, its CA uploaded", () => {
    const existing: GatewayDatacenter = {
      name: "dc1",
      lanHttpAddress: "https://127.0.0.1:8501",
      aclEnabled: true,
      caPem: true,
    };
    const plan = planMeshGateway("gw", {
      datacenter: existing,
      lanAddress: "192.0.2.10",
      wanAddress: "198.51.100.7",
      port: 8444,
    });
    const [gw] = plan.instances;
    expect(gw.hostNetwork).toBe(true);
    expect(gw.lan).toBeUndefined();
    expect(plan.lanAddresses).toEqual(["192.0.2.10:8444"]);
    expect(plan.wanAddresses).toEqual(["198.51.100.7:8444"]);
    expect(gw.container.command.join(" ")).toContain(
      "--admin 127.0.0.1:19000 --drain-grace 25s --consul https://127.0.0.1:8501 --consul-cacert /etc/sni-gateway/consul-ca.pem",
    );
    expect(gw.tokenEnv).toBe("CONSUL_HTTP_TOKEN");
    const networked = planMeshGateway("gw", { datacenter: { ...existing, lanNetwork: true }, lanAddress: "gw.lan" });
    expect(networked.instances[0].hostNetwork).toBe(false);
    expect(networked.instances[0].lan).toEqual({ aliases: ["mesh-gateway-dc1"] });
    expect(networked.instances[0].container.command).toContain("0.0.0.0:19000");
    // Without a subnet to place it in, the gateway's address must be given; and no WAN network joins it.
    expect(meshGatewayProblems({ datacenter: existing, wan }).map((p) => p.path)).toEqual([
      "args.lanAddress",
      "args.wan",
    ]);
  });

  test("problems, each at its field", () => {
    expect(meshGatewayProblems({ datacenter: dc1, wan })).toEqual([]);
    const paths = meshGatewayProblems({
      datacenter: { ...dc1, name: "dc9" },
      wan,
      serviceName: "Bad Name",
      port: 8443,
      adminPort: 8443,
      instances: 2,
      slot: 9,
      routes: { source: "carrier-pigeon" } as never,
      lanAddress: "a b",
      wanAddress: "",
    }).map((p) => p.path);
    expect(paths).toEqual([
      "args.serviceName",
      "args.adminPort",
      "args.instances",
      "args.wan",
      "args.routes.source",
      "args.lanAddress",
      "args.wanAddress",
    ]);
    expect(meshGatewayProblems({ datacenter: dc1, slot: 10 }).map((p) => p.path)).toEqual([
      "args.instances",
      "args.slot",
    ]);
  });

  test("publishAddress: the port published on the Docker host, registered as the WAN address", () => {
    const plan = planMeshGateway("gw", { datacenter: dc1, publishAddress: "10.0.0.5" });
    const [gw] = plan.instances;
    expect(gw.container.ports).toEqual([{ internal: 8443, external: 8443, ip: "10.0.0.5", protocol: "tcp" }]);
    expect(plan.wanAddresses).toEqual(["10.0.0.5:8443"]);
    expect(plan.lanAddresses).toEqual(["10.250.1.20:8443"]);
    expect(gw.container.command).toEqual(expect.arrayContaining(["--wan-address", "10.0.0.5:8443"]));
    // On every address of the host: the WAN address must be given.
    const all = planMeshGateway("gw", { datacenter: dc1, publishAddress: "0.0.0.0", wanAddress: "gw.example" });
    expect(all.wanAddresses).toEqual(["gw.example:8443"]);
    expect(planMeshGateway("gw", { datacenter: dc1, publishAddress: "0.0.0.0" }).wanAddresses).toEqual([
      "10.250.1.20:8443",
    ]);
    // Not published: no ports at all (as before).
    expect(planMeshGateway("gw", { datacenter: dc1 }).instances[0].container).not.toHaveProperty("ports");
  });

  test("publishAddress problems: several containers, the host's network, a bad address", () => {
    const paths = (args: Parameters<typeof meshGatewayProblems>[0]) => meshGatewayProblems(args).map((p) => p.path);
    expect(paths({ datacenter: dc1, publishAddress: "10.0.0.5", instances: 2 })).toEqual(["args.instances"]);
    const existing = { name: "dc1", lanHttpAddress: "http://10.0.0.5:8500", aclEnabled: false };
    expect(paths({ datacenter: existing, lanAddress: "10.0.0.5", publishAddress: "10.0.0.5" })).toEqual([
      "args.publishAddress",
    ]);
    expect(paths({ datacenter: dc1, publishAddress: "a b" })).toEqual(["args.publishAddress"]);
  });
});
