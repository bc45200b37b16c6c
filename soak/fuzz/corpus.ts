/**
 * The fuzzer's corpus on disk, kept in the repository: `seeds/*.bin` are hellos captured from
 * real clients (`soak/corpus/capture.ts`); `crashers/` holds every input that ever failed a
 * check, replayed first on every run: `*.bin` as bytes a client sends, `*.name` as a server
 * name given to the router.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { FuzzCase, Seed } from "./cases";
import { loadSeed } from "./cases";

/** What the corpus holds. */
export interface Corpus {
  /** The captured hellos. */
  seeds: Seed[];
  /** Inputs that once failed: bytes for the reader. */
  crasherBytes: Buffer[];
  /** Inputs that once failed: names for the router. */
  crasherNames: string[];
}

/**
 * Reads the corpus.
 * @param dir the corpus folder (`soak/corpus`).
 */
export function readCorpus(dir: string): Corpus {
  const files = (sub: string, ext: string) =>
    readdirSync(path.join(dir, sub))
      .filter((f) => f.endsWith(ext))
      .sort()
      .map((f) => [f, readFileSync(path.join(dir, sub, f))] as const);
  return {
    seeds: files("seeds", ".bin").map(([name, bytes]) => loadSeed(name, bytes)),
    crasherBytes: files("crashers", ".bin").map(([, bytes]) => bytes),
    crasherNames: files("crashers", ".name").map(([, bytes]) => bytes.toString("utf8")),
  };
}

/**
 * Keeps a failing case in `crashers/`, named by what failed and a digest of the input.
 * @param dir the corpus folder.
 * @param kind what failed (a violation kind, or `hang`).
 * @param fuzzCase the case.
 * @returns the file's path, relative to the corpus folder.
 */
export function keepCrasher(dir: string, kind: string, fuzzCase: FuzzCase): string {
  const [content, ext] =
    fuzzCase.strategy === "router-name" ? [Buffer.from(fuzzCase.name, "utf8"), "name"] : [fuzzCase.input, "bin"];
  const file = path.join(
    "crashers",
    `${kind}-${createHash("sha256").update(content).digest("hex").slice(0, 12)}.${ext}`,
  );
  mkdirSync(path.join(dir, "crashers"), { recursive: true });
  writeFileSync(path.join(dir, file), content);
  return file;
}
