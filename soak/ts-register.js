/**
 * Runs the soak from its TypeScript sources: `node -r ./soak/ts-register.js soak/main.ts`. Each
 * `.ts` file is transpiled as it is required (no type check: `npm run soak` runs `tsc --noEmit`
 * first), so every file keeps its place in the repository, as the real-Consul harness in
 * `test/support/` expects (it finds `.tools/bin/` and compiles the gateway relative to itself).
 */
const { readFileSync } = require("node:fs");
const ts = require("typescript");

const compilerOptions = {
  module: ts.ModuleKind.CommonJS,
  target: ts.ScriptTarget.ES2022,
  esModuleInterop: true,
  inlineSourceMap: true,
};

require.extensions[".ts"] = (module, filename) => {
  const { outputText } = ts.transpileModule(readFileSync(filename, "utf8"), { fileName: filename, compilerOptions });
  module._compile(outputText, filename);
};
