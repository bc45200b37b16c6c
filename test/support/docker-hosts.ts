/**
 * Machines for tests: N extra Docker daemons, each standing for a machine of its own. Each runs in
 * its own network namespace (its own address, routes, iptables and `docker0`), joined by a veth to
 * one bridge in the root namespace, the LAN between the machines (`<lan>.1` the root's side,
 * `<lan>.(10+i)` machine i). A machine has no default route: it reaches the other machines and the
 * root namespace, never their containers' private addresses, nor the internet. A port a container
 * publishes on machine A is reachable at A's address from the other machines and the root.
 *
 *   root namespace: <prefix>0 (the LAN bridge, <lan>.1) ─┬─ veth <prefix>-dc1 ─ netns <prefix>-dc1: eth0 <lan>.10, dockerd
 *                                                        └─ veth <prefix>-dc2 ─ netns <prefix>-dc2: eth0 <lan>.11, dockerd
 *
 * Machine i's `docker0` is 10.214.i.0/24 and its user-defined networks come from 10.(215+i).0.0/16,
 * so that no two machines share container addresses (nor with the main daemon's 172.17.0.0/16).
 *
 * The daemon is `nsenter --net=… dockerd` rather than `ip netns exec … dockerd`: the latter mounts
 * a fresh /sys, hiding /sys/fs/cgroup, and dockerd stops with "Devices cgroup isn't mounted". So
 * the daemons share the root's mount namespace, and their mounts are visible there (the teardown
 * unmounts any it finds under its folders). Each has its own socket, data root, exec root, pid
 * file, containerd (started by dockerd under its exec root), an empty configuration file, and a
 * cgroup parent named after it, where its containers' processes are found for the teardown.
 *
 * The machines share nothing with the main daemon: {@link DockerHosts.loadImages} copies images
 * into them (`docker save | docker --host … load`). Needs root, `ip`, `nsenter`, `iptables`,
 * `dockerd` and the main daemon; {@link dockerHostsStatus} says whether they are there.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmdirSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { docker, dockerStatus, type DockerOptions, type DockerResult } from "./docker";
import { type HostsLayout, isRunning, layoutOf, leftovers, run, sweep } from "./docker-hosts-sweep";
import { GiveUp, TestProcess, eventually } from "./processes";

/** At most this many machines (their address plans are fixed: see the file's comment). */
export const MAX_HOSTS = 8;

/** Options of {@link DockerHosts.start}. */
export interface DockerHostsOptions {
  /** The machines' names, in order: each `[a-z][a-z0-9]*`, with the prefix at most 15 characters. */
  names: string[];
  /** Images of the main daemon to load into every machine. Default: none. */
  images?: string[];
  /**
   * Prefix of every name the machines use (network namespaces, links, cgroups, folders). Two sets
   * of machines at once need different prefixes and LANs. Default: `cmh`.
   */
  prefix?: string;
  /** The first three octets of the LAN's /24. Default: `10.213.0`. */
  lan?: string;
  /** How long one daemon may take to answer. Default: `60000`. */
  startTimeoutMs?: number;
}

/** One machine: a Docker daemon in a network namespace of its own. */
export interface DockerHost {
  /** Its name. */
  readonly name: string;
  /** `unix://…` of its socket: `DOCKER_HOST`'s value, or a `docker.Provider`'s `host`. */
  readonly dockerHost: string;
  /** Its address on the LAN between the machines. */
  readonly ip: string;
  /** The subnet of its `docker0`. */
  readonly bridgeSubnet: string;
  /** Where its user-defined networks' subnets come from. */
  readonly addressPool: string;
  /** Its `dockerd`'s process ID. */
  readonly pid: number;
  /** Runs `docker ARGS…` against this machine (as `docker()` of `./docker`); never throws. */
  docker(args: string[], options?: DockerOptions): Promise<DockerResult>;
  /** Runs `docker ARGS…` against this machine, returns trimmed stdout; throws on a non-zero exit. */
  dockerOk(args: string[], options?: DockerOptions): Promise<string>;
  /** The last lines of its daemon's log. */
  logTail(lines?: number): string;
}

/** Whether machines can run here, and whether they must (as {@link dockerStatus}). */
export interface DockerHostsStatus {
  available: boolean;
  /** `CI=true` or `CONSUL_MESH_DOCKER=required`: fail rather than not run. */
  required: boolean;
  /** Why they cannot (empty when they can). */
  reason: string;
}

