/**
 * The pull-request workflow users copy (`examples/ci/pull-request.yml`): its own `Preview` and
 * `Route plan changes` steps, run by bash as the runner would, on a deployed program left
 * unchanged, then changed (one upstream's mode), then made invalid. The program has no
 * resources, so the steps need the engine and the Node.js language host only.
 */
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { execFile } from "node:child_process";
import { parse } from "yaml";
import { describeWhereStacksRun, REQUIRED_PLUGINS, StackCli } from "../support/stack-cli";

const ROOT = path.join(__dirname, "../..");
const PROGRAM = path.join(__dirname, "programs", "route-plan");
// The program has no resources: the engine and the Node.js language host are all it needs.
const describeReal = describeWhereStacksRun(
  "pull-request workflow test",
  REQUIRED_PLUGINS.filter((p) => p.kind === "language"),
);

jest.setTimeout(300_000);

/** The `run` scripts of the workflow's steps, by name. */
async function workflowSteps(): Promise<Record<string, string>> {
  const workflow = parse(await fs.readFile(path.join(ROOT, "examples/ci/pull-request.yml"), "utf8")) as {
    jobs: { preview: { steps: { name?: string; run?: string }[] } };
  };
  return Object.fromEntries(workflow.jobs.preview.steps.filter((s) => s.name && s.run).map((s) => [s.name, s.run]));
}

describeReal("the pull-request workflow (examples/ci)", () => {
  let dir: string;
  let cli: StackCli;
  let steps: Record<string, string>;
  let summary: string;

  /** Runs a step's script with bash in the program folder, as the runner would. */
  function step(name: string): Promise<{ code: number; output: string }> {
    return new Promise((resolve) => {
      execFile(
        "bash",
        ["-e", "-c", steps[name]],
        { cwd: dir, env: { ...cli.environment, STACK: cli.stack, GITHUB_STEP_SUMMARY: summary }, timeout: 240_000 },
        (error, stdout, stderr) =>
          resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, output: stdout + stderr }),
      );
    });
  }

  beforeAll(async () => {
    steps = await workflowSteps();
    expect(Object.keys(steps)).toEqual(expect.arrayContaining(["Preview", "Route plan changes"]));
    await new Promise((resolve, reject) =>
      execFile("npm", ["run", "build", "--silent"], { cwd: ROOT, timeout: 300_000 }, (e) =>
        e ? reject(e) : resolve(e),
      ),
    );
    // A copy of the program inside the repository (it imports the library by its package name),
    // with `consul-mesh` where `npx --no-install` finds it in a user's project.
    dir = await fs.mkdtemp(path.join(__dirname, "programs", "route-plan-"));
    for (const file of ["Pulumi.yaml", "index.ts", "tsconfig.json"])
      await fs.copyFile(path.join(PROGRAM, file), path.join(dir, file));
    await fs.mkdir(path.join(dir, "node_modules", ".bin"), { recursive: true });
    const bin = path.join(dir, "node_modules", ".bin", "consul-mesh");
    await fs.writeFile(bin, `#!/bin/sh\nexec node ${JSON.stringify(path.join(ROOT, "dist/cli/main.js"))} "$@"\n`, {
      mode: 0o755,
    });
    summary = path.join(await fs.mkdtemp(path.join(os.tmpdir(), "summary-")), "summary.md");
    cli = await StackCli.create(dir);
    await cli.ok(["up", "--yes", "--skip-preview"]);
  });
  afterAll(async () => {
    await cli?.remove();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  test("an unchanged program: the preview passes and the summary says no upstream changes", async () => {
    expect((await step("Preview")).code).toBe(0);
    const diff = await step("Route plan changes");
    expect(diff.code).toBe(0);
    expect(diff.output).toContain("### Route plan: no upstream changes (3 unchanged)");
    expect(await fs.readFile(summary, "utf8")).toContain("no upstream changes");
  });

  test("a changed program: the summary names the upstream whose mode and path change", async () => {
    const index = path.join(dir, "index.ts");
    await fs.writeFile(index, (await fs.readFile(index, "utf8")).replace('API_MODE = "remote"', 'API_MODE = "local"'));
    const preview = await step("Preview");
    expect(preview.code).toBe(0);
    expect(preview.output).toMatch(/routePlan/);
    const diff = await step("Route plan changes");
    expect(diff.output).toContain("### Route plan: 1 upstream change (2 unchanged)");
    expect(diff.output).toContain("- **mode remote -> local** `web (dc1) -> api (dc2) :10000`");
    expect(diff.output).toContain(
      "after: local (decided by upstream): web (dc1) -> mesh-gateway dc1 LAN -> mesh-gateway dc2 WAN -> api (dc2)",
    );
  });

  test("an invalid topology fails the job at the preview, naming the field", async () => {
    const index = path.join(dir, "index.ts");
    await fs.writeFile(
      index,
      (await fs.readFile(index, "utf8")).replace('API_MODE = "local"', 'API_MODE = "sideways" as "local"'),
    );
    const preview = await step("Preview");
    expect(preview.code).not.toBe(0);
    expect(preview.output).toContain("services[0].connect.sidecarService.proxy.upstreams[0].meshGateway.mode");
  });
});
