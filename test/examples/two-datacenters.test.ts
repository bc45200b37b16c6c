import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { defaultMesh, planRoutes, type RoutePlan } from "consul-mesh-gateway";
import { countByType, outputValue, runExample, type ExampleRun } from "./run-example";

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

  test("declares the whole default mesh: WAN, two datacenters, two gateways (Consul mode), four services", () => {
    expect(countByType(run.mocks)).toMatchObject({
      "consul-mesh:index:ConsulMesh": 1,
      "consul-mesh:index:GatewayImage": 1,
      "consul-mesh:index:WanFederation": 1,
      "consul-mesh:index:Datacenter": 2,
      "consul-mesh:index:MeshGateway": 2,
      "consul-mesh:index:ConnectService": 4,
      "docker:index/network:Network": 3,
      "docker:index/container:Container": 4,
    });
    const gw = run.mocks.get("mesh-gateway-dc1-mesh-gateway-gateway-0");
    expect(gw.inputs.command).toEqual(expect.arrayContaining(["--consul", "http://10.250.1.10:8500"]));
  });

  test("exports the route plan of defaultMesh() and each datacenter's Consul address", async () => {
    const plan = await outputValue<RoutePlan>(run.outputs.routePlan);
    expect(plan).toEqual(planRoutes(defaultMesh()));
    expect(plan.routes.map((r) => r.mode)).toEqual(["remote", "local", "none"]);
    expect(run.outputs.consulAddresses).toEqual({ dc1: "http://127.0.0.1:8500", dc2: "http://127.0.0.1:8501" });
  });
});
