/**
 * The "Bad input" phase: a seeded mutation fuzzer against the ClientHello reader and the router
 * (Jazzer.js cannot run here: see RELIABILITY.md). Cases run in a worker thread watched from
 * here; a case that runs longer than the hang limit is a hang, the worker is stopped and the case
 * kept. Every failing case is kept in `soak/corpus/crashers/` and replayed on every later run.
 */
import path from "node:path";
import { Worker } from "node:worker_threads";
import { TS_REGISTER } from "../child";
import { checkList, formatCount, type Check } from "../check";
import { FuzzCases, STRATEGIES } from "./cases";
import { keepCrasher, readCorpus } from "./corpus";
import type { FuzzWorkerData, FuzzWorkerMessage } from "./fuzz-worker";
import { VIOLATIONS, type ViolationKind } from "./oracle";

/** Options of {@link fuzzPhase}. */
export interface FuzzPhaseOptions {
  /** Cases to run (the systematic ones included). */
  cases: number;
  /** The run's seed. Default: `20261201`. */
  runSeed?: number;
  /** The corpus folder. */
  corpusDir: string;
  /** A case running longer than this is a hang, in ms. Default: `2000`. */
  hangMs?: number;
  /** Most crasher files kept per run. Default: `20`. */
  maxKept?: number;
}

/** The result of the fuzz loop. */
interface FuzzRun {
  done?: Extract<FuzzWorkerMessage, { type: "done" }>;
  violations: Array<{ index: number; kind: ViolationKind; detail: string }>;
  hang?: number;
  ms: number;
}

function runWorker(options: Required<FuzzPhaseOptions>): Promise<FuzzRun> {
  const progress = new SharedArrayBuffer(4);
  const position = new Int32Array(progress);
  const data: FuzzWorkerData = {
    cases: options.cases,
    runSeed: options.runSeed,
    corpusDir: options.corpusDir,
    progress,
  };
  const script = `require(${JSON.stringify(TS_REGISTER)}); require(${JSON.stringify(path.join(__dirname, "fuzz-worker.ts"))});`;
  const worker = new Worker(script, { eval: true, workerData: data });
  const started = Date.now();
  const run: FuzzRun = { violations: [], ms: 0 };
  return new Promise((resolve) => {
    let last = -1;
    let since = Date.now();
    const watchdog = setInterval(
      () => {
        const now = Atomics.load(position, 0);
        if (now !== last) [last, since] = [now, Date.now()];
        else if (Date.now() - since > options.hangMs) {
          run.hang = now;
          void worker.terminate();
        }
      },
      Math.max(50, options.hangMs / 4),
    );
    worker.on("message", (message: FuzzWorkerMessage) => {
      if (message.type === "done") run.done = message;
      else run.violations.push(message);
    });
    worker.on("error", (error) =>
      run.violations.push({ index: Atomics.load(position, 0), kind: "crash", detail: error.stack ?? error.message }),
    );
    worker.on("exit", () => {
      clearInterval(watchdog);
      run.ms = Date.now() - started;
      resolve(run);
    });
  });
}

/**
 * Runs the fuzzer and reports its figures.
 * @param options cases, seed and corpus; see {@link FuzzPhaseOptions}.
 */
export async function fuzzPhase(options: FuzzPhaseOptions): Promise<Check[]> {
  const settings: Required<FuzzPhaseOptions> = { runSeed: 20261201, hangMs: 2000, maxKept: 20, ...options };
  const list = checkList("Bad input");
  const run = await runWorker(settings);
  const corpus = readCorpus(settings.corpusDir);
  const cases = new FuzzCases(
    corpus.seeds,
    { bytes: corpus.crasherBytes, names: corpus.crasherNames },
    settings.runSeed,
  );
  const kept: string[] = [];
  const keep = (kind: string, index: number) => {
    if (kept.length < settings.maxKept) kept.push(keepCrasher(settings.corpusDir, kind, cases.at(index)));
  };
  for (const v of run.violations) {
    keep(v.kind, v.index);
    if (kept.length <= 3)
      process.stdout.write(
        `    case ${v.index} (${cases.at(v.index).strategy}): ${v.kind}: ${v.detail.split("\n")[0]}\n`,
      );
  }
  if (run.hang !== undefined) keep("hang", run.hang);

  const checked = run.done ? Object.values(run.done.byStrategy).reduce((a, b) => a + b, 0) : 0;
  const byStrategy = run.done
    ? STRATEGIES.filter((s) => run.done?.byStrategy[s]).map((s) => `${s} ${formatCount(run.done?.byStrategy[s] ?? 0)}`)
    : [];
  list.add(
    "fuzz cases run (ClientHello reader and router)",
    `${formatCount(checked)} in ${(run.ms / 1000).toFixed(1)} s, seed ${settings.runSeed}, ${corpus.seeds.length} captured seeds; ${byStrategy.join(", ")}`,
    `≥ ${formatCount(settings.cases)}`,
    checked >= settings.cases,
  );
  const count = (kind: ViolationKind) => run.violations.filter((v) => v.kind === kind).length;
  list.add("crashes (an exception from the reader or the router)", count("crash"), "0", count("crash") === 0);
  list.add(
    "hangs (a case over the hang limit)",
    run.hang === undefined ? `0 (slowest case ${run.done?.slowestMs.toFixed(2) ?? "?"} ms)` : `1 (case ${run.hang})`,
    `0 over ${settings.hangMs} ms`,
    run.hang === undefined,
  );
  list.add(
    "names routed that parseSni refuses",
    count("accepted-name-parse-sni-rejects"),
    "0",
    count("accepted-name-parse-sni-rejects") === 0,
  );
  const others = VIOLATIONS.filter((k) => k !== "crash" && k !== "accepted-name-parse-sni-rejects");
  const otherCount = others.reduce((sum, k) => sum + count(k), 0);
  list.add(
    "other oracle violations (model reader disagrees, answer depends on cutting, bytes not kept, non-host name routed, case changes route)",
    otherCount === 0
      ? "0"
      : others
          .filter((k) => count(k))
          .map((k) => `${k} ${count(k)}`)
          .join(", "),
    "0",
    otherCount === 0,
  );
  if (kept.length > 0) process.stdout.write(`    kept in soak/corpus: ${kept.join(", ")}\n`);
  return list.checks;
}
