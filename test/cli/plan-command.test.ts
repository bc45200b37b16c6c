/**
 * `consul-mesh plan` in process: sources, formats, filters and exit statuses; and once as the
 * compiled program, for the exit statuses a CI job sees.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { defaultMesh, type Mesh } from "../../mesh";
import { runPlan } from "../../cli/plan-command";
import { compileProgram, type GatewayProgram } from "../support/gateway-program";
import { SEED_SERVICES } from "../mesh/fixtures/seed-models";

const SEEDS = path.join(__dirname, "..", "mesh", "fixtures", "seeds");
const dir = mkdtempSync(path.join(os.tmpdir(), "plan-command-"));

function file(name: string, content: string): string {
  writeFileSync(path.join(dir, name), content);
  return path.join(dir, name);
}

async function plan(...argv: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const status = await runPlan(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env: {} });
  return { status, stdout, stderr };
}

const defaultTopology = file("default.json", JSON.stringify(defaultMesh()));

/** The datacenters the seed documents name, with a gateway in each: the "small file" of the issue. */
const seedDatacenters = file(
  "datacenters.yaml",
  [
    "primaryDatacenter: primary",
    "datacenters:",
    "  - name: primary",
    "  - name: secondary",
    "gateways:",
    "  - { datacenter: primary, address: 10.0.1.5, taggedAddresses: { wan: { address: 198.51.100.1, port: 443 } } }",
    "  - { datacenter: secondary, address: 10.0.2.5, taggedAddresses: { wan: { address: 198.51.100.2, port: 443 } } }",
    "services:",
    "  - { name: api, port: 9090, datacenter: secondary, connect: { sidecarService: {} } }",
    "  - { name: api, port: 9090, datacenter: primary, connect: { sidecarService: {} } }",
    "  - { name: db, port: 5432, datacenter: primary, connect: { sidecarService: {} } }",
    "  - { name: logging, port: 514, datacenter: primary, connect: { sidecarService: {} } }",
  ].join("\n"),
);

describe("consul-mesh plan: usage (exit status 2)", () => {
  it.each([
    [[], "nothing to plan: give a topology file (--topology FILE)"],
    [["--topology", defaultTopology, "--format", "png"], '--format "png": use one of table, json, dot, svg'],
    [["--topology", defaultTopology, "--colour"], "Unknown option '--colour'"],
    [["--topology", path.join(dir, "missing.yaml")], "--topology " + path.join(dir, "missing.yaml") + ": no such file"],
    [["plan.yaml"], "Unexpected argument 'plan.yaml'"],
  ])("%j", async (argv, message) => {
    const { status, stdout, stderr } = await plan(...argv);
    expect(status).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toContain(message);
  });

  it("--help shows every flag and an example per source, exit 0", async () => {
    const { status, stdout } = await plan("--help");
    expect(status).toBe(0);
    for (const flag of [
      "--topology FILE",
      "--config PATH",
      "--consul URL",
      "--format FORMAT",
      "--output FILE",
      "--service NAME",
      "--datacenter NAME",
    ]) {
      expect(stdout).toContain(flag);
    }
    expect(stdout).toMatch(/consul-mesh plan --topology mesh.yaml\n/);
    expect(stdout).toMatch(/consul-mesh plan --topology datacenters.yaml --config \/etc\/consul.d\n/);
    expect(stdout).toMatch(/consul-mesh plan --consul http:\/\/127.0.0.1:8500 --format json\n/);
  });
});

