/**
 * The real Pulumi engine for tests: the CLI `npm run tools` built (`.tools/bin/pulumi`), driven by
 * the Automation API with inline programs, state in a temporary file backend with a passphrase
 * secrets provider, plugins in a `PULUMI_HOME` of its own, and nothing that reaches the network
 * (no update check, no plugin downloads).
 *
 * Inline programs run in this process, so no Node.js language host binary is needed (the engine
 * connects back to the Automation API's own). Dynamic providers run in the host the CLI bundles
 * beside itself (`pulumi-resource-pulumi-nodejs`, from `@pulumi/pulumi`).
 */
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { LocalWorkspace, PulumiCommand, type PulumiFn, type Stack } from "@pulumi/pulumi/automation";
import { toolPath } from "./processes";

const ROOT = path.join(__dirname, "../..");

/** A temporary Pulumi home, backend and work folder; {@link PulumiSandbox.remove} deletes all of it. */
export class PulumiSandbox {
  private constructor(
    /** The folder holding `home/`, `state/` and `work/`. */
    readonly dir: string,
    private readonly command: PulumiCommand,
  ) {}

  /** Creates the folders; fails if `npm run tools` has not built the CLI. */
  static async create(): Promise<PulumiSandbox> {
    toolPath("pulumi");
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "real-pulumi-"));
    for (const sub of ["home", "state", "work"]) await fs.mkdir(path.join(dir, sub));
    const command = await PulumiCommand.get({ root: path.join(ROOT, ".tools") });
    return new PulumiSandbox(dir, command);
  }

  /** The environment of every CLI call. */
  get env(): Record<string, string> {
    return {
      PULUMI_HOME: path.join(this.dir, "home"),
      PULUMI_CONFIG_PASSPHRASE: "real-pulumi-tests",
      PULUMI_SKIP_UPDATE_CHECK: "true",
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
      // The dynamic provider host resolves @pulumi/pulumi from the work folder.
      NODE_PATH: path.join(ROOT, "node_modules"),
    };
  }

  /**
   * A new stack of an inline program.
   * @param project - Project name.
   * @param stack - Stack name.
   * @param program - The program.
   */
  async stack(project: string, stack: string, program: PulumiFn): Promise<Stack> {
    return LocalWorkspace.createOrSelectStack(
      { projectName: project, stackName: stack, program },
      {
        workDir: path.join(this.dir, "work"),
        pulumiCommand: this.command,
        envVars: this.env,
        projectSettings: {
          name: project,
          runtime: "nodejs",
          backend: { url: `file://${path.join(this.dir, "state")}` },
        },
      },
    );
  }

  /** The text of a stack's state file in the backend, as stored (secrets encrypted). */
  async stateFile(project: string, stack: string): Promise<string> {
    return fs.readFile(path.join(this.dir, "state", ".pulumi", "stacks", project, `${stack}.json`), "utf8");
  }

  /** Deletes the home, the state and the work folder. */
  async remove(): Promise<void> {
    await fs.rm(this.dir, { recursive: true, force: true });
  }
}
