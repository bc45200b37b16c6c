import * as pulumi from "@pulumi/pulumi";
import { Datacenter } from "../../components/datacenter";
import { ConsulCertificateAuthority, GossipKey } from "../../components/dynamic/consul-secrets";
import { gatewayAclRules } from "../../mesh/render/gateway-acl-rules";
import { MeshGateway, ROUTES_FILE_PATH } from "../../components/mesh-gateway";
import { WanFederation } from "../../components/wan-federation";
import { DEFAULT_TRUST_DOMAIN, toGatewayRegistration, type RoutesFile } from "../../mesh";
import { problemPaths } from "../support/problem-paths";
import { setupMocks, valueOf, type MockHarness } from "../support/pulumi-mocks";

const CONTAINER = "docker:index/container:Container";
const REGISTRATION = "pulumi-nodejs:dynamic:AgentServiceRegistration";

const routes: RoutesFile = {
  datacenter: "dc1",
  trustDomain: DEFAULT_TRUST_DOMAIN,
  services: [
    { name: "web", namespace: "default", partition: "default", endpoints: [{ address: "web-dc1", port: 21000 }] },
  ],
  gateways: [{ datacenter: "dc2", partition: "default", endpoints: [{ address: "10.250.0.40", port: 8443 }] }],
};

describe("MeshGateway (Pulumi mocks)", () => {
  let mocks: MockHarness;
  beforeEach(async () => {
    mocks = await setupMocks();
  });

  function topology(acl = false) {
    const wan = new WanFederation("wan", { datacenters: [{ name: "dc1" }, { name: "dc2" }] });
    // TLS and gossip encryption on (the defaults), with the CA and key a federation shares.
    const dc1 = new Datacenter("dc1", {
      datacenter: { name: "dc1", acl: { enabled: acl } },
      wan: wan.attachment("dc1"),
      initialManagementToken: acl ? "mgmt" : undefined,
      ca: new ConsulCertificateAuthority("ca"),
      gossipKey: new GossipKey("gossip-key").value,
    });
    return { wan, dc1 };
  }

  test("consul mode: several instances register under IDs of their own, with the Proxy.Config given", async () => {
    const { wan, dc1 } = topology();
    new MeshGateway("gw", {
      datacenter: dc1,
      wan,
      image: "img",
      instances: 2,
      proxyConfig: { b: 1, a: { d: 2, c: 3 } },
    });
    await mocks.settle();
    const commands = mocks
      .byType(CONTAINER)
      .filter((c) => c.name.startsWith("gw-"))
      .map((c) => c.inputs.command as string[]);
    const flag = (command: string[], name: string) => command[command.indexOf(name) + 1];
    expect(commands.map((c) => flag(c, "--service-id"))).toEqual(["mesh-gateway-0", "mesh-gateway-1"]);
    expect(commands.map((c) => flag(c, "--proxy-config"))).toEqual([
      '{"a":{"c":3,"d":2},"b":1}',
      '{"a":{"c":3,"d":2},"b":1}',
    ]);
  });

  test("consul mode: the CLI contract's arguments, LAN and WAN networks", async () => {
    const { wan, dc1 } = topology();
    const gw = new MeshGateway("gw", { datacenter: dc1, wan, image: "consul-mesh/sni-gateway:test" });
    await mocks.settle();
    const containers = mocks.byType(CONTAINER).filter((c) => c.name.startsWith("gw-"));
    expect(containers.map((c) => c.name)).toEqual(["gw-gateway-0"]);
    const c = containers[0];
    expect(c.parent).toBe(mocks.get("gw", "consul-mesh:index:MeshGateway").urn);
    expect(c.inputs.image).toBe("consul-mesh/sni-gateway:test");
    expect(c.inputs.name).toBe("consul-mesh-dc1-mesh-gateway-0");
    // No --trust-domain: the gateway takes Consul's own from the agent's CA roots.
    expect(c.inputs.command).toEqual([
      "--datacenter",
      "dc1",
      "--listen",
      "0.0.0.0:8443",
      "--admin",
      "0.0.0.0:19000",
      "--drain-grace",
      "25s",
      "--consul",
      "https://10.250.1.10:8501",
      "--consul-grpc",
      "https://10.250.1.10:8503",
      "--consul-cacert",
      "/etc/sni-gateway/consul-ca.pem",
      "--service-name",
      "mesh-gateway",
      "--service-id",
      "mesh-gateway",
      "--lan-address",
      "10.250.1.20:8443",
      "--wan-address",
      "10.250.0.20:8443",
    ]);
    expect(c.inputs.envs).toEqual([]);
    expect(c.secretInputs).toEqual([]);
    expect(c.inputs.networksAdvanced).toEqual([
      { name: "consul-mesh-dc1-lan", ipv4Address: "10.250.1.20", aliases: ["mesh-gateway-dc1"] },
      { name: "consul-mesh-wan", ipv4Address: "10.250.0.20", aliases: ["mesh-gateway-dc1"] },
    ]);
    expect(c.inputs.uploads).toEqual([{ file: "/etc/sni-gateway/consul-ca.pem", content: "ca-pem-of-ca" }]);
    expect(c.inputs.init).toBe(true);
    expect(c.options.dependencies).toContain(mocks.get("dc1-server-0").urn);
    expect(mocks.byType("consul:index/aclPolicy:AclPolicy")).toHaveLength(0);
    expect(mocks.byType(REGISTRATION)).toHaveLength(0);
    expect(await valueOf(gw.lanAddresses)).toEqual(["10.250.1.20:8443"]);
    expect(await valueOf(gw.wanAddresses)).toEqual(["10.250.0.20:8443"]);
    expect(gw.token).toBeUndefined();
  });

  test("ACLs: a policy with service:write on itself and read on all, a global token, its secret passed as a secret", async () => {
    const { wan, dc1 } = topology(true);
    const gw = new MeshGateway("gw", { datacenter: dc1, wan, image: "gw:1", serviceName: "edge" });
    await mocks.settle();
    const policy = mocks.get("gw-policy");
    expect(policy.inputs).toMatchObject({ name: "dc1-edge", rules: gatewayAclRules("edge") });
    expect(policy.inputs.rules).toContain('service "edge" {\n  policy = "write"\n}');
    expect(policy.inputs.rules).toContain('service_prefix "" {\n  policy = "read"\n}');
    expect(policy.inputs.rules).toContain('node_prefix "" {\n  policy = "read"\n}');
    const dcProvider = mocks.get("dc1-provider").urn;
    expect(policy.options.provider.startsWith(dcProvider)).toBe(true);
    const token = mocks.get("gw-token");
    expect(token.inputs).toMatchObject({ policies: ["dc1-edge"], local: false });
    expect(token.options.provider.startsWith(dcProvider)).toBe(true);

    const call = mocks.calls.find((x) => x.token === "consul:index/getAclTokenSecretId:getAclTokenSecretId");
    expect(call?.inputs).toMatchObject({ accessorId: "accessor-of-gw-token" });
    expect(await pulumi.isSecret(gw.token as pulumi.Output<string>)).toBe(true);
    expect(await valueOf(gw.token as pulumi.Output<string>)).toBe("secret-of-accessor-of-gw-token");

    const c = mocks.get("gw-gateway-0");
    expect(c.secretInputs).toEqual(["envs"]);
    expect(c.inputs.envs).toEqual(["CONSUL_HTTP_TOKEN=secret-of-accessor-of-gw-token"]);
    expect(JSON.stringify(c.inputs.command)).not.toContain("secret-of");
  });

  test("file mode: the routes file uploaded, --routes, and the gateway registered with the agent", async () => {
    const { wan, dc1 } = topology();
    new MeshGateway("gw", {
      datacenter: dc1,
      wan,
      image: "gw:1",
      routes: { source: "file", routes },
      lanAddress: "mesh-gateway-dc1",
      proxyConfig: { connect_timeout_ms: 5000 },
    });
    await mocks.settle();
    const c = mocks.get("gw-gateway-0");
    expect(c.options.deleteBeforeReplace).toBe(true);
    expect(c.inputs.command).toEqual(expect.arrayContaining(["--routes", ROUTES_FILE_PATH]));
    expect(c.inputs.command).not.toContain("--consul");
    expect(c.inputs.command).not.toContain("--lan-address");
    // The routes file names the trust domain; a flag could only contradict it.
    expect(c.inputs.command).not.toContain("--trust-domain");
    expect(c.inputs.envs).toEqual([]);
    expect(c.inputs.uploads).toEqual([
      { file: ROUTES_FILE_PATH, content: JSON.stringify(routes, null, 2) + "\n" },
      { file: "/etc/sni-gateway/consul-ca.pem", content: "ca-pem-of-ca" },
    ]);

    const reg = mocks.get("gw-registration-0");
    expect(reg.type).toBe(REGISTRATION);
    expect(reg.parent).toBe(mocks.get("gw", "consul-mesh:index:MeshGateway").urn);
    expect(reg.inputs.address).toBe("https://127.0.0.1:8500");
    expect(reg.inputs.caPem).toBe("ca-pem-of-ca");
    expect(reg.inputs.serviceId).toBe("mesh-gateway");
    expect(reg.inputs.registration).toEqual(
      toGatewayRegistration({
        name: "mesh-gateway",
        id: "mesh-gateway",
        address: "mesh-gateway-dc1",
        port: 8443,
        lanAddress: { address: "mesh-gateway-dc1", port: 8443 },
        wanAddress: { address: "10.250.0.20", port: 8443 },
        proxyConfig: { connect_timeout_ms: 5000 },
      }),
    );
    expect(reg.options.dependencies).toEqual(expect.arrayContaining([mocks.get("dc1-server-0").urn, c.urn]));
  });

  test("file mode with ACLs registers with the gateway's own token, kept secret; register: false skips it", async () => {
    const { wan, dc1 } = topology(true);
    new MeshGateway("gw", { datacenter: dc1, wan, image: "gw:1", routes: { source: "file", routes } });
    new MeshGateway("quiet", {
      datacenter: dc1,
      wan,
      image: "gw:1",
      slot: 1,
      serviceName: "quiet",
      routes: { source: "file", routes, register: false },
    });
    await mocks.settle();
    const reg = mocks.get("gw-registration-0");
    expect(reg.inputs.token).toBe("secret-of-accessor-of-gw-token");
    expect(reg.secretInputs).toContain("token");
    expect(mocks.byType(REGISTRATION).map((r) => r.name)).toEqual(["gw-registration-0"]);
    expect(mocks.get("quiet-gateway-0").inputs.networksAdvanced[0].ipv4Address).toBe("10.250.1.21");
  });

  test("several instances take consecutive slots; without a WAN the WAN address is the LAN one", async () => {
    const dc = new Datacenter("dcx", { datacenter: { name: "dcx" }, lanSubnet: "10.9.0.0/24" });
    const gw = new MeshGateway("gw", {
      datacenter: dc,
      image: "gw:1",
      instances: 2,
      port: 9443,
      adminPort: 9000,
      routes: { source: "file", routes },
    });
    await mocks.settle();
    expect(await valueOf(gw.lanAddresses)).toEqual(["10.9.0.20:9443", "10.9.0.21:9443"]);
    expect(await valueOf(gw.wanAddresses)).toEqual(["10.9.0.20:9443", "10.9.0.21:9443"]);
    const second = mocks.get("gw-gateway-1");
    expect(second.inputs.networksAdvanced).toEqual([
      { name: "consul-mesh-dcx-lan", ipv4Address: "10.9.0.21", aliases: ["mesh-gateway-dcx"] },
    ]);
    expect(second.inputs.command).toEqual(
      expect.arrayContaining(["--listen", "0.0.0.0:9443", "--admin", "0.0.0.0:9000"]),
    );
    expect(
      mocks
        .byType(REGISTRATION)
        .map((r) => r.inputs.serviceId)
        .sort(),
    ).toEqual(["mesh-gateway-0", "mesh-gateway-1"]);
  });

  test("every invalid argument is reported at once, by field", async () => {
    const { dc1 } = topology();
    const other = new WanFederation("other", {
      datacenters: [{ name: "dc7" }],
      subnet: "10.251.0.0/24",
      resourcePrefix: "other",
    });
    await mocks.settle();
    const before = mocks.resources.length;
    const paths = problemPaths(
      () =>
        new MeshGateway("bad", {
          datacenter: dc1,
          wan: other,
          image: "gw:1",
          serviceName: "Mesh Gateway",
          port: 0,
          adminPort: 0,
          instances: 0,
          lanAddress: "a b",
          routes: { source: "carrier-pigeon" } as never,
        }),
    );
    expect(paths).toEqual(
      expect.arrayContaining([
        "args.serviceName",
        "args.port",
        "args.adminPort",
        "args.instances",
        "args.wan",
        "args.lanAddress",
        "args.routes.source",
      ]),
    );
    await mocks.settle();
    expect(mocks.resources).toHaveLength(before);
  });
});
