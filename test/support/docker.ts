/**
 * Docker helpers for tests with real containers: run `docker` commands, find out whether
 * Docker is there (and whether it must be), and a {@link DockerSandbox} that labels every
 * network, container and image tag it creates so that all of them are removed afterwards,
 * also when a test fails, and leftovers of a crashed earlier run are swept.
 */
import { execFile, execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";

/** The result of one `docker` command. */
export interface DockerResult {
  /** Exit code (`-1` when the command could not run or timed out). */
  code: number;
  stdout: string;
  stderr: string;
}

/** Options of {@link docker}. */
export interface DockerOptions {
  /** Kill the command after this many milliseconds. Default: `120000`. */
  timeoutMs?: number;
  /** Working directory. Default: the current directory. */
  cwd?: string;
}

/** Runs `docker ARGS…`; never throws: the caller reads the exit code. */
export function docker(args: string[], options: DockerOptions = {}): Promise<DockerResult> {
  return new Promise((resolve) => {
    execFile(
      "docker",
      args,
      { timeout: options.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024, cwd: options.cwd, encoding: "utf8" },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
        resolve({
          code,
          stdout: String(stdout),
          stderr: String(stderr) || (error && code === -1 ? error.message : ""),
        });
      },
    );
  });
}

/** Runs `docker ARGS…` and returns its trimmed stdout; throws with stderr on a non-zero exit. */
export async function dockerOk(args: string[], options: DockerOptions = {}): Promise<string> {
  const result = await docker(args, options);
  if (result.code !== 0) {
    throw new Error(`docker ${args.join(" ")} exited ${result.code}: ${result.stderr.trim() || result.stdout.trim()}`);
  }
  return result.stdout.trim();
}

/** Whether Docker answers, and whether the environment requires it. */
export interface DockerStatus {
  /** `docker info` answered. */
  available: boolean;
  /**
   * Tests must fail rather than skip without Docker: `CI=true`, or
   * `CONSUL_MESH_DOCKER=required` (set by `.ci/run`).
   */
  required: boolean;
  /** Why Docker is not available (empty when it is). */
  reason: string;
}

/** Asks `docker info` (bounded to 20 s), synchronously, so that a test file can decide at load time. */
export function dockerStatus(): DockerStatus {
  const required = process.env.CI === "true" || process.env.CONSUL_MESH_DOCKER === "required";
  try {
    execFileSync("docker", ["info", "--format", "{{.ServerVersion}}"], { timeout: 20_000, stdio: "pipe" });
    return { available: true, required, reason: "" };
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    return { available: false, required, reason: stderr || (error as Error).message };
  }
}

/**
 * `describe` when Docker is available or required (a required but missing Docker then fails
 * in the suite's `beforeAll` via {@link assertDocker}), else `describe.skip` with a message
 * saying why.
 */
export function describeWithDocker(status: DockerStatus): jest.Describe {
  if (status.available || status.required) return describe;
  console.warn(
    `Skipping Docker tests: Docker is not available (${status.reason}). ` +
      "Set CI=true or CONSUL_MESH_DOCKER=required to make this a failure.",
  );
  return describe.skip;
}

/** Throws when Docker is required but not available. */
export function assertDocker(status: DockerStatus): void {
  if (!status.available) {
    throw new Error(
      `Docker is required here (CI=true or CONSUL_MESH_DOCKER=required) but does not answer: ${status.reason}`,
    );
  }
}

/** Label key carrying a sandbox's run id. */
export const RUN_LABEL = "consul-mesh.test.run";
/** Label key carrying the process id of the test process that created the object. */
export const PID_LABEL = "consul-mesh.test.pid";

/** Options of {@link DockerSandbox.run}. */
export interface RunOptions {
  /** Image to run. */
  image: string;
  /** Container name suffix; the full name is `<prefix>-<name>`. */
  name: string;
  /** Sandbox networks (their short names) to attach, in order; the first one at creation. */
  networks: string[];
  /** Network aliases (DNS names) in every attached network. Default: the short name. */
  aliases?: string[];
  /** Command (arguments after the image's entrypoint). Default: none. */
  command?: string[];
  /** Override the image's entrypoint. Default: keep it. */
  entrypoint?: string;
  /** Bind mounts `host:container[:ro]`. Default: none. */
  volumes?: string[];
  /** Environment `KEY=VALUE`. Default: none. */
  env?: string[];
  /** User to run as. Default: the image's user. */
  user?: string;
  /** Extra `docker create` flags. Default: none. */
  extra?: string[];
}

