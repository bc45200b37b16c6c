/**
 * The containers MeshGateway declares must start the real gateway: their command and
 * environment are parsed by the gateway's own CLI parser, and their uploaded routes files
 * validated by the gateway's own routes schema.
 */
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ConsulMesh } from "../../components/consul-mesh";
import { parseCommandLine } from "../../gateway/cli/options";
import { parseRoutesFile } from "../../gateway/routing/routes-schema";
import { defaultMesh } from "../../mesh";
import { setupMocks } from "../support/pulumi-mocks";

function envObject(envs: string[]): Record<string, string> {
  return Object.fromEntries(envs.map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
}

describe("MeshGateway containers against the sni-gateway contract", () => {
  test("consul mode, secure by default: the CLI accepts the arguments; agent over TLS, CA, token, registration come through", async () => {
    const mocks = await setupMocks();
    const model = defaultMesh();
    new ConsulMesh("mesh", model);
    await mocks.settle();
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "gateway-contract-"));
    for (const dc of ["dc1", "dc2"]) {
      const c = mocks.get(`mesh-gateway-${dc}-mesh-gateway-gateway-0`);
      // The uploaded CA, where this machine's parser can read it.
      const [upload] = c.inputs.uploads as { file: string; content: string }[];
      const caFile = path.join(dir, `${dc}-ca.pem`);
      await fs.writeFile(caFile, upload.content);
      const command = (c.inputs.command as string[]).map((arg) => (arg === upload.file ? caFile : arg));
      const parsed = parseCommandLine(command, envObject(c.inputs.envs));
      if (parsed.kind !== "run") throw new Error("expected a run command");
      const o = parsed.options;
      expect(o.datacenter).toBe(dc);
      expect(o.trustDomain).toBe(model.trustDomain);
      expect(o.routes).toMatchObject({
        consul: {
          address: `https://10.250.${dc === "dc1" ? 1 : 2}.10:8501`,
          ca: "ca-pem-of-mesh-ca",
          token: `secret-of-accessor-of-mesh-gateway-${dc}-mesh-gateway-token`,
        },
      });
      // The model's host names are the containers' aliases; Consul gets their addresses.
      const [lan, wan] = dc === "dc1" ? ["10.250.1.20", "10.250.0.20"] : ["10.250.2.20", "10.250.0.40"];
      expect(o.register).toMatchObject({
        name: "mesh-gateway",
        address: lan,
        lanAddress: { address: lan, port: 8443 },
        wanAddress: { address: wan, port: 8443 },
      });
    }
  });

  test("file mode: the CLI reads the uploaded file's path, and the file passes the gateway's schema", async () => {
    const mocks = await setupMocks();
    new ConsulMesh("mesh", { ...defaultMesh(), routeSource: "file" });
    await mocks.settle();
    for (const dc of ["dc1", "dc2"]) {
      const c = mocks.get(`mesh-gateway-${dc}-mesh-gateway-gateway-0`);
      const parsed = parseCommandLine(c.inputs.command, envObject(c.inputs.envs));
      if (parsed.kind !== "run") throw new Error("expected a run command");
      expect(parsed.options.routes).toMatchObject({ file: c.inputs.uploads[0].file });
      const file = parseRoutesFile(JSON.parse(c.inputs.uploads[0].content));
      if (!file.ok) throw new Error(file.error);
      expect(file.routes.datacenter).toBe(dc);
      expect(file.routes.gateways.map((g) => g.datacenter)).toEqual([dc === "dc1" ? "dc2" : "dc1"]);
    }
  });
});
