/**
 * The package as npm users get it: `npm pack`, installed into a fresh Pulumi project outside this
 * repository, whose program builds the gateway image with `GatewayImage`'s defaults (the build
 * context prepared from the installed package), under the real engine; the image then runs.
 */
import { execFile } from "node:child_process";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { dockerOk } from "../support/docker";
import { describeWhereStacksRun, prepareStacks, REQUIRED_PLUGINS, StackCli } from "../support/stack-cli";

const run = promisify(execFile);
const ROOT = path.join(__dirname, "../..");
const IMAGE = "consul-mesh/sni-gateway:npm-package-test";
const describeReal = describeWhereStacksRun(
  "npm package test",
  REQUIRED_PLUGINS.filter((p) => p.name !== "consul"),
);

jest.setTimeout(600_000);

describeReal("the npm package in a fresh Pulumi project", () => {
  let project: string;
  let cli: StackCli | undefined;

  beforeAll(async () => {
    const config = await prepareStacks();
    project = await fs.mkdtemp(path.join(os.tmpdir(), "npm-user-"));
    const { stdout } = await run("npm", ["pack", "--silent", "--pack-destination", project], {
      cwd: ROOT,
      timeout: 300_000,
    });
    const tarball = path.join(project, stdout.trim().split("\n").pop() as string);
    const version = JSON.parse(await fs.readFile(path.join(ROOT, "package.json"), "utf8")).devDependencies[
      "@pulumi/pulumi"
    ];
    await fs.writeFile(path.join(project, "package.json"), JSON.stringify({ name: "npm-user", private: true }));
    await run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", tarball, `@pulumi/pulumi@${version}`], {
      cwd: project,
      timeout: 300_000,
    });
    await fs.writeFile(
      path.join(project, "Pulumi.yaml"),
      "name: npm-user\nruntime:\n  name: nodejs\n  options:\n    typescript: false\nmain: index.js\n",
    );
    await fs.writeFile(
      path.join(project, "index.js"),
      [
        'const pulumi = require("@pulumi/pulumi");',
        'const { GatewayImage } = require("consul-mesh-gateway");',
        "const config = new pulumi.Config();",
        `const image = new GatewayImage("gateway", { imageName: "${IMAGE}", baseImage: config.get("gatewayBaseImage") });`,
        "exports.imageRef = image.imageRef;",
        "",
      ].join("\n"),
    );
    cli = await StackCli.create(project, { gatewayBaseImage: config.gatewayBaseImage });
  });
  afterAll(async () => {
    await cli?.run(["destroy", "--yes", "--skip-preview"]);
    await cli?.remove();
    if (project) await fs.rm(project, { recursive: true, force: true });
    await dockerOk(["image", "rm", "-f", IMAGE]).catch(() => undefined);
  });

  test("GatewayImage with its defaults builds the image from the installed package, and the gateway runs", async () => {
    await cli!.ok(["up", "--yes", "--skip-preview"]);
    const context = path.join(project, "node_modules", "consul-mesh-gateway", "dist", "gateway-image");
    expect((await fs.readdir(path.join(context, "app", "node_modules"))).sort()).toEqual(
      expect.arrayContaining(["pino", "prom-client", "zod"]),
    );
    const help = await dockerOk(["run", "--rm", IMAGE, "--help"]);
    expect(help).toContain("sni-gateway");
    expect(help).toContain("--consul");
  });
});
