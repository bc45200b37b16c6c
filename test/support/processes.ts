/**
 * Child processes for tests that run real programs (Consul, Envoy, the gateway CLI): each one's
 * output kept in a log file, readiness awaited by polling, and every process stopped by its own
 * PID — on request, and when the test process exits, whatever happened to the test.
 */
import { ChildProcess, spawn } from "node:child_process";
import { randomInt } from "node:crypto";
import dgram from "node:dgram";
import { createWriteStream, existsSync, readFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";

const ROOT = path.join(__dirname, "../..");

/** Every child still running, so that an exiting test process takes none with it. */
const running = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

/**
 * The path of a tool that `npm run tools` put in `.tools/bin/`. Throws with the command to run
 * when it is missing: the real tests never skip.
 * @param name - `consul` or `envoy`.
 */
export function toolPath(name: string): string {
  const file = path.join(ROOT, ".tools/bin", name);
  if (!existsSync(file))
    throw new Error(`${file} is missing: run \`npm run tools\` (the tests against real ${name} never skip)`);
  return file;
}

/** A running child process with its output in a log file. */
export class TestProcess {
  /** Resolves with the exit code (or signal name) once the process has ended. */
  readonly exited: Promise<number | string>;
  private ended = false;

  private constructor(
    /** A short name for messages. */
    readonly name: string,
    private readonly child: ChildProcess,
    /** The file holding the process's stdout and stderr. */
    readonly logFile: string,
  ) {
    running.add(child);
    this.exited = new Promise((resolve) => {
      child.on("exit", (code, signal) => {
        this.ended = true;
        running.delete(child);
        resolve(code ?? signal ?? -1);
      });
    });
  }

  /**
   * Starts `command args…`, its output appended to `logFile`.
   * @param name - A short name for messages.
   * @param command - The program.
   * @param args - Its arguments.
   * @param options - `logFile`, the environment (default: this process's) and the working directory.
   */
  static start(
    name: string,
    command: string,
    args: string[],
    options: { logFile: string; env?: NodeJS.ProcessEnv; cwd?: string },
  ): TestProcess {
    const log = createWriteStream(options.logFile, { flags: "a" });
    const child = spawn(command, args, {
      env: options.env ?? process.env,
      cwd: options.cwd,
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    child.on("error", (error) => log.write(`\n[spawn error] ${error.message}\n`));
    return new TestProcess(name, child, options.logFile);
  }

  /** The process ID. */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Whether the process is still running. */
  get alive(): boolean {
    return !this.ended;
  }

  /** The log so far. */
  log(): string {
    try {
      return readFileSync(this.logFile, "utf8");
    } catch {
      return "";
    }
  }

  /** The last `lines` lines of the log, for failure messages. */
  tail(lines = 30): string {
    return this.log().split("\n").slice(-lines).join("\n");
  }

  /**
   * Stops the process: `signal`, then SIGKILL after `graceMs`. Resolves once it has exited.
   * @param signal - Default: `"SIGTERM"`.
   * @param graceMs - Default: `5000`.
   */
  async stop(signal: NodeJS.Signals = "SIGTERM", graceMs = 5000): Promise<void> {
    if (this.ended) return;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill("SIGKILL"), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/** Thrown by an {@link eventually} check to stop waiting at once (e.g. the process has exited). */
export class GiveUp extends Error {}

/**
 * Polls `check` every `intervalMs` until it returns a value other than `undefined`/`false`, and
 * returns that value; throws `describe()`'s text after `timeoutMs`. Errors thrown by `check`
 * count as "not yet", except {@link GiveUp}.
 */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  options: { timeoutMs?: number; intervalMs?: number; describe?: () => string } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  let last = "";
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value as T;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
      if (error instanceof GiveUp)
        throw new Error(`gave up waiting for ${what}: ${last}${options.describe ? `\n${options.describe()}` : ""}`);
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out waiting for ${what}${last ? ` (last error: ${last})` : ""}${options.describe ? `\n${options.describe()}` : ""}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 250));
  }
}

/**
 * The ports {@link freePorts} picks from: below Linux's ephemeral range, so that no outgoing
 * connection takes one between our check and the program's own bind (Consul dials its server
 * from its bind address before it opens its gRPC port: an ephemeral port reserved for it was once
 * taken by one of those dials, and the agent exited with "address already in use").
 */
function portRange(): { low: number; high: number } {
  try {
    const [ephemeralLow] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/);
    const high = Number(ephemeralLow) - 1;
    if (high > 11_000) return { low: 10_000, high };
  } catch {
    // not Linux: the usual range
  }
  return { low: 10_000, high: 32_767 };
}

/** Binds `port` on `host` over TCP and UDP (Serf uses both); resolves with the handles, or `undefined` if taken. */
async function claim(host: string, port: number): Promise<Array<{ close(done: () => void): void }> | undefined> {
  const tcp = net.createServer();
  const tcpBound = await new Promise<boolean>((resolve) => {
    tcp.once("error", () => resolve(false));
    tcp.listen(port, host, () => resolve(true));
  });
  if (!tcpBound) return undefined;
  const udp = dgram.createSocket("udp4");
  const udpBound = await new Promise<boolean>((resolve) => {
    udp.once("error", () => resolve(false));
    udp.bind(port, host, () => resolve(true));
  });
  if (!udpBound) {
    udp.close();
    await new Promise((resolve) => tcp.close(resolve));
    return undefined;
  }
  return [tcp, udp];
}

/**
 * Free ports on `host`, each checked by binding it over TCP and UDP, picked at random below the
 * ephemeral range ({@link portRange}).
 * @param host - A loopback address.
 * @param count - How many.
 */
export async function freePorts(host: string, count: number): Promise<number[]> {
  const { low, high } = portRange();
  const held: Array<{ close(done: () => void): void }> = [];
  const ports: number[] = [];
  try {
    for (let attempt = 0; ports.length < count; attempt++) {
      if (attempt > 1000) throw new Error(`no ${count} free ports on ${host} in ${low}–${high}`);
      const port = low + randomInt(high - low + 1);
      if (ports.includes(port)) continue;
      const handles = await claim(host, port);
      if (!handles) continue;
      held.push(...handles);
      ports.push(port);
    }
  } finally {
    await Promise.all(held.map((h) => new Promise<void>((resolve) => h.close(() => resolve()))));
  }
  return ports;
}
