/**
 * Runs one `pulumi preview` of an inline program through the real engine in a process of its own,
 * as `node -r ./test/support/ts-register.js test/support/preview-runner.ts <request.json>`, and
 * prints `{ ok, message }` as JSON. A failed program leaves the in-process runtime's promises
 * rejected, which would fail a Jest worker; a process of its own ends with them, as a CLI run does.
 *
 * The request names a module and an export: a function returning the program.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { PulumiSandbox } from "./real-pulumi";

interface PreviewRequest {
  /** Module (absolute path) exporting the program factory. */
  module: string;
  /** Name of the export: `() => PulumiFn`. */
  export: string;
  project: string;
}

async function main(): Promise<void> {
  const request = JSON.parse(readFileSync(process.argv[2], "utf8")) as PreviewRequest;
  const factory = (await import(path.resolve(request.module)))[request.export] as () => () => Promise<void>;
  const sandbox = await PulumiSandbox.create();
  try {
    const stack = await sandbox.stack(request.project, "dev", factory());
    const result = await stack.preview().then(
      (preview) => ({ ok: true, message: preview.stdout }),
      (error: Error) => ({ ok: false, message: error.message }),
    );
    const resources = ((await stack.exportStack()).deployment as { resources?: unknown[] }).resources ?? [];
    process.stdout.write(`${JSON.stringify({ ...result, resources: resources.length })}\n`);
  } finally {
    await sandbox.remove();
  }
}

process.on("unhandledRejection", () => undefined);
main().then(
  () => process.exit(0),
  (error: Error) => {
    process.stderr.write(`${error.stack ?? error.message}\n`);
    process.exit(1);
  },
);
