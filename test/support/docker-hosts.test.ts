/**
 * Two machines on one: two extra Docker daemons in network namespaces of their own
 * (`./docker-hosts`). A port published on one answers containers of the other at the first
 * machine's address; a container's private address does not; images copied from the main daemon
 * run; the teardown leaves nothing; a run killed mid-way is cleaned up by the next one.
 */
import { execFile, spawn } from "node:child_process";
import { readlinkSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { promisify } from "node:util";
import { docker, dockerOk } from "./docker";
import {
  type DockerHost,
  DockerHosts,
  assertDockerHosts,
  describeWithDockerHosts,
  dockerHostsLeftovers,
  dockerHostsStatus,
} from "./docker-hosts";
import { isRunning, layoutOf, sweep } from "./docker-hosts-sweep";
import { reportedFigures } from "./stack-cli";

const ROOT = path.resolve(__dirname, "..", "..");
/** Built by scripts/local-images.sh; has a static busybox at /bin/busybox (nc). */
const IMAGE = "consul-mesh/consul:1.16.3-local";
const PREFIX = "cmht";
const LAN = "10.213.9";
const CRASH_PREFIX = "cmhc";
const CRASH_LAN = "10.213.8";
const busybox = (...args: string[]): string[] => ["--entrypoint", "/bin/busybox", IMAGE, ...args];
const seconds = (since: number): string => `${((Date.now() - since) / 1000).toFixed(1)} s`;

const status = dockerHostsStatus();

describe("describeWithDockerHosts", () => {
  test("where machines cannot run, one line says the suite did not run and why, and it is skipped", () => {
    const write = jest.spyOn(process.stdout, "write").mockImplementation(() => true);
    try {
      const chosen = describeWithDockerHosts("the suite", { available: false, required: false, reason: "not root" });
      expect(chosen).toBe(describe.skip);
      expect(write.mock.calls).toEqual([["the suite did not run: not root\n"]]);
    } finally {
      write.mockRestore();
    }
  });

  test("where they must run, the suite runs and its beforeAll fails with the reason", () => {
    const required = { available: false, required: true, reason: "dockerd not found" };
    expect(describeWithDockerHosts("the suite", required)).toBe(describe);
    expect(() => assertDockerHosts(required)).toThrow(/required.*dockerd not found/);
    expect(() => assertDockerHosts({ available: true, required: true, reason: "" })).not.toThrow();
  });
});

describeWithDockerHosts("support/docker-hosts (two Docker daemons as two machines)", status)("two machines", () => {
  const figures = reportedFigures("docker-hosts figures");
  let hosts: DockerHosts | undefined;
  let one: DockerHost;
  let two: DockerHost;

  /** `nc` from a new container on `from` to `address:port`, bounded: its exit code and output. */
  const dial = async (from: DockerHost, address: string, port: number) => {
    const result = await from.docker(["run", "--rm", ...busybox("nc", "-w", "3", address, String(port))], {
      timeoutMs: 30_000,
    });
    return { code: result.code, out: `${result.stdout}${result.stderr}`.trim() };
  };

  beforeAll(async () => {
    assertDockerHosts(status);
    if ((await docker(["image", "inspect", IMAGE])).code !== 0)
      await promisify(execFile)("bash", ["scripts/local-images.sh"], { cwd: ROOT, timeout: 300_000 });
    const size = Number(await dockerOk(["image", "inspect", "--format", "{{.Size}}", IMAGE])) / 1e6;

    let since = Date.now();
    hosts = await DockerHosts.start({ names: ["one", "two"], prefix: PREFIX, lan: LAN });
    figures.push(`start of two machines: ${seconds(since)}`);
    [one, two] = hosts.hosts;
    since = Date.now();
    await hosts.loadImages([IMAGE], [one]);
    figures.push(`load of ${IMAGE} (${size.toFixed(0)} MB) into one machine: ${seconds(since)}`);
    since = Date.now();
    await hosts.loadImages([IMAGE]);
    figures.push(`load of it into both at once (one save; one had it): ${seconds(since)}`);

    for (const host of [one, two])
      await host.dockerOk([
        "run",
        "-d",
        "--name",
        "server",
        "-p",
        `${host.ip}:18080:8080`,
        "-p",
        "18081:8080",
        ...busybox("nc", "-ll", "-p", "8080", "-e", "/bin/busybox", "echo", `hello from ${host.name}`),
      ]);
  }, 300_000);

  afterAll(async () => {
    const left = await hosts?.stop();
    if (left?.length) throw new Error(`the teardown left:\n${left.join("\n")}`);
  }, 120_000);

  test("each machine is a daemon of its own, in a network namespace of its own, at its own address", async () => {
    // (dockerd 20.10 takes its engine ID from /etc/docker/key.json, so that is shared; the data root is not.)
    const roots = await Promise.all(
      [dockerOk, one.dockerOk.bind(one), two.dockerOk.bind(two)].map((run) =>
        run(["info", "--format", "{{.DockerRootDir}}"]),
      ),
    );
    expect(new Set(roots).size).toBe(3);
    const netns = (pid: number | "self"): string => readlinkSync(`/proc/${pid}/ns/net`);
    expect(new Set([netns("self"), netns(one.pid), netns(two.pid)]).size).toBe(3);
    expect([one.ip, two.ip]).toEqual([`${LAN}.10`, `${LAN}.11`]);
    expect(one.dockerHost).toBe(`unix:///run/consul-mesh-test/${PREFIX}/one/docker.sock`);
    for (const host of [one, two]) {
      const subnet = await host.dockerOk([
        "network",
        "inspect",
        "bridge",
        "--format",
        "{{(index .IPAM.Config 0).Subnet}}",
      ]);
      expect(subnet).toBe(host.bridgeSubnet);
      expect(await host.dockerOk(["ps", "--format", "{{.Names}}"])).toBe("server");
    }
    expect(one.bridgeSubnet).not.toBe(two.bridgeSubnet);
    expect((await dockerOk(["ps", "-a", "--format", "{{.Names}}"])).split("\n")).not.toContain("server");
  }, 60_000);

  test("images loaded from the main daemon are the main daemon's, and run", async () => {
    const id = await dockerOk(["image", "inspect", "--format", "{{.Id}}", IMAGE]);
    for (const host of [one, two]) {
      expect(await host.dockerOk(["image", "inspect", "--format", "{{.Id}}", IMAGE])).toBe(id);
      expect(await host.dockerOk(["run", "--rm", ...busybox("echo", "ran")])).toBe("ran");
    }
  }, 60_000);

  test("a port published on one machine answers containers of the other at the first one's address, and the root", async () => {
    for (const [from, to] of [
      [two, one],
      [one, two],
    ]) {
      expect(await dial(from, to.ip, 18080)).toEqual({ code: 0, out: `hello from ${to.name}` });
      expect(await dial(from, to.ip, 18081)).toEqual({ code: 0, out: `hello from ${to.name}` });
    }
    const fromRoot = await new Promise<string>((resolve, reject) => {
      let text = "";
      const socket = net.connect(18080, one.ip);
      socket.setTimeout(5_000, () => socket.destroy(new Error("no answer in 5 s")));
      socket.on("data", (chunk) => (text += chunk.toString()));
      socket.on("end", () => resolve(text.trim()));
      socket.on("error", reject);
    });
    expect(fromRoot).toBe("hello from one");
  }, 90_000);

  test("a container's private address on one machine is unreachable from the other", async () => {
    const address = await one.dockerOk(["inspect", "--format", "{{.NetworkSettings.IPAddress}}", "server"]);
    expect(address.startsWith(one.bridgeSubnet.replace(/0\/24$/, ""))).toBe(true);
    // The same address from its own machine: the server is there.
    expect(await dial(one, address, 8080)).toEqual({ code: 0, out: "hello from one" });
    const across = await dial(two, address, 8080);
    expect(across.code).not.toBe(0);
    expect(across.out).toMatch(/can't connect/);
  }, 60_000);

  test("a prefix in use is refused, and its machines are left alone", async () => {
    await expect(DockerHosts.start({ names: ["one"], prefix: PREFIX, lan: "10.213.7" })).rejects.toThrow(
      new RegExp(`in use by process ${process.pid}`),
    );
    expect(await dial(two, one.ip, 18080)).toEqual({ code: 0, out: "hello from one" });
  }, 60_000);

  test("the teardown leaves no process, mount, cgroup, namespace, link, rule or folder, and may run again", async () => {
    const started = hosts as DockerHosts;
    const pids = [one.pid, two.pid];
    for (const ns of [`${PREFIX}-one`, `${PREFIX}-two`]) {
      const inside = await promisify(execFile)("ip", ["netns", "pids", ns]);
      pids.push(...inside.stdout.split("\n").filter(Boolean).map(Number));
    }
    expect(pids.length).toBeGreaterThan(4); // dockerd, containerd, shims, proxies
    expect(pids.every(isRunning)).toBe(true);
    // What the check below finds empty, it finds here, of every kind.
    const kinds = new Set(dockerHostsLeftovers(PREFIX).map((line) => line.split(":")[0]));
    expect([...kinds].sort()).toEqual(
      ["cgroup", "folder", "iptables rule", "link", "mount", "network namespace", "process"].sort(),
    );

    expect(await started.stop()).toEqual([]);
    expect(pids.filter(isRunning)).toEqual([]);
    expect(dockerHostsLeftovers(PREFIX)).toEqual([]);
    expect(await started.stop()).toEqual([]);
  }, 120_000);

  test("a run killed mid-way is cleaned up by the next start of its prefix", async () => {
    // A child process starts one machine and a container, then is killed: its daemon, shim and
    // container live on, with their namespace, mounts, cgroups, bridge, rule and lock.
    const script = `
      const { DockerHosts } = require("./test/support/docker-hosts");
      DockerHosts.start({ names: ["x"], prefix: "${CRASH_PREFIX}", lan: "${CRASH_LAN}", images: ["${IMAGE}"] })
        .then(async (hosts) => {
          const [host] = hosts.hosts;
          await host.dockerOk(["run", "-d", "--name", "crashed", "--entrypoint", "/bin/busybox", "${IMAGE}", "sleep", "600"]);
          const container = Number(await host.dockerOk(["inspect", "--format", "{{.State.Pid}}", "crashed"]));
          console.log(JSON.stringify({ daemon: host.pid, container }));
        })
        .catch((error) => { console.error(error); process.exit(1); });
      setInterval(() => {}, 1 << 30);`;
    const child = spawn(process.execPath, ["-r", "./test/support/ts-register.js", "-e", script], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    try {
      let timer: NodeJS.Timeout | undefined;
      const line = await new Promise<string>((resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`the child did not start in 90 s:\n${output}`)), 90_000);
        child.stdout.on("data", () => {
          const found = /^\{.*\}$/m.exec(output);
          if (found) resolve(found[0]);
        });
        child.on("exit", (code) => reject(new Error(`the child exited ${code}:\n${output}`)));
      }).finally(() => clearTimeout(timer));
      const { daemon, container } = JSON.parse(line) as { daemon: number; container: number };
      child.kill("SIGKILL");
      await new Promise((resolve) => child.once("exit", resolve));
      expect([isRunning(daemon), isRunning(container)]).toEqual([true, true]);

      const next = await DockerHosts.start({ names: ["x"], prefix: CRASH_PREFIX, lan: CRASH_LAN });
      expect([isRunning(daemon), isRunning(container)]).toEqual([false, false]);
      expect(await next.hosts[0].dockerOk(["ps", "-aq"])).toBe("");
      expect(await next.stop()).toEqual([]);
      expect(dockerHostsLeftovers(CRASH_PREFIX)).toEqual([]);
    } finally {
      child.kill("SIGKILL");
      sweep(layoutOf(CRASH_PREFIX));
    }
  }, 180_000);
});
