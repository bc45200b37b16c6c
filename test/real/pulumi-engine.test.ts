/**
 * The real Pulumi engine (CLI 3.248.0 built by `npm run tools`, Automation API, file backend) on
 * the parts of the library it can run here: `ConnectService`, whose dynamic provider registers
 * with a real Consul agent, through preview, up, a clean second preview and refresh, a deliberate
 * change, destroy, and destroy after the agent is gone; and `ConsulMesh` refusing an invalid
 * topology at preview, listing every problem. (The stacks that need the `@pulumi/consul` and
 * `@pulumi/docker` provider plugins are in `test/stacks/`, which run where those are installed.)
 */
import { execFile } from "node:child_process";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import type { Stack } from "@pulumi/pulumi/automation";
import { ConnectService } from "../../components";
import type { Mode, MeshService } from "../../mesh";
import { RealConsul, type RealDatacenter } from "../support/real-consul";
import { PulumiSandbox } from "../support/real-pulumi";

jest.setTimeout(240_000);

const run = promisify(execFile);

const figures: string[] = [];
afterAll(() => {
  if (figures.length) process.stdout.write(`\nreal engine figures:\n${figures.join("\n")}\n`);
});

/** `web` with a sidecar whose `api` upstream is in `mode`. */
function web(mode: Mode, upstreams = 1): MeshService {
  const all = [
    { destinationName: "api", datacenter: "dc2", localBindPort: 10000, meshGateway: { mode } },
    { destinationName: "db", datacenter: "dc2", localBindPort: 10001 },
  ];
  return {
    name: "web",
    datacenter: "dc1",
    port: 8080,
    connect: { sidecarService: { proxy: { upstreams: all.slice(0, upstreams) } } },
  };
}

async function timed<T>(label: string, run: () => Promise<T>): Promise<T> {
  const started = Date.now();
  const result = await run();
  figures.push(`${label}: ${Date.now() - started} ms`);
  return result;
}

describe("the real engine: ConnectService against a real agent", () => {
  let sandbox: PulumiSandbox;
  let consul: RealConsul;
  let dc: RealDatacenter;
  let stack: Stack;
  let service = web("remote");

  beforeAll(async () => {
    sandbox = await PulumiSandbox.create();
    consul = await RealConsul.start({ datacenters: ["dc1"], acl: true });
    dc = consul.dc("dc1");
    stack = await sandbox.stack("connect-service", "dev", async () => {
      const registered = new ConnectService("web", {
        service,
        agentAddress: dc.httpAddress,
        token: consul.managementToken,
      });
      return { serviceId: registered.serviceId };
    });
  });
  afterAll(async () => {
    await consul?.stop();
    await sandbox?.remove();
  });

  async function upstreams(): Promise<Array<{ DestinationName: string; MeshGateway?: { Mode?: string } }> | undefined> {
    const answer = await dc.api("GET", "/v1/agent/service/web-sidecar-proxy");
    return answer.status === 200
      ? (answer.json as { Proxy: { Upstreams: Array<{ DestinationName: string }> } }).Proxy.Upstreams
      : undefined;
  }

  test("preview plans the stack, the component and its registration, and registers nothing", async () => {
    const preview = await timed("preview (first)", () => stack.preview());
    expect(preview.changeSummary).toEqual({ create: 3 });
    expect(await upstreams()).toBeUndefined();
  });

  test("up registers web and its sidecar with the real agent", async () => {
    const up = await timed("up", () => stack.up());
    expect(up.summary.result).toBe("succeeded");
    expect(up.summary.resourceChanges).toEqual({ create: 3 });
    expect(up.outputs.serviceId.value).toBe("web");
    expect(await upstreams()).toMatchObject([{ DestinationName: "api", MeshGateway: { Mode: "remote" } }]);
  });

  test("right after up: preview and refresh find no change, and a second up changes nothing", async () => {
    await timed("preview --expect-no-changes", () => stack.preview({ expectNoChanges: true }));
    await stack.refresh({ expectNoChanges: true });
    const again = await stack.up();
    expect(again.summary.resourceChanges).toEqual({ same: 3 });
  });

  test("the agent token is a secret in the state file", async () => {
    // The file itself (the Automation API's exportStack decrypts secrets).
    const state = await sandbox.stateFile("connect-service", "dev");
    expect(state).toContain('"serviceId":"web"');
    expect(state).not.toContain(consul.managementToken as string);
    expect(state).toContain("ciphertext");
  });

  test("a new mode and a new upstream show as one update of the registration, applied in place", async () => {
    service = web("local", 2);
    const preview = await stack.preview({ diff: true });
    expect(preview.changeSummary).toEqual({ same: 2, update: 1 });
    expect(preview.stdout).toMatch(/~ pulumi-nodejs:dynamic:AgentServiceRegistration: \(update\)/);
    expect(preview.stdout).toMatch(/~ Mode: "remote" => "local"/);
    expect(preview.stdout).toMatch(/\+ DestinationName: "db"/);
    expect(preview.stdout).not.toMatch(/replace/);
    expect(preview.stdout).toMatch(/token\s*: \[secret\]/);
    const up = await stack.up();
    expect(up.summary.resourceChanges).toEqual({ same: 2, update: 1 });
    expect(await upstreams()).toMatchObject([
      { DestinationName: "api", MeshGateway: { Mode: "local" } },
      { DestinationName: "db" },
    ]);
    await stack.preview({ expectNoChanges: true });
  });

  test("destroy deregisters web and its sidecar", async () => {
    const destroy = await timed("destroy", () => stack.destroy());
    expect(destroy.summary.resourceChanges).toEqual({ delete: 3 });
    expect((await dc.api("GET", "/v1/agent/service/web")).status).toBe(404);
    expect(await upstreams()).toBeUndefined();
  });

  test("destroy after the agent is gone finishes promptly", async () => {
    await stack.up();
    await consul.stop();
    const started = Date.now();
    const destroy = await stack.destroy();
    const tookMs = Date.now() - started;
    expect(destroy.summary.resourceChanges).toEqual({ delete: 3 });
    expect(tookMs).toBeLessThan(30_000);
    figures.push(`destroy with the agent gone: ${tookMs} ms`);
  });
});

describe("the real engine: an invalid topology fails preview", () => {
  test("every problem is listed with its field, and nothing is created", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "preview-request-"));
    try {
      const request = path.join(dir, "request.json");
      await fs.writeFile(
        request,
        JSON.stringify({
          module: path.join(__dirname, "programs/invalid-mesh.ts"),
          export: "invalidMeshProgram",
          project: "invalid-mesh",
        }),
      );
      const root = path.join(__dirname, "../..");
      const { stdout } = await run(
        process.execPath,
        ["-r", "./test/support/ts-register.js", "test/support/preview-runner.ts", request],
        { cwd: root, timeout: 120_000 },
      );
      const result = JSON.parse(stdout.trim().split("\n").at(-1) as string) as {
        ok: boolean;
        message: string;
        resources: number;
      };
      expect(result.ok).toBe(false);
      for (const field of [
        "services[0].connect.sidecarService.proxy.upstreams[0].meshGateway.mode",
        "services[0].connect.sidecarService.proxy.upstreams[1].meshGateway.mode",
        "services[0].connect.sidecarService.proxy.upstreams[3].localBindPort",
        "services[0].connect.sidecarService.proxy.upstreams[3].destinationName",
      ]) {
        expect(result.message).toContain(`${field}: `);
      }
      expect(result.message).toContain('invalid mesh of ConsulMesh "mesh": 4 problems');
      expect(result.resources).toBe(0);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
