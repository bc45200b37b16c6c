/**
 * Real stacks under the real engine: the Pulumi CLI (`npm run tools`), the Node.js language host
 * and the `@pulumi/consul` and `@pulumi/docker` provider plugins at the pinned versions, run on a
 * project folder of this repository (the root's default stack, an example) as a user would, with
 * a temporary file backend.
 *
 * The language host and the plugins are not served as Go modules, so the project's scripts
 * cannot build them: the tests run when the Pulumi home in use (`$PULUMI_HOME`, else
 * `~/.pulumi`) has them, and otherwise say in one line that they did not run.
 */
import { execFile, spawnSync } from "node:child_process";
import { existsSync, promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { callApi } from "./real-consul";

const ROOT = path.join(__dirname, "../..");
const PULUMI = path.join(ROOT, ".tools/bin/pulumi");

/** The plugins the stacks need, at the versions of package.json's `@pulumi/consul` and `@pulumi/docker`. */
export const REQUIRED_PLUGINS = [
  { kind: "resource", name: "consul", version: "3.15.1" },
  { kind: "resource", name: "docker", version: "5.2.0" },
  { kind: "language", name: "nodejs", version: "3.248.0" },
] as const;

/** The Pulumi home whose plugins the stacks use. */
export function pulumiHome(): string {
  return process.env.PULUMI_HOME ?? path.join(os.homedir(), ".pulumi");
}

/**
 * Whether real stacks can run here: the CLI, Docker, and the plugins in {@link pulumiHome}. When
 * not, `reason` says what is missing, for the one line the tests print.
 * @param plugins - The plugins needed. Default: {@link REQUIRED_PLUGINS} (all of them, and Docker).
 */
export function realStackSupport(
  plugins: readonly (typeof REQUIRED_PLUGINS)[number][] = REQUIRED_PLUGINS,
): { ok: true } | { ok: false; reason: string } {
  if (!existsSync(PULUMI)) return { ok: false, reason: `${PULUMI} is missing (npm run tools)` };
  const missing = plugins
    .filter((p) => !existsSync(path.join(pulumiHome(), "plugins", `${p.kind}-${p.name}-v${p.version}`)))
    .map((p) => `${p.kind} ${p.name} ${p.version}`);
  if (missing.length > 0)
    return {
      ok: false,
      reason: `${pulumiHome()} has no ${missing.join(", ")} plugin (built by hand, never by this project)`,
    };
  if (
    plugins.some((p) => p.kind === "resource") &&
    spawnSync("docker", ["info"], { stdio: "ignore", timeout: 20_000 }).status !== 0
  )
    return { ok: false, reason: "Docker does not answer" };
  return { ok: true };
}

/**
 * `describe` where real stacks can run, else `describe.skip` after one line saying that `what`
 * did not run and why (skipped tests never count as passed).
 * @param what - The suite, for that line.
 * @param plugins - The plugins it needs. Default: all of {@link REQUIRED_PLUGINS}.
 */
export function describeWhereStacksRun(
  what: string,
  plugins?: readonly (typeof REQUIRED_PLUGINS)[number][],
): jest.Describe {
  const support = realStackSupport(plugins);
  if (support.ok) return describe;
  process.stdout.write(`${what} did not run: ${support.reason}\n`);
  return describe.skip;
}

/** A list of figures the suite prints under `title` once its tests are done. */
export function reportedFigures(title: string): string[] {
  const figures: string[] = [];
  afterAll(() => {
    if (figures.length) process.stdout.write(`\n${title}:\n${figures.join("\n")}\n`);
  });
  return figures;
}

/**
 * What a stack needs before its first preview on these machines: the library and the gateway
 * image's context (`npm run build:stack`) and the local base images (`npm run images:local`).
 * Resolves with the stack configuration that points at those images.
 */
export async function prepareStacks(): Promise<Record<string, string>> {
  const run = promisify(execFile);
  await run("npm", ["run", "build:stack", "--silent"], { cwd: ROOT, timeout: 300_000 });
  const { stdout } = await run("bash", ["scripts/local-images.sh"], { cwd: ROOT, timeout: 300_000 });
  const config: Record<string, string> = {};
  for (const m of stdout.matchAll(/^pulumi config set (\S+) (\S+)$/gm)) config[m[1]] = m[2];
  return config;
}

/** A trust domain as a stack draws it: `<uuid>.consul` (a version 4 UUID). */
export const DRAWN_TRUST_DOMAIN = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\.consul$/;

/**
 * The trust domain a running Consul reports (`GET /v1/connect/ca/roots`, `TrustDomain`), once
 * its CA has one.
 * @param httpAddress - The agent's HTTP API, e.g. `https://127.0.0.1:8500`.
 * @param caPem - The CA that verifies an `https` API. Default: none (plain HTTP).
 * @param timeoutMs - How long to wait for the CA. Default: 60 s.
 */
export async function consulTrustDomain(httpAddress: string, caPem?: string, timeoutMs = 60_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    try {
      const res = await callApi(httpAddress, "GET", "/v1/connect/ca/roots", undefined, undefined, caPem);
      const roots = (res.json ?? {}) as { TrustDomain?: string };
      if (roots.TrustDomain) return roots.TrustDomain;
      last = JSON.stringify(roots).slice(0, 200);
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`${httpAddress} reported no trust domain within ${timeoutMs} ms: ${last}`);
}

/** The result of one CLI call. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** Wall-clock time of the call in ms. */
  ms: number;
}

