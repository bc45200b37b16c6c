// Lets a child `node` process run the project's TypeScript directly (`node -r ./test/support/ts-register.js x.ts`):
// each .ts file is transpiled on load with the project's compiler options, without type checking.
const fs = require("node:fs");
const ts = require("typescript");
const { compilerOptions } = require("../../tsconfig.json");

require.extensions[".ts"] = (module, filename) => {
  const { outputText } = ts.transpileModule(fs.readFileSync(filename, "utf8"), {
    fileName: filename,
    compilerOptions: {
      ...ts.convertCompilerOptionsFromJson(compilerOptions, ".").options,
      sourceMap: false,
      inlineSourceMap: true,
    },
  });
  module._compile(outputText, filename);
};
