/**
 * `consul-mesh plan`: reads every source given, merges them into one mesh, validates it,
 * plans every upstream's route and prints the plan as a table, JSON, DOT or SVG.
 */
import { promises as fs } from "node:fs";
import {
  filterRoutes,
  formatRoutePlan,
  gatewayHealthProblems,
  locateProblem,
  mergeFragments,
  planRoutes,
  primaryDatacenterOf,
  routeDiagramDot,
  validateMesh,
  DiagramTooLargeError,
  type MeshFragment,
  type RoutePlan,
  type SourceProblem,
} from "../mesh";
import { readLiveConsul } from "../consul/live-consul";
import { renderDiagramSvg } from "../mesh/diagram/diagram-svg";
import { PlanUsageError } from "./errors";
import { ConsulError } from "../consul/errors";
import { parsePlanOptions, PLAN_HELP, type PlanOptions } from "./plan-options";
import { readConsulConfig, readTopologyFile } from "./read-files";

/** Where the command writes, and the environment it reads: the process's, or a test's. */
export interface PlanIo {
  /** Writes to standard output. */
  stdout(text: string): void;
  /** Writes to standard error. */
  stderr(text: string): void;
  /** The environment (`CONSUL_HTTP_ADDR`, `CONSUL_HTTP_TOKEN`, …). */
  env: NodeJS.ProcessEnv;
}

/** Everything the sources say, merged, with every problem found. */
interface Outcome {
  plan: RoutePlan;
  problems: SourceProblem[];
  dot: () => string;
}

async function readSources(options: PlanOptions, io: PlanIo): Promise<MeshFragment[]> {
  const fragments: MeshFragment[] = [];
  for (const file of options.topology) fragments.push(await readTopologyFile(file));
  const defaultDatacenter = fragments.length ? primaryDatacenterOf(mergeFragments(fragments).mesh) : undefined;
  for (const target of options.config) fragments.push(await readConsulConfig(target, defaultDatacenter));
  if (options.consul !== undefined)
    fragments.push(await readLiveConsul({ address: options.consul || undefined, env: io.env }));
  return fragments;
}

async function makePlan(options: PlanOptions, io: PlanIo): Promise<Outcome> {
  const merged = mergeFragments(await readSources(options, io));
  const fullPlan = planRoutes(merged.mesh);
  const problems = [
    ...merged.problems,
    ...validateMesh(merged.mesh).map((problem) => locateProblem(problem, merged.origins)),
    ...gatewayHealthProblems(merged, fullPlan),
  ];
  const filter = { services: options.service, datacenters: options.datacenter };
  const plan = filterRoutes(fullPlan, filter);
  return { plan, problems, dot: () => routeDiagramDot(merged.mesh, plan, filter) };
}

/** One line per problem: origin, field, message. */
function problemLines(problems: SourceProblem[]): string {
  const lines = problems.map((p) => `  - ${p.origin}${p.field ? `: ${p.field}` : ""}: ${p.message}`);
  return `${problems.length} problem${problems.length === 1 ? "" : "s"}:\n${lines.join("\n")}\n`;
}

async function render(outcome: Outcome, options: PlanOptions): Promise<string> {
  const { plan, problems } = outcome;
  switch (options.format) {
    case "table":
      return (
        formatRoutePlan(plan) +
        "\n" +
        (problems.length
          ? problemLines(problems)
          : `valid: ${plan.routes.length} route${plan.routes.length === 1 ? "" : "s"}\n`)
      );
    case "json":
      return JSON.stringify({ valid: problems.length === 0, problems, plan }, null, 2) + "\n";
    case "dot":
      return outcome.dot();
    case "svg":
      return renderDiagramSvg(outcome.dot());
  }
}

/**
 * Runs `consul-mesh plan` with the arguments after `plan`.
 * @param argv - The arguments.
 * @param io - Output streams and environment.
 * @returns The exit status: 0 valid, 1 problems (all listed), 2 usage error or unreadable source.
 */
export async function runPlan(argv: string[], io: PlanIo): Promise<number> {
  try {
    const options = parsePlanOptions(argv);
    if (options === "help") {
      io.stdout(PLAN_HELP);
      return 0;
    }
    const outcome = await makePlan(options, io);
    const text = await render(outcome, options);
    if (options.output) {
      try {
        await fs.writeFile(options.output, text);
      } catch (error) {
        throw new PlanUsageError(`cannot write --output ${options.output}: ${(error as Error).message}`);
      }
    } else io.stdout(text);
    // Machine formats keep standard output a clean document: problems go to standard error.
    if (outcome.problems.length && (options.format !== "table" || options.output))
      io.stderr(problemLines(outcome.problems));
    return outcome.problems.length ? 1 : 0;
  } catch (error) {
    if (error instanceof PlanUsageError || error instanceof ConsulError || error instanceof DiagramTooLargeError) {
      io.stderr(
        `consul-mesh plan: ` +
          `${error.message}\n${error instanceof PlanUsageError ? "Run 'consul-mesh plan --help' for usage.\n" : ""}`,
      );
      return 2;
    }
    throw error;
  }
}
