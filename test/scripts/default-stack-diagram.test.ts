import { readFileSync } from "node:fs";
import path from "node:path";
import { defaultStackFiles } from "../../scripts/default-stack-diagram";

const ROOT = path.join(__dirname, "../..");

describe("the default stack's diagram and plan in docs/", () => {
  it.each(["docs/default-stack.svg", "docs/default-stack.txt"])("%s is what `npm run diagram` writes", async (file) => {
    const expected = (await defaultStackFiles())[file];
    let committed: string | undefined;
    try {
      committed = readFileSync(path.join(ROOT, file), "utf8");
    } catch {
      committed = undefined;
    }
    const state = committed === undefined ? "missing" : "stale";
    if (committed !== expected) throw new Error(`${file} is ${state}: run \`npm run diagram\` and commit it`);
  });
});
