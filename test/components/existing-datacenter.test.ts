import * as pulumi from "@pulumi/pulumi";
import { ConnectService } from "../../components/connect-service";
import { ExistingDatacenter } from "../../components/existing-datacenter";
import { MeshGateway } from "../../components/mesh-gateway";
import { ProxyDefaults } from "../../components/proxy-defaults";
import { CONSUL_CA_FILE_PATH } from "../../components/plans/mesh-gateway-plan";
import { problemPaths } from "../support/problem-paths";
import { setupMocks, valueOf, type MockHarness } from "../support/pulumi-mocks";

const CA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

describe("ExistingDatacenter (Pulumi mocks)", () => {
  let mocks: MockHarness;
  beforeEach(async () => {
    mocks = await setupMocks();
  });

  const existing = (opts?: pulumi.ComponentResourceOptions) =>
    new ExistingDatacenter(
      "dc1",
      {
        datacenter: "dc1",
        address: "https://consul.dc1.example:8501",
        token: "management-token",
        caPem: CA,
        grpcAddress: "https://consul.dc1.example:8503",
        check: false,
      },
      opts,
    );

  test("a provider for the address, CA and token given (the token a secret); ACLs on with a token; no servers", async () => {
    const dc = existing();
    await mocks.settle();
    const provider = mocks.get("dc1-provider");
    expect(provider.inputs).toMatchObject({
      address: "consul.dc1.example:8501",
      scheme: "https",
      datacenter: "dc1",
      caPem: CA,
      token: "management-token",
    });
    expect(provider.secretInputs).toContain("token");
    expect(dc.aclEnabled).toBe(true);
    expect(dc.servers).toEqual([]);
    expect(await pulumi.isSecret(dc.token as pulumi.Output<string>)).toBe(true);
    expect(dc.trustDomain).toBeUndefined();
    const anonymous = new ExistingDatacenter("dc2", { datacenter: "dc2", address: "127.0.0.1:8500", check: false });
    expect(anonymous.aclEnabled).toBe(false);
    await mocks.settle();
    expect(mocks.get("dc2-provider").inputs).toMatchObject({ address: "127.0.0.1:8500", scheme: "http" });
  });

  test("a gateway on the Docker host's network: the CA uploaded, the agent's gRPC, its own policy and token through the datacenter's provider", async () => {
    const dc = existing();
    new MeshGateway("gw", { datacenter: dc, image: "gw:1", lanAddress: "192.0.2.10", wanAddress: "198.51.100.7" });
    await mocks.settle();
    const c = mocks.get("gw-gateway-0");
    expect(c.inputs.networkMode).toBe("host");
    expect(c.inputs.networksAdvanced).toBeUndefined();
    expect(c.inputs.uploads).toEqual([{ file: CONSUL_CA_FILE_PATH, content: CA }]);
    expect(c.inputs.command).toEqual(
      expect.arrayContaining([
        "--consul",
        "https://consul.dc1.example:8501",
        "--consul-grpc",
        "https://consul.dc1.example:8503",
      ]),
    );
    expect(c.inputs.command).toEqual(
      expect.arrayContaining(["--lan-address", "192.0.2.10:8443", "--wan-address", "198.51.100.7:8443"]),
    );
    expect(c.secretInputs).toEqual(["envs"]);
    const provider = mocks.get("dc1-provider").urn;
    for (const name of ["gw-policy", "gw-token"])
      expect(mocks.get(name).options.provider.startsWith(provider)).toBe(true);
  });

  test("Pulumi's convention: a Consul provider and a Docker provider given to a component reach its children", async () => {
    const dc = existing();
    const docker = await import("@pulumi/docker");
    const host = new docker.Provider("host-b", { host: "ssh://b.example" });
    new MeshGateway(
      "gw",
      { datacenter: dc, image: "gw:1", lanAddress: "192.0.2.10" },
      { providers: [host, dc.provider] },
    );
    new ProxyDefaults("pd", { meshGateway: { mode: "local" } }, { provider: dc.provider });
    await mocks.settle();
    expect(mocks.get("gw-gateway-0").options.provider.startsWith(mocks.get("host-b").urn)).toBe(true);
    expect(mocks.get("gw-policy").options.provider.startsWith(mocks.get("dc1-provider").urn)).toBe(true);
    expect(mocks.get("pd-entry").options.provider.startsWith(mocks.get("dc1-provider").urn)).toBe(true);
  });

  test("addresses as Inputs (another resource's IP): the same containers, the values once known", async () => {
    const dc = existing();
    const gw = new MeshGateway("gw", {
      datacenter: dc,
      image: "gw:1",
      lanAddress: pulumi.output("192.0.2.10"),
      wanAddress: Promise.resolve("198.51.100.7"),
      routes: { source: "file", routes: { datacenter: "dc1", trustDomain: "x.consul", routes: [] } as never },
    });
    await mocks.settle();
    expect(await valueOf(gw.lanAddresses)).toEqual(["192.0.2.10:8443"]);
    expect(await valueOf(gw.wanAddresses)).toEqual(["198.51.100.7:8443"]);
    expect(gw.containers).toHaveLength(1);
    const registration = mocks.get("gw-registration-0");
    expect(registration.inputs.registration).toMatchObject({
      Kind: "mesh-gateway",
      Address: "192.0.2.10",
      TaggedAddresses: { lan: { Address: "192.0.2.10", Port: 8443 }, wan: { Address: "198.51.100.7", Port: 8443 } },
    });
  });

  test("a connect service registered with the datacenter's agent, with its token and CA", async () => {
    const dc = existing();
    new ConnectService("api", { service: { name: "api", datacenter: "dc1", port: 9090 }, datacenter: dc });
    await mocks.settle();
    const reg = mocks.get("api-registration");
    expect(reg.inputs).toMatchObject({
      address: "https://consul.dc1.example:8501",
      caPem: CA,
      token: "management-token",
    });
    expect(reg.secretInputs).toContain("token");
  });

  test("bad input: the datacenter's name, and a gateway without the address it registers, named", async () => {
    expect(problemPaths(() => new ExistingDatacenter("x", { datacenter: "dc 1", address: "127.0.0.1:8500" }))).toEqual([
      "args.datacenter.name",
    ]);
    const dc = existing();
    expect(problemPaths(() => new MeshGateway("gw", { datacenter: dc, image: "gw:1" }))).toEqual(["args.lanAddress"]);
    expect(problemPaths(() => new ExistingDatacenter("dc3", { datacenter: "dc3", address: "ftp://x:1" }))).toEqual([
      "args.address",
    ]);
  });
});
