/**
 * The quick soak (`npm run soak -- --quick`) inside `npm test`: every phase but the real mesh, at
 * small sizes (20,000 fuzz cases, 500 connections held, 2,000 in churn), compiled and run as
 * `npm run soak` runs it. The full run, with its figures in RELIABILITY.md, is `npm run soak`.
 */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const ROOT = path.join(__dirname, "../..");

jest.setTimeout(180_000);

describe("the quick soak", () => {
  // Inside the repository, so that the compiled soak finds its corpus.
  mkdirSync(path.join(ROOT, "dist"), { recursive: true });
  const outDir = mkdtempSync(path.join(ROOT, "dist", "soak-quick-"));
  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  test("meets every target, and says so in its report", async () => {
    await run(process.execPath, [path.join(ROOT, "node_modules/typescript/bin/tsc"), "-p", path.join(ROOT, "soak/tsconfig.json"), "--outDir", outDir], { cwd: ROOT });
    const report = path.join(outDir, "RELIABILITY.md");
    const soak = await run(process.execPath, [path.join(outDir, "soak/main.js"), "--quick", "--report", report], { cwd: ROOT, timeout: 150_000 }).catch(
      (error: { stdout?: string; code?: number }) => ({ stdout: `${error.stdout ?? ""}\n(exit ${error.code})` }),
    );
    const failures = soak.stdout.split("\n").filter((line) => /^\s+FAIL\s|^soak: .* [1-9]\d* failed|^\(exit/.test(line));
    expect(failures).toEqual([]);
    expect(soak.stdout).toMatch(/^soak: (1[6-9]|[2-9]\d) passed, 0 failed$/m);
    const markdown = readFileSync(report, "utf8");
    for (const phase of ["Bad input", "Load", "Route changes under load", "Security"]) expect(markdown).toContain(`## ${phase}`);
    expect(markdown).not.toContain("**FAIL**");
  });
});
