/**
 * `consul-mesh diff`: which upstreams change mode, deciding level or path between two route
 * plans, as Markdown for a pull request: from the events of `pulumi preview --json` (the stack's
 * `routePlan` output before and after), or from two route plan files.
 */
import { promises as fs } from "node:fs";
import { parseArgs } from "node:util";
import { diffRoutePlans, formatRoutePlanDiff, type RoutePlan } from "../mesh";
import { PlanUsageError } from "./errors";
import type { PlanIo } from "./plan-command";

/** The help of `consul-mesh diff`. */
export const DIFF_HELP = `Usage: consul-mesh diff --preview FILE [--output FILE]
       consul-mesh diff BEFORE AFTER [--output FILE]

Prints which upstreams change mode, deciding level or path, as Markdown.

  --preview FILE   the events of \`pulumi preview --json\` run with PULUMI_ENABLE_STREAMING_JSON_PREVIEW=true:
                   the stack's routePlan output before and after
  BEFORE AFTER     two route plans as JSON: a routePlan stack output (\`pulumi stack output routePlan --json\`)
                   or the output of \`consul-mesh plan --format json\`
  --output FILE    also append the summary to FILE (e.g. "$GITHUB_STEP_SUMMARY")
  --help           this text

Exit status: 0 printed, 2 usage error or unreadable input.

Example (in a pull request's CI job):
  PULUMI_ENABLE_STREAMING_JSON_PREVIEW=true pulumi preview --json > preview.jsonl
  consul-mesh diff --preview preview.jsonl
`;

/** Reads a file, naming it when it cannot be read. */
async function readText(file: string): Promise<string> {
  try {
    return await fs.readFile(file, "utf8");
  } catch (error) {
    throw new PlanUsageError(`cannot read ${file}: ${(error as Error).message}`);
  }
}

/** How the engine's events show a value not known at preview. */
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** What a new stack's preview tells of its routes: one line per upstream, the plan itself after the first update. */
function pendingText(summary: string[]): string {
  const head = "### Route plan: a new stack, known after its first `pulumi up` (its trust domain is drawn then)\n";
  return summary.length === 0 ? head : `${head}\n${summary.map((line) => `- \`${line}\``).join("\n")}\n`;
}

/** Reads a JSON file, naming it when it cannot be read. */
async function readJson(file: string): Promise<unknown> {
  const text = await readText(file);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new PlanUsageError(`${file} is not JSON: ${(error as Error).message}`);
  }
}

/** A route plan from a plan file: a `routePlan` output, or `consul-mesh plan --format json`'s `{ plan }`. */
function planOf(value: unknown, file: string): RoutePlan {
  const candidate = (value as { plan?: unknown })?.plan ?? value;
  if (!Array.isArray((candidate as RoutePlan)?.routes))
    throw new PlanUsageError(`${file} holds no route plan (an object with "routes")`);
  return candidate as RoutePlan;
}

/**
 * The stack's `routePlan` output before and after, from the engine events `pulumi preview --json`
 * streams with `PULUMI_ENABLE_STREAMING_JSON_PREVIEW=true` (one JSON object a line): the last
 * outputs event of the stack resource carries both. (The one-document `--json` preview carries
 * the old outputs only.)
 */
function plansOfPreview(text: string, file: string): { before?: RoutePlan; after: RoutePlan } | { pending: string[] } {
  type Outputs = { outputs?: { routePlan?: unknown; routeSummary?: unknown } };
  type Event = { resOutputsEvent?: { metadata?: { type?: string; old?: Outputs; new?: Outputs } } };
  let last: NonNullable<Event["resOutputsEvent"]>["metadata"];
  for (const line of text.split("\n")) {
    if (!line.trim().startsWith("{")) continue;
    let event: Event;
    try {
      event = JSON.parse(line) as Event;
    } catch {
      if (/"steps"\s*:/.test(text))
        throw new PlanUsageError(
          `${file} is a one-document preview, which holds no new stack outputs: ` +
            `run \`pulumi preview --json\` with PULUMI_ENABLE_STREAMING_JSON_PREVIEW=true`,
        );
      throw new PlanUsageError(`${file} is not the event stream of \`pulumi preview --json\``);
    }
    const metadata = event.resOutputsEvent?.metadata;
    if (metadata?.type === "pulumi:pulumi:Stack") last = metadata;
  }
  const after = last?.new?.outputs?.routePlan;
  if (after === undefined) throw new PlanUsageError(`${file}: the stack has no routePlan output in this preview`);
  const before = last?.old?.outputs?.routePlan;
  // A new stack's plan names a trust domain drawn at its first update: unknown until then.
  if (after === UNKNOWN && before === undefined) {
    const summary = last?.new?.outputs?.routeSummary;
    return { pending: Array.isArray(summary) ? summary.filter((line) => typeof line === "string") : [] };
  }
  return { before: before === undefined ? undefined : planOf(before, file), after: planOf(after, file) };
}

/**
 * Runs `consul-mesh diff` with the arguments after `diff`.
 * @param argv - The arguments.
 * @param io - Output streams.
 * @returns The exit status: 0 printed, 2 usage error or unreadable input.
 */
export async function runDiff(argv: string[], io: PlanIo): Promise<number> {
  try {
    let parsed;
    try {
      parsed = parseArgs({
        args: argv,
        allowPositionals: true,
        options: { preview: { type: "string" }, output: { type: "string" }, help: { type: "boolean" } },
      });
    } catch (error) {
      throw new PlanUsageError((error as Error).message);
    }
    const { values, positionals } = parsed;
    if (values.help) {
      io.stdout(DIFF_HELP);
      return 0;
    }
    let plans: { before?: RoutePlan; after: RoutePlan } | { pending: string[] };
    if (values.preview !== undefined) {
      if (positionals.length > 0) throw new PlanUsageError("give --preview FILE or BEFORE AFTER, not both");
      plans = plansOfPreview(await readText(values.preview), values.preview);
    } else {
      if (positionals.length !== 2)
        throw new PlanUsageError("give --preview FILE, or two route plan files BEFORE AFTER");
      const [beforeFile, afterFile] = positionals;
      plans = {
        before: planOf(await readJson(beforeFile), beforeFile),
        after: planOf(await readJson(afterFile), afterFile),
      };
    }
    const text =
      "pending" in plans ? pendingText(plans.pending) : formatRoutePlanDiff(diffRoutePlans(plans.before, plans.after));
    io.stdout(text);
    if (values.output !== undefined) {
      try {
        await fs.appendFile(values.output, text);
      } catch (error) {
        throw new PlanUsageError(`cannot write --output ${values.output}: ${(error as Error).message}`);
      }
    }
    return 0;
  } catch (error) {
    if (!(error instanceof PlanUsageError)) throw error;
    io.stderr(`consul-mesh diff: ${error.message}\nRun 'consul-mesh diff --help' for usage.\n`);
    return 2;
  }
}
