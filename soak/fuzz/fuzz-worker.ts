/**
 * The fuzz loop, in a worker thread so that the phase can stop a case that hangs: it writes the
 * number of the case it is on into shared memory before each one, posts every violation, and
 * posts its tallies at the end.
 */
import { parentPort, workerData } from "node:worker_threads";
import { FuzzCases, STRATEGIES, type Strategy } from "./cases";
import { readCorpus } from "./corpus";
import { checkCase, type ViolationKind } from "./oracle";

/** What the worker is given. */
export interface FuzzWorkerData {
  /** Cases to run. */
  cases: number;
  /** The run's seed. */
  runSeed: number;
  /** The corpus folder. */
  corpusDir: string;
  /** One Int32: the number of the case being checked. */
  progress: SharedArrayBuffer;
}

/** What the worker posts. */
export type FuzzWorkerMessage =
  | {
      type: "violation";
      /** The failing case's number. */
      index: number;
      /** What broke. */
      kind: ViolationKind;
      /** What was seen. */
      detail: string;
    }
  | {
      type: "done";
      /** Cases checked, by strategy. */
      byStrategy: Record<Strategy, number>;
      /** How many came before the random ones. */
      systematic: number;
      /** The slowest case, in ms, and its number. */
      slowestMs: number;
      slowestIndex: number;
    };

function run(data: FuzzWorkerData): void {
  const corpus = readCorpus(data.corpusDir);
  const cases = new FuzzCases(corpus.seeds, { bytes: corpus.crasherBytes, names: corpus.crasherNames }, data.runSeed);
  const progress = new Int32Array(data.progress);
  const byStrategy = Object.fromEntries(STRATEGIES.map((s) => [s, 0])) as Record<Strategy, number>;
  let slowestMs = 0;
  let slowestIndex = 0;
  for (let index = 0; index < data.cases; index++) {
    Atomics.store(progress, 0, index);
    const fuzzCase = cases.at(index);
    const started = performance.now();
    const violation = checkCase(fuzzCase);
    const ms = performance.now() - started;
    if (ms > slowestMs) [slowestMs, slowestIndex] = [ms, index];
    byStrategy[fuzzCase.strategy]++;
    if (violation) parentPort?.postMessage({ type: "violation", index, ...violation } satisfies FuzzWorkerMessage);
  }
  parentPort?.postMessage({
    type: "done",
    byStrategy,
    systematic: cases.systematicCount,
    slowestMs,
    slowestIndex,
  } satisfies FuzzWorkerMessage);
}

run(workerData as FuzzWorkerData);