function onPath(command: string): boolean {
  return (process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin")
    .split(":")
    .some((dir) => existsSync(path.join(dir, command)));
}

/** Root, `ip`, `nsenter`, `iptables`, `dockerd`, and the main daemon answering (for images). */
export function dockerHostsStatus(): DockerHostsStatus {
  const main = dockerStatus();
  const missing = ["ip", "nsenter", "iptables", "dockerd"].filter((command) => !onPath(command));
  const reason =
    process.getuid?.() !== 0
      ? "not root (network namespaces and daemons need root)"
      : missing.length > 0
        ? `${missing.join(", ")} not found`
        : main.available
          ? ""
          : `the main Docker daemon does not answer (${main.reason})`;
  return { available: reason === "", required: main.required, reason };
}

/**
 * `describe` where machines can run or must; else one line saying that `what` did not run and
 * why, and `describe.skip` (skipped tests never count as passed). A suite that must run but
 * cannot fails in its `beforeAll` through {@link assertDockerHosts}.
 */
export function describeWithDockerHosts(what: string, status: DockerHostsStatus): jest.Describe {
  if (status.available || status.required) return describe;
  process.stdout.write(`${what} did not run: ${status.reason}\n`);
  return describe.skip;
}

/** Throws when machines are required but cannot run. */
export function assertDockerHosts(status: DockerHostsStatus): void {
  if (!status.available)
    throw new Error(`Docker machines are required here (CI=true or CONSUL_MESH_DOCKER=required): ${status.reason}`);
}

function startTime(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? "";
  } catch {
    return "";
  }
}

/**
 * Takes the prefix's lock file (`<runRoot>/<prefix>.lock`: PID, start time, token). A lock of a
 * process that no longer runs is stale and taken over; one of a live process is an error.
 */
function lock(layout: HostsLayout, token: string): string {
  const file = `${layout.runDir}.lock`;
  mkdirSync(path.dirname(file), { recursive: true });
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(file, "wx");
      writeFileSync(fd, `${process.pid} ${startTime(process.pid)} ${token}\n`);
      closeSync(fd);
      return file;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const [pid, started] = readFileSync(file, "utf8").trim().split(" ");
    if (isRunning(Number(pid)) && startTime(Number(pid)) === started)
      throw new Error(`machines "${layout.prefix}" are in use by process ${pid} (${file}): use another prefix`);
    unlinkSync(file);
  }
  throw new Error(`could not take ${file}`);
}

class Machine implements DockerHost {
  readonly dockerHost: string;
  readonly bridgeSubnet: string;
  readonly addressPool: string;
  readonly namespace: string;
  readonly veth: string;
  readonly process: TestProcess;

  constructor(
    layout: HostsLayout,
    readonly name: string,
    readonly ip: string,
    index: number,
  ) {
    const runDir = path.join(layout.runDir, name);
    const dataDir = path.join(layout.dataDir, name);
    mkdirSync(runDir, { recursive: true });
    mkdirSync(dataDir, { recursive: true });
    this.dockerHost = `unix://${runDir}/docker.sock`;
    this.bridgeSubnet = `10.214.${index}.0/24`;
    this.addressPool = `10.${215 + index}.0.0/16`;
    this.namespace = this.veth = `${layout.prefix}-${name}`;
    const config = path.join(runDir, "daemon.json");
    writeFileSync(config, "{}\n");
    this.process = TestProcess.start(
      `dockerd ${name}`,
      "nsenter",
      [
        `--net=/run/netns/${this.namespace}`,
        "--",
        "dockerd",
        `--config-file=${config}`,
        `--host=${this.dockerHost}`,
        `--data-root=${path.join(dataDir, "data")}`,
        `--exec-root=${path.join(runDir, "exec")}`,
        `--pidfile=${path.join(runDir, "docker.pid")}`,
        `--bip=10.214.${index}.1/24`,
        `--default-address-pool=base=${this.addressPool},size=24`,
        `--cgroup-parent=/${this.namespace}`,
        "--exec-opt=native.cgroupdriver=cgroupfs",
      ],
      { logFile: path.join(layout.dataDir, `${name}-dockerd.log`) },
    );
  }

  get pid(): number {
    return this.process.pid ?? -1;
  }

  docker(args: string[], options?: DockerOptions): Promise<DockerResult> {
    return docker(["--host", this.dockerHost, ...args], options);
  }

  async dockerOk(args: string[], options?: DockerOptions): Promise<string> {
    const result = await this.docker(args, options);
    if (result.code !== 0)
      throw new Error(
        `docker (${this.name}) ${args.join(" ")} exited ${result.code}: ${result.stderr.trim() || result.stdout.trim()}`,
      );
    return result.stdout.trim();
  }

  logTail(lines = 30): string {
    return this.process.tail(lines);
  }

  async ready(timeoutMs: number): Promise<void> {
    await eventually(
      `dockerd of machine ${this.name} to answer on ${this.dockerHost}`,
      async () => {
        if (!this.process.alive) throw new GiveUp(`dockerd exited`);
        return (await this.docker(["version", "--format", "{{.Server.Version}}"], { timeoutMs: 5_000 })).code === 0;
      },
      { timeoutMs, intervalMs: 200, describe: () => this.logTail() },
    );
  }