/** One stack of one project folder, in a backend of its own. */
export class StackCli {
  /** What every call printed, in order (but what an export asked `--show-secrets` for): the logs of the whole run. */
  readonly transcript: string[] = [];

  private constructor(
    /** The project folder (holding `Pulumi.yaml`). */
    readonly projectDir: string,
    /** The stack name. */
    readonly stack: string,
    private readonly backend: string,
  ) {}

  /**
   * Creates the stack in a new temporary file backend.
   * @param projectDir - The project folder.
   * @param config - Stack configuration to set. Default: none.
   */
  static async create(projectDir: string, config: Record<string, string> = {}): Promise<StackCli> {
    const backend = await fs.mkdtemp(path.join(os.tmpdir(), "real-stack-"));
    const cli = new StackCli(projectDir, `t${process.pid}${Date.now().toString(36)}`, backend);
    const init = await cli.run(["stack", "init"]);
    if (init.code !== 0) throw new Error(`pulumi stack init failed: ${init.stderr}`);
    for (const [key, value] of Object.entries(config)) await cli.config(key, value);
    return cli;
  }

  /** The environment of every call: no network, no update check, the plugins of {@link pulumiHome}. */
  get environment(): NodeJS.ProcessEnv {
    return {
      ...process.env,
      PATH: `${path.dirname(PULUMI)}:${process.env.PATH}`,
      PULUMI_HOME: pulumiHome(),
      PULUMI_BACKEND_URL: `file://${this.backend}`,
      PULUMI_CONFIG_PASSPHRASE: "real-stack-tests",
      PULUMI_SKIP_UPDATE_CHECK: "true",
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
      PULUMI_SKIP_CONFIRMATIONS: "true",
    };
  }

  /**
   * Runs `pulumi ARGS --stack STACK` in the project folder; resolves with any exit code.
   * @param args - The arguments.
   * @param timeoutMs - Time limit. Default: 10 minutes.
   */
  run(args: string[], timeoutMs = 600_000): Promise<CliResult> {
    const started = Date.now();
    return new Promise((resolve) => {
      execFile(
        PULUMI,
        [...args, "--stack", this.stack, "--non-interactive"],
        { cwd: this.projectDir, env: this.environment, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
        (error, stdout, stderr) => {
          const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
          if (!args.includes("--show-secrets")) this.transcript.push(stdout, stderr);
          resolve({ code, stdout, stderr, ms: Date.now() - started });
        },
      );
    });
  }

  /** Like {@link run}, failing with the output's end when the exit code is not 0. */
  async ok(args: string[], timeoutMs?: number): Promise<CliResult> {
    const result = await this.run(args, timeoutMs);
    if (result.code !== 0)
      throw new Error(
        `pulumi ${args.join(" ")} exited ${result.code}:\n${diagnosticsOf(result.stdout)}${(result.stdout + result.stderr).slice(-4000)}`,
      );
    return result;
  }

  /** `pulumi config set KEY VALUE`. */
  async config(key: string, value: string): Promise<void> {
    await this.ok(["config", "set", key, value]);
  }

  /** The stack outputs. */
  async outputs(): Promise<Record<string, unknown>> {
    return JSON.parse((await this.ok(["stack", "output", "--json"])).stdout) as Record<string, unknown>;
  }

  /** The deployment (`pulumi stack export`), secrets in plain text when `showSecrets`. */
  async deployment(
    showSecrets = false,
  ): Promise<{ resources?: { urn: string; type: string; outputs?: Record<string, unknown> }[] }> {
    const result = await this.ok(["stack", "export", ...(showSecrets ? ["--show-secrets"] : [])]);
    return (JSON.parse(result.stdout) as { deployment: object }).deployment;
  }

  /** The CA certificate of the stack's `ConsulCertificateAuthority` (the first), which verifies its Consul APIs. */
  async consulCaPem(): Promise<string | undefined> {
    const ca = (await this.deployment()).resources?.find((r) => r.type.endsWith("ConsulCertificateAuthority"));
    return ca?.outputs?.caPem as string | undefined;
  }

  /** The text of the stack's state file as stored (secrets encrypted). */
  async stateFile(): Promise<string> {
    const project = /^name:\s*(\S+)/m.exec(await fs.readFile(path.join(this.projectDir, "Pulumi.yaml"), "utf8"))?.[1];
    return fs.readFile(path.join(this.backend, ".pulumi", "stacks", project ?? "", `${this.stack}.json`), "utf8");
  }

  /** Removes the stack (whatever it still holds), its settings file and the backend. */
  async remove(): Promise<void> {
    await this.run(["stack", "rm", "--force", "--yes"]);
    await fs.rm(path.join(this.projectDir, `Pulumi.${this.stack}.yaml`), { force: true });
    await fs.rm(this.backend, { recursive: true, force: true });
  }
}

/** The engine's `Diagnostics:` section (the errors), which long outputs after it push out of a tail. */
function diagnosticsOf(stdout: string): string {
  const start = stdout.indexOf("Diagnostics:");
  if (start < 0) return "";
  const end = stdout.indexOf("Outputs:", start);
  return `${stdout.slice(start, end < 0 ? start + 8000 : Math.min(end, start + 8000))}\n…\n`;
}
