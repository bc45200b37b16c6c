import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { DEFAULT_TRUST_DOMAIN, defaultMesh, planRoutes, type RoutePlan } from "consul-mesh-gateway";
import { countByType, expectDrawnTrustDomain, outputValue, runExample, type ExampleRun } from "./run-example";

describe("example: the default two-datacenter stack (gateway image built)", () => {
  let run: ExampleRun;
  let context: string;
  beforeAll(async () => {
    // A build context as scripts/gateway-image-context.sh makes it (only its Dockerfile matters here).
    context = fs.mkdtempSync(path.join(os.tmpdir(), "gateway-image-"));
    fs.copyFileSync(path.join(__dirname, "../../gateway/Dockerfile"), path.join(context, "Dockerfile"));
    run = await runExample("two-datacenters", {
      gatewayImageContext: context,
      gatewayBaseImage: "consul-mesh/node-base:local",
    });
  });
  afterAll(() => fs.rmSync(context, { recursive: true, force: true }));

  test("builds the gateway image and runs it in both datacenters' gateways", () => {
    const image = run.mocks.get("gateway-image-image");
    expect(image.type).toBe("docker:index/image:Image");
    expect(image.inputs.build).toMatchObject({ context, args: { BASE_IMAGE: "consul-mesh/node-base:local" } });
    for (const dc of ["dc1", "dc2"]) {
      expect(run.mocks.get(`mesh-gateway-${dc}-mesh-gateway-gateway-0`).inputs.image).toBe(
        "sha256:mock-build-of-consul-mesh/sni-gateway:latest",
      );
    }
  });

  test("declares the whole default mesh: WAN, two datacenters, two gateways (Consul mode), four services with workloads", () => {
    expect(countByType(run.mocks)).toMatchObject({
      "consul-mesh:index:ConsulMesh": 1,
      "consul-mesh:index:GatewayImage": 1,
      "consul-mesh:index:SidecarImage": 1,
      "consul-mesh:index:WanFederation": 1,
      "consul-mesh:index:Datacenter": 2,
      "consul-mesh:index:ProxyDefaults": 1,
      "consul-mesh:index:MeshGateway": 2,
      "consul-mesh:index:ConnectService": 4,
      "consul-mesh:index:ServiceIntentions": 3,
      "consul-mesh:index:Workload": 4,
      "docker:index/network:Network": 3,
      // 2 servers, 2 gateways, and a demo service and its sidecar per service.
      "docker:index/container:Container": 12,
    });
    const gw = run.mocks.get("mesh-gateway-dc1-mesh-gateway-gateway-0");
    expect(gw.inputs.command).toEqual(expect.arrayContaining(["--consul", "https://10.250.1.10:8501"]));
  });

  test("exports a trust domain of its own, the route plan of defaultMesh() in it, and each datacenter's Consul address", async () => {
    const trustDomain = await expectDrawnTrustDomain(run);
    expect(trustDomain).not.toBe(DEFAULT_TRUST_DOMAIN);
    const plan = await outputValue<RoutePlan>(run.outputs.routePlan);
    expect(plan).toEqual(planRoutes({ ...defaultMesh(), trustDomain }));
    expect(plan.routes.map((r) => r.mode)).toEqual(["remote", "local", "none"]);
    expect(await outputValue(run.outputs.consulAddresses)).toEqual({
      dc1: "https://127.0.0.1:8500",
      dc2: "https://127.0.0.1:8501",
    });
    expect(await outputValue(run.outputs.consulCaPem)).toBe("ca-pem-of-mesh-ca");
    expect(run.outputs.demoUrl).toBe("http://127.0.0.1:8080/");
  });

  test("secure by default: ACLs on in both datacenters, and intentions allow exactly web's upstreams", async () => {
    for (const dc of ["dc1", "dc2"]) {
      const server = run.mocks.get(`mesh-${dc}-server-0`);
      const config = JSON.parse(await outputValue<string>(server.inputs.uploads[0].content));
      expect(config.acl).toMatchObject({ enabled: true, default_policy: "deny" });
    }
    for (const destination of ["api", "db", "logging"]) {
      expect(run.mocks.get(`mesh-intentions-${destination}-entry`).inputs).toMatchObject({
        name: destination,
        sources: [{ name: "web", action: "allow", type: "consul", precedence: 9 }],
      });
    }
  });

  test("proxy-defaults carries the configured mode (default local), written in the primary", () => {
    const entry = run.mocks.get("mesh-proxy-defaults-entry");
    expect(entry.inputs).toMatchObject({ kind: "proxy-defaults", name: "global" });
    expect(JSON.parse(entry.inputs.configJson)).toMatchObject({ MeshGateway: { Mode: "local" } });
  });

  test("every service runs a demo container at a fixed LAN address, registered there, with an Envoy sidecar in its network namespace", () => {
    const web = run.mocks.get("mesh-workload-dc1-web-app");
    expect(web.inputs.networksAdvanced[0]).toEqual({
      name: "consul-mesh-dc1-lan",
      ipv4Address: "10.250.1.30",
      aliases: ["web-dc1"],
    });
    // web reaches dc2 directly too (the `none` path) and the WAN (the `remote` path).
    expect(
      web.inputs.networksAdvanced
        .slice(1)
        .map((n: { name: string }) => n.name)
        .sort(),
    ).toEqual(["consul-mesh-dc2-lan", "consul-mesh-wan"]);
    expect(web.inputs.ports).toEqual([{ internal: 8080, external: 8080, ip: "127.0.0.1" }]);
    const upstreams = JSON.parse(
      (web.inputs.envs as string[]).find((e) => e.startsWith("DEMO_UPSTREAMS="))!.slice("DEMO_UPSTREAMS=".length),
    );
    expect(
      upstreams.map((u: { name: string; mode: string; localBindPort: number }) => [u.name, u.mode, u.localBindPort]),
    ).toEqual([
      ["api", "remote", 10000],
      ["db", "local", 10001],
      ["logging", "none", 10002],
    ]);
    const registration = run.mocks.get("mesh-service-dc1-web-registration");
    expect(registration.inputs.registration).toMatchObject({ Name: "web", Address: "10.250.1.30", Port: 8080 });
    const sidecar = run.mocks.get("mesh-workload-dc1-web-sidecar");
    expect(sidecar.inputs.networkMode).toBe("container:mesh-workload-dc1-web-app-id");
    expect(sidecar.inputs.command).toEqual(
      expect.arrayContaining(["-sidecar-for", "web", "-grpc-addr", "https://10.250.1.10:8503"]),
    );
    // The sidecar has a token of its own (a service identity): a secret.
    expect(sidecar.secretInputs).toContain("envs");
    expect(run.mocks.get("mesh-workload-dc2-api-app").inputs.ports).toEqual([]);
  });
});

describe("example: the default stack's configuration keys", () => {
  test.each([
    [{ meshGatewayMode: "sideways" }, 'config meshGatewayMode: "sideways" is not one of local, remote, none'],
    [{ consulImage: "hashicorp/consul 1.16" }, 'config consulImage: "hashicorp/consul 1.16" is not an image reference'],
    [{ acl: "maybe" }, 'config acl: "maybe" is not one of true, false'],
  ])("%j fails before any resource, naming the key", async (config, message) => {
    jest.resetModules();
    await expect(runExample("two-datacenters", config)).rejects.toThrow(message);
  });
});
