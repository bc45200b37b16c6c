/**
 * The README's Pulumi programs are the recipes users copy: each `ts` block type-checks against the
 * library as it is (written under `build/`, inside the repository, so that packages resolve).
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import ts from "typescript";

const ROOT = path.join(__dirname, "..");

describe("README programs", () => {
  test("every TypeScript block type-checks against the library", () => {
    const blocks = [...readFileSync(path.join(ROOT, "README.md"), "utf8").matchAll(/```ts\n([\s\S]*?)```/g)].map(
      (m) => m[1],
    );
    expect(blocks.length).toBeGreaterThanOrEqual(2);
    const dir = path.join(ROOT, "build", "readme-programs");
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const files = blocks.map((text, i) => {
      const file = path.join(dir, `program-${i}.ts`);
      writeFileSync(file, text);
      return file;
    });
    const config = ts.getParsedCommandLineOfConfigFile(
      path.join(ROOT, "tsconfig.json"),
      {},
      {
        ...ts.sys,
        onUnRecoverableConfigFileDiagnostic: (d) => {
          throw new Error(ts.flattenDiagnosticMessageText(d.messageText, "\n"));
        },
      },
    );
    const program = ts.createProgram(files, { ...config!.options, noEmit: true });
    const problems = ts
      .getPreEmitDiagnostics(program)
      .filter((d) => d.file && files.includes(path.resolve(d.file.fileName)))
      .map((d) => `${path.basename(d.file!.fileName)}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`);
    expect(problems).toEqual([]);
  });
});
