/**
 * Where the soak's files are, from the sources or from any compiled copy inside the repository.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { SoakError } from "./soak-error";

function repositoryRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, "package.json")) && existsSync(path.join(dir, "soak"))) return dir;
    if (path.dirname(dir) === dir) throw new SoakError("E_SOAK_SETUP", from, "no repository above it");
  }
}

/** The repository's root folder. */
export const REPO_ROOT = repositoryRoot(__dirname);

/** The fuzzer's corpus: `seeds/` (captured hellos) and `crashers/` (inputs that once failed, replayed first). */
export const CORPUS_DIR = path.join(REPO_ROOT, "soak/corpus");