describe("consul-mesh plan: a topology file", () => {
  it("prints the table of the default stack and exits 0", async () => {
    const { status, stdout, stderr } = await plan("--topology", defaultTopology);
    expect({ status, stderr }).toEqual({ status: 0, stderr: "" });
    expect(stdout).toContain("remote");
    expect(stdout).toContain("api.default.dc2.internal.");
    expect(stdout).toMatch(/valid: \d+ routes\n$/);
  });

  it("gives the same plan as JSON, with valid and problems", async () => {
    const { status, stdout } = await plan("--topology", defaultTopology, "--format", "json");
    expect(status).toBe(0);
    const body = JSON.parse(stdout);
    expect(body.valid).toBe(true);
    expect(body.problems).toEqual([]);
    expect(body.plan.routes.length).toBeGreaterThan(0);
    expect(body.plan.routes[0]).toEqual(
      expect.objectContaining({ mode: expect.any(String), decidedBy: expect.any(String), sni: expect.any(String) }),
    );
  });

  it("keeps only the routes of --service / --datacenter", async () => {
    const all = JSON.parse((await plan("--topology", defaultTopology, "--format", "json")).stdout).plan.routes;
    const someService = all[0].destination.name as string;
    const some = JSON.parse(
      (await plan("--topology", defaultTopology, "--format", "json", "--service", someService)).stdout,
    ).plan.routes;
    expect(some.length).toBeGreaterThan(0);
    expect(
      some.every((r: { source: { service: string }; destination: { name: string } }) =>
        [r.source.service, r.destination.name].includes(someService),
      ),
    ).toBe(true);
    const none = JSON.parse(
      (await plan("--topology", defaultTopology, "--format", "json", "--datacenter", "nowhere")).stdout,
    ).plan.routes;
    expect(none).toEqual([]);
  });

  it("exits 1 listing every problem by file and field; JSON output keeps stdout a document", async () => {
    const mesh: Mesh = defaultMesh();
    mesh.services![0].datacenter = "dc9";
    mesh.proxyDefaults = { kind: "proxy-defaults", name: "global", meshGateway: { mode: "sideways" as "local" } };
    const broken = file("broken.json", JSON.stringify(mesh));
    const table = await plan("--topology", broken);
    expect(table.status).toBe(1);
    expect(table.stdout).toContain(`${broken}: services[0]: datacenter:`);
    expect(table.stdout).toContain(`${broken}: proxyDefaults: meshGateway.mode: invalid mesh gateway mode "sideways"`);
    const json = await plan("--topology", broken, "--format", "json");
    expect(json.status).toBe(1);
    expect(JSON.parse(json.stdout).valid).toBe(false);
    expect(json.stderr).toContain("problems:");
  });

  it("writes --output to the file, not to standard output", async () => {
    const out = path.join(dir, "plan.json");
    const { status, stdout } = await plan("--topology", defaultTopology, "--format", "json", "--output", out);
    expect({ status, stdout }).toEqual({ status: 0, stdout: "" });
    expect(JSON.parse(readFileSync(out, "utf8")).valid).toBe(true);
  });

  it("an --output it cannot write: exit 2 naming the flag and the file, no stack trace", async () => {
    const out = path.join(dir, "no-such-folder", "plan.json");
    const { status, stdout, stderr } = await plan("--topology", defaultTopology, "--output", out);
    expect({ status, stdout }).toEqual({ status: 2, stdout: "" });
    expect(stderr).toContain(`consul-mesh plan: cannot write --output ${out}: ENOENT`);
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it("draws DOT and SVG", async () => {
    const dot = await plan("--topology", defaultTopology, "--format", "dot");
    expect(dot.status).toBe(0);
    expect(dot.stdout).toMatch(/^(strict )?digraph/);
    const svg = await plan("--topology", defaultTopology, "--format", "svg");
    expect(svg.status).toBe(0);
    expect(svg.stdout).toContain("<svg");
  });
});

describe("consul-mesh plan: Consul configuration files", () => {
  const complete = SEED_SERVICES.filter(({ model }) => model.kind || !model.proxy);
  const withoutKind = SEED_SERVICES.filter(({ model }) => !model.kind && model.proxy);

  it.each(complete)(
    "$seed with the datacenters file: valid, and the mode the seed documents",
    async ({ seed, model }) => {
      const { status, stdout, stderr } = await plan(
        "--topology",
        seedDatacenters,
        "--config",
        path.join(SEEDS, `${seed}.hcl`),
        "--format",
        "json",
      );
      expect({ status, stderr }).toEqual({ status: 0, stderr: "" });
      const routes = JSON.parse(stdout).plan.routes as {
        destination: { name: string; datacenter: string };
        mode: string;
        decidedBy: string;
      }[];
      const upstreams = (model.proxy ?? model.connect?.sidecarService.proxy)!.upstreams!;
      expect(routes.map((r) => r.destination.name)).toEqual(upstreams.map((u) => u.destinationName));
      for (const [i, upstream] of upstreams.entries()) {
        expect(routes[i].decidedBy).toBe(upstream.meshGateway ? "upstream" : "instance");
        expect(routes[i].mode).toBe(upstream.meshGateway?.mode ?? "remote");
        expect(routes[i].destination.datacenter).toBe(upstream.datacenter ?? "primary");
      }
    },
  );

  it.each(withoutKind)(
    "$seed (the 1.6 beta page's proxy without kind) is refused, as Consul would drop its upstreams",
    async ({ seed }) => {
      expect(withoutKind).toHaveLength(2);
      const { status, stderr } = await plan(
        "--topology",
        seedDatacenters,
        "--config",
        path.join(SEEDS, `${seed}.hcl`),
        "--format",
        "json",
      );
      expect(status).toBe(1);
      expect(stderr).toContain(
        `${path.join(SEEDS, `${seed}.hcl`)}: service web-sidecar-proxy: proxy: a proxy block needs kind "connect-proxy"`,
      );
    },
  );

  it("a seed snippet alone names the undeclared datacenter it points to (exit 1)", async () => {
    const { status, stdout } = await plan("--config", path.join(SEEDS, "000-instance-sidecar.hcl"));
    expect(status).toBe(1);
    expect(stdout).toContain(
      `${path.join(SEEDS, "000-instance-sidecar.hcl")}: service web: connect.sidecarService.proxy.upstreams[0].datacenter:`,
    );
  });

  it("proxy-defaults from a config entry file decides where nothing else does", async () => {
    const web = file(
      "web.hcl",
      'service {\n  name = "web"\n  port = 8080\n  connect { sidecar_service { proxy { upstreams = [ { destination_name = "api"\n datacenter = "secondary"\n local_bind_port = 9191 } ] } } }\n}\n',
    );
    const { status, stdout } = await plan(
      "--topology",
      seedDatacenters,
      "--config",
      web,
      "--config",
      path.join(SEEDS, "000-proxy-defaults.hcl"),
      "--format",
      "json",
    );
    expect(status).toBe(0);
    expect(JSON.parse(stdout).plan.routes).toEqual([
      expect.objectContaining({ mode: "local", decidedBy: "proxy-defaults", usesGateway: true }),
    ]);
  });
});

describe("consul-mesh (the compiled program)", () => {
  let program: GatewayProgram;
  const run = promisify(execFile);
  beforeAll(async () => {
    program = await compileProgram("cli/main.ts");
  }, 120_000);
  afterAll(() => program?.remove());

  async function exec(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const { stdout, stderr } = await run(process.execPath, [program.main, ...argv], {
        env: program.env,
        timeout: 30_000,
      });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  }

  it("exits 0 for a valid mesh, 1 for an invalid one, 2 for a usage error", async () => {
    expect((await exec("plan", "--topology", defaultTopology)).code).toBe(0);
    expect((await exec("plan", "--config", path.join(SEEDS, "000-instance-sidecar.hcl"))).code).toBe(1);
    expect((await exec("plan")).code).toBe(2);
    const unknown = await exec("deploy");
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "deploy"');
  });
});
