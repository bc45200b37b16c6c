/** test/README.md names every source file of the product, so the map of suites stays whole. */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

const ROOT = path.join(__dirname, "..");
const map = readFileSync(path.join(__dirname, "README.md"), "utf8");

describe("test/README.md", () => {
  it.each(["mesh", "consul", "components", "gateway", "cli"])("names every source file of %s/", (folder) => {
    const sources = (readdirSync(path.join(ROOT, folder), { recursive: true }) as string[])
      .map((f) => f.split(path.sep).join("/"))
      .filter((f) => /^([a-z0-9-]+\/)*[a-z0-9-]+\.ts$/.test(f) && f !== "index.ts");
    expect(sources.length).toBeGreaterThan(2);
    const section = map.split(/^## /m).find((part) => part.startsWith(`\`${folder}/\``)) ?? "";
    const missing = sources.filter((file) => !section.includes(`\`${file}\``));
    expect(missing).toEqual([]);
  });

  it("names only suites that exist", () => {
    const suites = [
      ...map.matchAll(/`((?:mesh|consul|components|gateway|cli|scripts|support|soak|demo|examples)\/[a-z0-9-]+)`/g),
    ].map((m) => m[1]);
    expect(suites.length).toBeGreaterThan(40);
    const absent = suites.filter((suite) => {
      try {
        readFileSync(path.join(__dirname, `${suite}.test.ts`));
        return false;
      } catch {
        return true;
      }
    });
    expect(absent).toEqual([]);
  });
});
