/**
 * What {@link "./docker-hosts"} leaves on this machine, found by its names alone, and its removal:
 * the processes in its network namespaces and cgroups (by PID), mounts under its folders, its
 * cgroups, network namespaces, links, the FORWARD rule of its bridge and its folders. Synchronous,
 * so that it also runs in an `exit` handler; every wait is bounded.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, realpathSync, rmdirSync, statSync } from "node:fs";
import path from "node:path";

/** Where the machines of one name prefix live: every name they create starts with the prefix. */
export interface HostsLayout {
  /** Prefix of every network namespace (`<prefix>-<name>`), link and cgroup. */
  prefix: string;
  /** Sockets, pid files, exec roots: `<runRoot>/<prefix>`. */
  runDir: string;
  /** Data roots and daemon logs: `<dataRoot>/<prefix>`. */
  dataDir: string;
  /** The bridge of the LAN between the machines, in the root namespace: `<prefix>0`. */
  bridge: string;
  /** The comment of its FORWARD rule in the root namespace's iptables. */
  ruleComment: string;
}

/** The layout of `prefix` under the given roots. */
export function layoutOf(prefix: string, roots: { run?: string; data?: string } = {}): HostsLayout {
  return {
    prefix,
    runDir: path.join(roots.run ?? "/run/consul-mesh-test", prefix),
    dataDir: path.join(roots.data ?? "/var/lib/consul-mesh-test", prefix),
    bridge: `${prefix}0`,
    ruleComment: `consul-mesh-test:${prefix}`,
  };
}

/** Runs a command, bounded to `timeoutMs`; never throws. */
export function run(command: string, args: string[], timeoutMs = 20_000): { code: number; out: string } {
  const result = spawnSync(command, args, { encoding: "utf8", timeout: timeoutMs });
  const out = `${result.stdout ?? ""}${result.stderr ?? ""}${result.error ? result.error.message : ""}`.trim();
  return { code: result.status ?? -1, out };
}

/** Blocks the thread for `ms` (the sweep runs in `exit` handlers, where nothing asynchronous does). */
export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Whether `pid` runs (a zombie does not: it only waits for its parent to read its status). */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

function comm(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return "?";
  }
}

/** The network namespaces of the layout. */
export function namespaces(layout: HostsLayout): string[] {
  return run("ip", ["netns", "list"])
    .out.split("\n")
    .map((line) => line.split(" ")[0])
    .filter((name) => name.startsWith(`${layout.prefix}-`));
}

/** The links of the layout in the root namespace: the bridge and the root ends of the veths. */
export function links(layout: HostsLayout): string[] {
  return run("ip", ["-o", "link", "show"])
    .out.split("\n")
    .map((line) => /^\d+: ([^:@\s]+)/.exec(line)?.[1] ?? "")
    .filter((name) => name === layout.bridge || name.startsWith(`${layout.prefix}-`));
}

/** The cgroup folders of the layout (the machines' `--cgroup-parent`s), in every hierarchy. */
export function cgroups(layout: HostsLayout): string[] {
  const root = "/sys/fs/cgroup";
  if (!existsSync(root)) return [];
  const hierarchies = existsSync(path.join(root, "cgroup.procs"))
    ? [root]
    : readdirSync(root)
        .map((entry) => path.join(root, entry))
        .filter((dir) => existsSync(path.join(dir, "cgroup.procs")));
  const found = new Set<string>();
  for (const hierarchy of new Set(hierarchies.map((dir) => realpathSync(dir)))) {
    for (const entry of readdirSync(hierarchy)) {
      const dir = path.join(hierarchy, entry);
      if (entry.startsWith(`${layout.prefix}-`) && statSync(dir).isDirectory()) found.add(dir);
    }
  }
  return [...found];
}

/** Every folder under `dir`, deepest first, then `dir`. */
function foldersDeepestFirst(dir: string): string[] {
  const below = readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .flatMap((entry) => foldersDeepestFirst(path.join(dir, entry.name)));
  return [...below, dir];
}

