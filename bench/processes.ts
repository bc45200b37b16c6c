/**
 * The benchmark's child processes and what it reads from `/proc` about them: start a process and
 * wait for its ready line, free ports, CPU seconds and resident memory by PID, and stopping only
 * the processes it started.
 */
import { ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomInt } from "node:crypto";
import { readFileSync } from "node:fs";
import net from "node:net";

const TICK = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;
const children: ChildProcess[] = [];

/** How many taken candidates {@link freePort} skips before it gives up. */
const PORT_ATTEMPTS = 100;

/**
 * A random port from 10000 up to Linux's ephemeral range (exclusive), where no outgoing
 * connection (the benchmark opens thousands) takes it between the check and the program's bind.
 */
function randomNonEphemeralPort(): number {
  let ephemeralLow = 32_768;
  try {
    ephemeralLow = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").split(/\s+/)[0]) || 32_768;
  } catch {
    // not Linux: its usual range
  }
  return 10_000 + randomInt(Math.max(1, ephemeralLow - 10_000));
}

/** Whether `port` can be bound on `host` now (released at once); rejects for errors other than a taken port. */
function bindable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EADDRINUSE" || error.code === "EACCES") resolve(false);
      else reject(new Error(`cannot bind ${host}:${port}: ${error.code ?? error.message}`));
    });
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/**
 * A free TCP port on a loopback address, checked by binding it; a taken candidate is skipped.
 * @param host - The address, in 127.0.0.0/8.
 * @param candidate - Where candidates come from. Default: {@link randomNonEphemeralPort}.
 * @throws Error naming the host when it cannot be bound at all (e.g. `EADDRNOTAVAIL`), or when
 * {@link PORT_ATTEMPTS} candidates in a row are taken.
 */
export async function freePort(host: string, candidate: () => number = randomNonEphemeralPort): Promise<number> {
  for (let attempt = 0; attempt < PORT_ATTEMPTS; attempt++) {
    const port = candidate();
    if (await bindable(host, port)) return port;
  }
  throw new Error(`no free port on ${host} after ${PORT_ATTEMPTS} tries`);
}

/**
 * User and system CPU time of a process (all its threads), in seconds.
 * @param pid - The process, or `undefined` (then `NaN`s).
 */
export function cpuTimes(pid: number | undefined): { user: number; system: number } {
  if (!pid) return { user: NaN, system: NaN };
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { user: Number(fields[11]) / TICK, system: Number(fields[12]) / TICK };
  } catch {
    return { user: NaN, system: NaN };
  }
}

/**
 * Resident memory of a process, in KiB.
 * @param pid - The process, or `undefined` (then `NaN`).
 */
export function rssKiB(pid: number | undefined): number {
  if (!pid) return NaN;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}

/**
 * Starts a process and resolves once a line of its output matches `ready` (at most 15 s).
 * @param command - The program.
 * @param args - Its arguments.
 * @param ready - The ready line.
 */
export function startProcess(
  command: string,
  args: string[],
  ready: RegExp,
): Promise<{ child: ChildProcess; line: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    children.push(child);
    let buffer = "";
    const timer = setTimeout(() => reject(new Error(`${command} did not start: ${buffer}`)), 15_000);
    const onData = (d: Buffer) => {
      buffer += d.toString();
      if (buffer.length > 65_536) buffer = buffer.slice(-65_536);
      const line = buffer.split("\n").find((l) => ready.test(l));
      if (line !== undefined) {
        clearTimeout(timer);
        child.stdout?.removeListener("data", onData);
        child.stderr?.removeListener("data", onData);
        child.stdout?.resume();
        child.stderr?.resume();
        resolve({ child, line });
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${command} exited with ${code}: ${buffer}`));
    });
  });
}

/**
 * Starts a process with its output ignored (stderr passed through), remembered for {@link stopChildren}.
 * @param command - The program.
 * @param args - Its arguments.
 */
export function startQuietProcess(command: string, args: string[]): ChildProcess {
  const child = spawn(command, args, { stdio: ["ignore", "ignore", "inherit"] });
  children.push(child);
  return child;
}

/** Sends SIGTERM to every process this benchmark started that is still running (by PID). */
export function stopChildren(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null && c.pid) c.kill("SIGTERM");
}

/**
 * Stops one process this benchmark started (SIGTERM, SIGKILL after 10 s) and waits for its exit.
 * @param child - The process.
 */
export function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}
