/**
 * `consul-mesh diff`: the route plan summary a pull request shows, from two plan files or from a
 * `pulumi preview --json` document, and its usage errors.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { defaultMesh, diffRoutePlans, planRoutes, type Mesh, type Mode } from "../../mesh";
import { runDiff } from "../../cli/diff-command";

const dir = mkdtempSync(path.join(os.tmpdir(), "diff-command-"));

function file(name: string, content: unknown): string {
  writeFileSync(path.join(dir, name), typeof content === "string" ? content : JSON.stringify(content));
  return path.join(dir, name);
}

/** The default mesh with `api`'s upstream in `mode`. */
function mesh(mode: Mode): Mesh {
  const m = defaultMesh();
  m.services![0].connect!.sidecarService!.proxy!.upstreams![0].meshGateway = { mode };
  return m;
}

async function diff(...argv: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const status = await runDiff(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env: {} });
  return { status, stdout, stderr };
}

describe("diffRoutePlans", () => {
  test("the same plan: nothing changes", () => {
    expect(diffRoutePlans(planRoutes(defaultMesh()), planRoutes(defaultMesh()))).toEqual({ changes: [], unchanged: 3 });
  });

  test("a mode change, an upstream added and one removed, each named by its upstream", () => {
    const after = mesh("local");
    after.services![0].connect!.sidecarService!.proxy!.upstreams!.splice(2, 1, {
      destinationName: "cache",
      datacenter: "dc2",
      localBindPort: 10003,
      meshGateway: { mode: "remote" },
    });
    after.services!.push({ name: "cache", datacenter: "dc2", port: 6379, connect: { sidecarService: {} } });
    const result = diffRoutePlans(planRoutes(defaultMesh()), planRoutes(after));
    expect(result.unchanged).toBe(1);
    expect(result.changes.map((c) => [c.kind, c.upstream])).toEqual([
      ["changed", "web (dc1) -> api (dc2) :10000"],
      ["added", "web (dc1) -> cache (dc2) :10003"],
      ["removed", "web (dc1) -> logging (dc2) :10002"],
    ]);
  });

  test("a stack not deployed yet: every upstream is added", () => {
    expect(diffRoutePlans(undefined, planRoutes(defaultMesh())).changes.map((c) => c.kind)).toEqual([
      "added",
      "added",
      "added",
    ]);
  });
});

describe("consul-mesh diff", () => {
  test("two plan files (a routePlan output and `consul-mesh plan --format json`): Markdown naming the change", async () => {
    const before = file("before.json", planRoutes(mesh("remote")));
    const after = file("after.json", { valid: true, problems: [], plan: planRoutes(mesh("none")) });
    const out = await diff(before, after);
    expect(out.status).toBe(0);
    expect(out.stdout).toBe(
      "### Route plan: 1 upstream change (2 unchanged)\n\n" +
        "- **mode remote -> none** `web (dc1) -> api (dc2) :10000`\n" +
        "  - before: remote (decided by upstream): web (dc1) -> mesh-gateway dc2 WAN -> api (dc2)\n" +
        "  - after: none (decided by upstream): web (dc1) -> api (dc2) direct\n",
    );
  });

  test("the events of `pulumi preview --json`: the stack's routePlan before and after, appended to --output", async () => {
    // As the engine streams them with PULUMI_ENABLE_STREAMING_JSON_PREVIEW=true: one object a line.
    const events = (before: Mesh | undefined, after: Mesh) =>
      [
        { sequence: 0, preludeEvent: { config: {} } },
        { sequence: 1, resourcePreEvent: { metadata: { op: "same", type: "pulumi:pulumi:Stack" } } },
        {
          sequence: 2,
          resOutputsEvent: { metadata: { type: "docker:index/container:Container", new: { outputs: {} } } },
        },
        {
          sequence: 3,
          resOutputsEvent: {
            metadata: {
              op: "same",
              type: "pulumi:pulumi:Stack",
              old: before && { outputs: { routePlan: planRoutes(before) } },
              new: { outputs: { routePlan: planRoutes(after) } },
            },
          },
        },
        { sequence: 4, summaryEvent: {} },
      ]
        .map((e) => JSON.stringify(e))
        .join("\n") + "\n";
    const summary = file("summary.md", "# job\n");
    const unchanged = await diff(
      "--preview",
      file("same.jsonl", events(mesh("remote"), mesh("remote"))),
      "--output",
      summary,
    );
    expect(unchanged.stdout).toBe("### Route plan: no upstream changes (3 unchanged)\n");
    const changed = await diff("--preview", file("changed.jsonl", events(mesh("remote"), mesh("local"))));
    expect(changed.stdout).toContain("- **mode remote -> local** `web (dc1) -> api (dc2) :10000`");
    const fresh = await diff("--preview", file("fresh.jsonl", events(undefined, defaultMesh())));
    expect(fresh.stdout).toContain("### Route plan: 3 upstreams change (0 unchanged)");
    expect(readFileSync(summary, "utf8")).toBe("# job\n### Route plan: no upstream changes (3 unchanged)\n");
  });

  test("a new stack whose trust domain is drawn at its first update: its upstreams, the plan to come", async () => {
    const routeSummary = ["web (dc1) -> api (dc2): remote (upstream) via mesh-gateway dc2"];
    const event = {
      resOutputsEvent: {
        metadata: {
          type: "pulumi:pulumi:Stack",
          new: { outputs: { routePlan: "04da6b54-80e4-46f7-96ec-b56ff0331ba9", routeSummary } },
        },
      },
    };
    const out = await diff("--preview", file("new-stack.jsonl", JSON.stringify(event) + "\n"));
    expect(out.status).toBe(0);
    expect(out.stdout).toBe(
      "### Route plan: a new stack, known after its first `pulumi up` (its trust domain is drawn then)\n\n" +
        "- `web (dc1) -> api (dc2): remote (upstream) via mesh-gateway dc2`\n",
    );
  });

  test.each([
    [[], "give --preview FILE, or two route plan files BEFORE AFTER"],
    [["--preview", "/nonexistent/preview.json"], "cannot read /nonexistent/preview.json"],
    [["--preview", "PLAIN"], "the stack has no routePlan output in this preview"],
    [["--preview", "DOCUMENT"], "is a one-document preview, which holds no new stack outputs"],
    [["--preview", "NOPLAN"], "the stack has no routePlan output in this preview"],
    [["A", "NOSTEPS"], "holds no route plan"],
    [["A", "PLAIN"], "is not JSON"],
    [["--bogus"], "Unknown option '--bogus'"],
  ])("%j exits 2 naming what is wrong", async (argv, message) => {
    const files: Record<string, string> = {
      PLAIN: file("plain.txt", "not json"),
      NOSTEPS: file("nosteps.json", { hello: 1 }),
      DOCUMENT: file("document.json", JSON.stringify({ steps: [{ op: "same" }], changeSummary: {} }, null, 2)),
      NOPLAN: file(
        "noplan.jsonl",
        JSON.stringify({ resOutputsEvent: { metadata: { type: "pulumi:pulumi:Stack", new: { outputs: {} } } } }),
      ),
      A: file("a.json", planRoutes(defaultMesh())),
    };
    const out = await diff(...argv.map((a) => files[a] ?? a));
    expect(out.status).toBe(2);
    expect(out.stderr).toContain(message);
    expect(out.stderr).toContain("consul-mesh diff --help");
  });
});
