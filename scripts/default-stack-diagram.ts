/**
 * `npm run diagram`: writes the default stack's route diagram (`docs/default-stack.svg`) and route
 * plan (`docs/default-stack.txt`), which the README shows. A test fails when they are stale.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { defaultMesh, formatRoutePlan, planRoutes, routeDiagramDot } from "../mesh";
import { renderDiagramSvg } from "../mesh/diagram/diagram-svg";

/** The generated files' contents, by path from the repository root. */
export async function defaultStackFiles(): Promise<Record<string, string>> {
  const mesh = defaultMesh();
  const plan = planRoutes(mesh);
  return {
    "docs/default-stack.svg": await renderDiagramSvg(routeDiagramDot(mesh, plan)),
    "docs/default-stack.txt": formatRoutePlan(plan),
  };
}

async function main(): Promise<void> {
  const root = path.resolve(__dirname, "../.."); // compiled to dist/scripts/
  for (const [file, content] of Object.entries(await defaultStackFiles())) {
    writeFileSync(path.join(root, file), content);
    console.log(`wrote ${file}`);
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