/** The processes of the layout: in its network namespaces (daemons, containerd, shims, proxies) and cgroups (containers). */
export function processes(layout: HostsLayout): number[] {
  const pids = new Set<number>();
  for (const ns of namespaces(layout))
    for (const pid of run("ip", ["netns", "pids", ns]).out.split("\n").filter(Boolean)) pids.add(Number(pid));
  for (const group of cgroups(layout))
    for (const dir of foldersDeepestFirst(group))
      for (const pid of readFileSync(path.join(dir, "cgroup.procs"), "utf8").split("\n").filter(Boolean))
        pids.add(Number(pid));
  return [...pids].filter((pid) => Number.isInteger(pid) && pid !== process.pid && isRunning(pid));
}

/** Mount points under the layout's folders, deepest first. */
export function mounts(layout: HostsLayout): string[] {
  const under = (point: string): boolean =>
    [layout.runDir, layout.dataDir].some((dir) => point === dir || point.startsWith(`${dir}/`));
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((line) =>
      (line.split(" ")[4] ?? "").replace(/\\(\d{3})/g, (_, octal) => String.fromCharCode(parseInt(octal, 8))),
    )
    .filter(under)
    .sort((a, b) => b.length - a.length);
}

/** The root namespace's FORWARD rules of the layout, as `iptables -S` prints them. */
export function forwardRules(layout: HostsLayout): string[] {
  const listed = run("iptables", ["-w", "5", "-S", "FORWARD"]);
  if (listed.code !== 0) return [];
  // iptables quotes comments: `--comment "consul-mesh-test:cmh"`.
  return listed.out
    .split("\n")
    .map((line) => line.replace(/"/g, ""))
    .filter((line) => line.split(" ").includes(layout.ruleComment));
}

/** What of the layout is still on this machine, one `kind: what` line each (empty when nothing). */
export function leftovers(layout: HostsLayout): string[] {
  return [
    ...processes(layout).map((pid) => `process: ${pid} (${comm(pid)})`),
    ...mounts(layout).map((point) => `mount: ${point}`),
    ...cgroups(layout).map((dir) => `cgroup: ${dir}`),
    ...namespaces(layout).map((ns) => `network namespace: ${ns}`),
    ...links(layout).map((link) => `link: ${link}`),
    ...forwardRules(layout).map((rule) => `iptables rule: ${rule}`),
    ...[layout.runDir, layout.dataDir].filter((dir) => existsSync(dir)).map((dir) => `folder: ${dir}`),
  ];
}

/**
 * Removes everything of the layout, also what a crashed run left: kills its processes by PID
 * (SIGKILL; the graceful stop is the caller's), unmounts, removes its cgroups, network
 * namespaces, links, FORWARD rule and folders. Returns what is left (empty when all is gone).
 * Each wait is bounded (processes 10 s, cgroups 5 s); never throws.
 */
export function sweep(layout: HostsLayout): string[] {
  for (let round = 0; round < 100; round++) {
    const pids = processes(layout);
    if (pids.length === 0) break;
    for (const pid of pids) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // gone meanwhile
      }
    }
    sleepSync(100);
  }
  for (let round = 0; round < 5; round++) {
    const points = mounts(layout);
    if (points.length === 0) break;
    for (const point of points) if (run("umount", [point]).code !== 0) run("umount", ["-l", point]);
  }
  for (let round = 0; round < 50; round++) {
    const groups = cgroups(layout);
    if (groups.length === 0) break;
    for (const dir of groups.flatMap(foldersDeepestFirst)) {
      try {
        rmdirSync(dir);
      } catch {
        // busy a moment longer, or already gone
      }
    }
    if (cgroups(layout).length > 0) sleepSync(100);
  }
  for (const ns of namespaces(layout)) run("ip", ["netns", "delete", ns]);
  for (const link of links(layout)) run("ip", ["link", "delete", link]);
  for (const rule of forwardRules(layout)) run("iptables", ["-w", "5", ...rule.replace(/^-A /, "-D ").split(" ")]);
  if (mounts(layout).length === 0)
    for (const dir of [layout.runDir, layout.dataDir]) run("rm", ["-rf", "--one-file-system", dir], 60_000);
  return leftovers(layout);
}
