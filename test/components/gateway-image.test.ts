import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import {
  DEFAULT_GATEWAY_IMAGE_NAME,
  GatewayImage,
  defaultGatewayImageContext,
  gatewayImageProblems,
  packageRoot,
} from "../../components/images/gateway-image";
import { MeshValidationError } from "../../mesh";
import { hostPlatform } from "../../components/images/image-reference";
import { setupMocks, valueOf } from "../support/pulumi-mocks";

const IMAGE = "docker:index/image:Image";
const REMOTE = "docker:index/remoteImage:RemoteImage";
const ROOT = path.resolve(__dirname, "..", "..");

describe("GatewayImage", () => {
  let context: string;
  beforeAll(() => {
    context = fs.mkdtempSync(path.join(os.tmpdir(), "gateway-image-test-"));
    fs.writeFileSync(path.join(context, "Dockerfile"), "ARG BASE_IMAGE=node:20-bookworm-slim\nFROM ${BASE_IMAGE}\n");
    fs.writeFileSync(path.join(context, "Other.Dockerfile"), "FROM scratch\n");
  });
  afterAll(() => fs.rmSync(context, { recursive: true, force: true }));

  const digestState = (args: pulumi.runtime.MockResourceArgs) =>
    args.type === IMAGE ? { repoDigest: `sha256:built-${args.inputs.imageName}` } : undefined;

  test("builds the prepared context with docker.Image: local only, BASE_IMAGE passed, outputs the name and the build's ID", async () => {
    const mocks = await setupMocks({ state: digestState });
    const image = new GatewayImage("gw", { context, baseImage: "consul-mesh/node-base:local" });
    await mocks.settle();
    const component = mocks.get("gw", "consul-mesh:index:GatewayImage");
    const built = mocks.get("gw-image", IMAGE);
    expect(built.parent).toBe(component.urn);
    expect(built.inputs).toEqual({
      imageName: DEFAULT_GATEWAY_IMAGE_NAME,
      build: {
        context,
        dockerfile: path.join(context, "Dockerfile"),
        args: { BASE_IMAGE: "consul-mesh/node-base:local" },
        // Said explicitly (this machine's), so that the provider does not warn on every preview.
        platform: hostPlatform(),
      },
      skipPush: true,
      buildOnPreview: false,
    });
    expect(mocks.byType(REMOTE)).toEqual([]);
    expect(await valueOf(image.imageName)).toBe(DEFAULT_GATEWAY_IMAGE_NAME);
    expect(await valueOf(image.imageRef)).toBe(`sha256:built-${DEFAULT_GATEWAY_IMAGE_NAME}`);
  });

  test("build options: name, Dockerfile, build arguments merged with BASE_IMAGE from an output, platform, push with a registry", async () => {
    const mocks = await setupMocks({ state: digestState });
    new GatewayImage("gw", {
      context,
      dockerfile: "Other.Dockerfile",
      imageName: "registry.example.com:5000/mesh/sni-gateway:0.1.0",
      baseImage: pulumi.output("node:20-alpine"),
      buildArgs: { ZED: "z", ALPHA: pulumi.output("a") },
      platform: "linux/arm64",
      skipPush: false,
      registry: { server: "registry.example.com:5000", username: "ci", password: pulumi.secret("pw") },
      buildOnPreview: true,
    });
    await mocks.settle();
    const built = mocks.get("gw-image", IMAGE);
    expect(built.inputs.imageName).toBe("registry.example.com:5000/mesh/sni-gateway:0.1.0");
    expect(built.inputs.build).toEqual({
      context,
      dockerfile: path.join(context, "Other.Dockerfile"),
      args: { ALPHA: "a", ZED: "z", BASE_IMAGE: "node:20-alpine" },
      platform: "linux/arm64",
    });
    expect(built.inputs.skipPush).toBe(false);
    expect(built.inputs.buildOnPreview).toBe(true);
    expect(built.inputs.registry).toEqual({ server: "registry.example.com:5000", username: "ci", password: "pw" });
    expect(built.secretInputs).toEqual(["registry"]);
  });

  test("a published image is used by name: nothing built, nothing pulled", async () => {
    const mocks = await setupMocks();
    const image = new GatewayImage("gw", { image: "registry.example.com/sni-gateway:0.1.0" });
    await mocks.settle();
    expect(mocks.byType(IMAGE)).toEqual([]);
    expect(mocks.byType(REMOTE)).toEqual([]);
    expect(await valueOf(image.imageName)).toBe("registry.example.com/sni-gateway:0.1.0");
    expect(await valueOf(image.imageRef)).toBe("registry.example.com/sni-gateway:0.1.0");
  });

  test("a published image can be pulled: docker.RemoteImage kept locally, its ID is the reference", async () => {
    const mocks = await setupMocks();
    const image = new GatewayImage("gw", { image: "registry.example.com/sni-gateway:0.1.0", pull: true });
    await mocks.settle();
    const remote = mocks.get("gw-remote", REMOTE);
    expect(remote.inputs).toEqual({ name: "registry.example.com/sni-gateway:0.1.0", keepLocally: true });
    expect(remote.parent).toBe(mocks.get("gw", "consul-mesh:index:GatewayImage").urn);
    expect(await valueOf(image.imageRef)).toBe("sha256:mock-image-of-registry.example.com/sni-gateway:0.1.0");
  });

  test("the default context is dist/gateway-image under the package root", () => {
    expect(packageRoot()).toBe(ROOT);
    expect(defaultGatewayImageContext()).toBe(path.join(ROOT, "dist", "gateway-image"));
  });

  test.each<[string, Parameters<typeof gatewayImageProblems>[0], string[]]>([
    [
      "a published image with build arguments",
      { image: "a/b:1", context: "/x", baseImage: "b" },
      ["args.context", "args.baseImage"],
    ],
    ["an invalid published image", { image: "Not An Image" }, ["args.image"]],
    ["pull without a published image", { pull: true, context: "CONTEXT" }, ["args.pull"]],
    ["an invalid image name", { imageName: "UPPER/case:tag", context: "CONTEXT" }, ["args.imageName"]],
    [
      "an image name with an empty tag",
      { imageName: "consul-mesh/sni-gateway:", context: "CONTEXT" },
      ["args.imageName"],
    ],
    ["a missing context", { context: "/nonexistent/gateway-image" }, ["args.context"]],
    ["a missing Dockerfile", { context: "CONTEXT", dockerfile: "Missing.Dockerfile" }, ["args.dockerfile"]],
  ])("rejects %s, naming the field", (_what, args, paths) => {
    const resolved = { ...args, ...(args.context === "CONTEXT" ? { context } : {}) };
    expect(gatewayImageProblems(resolved).map((p) => p.path)).toEqual(paths);
  });

  test("valid arguments have no problems", () => {
    expect(gatewayImageProblems({ context })).toEqual([]);
    expect(gatewayImageProblems({ image: "registry.example.com:5000/team/sni-gateway:0.1.0" })).toEqual([]);
    expect(gatewayImageProblems({ image: `sni-gateway@sha256:${"a".repeat(64)}` })).toEqual([]);
    expect(gatewayImageProblems({ context, imageName: "localhost:5000/sni-gateway:e2e-1" })).toEqual([]);
    expect(gatewayImageProblems({ context, imageName: "consul-mesh/sni-gateway" })).toEqual([]);
  });

  test("invalid arguments throw before any resource is registered, with the command that makes a context", async () => {
    const mocks = await setupMocks();
    expect(() => new GatewayImage("gw", { context: "/nonexistent/gateway-image" })).toThrow(MeshValidationError);
    expect(() => new GatewayImage("gw", { context: "/nonexistent/gateway-image" })).toThrow(
      /args\.context: build context \/nonexistent\/gateway-image does not exist: run `scripts\/gateway-image-context\.sh \/nonexistent\/gateway-image` in this package/,
    );
    await mocks.settle();
    expect(mocks.resources).toEqual([]);
  });
});