/**
 * A run-scoped set of Docker objects: networks and containers get names with a unique prefix
 * and the run's labels; image tags are recorded. {@link DockerSandbox.removeAll} removes all
 * of them (by label, so even objects whose creation call failed halfway).
 */
export class DockerSandbox {
  /** Unique id of this run, part of every name. */
  readonly runId: string;
  /** Name prefix: `<base>-<runId>`. */
  readonly prefix: string;
  private readonly imageTags = new Set<string>();

  /** @param base Name prefix before the run id. Default: `cmg-test`. */
  constructor(base = "cmg-test") {
    this.runId = `${process.pid.toString(36)}${randomBytes(3).toString("hex")}`;
    this.prefix = `${base}-${this.runId}`;
  }

  /** The `--label` flags every object of this run carries. */
  labelFlags(): string[] {
    return ["--label", `${RUN_LABEL}=${this.runId}`, "--label", `${PID_LABEL}=${process.pid}`];
  }

  /** Full name of a sandbox object. */
  nameOf(short: string): string {
    return `${this.prefix}-${short}`;
  }

  /** Creates an internal (no route outside) bridge network; returns its full name. */
  async network(short: string, options: { internal?: boolean } = {}): Promise<string> {
    const name = this.nameOf(short);
    const internal = options.internal ?? true;
    await dockerOk(["network", "create", ...this.labelFlags(), ...(internal ? ["--internal"] : []), name]);
    return name;
  }

  /** Creates a container attached to sandbox networks, starts it, and returns its full name. */
  async run(options: RunOptions): Promise<string> {
    const name = this.nameOf(options.name);
    const aliases = options.aliases ?? [options.name];
    const [first, ...rest] = options.networks;
    const args = ["create", "--name", name, ...this.labelFlags(), "--network", this.nameOf(first)];
    for (const alias of aliases) args.push("--network-alias", alias);
    for (const volume of options.volumes ?? []) args.push("--volume", volume);
    for (const env of options.env ?? []) args.push("--env", env);
    if (options.user) args.push("--user", options.user);
    if (options.entrypoint !== undefined) args.push("--entrypoint", options.entrypoint);
    args.push(...(options.extra ?? []), options.image, ...(options.command ?? []));
    await dockerOk(args);
    for (const network of rest) {
      const connect = ["network", "connect"];
      for (const alias of aliases) connect.push("--alias", alias);
      await dockerOk([...connect, this.nameOf(network), name]);
    }
    await dockerOk(["start", name]);
    return name;
  }

  /** Records an image tag this run created, for removal. */
  trackImage(tag: string): void {
    this.imageTags.add(tag);
  }

  /** Removes every container, network and recorded image tag of this run; never throws. */
  async removeAll(): Promise<string[]> {
    const errors: string[] = [];
    const filter = `label=${RUN_LABEL}=${this.runId}`;
    await removeByFilter(filter, errors);
    for (const tag of this.imageTags) {
      const result = await docker(["image", "rm", tag]);
      if (result.code !== 0 && !/No such image/i.test(result.stderr)) errors.push(result.stderr.trim());
    }
    this.imageTags.clear();
    return errors;
  }

  /**
   * Removes the containers and networks of earlier test runs on this machine whose test
   * process no longer exists (a run killed before its cleanup). Objects of live runs stay.
   */
  static async sweepDeadRuns(): Promise<void> {
    const pids = new Set<string>();
    for (const kind of [
      ["ps", "-a"],
      ["network", "ls"],
    ]) {
      const result = await docker([...kind, "--filter", `label=${PID_LABEL}`, "--format", `{{.Label "${PID_LABEL}"}}`]);
      for (const pid of result.stdout
        .split("\n")
        .map((line) => line.trim())
        .filter(Boolean))
        pids.add(pid);
    }
    for (const pid of pids) {
      if (isAlive(Number(pid))) continue;
      await removeByFilter(`label=${PID_LABEL}=${pid}`, []);
    }
  }
}

async function removeByFilter(filter: string, errors: string[]): Promise<void> {
  const containers = (await docker(["ps", "-aq", "--filter", filter])).stdout.split("\n").filter(Boolean);
  if (containers.length > 0) {
    const result = await docker(["rm", "-f", "-v", ...containers]);
    if (result.code !== 0) errors.push(result.stderr.trim());
  }
  const networks = (await docker(["network", "ls", "-q", "--filter", filter])).stdout.split("\n").filter(Boolean);
  for (const network of networks) {
    const result = await docker(["network", "rm", network]);
    if (result.code !== 0) errors.push(result.stderr.trim());
  }
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