  /** Removes every container, then stops the daemon: SIGTERM, SIGKILL after 20 s; bounded. */
  async stop(): Promise<string[]> {
    const problems: string[] = [];
    if (!this.process.alive) return problems;
    const ids = (await this.docker(["ps", "-aq"], { timeoutMs: 20_000 })).stdout.split("\n").filter(Boolean);
    if (ids.length > 0) {
      const removed = await this.docker(["rm", "-f", "-v", ...ids], { timeoutMs: 60_000 });
      if (removed.code !== 0) problems.push(`${this.name}: docker rm: ${removed.stderr.trim()}`);
    }
    const stopped = this.process.stop("SIGTERM", 20_000);
    const bound = new Promise<"late">((resolve) => setTimeout(() => resolve("late"), 30_000).unref());
    if ((await Promise.race([stopped, bound])) === "late") problems.push(`${this.name}: dockerd did not exit in 30 s`);
    return problems;
  }
}

/** A set of machines; {@link DockerHosts.stop} removes all of it. */
export class DockerHosts {
  /** The root namespace's address on the LAN. */
  readonly rootIp: string;
  private readonly machines: Machine[] = [];
  private readonly lockFile: string;
  private stopped = false;
  private readonly onExit = (): void => {
    if (!this.stopped && this.ownsLock()) sweep(this.layout);
  };

  private constructor(
    readonly layout: HostsLayout,
    private readonly lan: string,
    private readonly token: string,
  ) {
    this.rootIp = `${lan}.1`;
    this.lockFile = lock(layout, token);
    process.on("exit", this.onExit);
  }

  /**
   * Starts the machines (in parallel) and loads `images` into them. First removes whatever a
   * crashed earlier run of the same prefix left. On failure, removes what it made and throws.
   */
  static async start(options: DockerHostsOptions): Promise<DockerHosts> {
    const prefix = options.prefix ?? "cmh";
    const lan = options.lan ?? "10.213.0";
    if (!/^[a-z][a-z0-9]{0,5}$/.test(prefix)) throw new Error(`bad prefix "${prefix}": [a-z][a-z0-9]{0,5}`);
    if (!/^10\.(\d{1,3})\.(\d{1,3})$/.test(lan) || /^10\.21[4-9]|^10\.22[0-2]/.test(lan))
      throw new Error(`bad LAN "${lan}": 10.x.y, outside 10.214–10.222 (the machines' container subnets)`);
    if (options.names.length === 0 || options.names.length > MAX_HOSTS)
      throw new Error(`1 to ${MAX_HOSTS} machines, not ${options.names.length}`);
    for (const name of options.names)
      if (!/^[a-z][a-z0-9]*$/.test(name) || prefix.length + 1 + name.length > 15)
        throw new Error(`bad machine name "${name}": [a-z][a-z0-9]*, at most ${14 - prefix.length} characters`);
    if (new Set(options.names).size !== options.names.length) throw new Error("machine names repeat");

    const hosts = new DockerHosts(layoutOf(prefix), lan, randomBytes(6).toString("hex"));
    try {
      const stale = sweep(hosts.layout);
      if (stale.length > 0) throw new Error(`could not remove what an earlier run left:\n${stale.join("\n")}`);
      hosts.lanInUse();
      hosts.network();
      options.names.forEach((name, index) => hosts.machines.push(hosts.machine(name, index)));
      const timeoutMs = options.startTimeoutMs ?? 60_000;
      await Promise.all(hosts.machines.map((machine) => machine.ready(timeoutMs)));
      if (options.images?.length) await hosts.loadImages(options.images);
      return hosts;
    } catch (error) {
      const left = await hosts.stop();
      throw new Error(
        `${(error as Error).message}${left.length ? `\nand the teardown left:\n${left.join("\n")}` : ""}`,
      );
    }
  }

  /** The machines, in the order of their names. */
  get hosts(): readonly DockerHost[] {
    return this.machines;
  }

  /** The machine called `name`. */
  host(name: string): DockerHost {
    const found = this.machines.find((machine) => machine.name === name);
    if (!found) throw new Error(`no machine "${name}" (${this.machines.map((m) => m.name).join(", ")})`);
    return found;
  }

