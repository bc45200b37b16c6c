/**
 * The Docker test helpers against the real Docker engine: what a sandbox creates carries its
 * labels and is removed by `removeAll`, even after a creation that failed halfway; the sweep
 * removes what dead test processes left and keeps what live ones own.
 */
import { execFile } from "node:child_process";
import * as path from "node:path";
import { promisify } from "node:util";
import {
  DockerSandbox,
  PID_LABEL,
  RUN_LABEL,
  assertDocker,
  describeWithDocker,
  docker,
  dockerOk,
  dockerStatus,
} from "./docker";

const run = promisify(execFile);
const BASE_IMAGE = "consul-mesh/node-base:local";
const status = dockerStatus();

describe("dockerStatus", () => {
  const saved = { CI: process.env.CI, CONSUL_MESH_DOCKER: process.env.CONSUL_MESH_DOCKER };
  afterEach(() => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });

  test("Docker is required under CI=true or CONSUL_MESH_DOCKER=required, else optional", () => {
    delete process.env.CI;
    delete process.env.CONSUL_MESH_DOCKER;
    expect(dockerStatus().required).toBe(false);
    process.env.CI = "true";
    expect(dockerStatus().required).toBe(true);
    delete process.env.CI;
    process.env.CONSUL_MESH_DOCKER = "required";
    expect(dockerStatus().required).toBe(true);
  });

  test("a required Docker that does not answer is an error naming the reason", () => {
    expect(() => assertDocker({ available: false, required: true, reason: "no socket" })).toThrow(
      /required.*no socket/,
    );
    expect(() => assertDocker({ available: true, required: true, reason: "" })).not.toThrow();
  });
});

describeWithDocker(status)("DockerSandbox against the Docker engine", () => {
  const sandboxes: DockerSandbox[] = [];
  const sandbox = (): DockerSandbox => {
    const created = new DockerSandbox("cmg-docker-test");
    sandboxes.push(created);
    return created;
  };
  const byLabel = async (kind: "ps" | "network", filter: string): Promise<string[]> => {
    const args = kind === "ps" ? ["ps", "-aq", "--filter", filter] : ["network", "ls", "-q", "--filter", filter];
    return (await dockerOk(args)).split("\n").filter(Boolean);
  };
  const idle = ["node", "-e", "setInterval(() => {}, 1 << 30); process.on('SIGTERM', () => process.exit(0))"];

  beforeAll(async () => {
    assertDocker(status);
    await run("bash", [path.resolve(__dirname, "..", "..", "scripts", "node-base-image.sh"), BASE_IMAGE], {
      timeout: 300_000,
    });
  }, 300_000);

  afterAll(async () => {
    for (const created of sandboxes) await created.removeAll();
  }, 120_000);

  test("names are unique per sandbox and carry the run's labels", async () => {
    const a = sandbox();
    const b = sandbox();
    expect(a.runId).not.toBe(b.runId);
    expect(a.nameOf("x")).toBe(`cmg-docker-test-${a.runId}-x`);
    const network = await a.network("lan");
    const labels = JSON.parse(await dockerOk(["network", "inspect", "--format", "{{json .Labels}}", network]));
    expect(labels).toEqual({ [RUN_LABEL]: a.runId, [PID_LABEL]: String(process.pid) });
    expect(await dockerOk(["network", "inspect", "--format", "{{.Internal}}", network])).toBe("true");
  }, 60_000);

  test("run attaches every network with its aliases; removeAll removes containers, networks and tracked tags", async () => {
    const s = sandbox();
    await s.network("one");
    await s.network("two");
    const name = await s.run({
      image: BASE_IMAGE,
      name: "idle",
      networks: ["one", "two"],
      aliases: ["idle", "other-name"],
      user: "node",
      command: idle,
    });
    const networks = JSON.parse(
      await dockerOk(["inspect", "--format", "{{json .NetworkSettings.Networks}}", name]),
    ) as Record<string, { Aliases: string[] }>;
    expect(Object.keys(networks).sort()).toEqual([s.nameOf("one"), s.nameOf("two")]);
    for (const network of Object.values(networks))
      expect(network.Aliases).toEqual(expect.arrayContaining(["idle", "other-name"]));
    const tag = `cmg-docker-test/tag:${s.runId}`;
    await dockerOk(["tag", BASE_IMAGE, tag]);
    s.trackImage(tag);

    expect(await s.removeAll()).toEqual([]);
    const filter = `label=${RUN_LABEL}=${s.runId}`;
    expect(await byLabel("ps", filter)).toEqual([]);
    expect(await byLabel("network", filter)).toEqual([]);
    expect((await docker(["image", "inspect", tag])).code).not.toBe(0);
    expect((await docker(["image", "inspect", BASE_IMAGE])).code).toBe(0);
    expect(await s.removeAll()).toEqual([]);
  }, 60_000);

  test("a container whose creation failed halfway is still removed", async () => {
    const s = sandbox();
    await s.network("one");
    // Created on "one"; a network that does not exist makes the connect or the start fail.
    await expect(
      s.run({ image: BASE_IMAGE, name: "half", networks: ["one", "missing"], command: idle }),
    ).rejects.toThrow(/missing/);
    const filter = `label=${RUN_LABEL}=${s.runId}`;
    expect(await byLabel("ps", filter)).toHaveLength(1);
    expect(await s.removeAll()).toEqual([]);
    expect(await byLabel("ps", filter)).toEqual([]);
    expect(await byLabel("network", filter)).toEqual([]);
  }, 60_000);

  test("sweepDeadRuns removes what a dead test process left and keeps what a live one owns", async () => {
    const live = sandbox();
    await live.network("kept");
    // Objects of a process that no longer exists (pid far above any live one).
    const deadPid = "4000000";
    const deadRun = `dead${live.runId}`;
    const deadLabels = ["--label", `${RUN_LABEL}=${deadRun}`, "--label", `${PID_LABEL}=${deadPid}`];
    await dockerOk(["network", "create", "--internal", ...deadLabels, `cmg-docker-test-${deadRun}-net`]);
    await dockerOk(["create", ...deadLabels, "--name", `cmg-docker-test-${deadRun}-c`, BASE_IMAGE, ...idle]);

    await DockerSandbox.sweepDeadRuns();
    expect(await byLabel("ps", `label=${PID_LABEL}=${deadPid}`)).toEqual([]);
    expect(await byLabel("network", `label=${PID_LABEL}=${deadPid}`)).toEqual([]);
    expect(await byLabel("network", `label=${RUN_LABEL}=${live.runId}`)).toHaveLength(1);
  }, 60_000);
});
