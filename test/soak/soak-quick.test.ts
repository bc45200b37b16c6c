/**
 * The quick soak (`npm run soak -- --quick`) inside `npm test`: every phase but the real mesh, at
 * small sizes (20,000 fuzz cases, 500 connections held, 2,000 in churn), run as `npm run soak`
 * runs it, from its sources (`npm run typecheck` checks them). The full run, with its figures in
 * RELIABILITY.md, is `npm run soak`.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const ROOT = path.join(__dirname, "../..");

jest.setTimeout(180_000);

describe("the quick soak", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "soak-quick-report-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("meets every target, and says so in its report", async () => {
    const report = path.join(dir, "RELIABILITY.md");
    const args = [
      "-r",
      path.join(ROOT, "soak/ts-register.js"),
      path.join(ROOT, "soak/main.ts"),
      "--quick",
      "--report",
      report,
    ];
    const soak = await run(process.execPath, args, { cwd: ROOT, timeout: 150_000 }).catch(
      (error: { stdout?: string; code?: number }) => ({
        stdout: `${error.stdout ?? ""}\n(exit ${error.code})`,
      }),
    );
    const failures = soak.stdout
      .split("\n")
      .filter((line) => /^\s+FAIL\s|^soak: .* [1-9]\d* failed|^\(exit/.test(line));
    expect(failures).toEqual([]);
    expect(soak.stdout).toMatch(/^soak: (1[6-9]|[2-9]\d) passed, 0 failed$/m);
    const markdown = readFileSync(report, "utf8");
    for (const phase of ["Bad input", "Load", "Route changes under load", "Security"])
      expect(markdown).toContain(`## ${phase}`);
    expect(markdown).not.toContain("**FAIL**");
  });
});