  /**
   * Copies images of the main daemon into machines: one `docker save`, its stream fed to a
   * `docker load` on each. Bounded by `timeoutMs` (default 300 s); throws on any failure.
   * @param images - Names (or IDs) in the main daemon.
   * @param hosts - Default: every machine.
   */
  async loadImages(images: string[], hosts: readonly DockerHost[] = this.machines, timeoutMs = 300_000): Promise<void> {
    const save = spawn("docker", ["save", ...images], { stdio: ["ignore", "pipe", "pipe"] });
    const loads = hosts.map((host) =>
      spawn("docker", ["--host", host.dockerHost, "load", "--quiet"], { stdio: ["pipe", "pipe", "pipe"] }),
    );
    const all = [save, ...loads];
    const outcome = (child: (typeof all)[number], what: string): Promise<string> => {
      let stderr = "";
      child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      return new Promise((resolve) => {
        child.on("error", (error) => resolve(`${what}: ${error.message}`));
        child.on("close", (code, signal) =>
          resolve(code === 0 ? "" : `${what} exited ${code ?? signal}: ${stderr.trim()}`),
        );
      });
    };
    const results = Promise.all([
      outcome(save, `docker save ${images.join(" ")}`),
      ...loads.map((load, i) => outcome(load, `docker load (${hosts[i].name})`)),
    ]);
    for (const load of loads) {
      load.stdin?.on("error", () => undefined); // a loader that died: its own exit says why
      save.stdout?.pipe(load.stdin!);
    }
    const timer = setTimeout(() => all.forEach((child) => child.kill("SIGKILL")), timeoutMs);
    const failures = (await results).filter(Boolean);
    clearTimeout(timer);
    if (failures.length > 0) throw new Error(`loading ${images.join(", ")} failed:\n${failures.join("\n")}`);
  }

  /**
   * Removes everything: each machine's containers, then its daemon (SIGTERM, bounded, then SIGKILL),
   * then whatever is left by name (see `sweep`), the lock last. Idempotent; never throws; returns
   * what could not be removed (empty when all is gone).
   */
  async stop(): Promise<string[]> {
    if (this.stopped) return [];
    const problems = (await Promise.all(this.machines.map((machine) => machine.stop()))).flat();
    const left = sweep(this.layout);
    if (left.length === 0) {
      this.stopped = true;
      process.off("exit", this.onExit);
      if (this.ownsLock()) unlinkSync(this.lockFile);
      for (const base of [path.dirname(this.layout.runDir), path.dirname(this.layout.dataDir)])
        try {
          rmdirSync(base); // only when no other prefix has anything there
        } catch {
          // not empty
        }
    }
    return [...problems, ...left];
  }

  private ownsLock(): boolean {
    try {
      return readFileSync(this.lockFile, "utf8").trim().split(" ")[2] === this.token;
    } catch {
      return false;
    }
  }

  /** Throws when another interface of the root namespace has an address on the LAN. */
  private lanInUse(): void {
    const used = run("ip", ["-o", "-4", "addr", "show"])
      .out.split("\n")
      .find((line) => line.includes(` inet ${this.lan}.`));
    if (used) throw new Error(`the LAN ${this.lan}.0/24 is in use here: ${used}`);
  }

  /** The LAN bridge, its address, and a FORWARD rule letting frames across it (bridged frames meet iptables when br_netfilter is loaded). */
  private network(): void {
    const { bridge, ruleComment } = this.layout;
    this.ip(["link", "add", bridge, "type", "bridge"]);
    this.ip(["addr", "add", `${this.rootIp}/24`, "dev", bridge]);
    this.ip(["link", "set", bridge, "up"]);
    const rule = ["-i", bridge, "-o", bridge, "-m", "comment", "--comment", ruleComment, "-j", "ACCEPT"];
    const inserted = run("iptables", ["-w", "5", "-I", "FORWARD", "1", ...rule]);
    if (inserted.code !== 0) throw new Error(`iptables -I FORWARD ${rule.join(" ")}: ${inserted.out}`);
  }

  /** Machine `index`'s namespace and veth, then its daemon (not yet awaited). */
  private machine(name: string, index: number): Machine {
    const ns = `${this.layout.prefix}-${name}`;
    const ip = `${this.lan}.${10 + index}`;
    this.ip(["netns", "add", ns]);
    this.ip(["-n", ns, "link", "set", "lo", "up"]);
    this.ip(["link", "add", ns, "type", "veth", "peer", "name", "eth0", "netns", ns]);
    this.ip(["link", "set", ns, "master", this.layout.bridge, "up"]);
    this.ip(["-n", ns, "addr", "add", `${ip}/24`, "dev", "eth0"]);
    this.ip(["-n", ns, "link", "set", "eth0", "up"]);
    return new Machine(this.layout, name, ip, index);
  }

  private ip(args: string[]): void {
    const result = run("ip", args);
    if (result.code !== 0) throw new Error(`ip ${args.join(" ")}: ${result.out}`);
  }
}

/** What of `prefix`'s machines is on this machine (empty when nothing): for tests of the teardown. */
export function dockerHostsLeftovers(prefix = "cmh"): string[] {
  return leftovers(layoutOf(prefix));
}
