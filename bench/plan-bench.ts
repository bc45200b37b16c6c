/**
 * How `validateMesh`, `planRoutes` and `formatRoutePlan` grow with the mesh: 10 datacenters and
 * 10 to 10,000 services with 5 upstreams each (`test/support/large-mesh.ts`), in one process.
 * Per size a warm-up, then the repetitions; each sample handles as many routes as the largest
 * size (many runs of a small mesh, one of the largest) after a full garbage collection.
 *
 *   npm run bench:plan -- [--reps 7]
 *
 * Fails (exit 1) when validating and planning 10,000 services takes 1 s or more, or when 10× the
 * services take more than 30× as long (linear is 10×, quadratic 100×). Results: a table on
 * stdout and `bench/results/plan-<date>.json`.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { formatRoutePlan, planRoutes, validateMesh } from "../mesh";
import { largeMesh } from "../test/support/large-mesh";

const ROOT = path.resolve(__dirname, "../../..");
const SIZES = [10, 100, 1000, 10_000];
const DATACENTERS = 10;
const UPSTREAMS = 5;
/** Validating and planning the largest mesh must take less than this. */
const TARGET_MS = 1000;
/**
 * 10× the services may take at most this many times as long. From 1,000 to 10,000 services a
 * linear step measures 10–20× here: the larger mesh and its plan outgrow the young generation
 * and the CPU caches (beyond, each doubling takes ~2×). A quadratic step is 100×.
 */
const MAX_GROWTH = 30;

const { values: flags } = parseArgs({ options: { reps: { type: "string", default: "7" } } });
const REPS = Math.max(1, Math.min(50, Number(flags.reps) || 7));

type Step = "validate" | "plan" | "format";
const STEPS: Step[] = ["validate", "plan", "format"];

interface Sample {
  rep: number;
  services: number;
  step: Step;
  /** Milliseconds per run: the sample's time divided by its runs. */
  ms: number;
}

/** The median time of a step at one size, per route, and against the size 10× smaller. */
interface Cell {
  ms: number;
  usPerRoute: number;
  /** `ms` over the previous size's; `null` for the smallest size. */
  growth: number | null;
}

function median(values: number[]): number {
  const v = [...values].sort((a, b) => a - b);
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
}

/**
 * Milliseconds per run of `step`, timing `runs` runs in a row after a full garbage collection,
 * so that no sample pays for the garbage of another. Every result is kept until the sample
 * ends, as a caller keeps its plan: a small mesh's results then survive as long as a large one's.
 */
function msPerRun(gc: () => void, runs: number, step: () => unknown): number {
  gc();
  const kept: unknown[] = [];
  const start = performance.now();
  for (let i = 0; i < runs; i++) kept.push(step());
  return (performance.now() - start) / kept.length;
}

/** Every sample of every size; checks first that each mesh is valid and fully planned. */
function measure(gc: () => void): Sample[] {
  const samples: Sample[] = [];
  for (const services of SIZES) {
    const mesh = largeMesh({ datacenters: DATACENTERS, services, upstreamsPerService: UPSTREAMS });
    const problems = validateMesh(mesh);
    if (problems.length > 0) throw new Error(`the ${services}-service mesh is invalid: ${JSON.stringify(problems[0])}`);
    const plan = planRoutes(mesh);
    const routes = plan.routes.length;
    if (routes !== services * UPSTREAMS) throw new Error(`${routes} routes planned for ${services} services`);
    const runs = Math.ceil(SIZES[SIZES.length - 1] / services);
    const steps: Record<Step, () => unknown> = {
      validate: () => validateMesh(mesh),
      plan: () => planRoutes(mesh),
      format: () => formatRoutePlan(plan),
    };
    for (const step of STEPS) msPerRun(gc, runs, steps[step]); // warm-up
    for (let rep = 0; rep < REPS; rep++) {
      for (const step of STEPS) samples.push({ rep, services, step, ms: msPerRun(gc, runs, steps[step]) });
    }
  }
  return samples;
}

function main(gc: () => void): number {
  const loadavgAtStart = os.loadavg();
  const samples = measure(gc);
  const medianOf = (services: number, step: Step) =>
    median(samples.filter((s) => s.services === services && s.step === step).map((s) => s.ms));
  const rows = SIZES.map((services, i) => {
    const routes = services * UPSTREAMS;
    const cellOf = (step: Step): Cell => {
      const ms = medianOf(services, step);
      return { ms, usPerRoute: (ms * 1000) / routes, growth: i === 0 ? null : ms / medianOf(SIZES[i - 1], step) };
    };
    const [validate, plan, format] = STEPS.map(cellOf);
    return { services, routes, validate, plan, format, validateAndPlanMs: validate.ms + plan.ms };
  });

  const growth = (c: Cell) => (c.growth === null ? "–" : `${c.growth.toFixed(1)}×`);
  const show = (c: Cell) => `${c.ms.toFixed(2)} (${c.usPerRoute.toFixed(2)}; ${growth(c)})`;
  const columns = ["validateMesh", "planRoutes", "formatRoutePlan"].map((f) => `${f} ms (µs/route; growth)`);
  const table = [
    `| services | routes | ${columns.join(" | ")} |`,
    "|---|---|---|---|---|",
    ...rows.map((r) => `| ${r.services} | ${r.routes} | ${show(r.validate)} | ${show(r.plan)} | ${show(r.format)} |`),
  ].join("\n");

  const largest = rows[rows.length - 1];
  const failures: string[] = [];
  const largestMs = largest.validateAndPlanMs.toFixed(0);
  const target = `validateMesh + planRoutes, ${largest.services} services: ${largestMs} ms (target < ${TARGET_MS} ms)`;
  if (largest.validateAndPlanMs >= TARGET_MS) failures.push(target);
  for (const r of rows) {
    for (const step of STEPS.filter((s) => (r[s].growth ?? 0) > MAX_GROWTH)) {
      failures.push(`${step}, ${r.services} services: ${growth(r[step])} (at most ${MAX_GROWTH}×)`);
    }
  }

  const facts = {
    date: new Date().toISOString(),
    node: process.version,
    nproc: os.cpus().length,
    cpu: os.cpus()[0]?.model,
    loadavgAtStart,
    loadavgAtEnd: os.loadavg(),
    reps: REPS,
    datacenters: DATACENTERS,
    upstreamsPerService: UPSTREAMS,
    targetMs: TARGET_MS,
    maxGrowth: MAX_GROWTH,
  };
  const file = path.join(ROOT, `bench/results/plan-${facts.date.slice(0, 10)}.json`);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify({ facts, rows, failures, samples }, null, 2)}\n`);
  process.stdout.write(
    [
      JSON.stringify(facts),
      "",
      table,
      "",
      target,
      `growth: the time over that of 10× fewer services (linear 10×, at most ${MAX_GROWTH}× allowed)`,
      `wrote ${path.relative(ROOT, file)}`,
      "",
    ].join("\n"),
  );
  for (const failure of failures) process.stderr.write(`FAILED: ${failure}\n`);
  return failures.length > 0 ? 1 : 0;
}

/** `gc()` needs `--expose-gc`: without it, the bench runs itself again with the flag. */
const gc = (globalThis as { gc?: () => void }).gc;
if (gc) {
  process.exitCode = main(gc);
} else {
  const args = ["--expose-gc", ...process.execArgv, __filename, ...process.argv.slice(2)];
  process.exitCode = spawnSync(process.execPath, args, { stdio: "inherit" }).status ?? 1;
}
