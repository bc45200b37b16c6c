/**
 * End to end with real containers: the default two-datacenter mesh (`defaultMesh()`) on
 * isolated Docker networks, its gateways running the gateway image built from this
 * repository (on the local base image), routes rendered by `renderGatewayRoutes`, TLS
 * services holding certificates for their Consul SNI names, and clients that verify those
 * certificates end to end, dialling exactly what the route plan (`planRoutes`) says each
 * upstream's proxy dials.
 *
 *   dc1-lan: client-dc1, mesh-gateway-dc1          wan: client-dc1, both gateways
 *   dc2-lan: mesh-gateway-dc2, api-dc2, db-dc2, logging-dc2, client-dc2 (control)
 *
 * Every network is `--internal` (no route off the host). Everything created is labelled
 * with the run's id and removed in `afterAll`, also when a test fails.
 */
import { execFile, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { GATEWAY_NODE_FLAGS } from "../../gateway/cli/node-flags";
import { defaultMesh, planRoutes, renderGatewayRoutes, serviceSni, type PlannedRoute } from "../../mesh";
import { DockerSandbox, assertDocker, describeWithDocker, docker, dockerOk, dockerStatus } from "../support/docker";
import { createTestPki, type TestPki } from "../../demo/pki";

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, "..", "..");
const BASE_IMAGE = "consul-mesh/node-base:local";
const GATEWAY_PORT = 8443;
const ADMIN_PORT = 19000;
const SERVICE_PORT = 21000;
/** `docker stop` grace period: the gateway must drain and exit 0 within it. */
const STOP_GRACE_S = 30;

const status = dockerStatus();

/** The packages the modules `gateway/main.ts` imports, transitively, import (what the image ships). */
function gatewayImports(): Set<string> {
  const names = new Set<string>();
  const seen = new Set<string>();
  const queue = [path.join(ROOT, "gateway", "main.ts")];
  while (queue.length > 0) {
    const file = queue.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = fs.readFileSync(file, "utf8");
    // Value imports only: a type-only import is gone from the compiled code.
    for (const [, spec] of text.matchAll(/^(?:import|export) (?!type )[^;]*?from "([^"]+)";/gms)) {
      if (!spec.startsWith(".")) {
        if (!spec.startsWith("node:")) names.add(/^(?:@[^/]+\/)?[^/]+/.exec(spec)?.[0] ?? spec);
        continue;
      }
      const base = path.resolve(path.dirname(file), spec);
      queue.push([`${base}.ts`, path.join(base, "index.ts")].find((f) => fs.existsSync(f)) ?? `${base}.ts`);
    }
  }
  return names;
}

/**
 * The lock-file keys (`node_modules/x`, `node_modules/x/node_modules/y`) of the package's
 * dependencies that the gateway and the model import, and everything they need, resolved as Node would.
 */
function productionClosure(): string[] {
  const lock = JSON.parse(fs.readFileSync(path.join(ROOT, "package-lock.json"), "utf8")) as {
    packages: Record<
      string,
      {
        dependencies?: Record<string, string>;
        optionalDependencies?: Record<string, string>;
        peerDependencies?: Record<string, string>;
      }
    >;
  };
  const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
    dependencies: Record<string, string>;
  };
  const found = new Set<string>();
  const imported = gatewayImports();
  const queue = Object.keys(manifest.dependencies)
    .filter((n) => imported.has(n))
    .map((name) => ({ from: "", name }));
  while (queue.length > 0) {
    const { from, name } = queue.shift() as { from: string; name: string };
    let key: string | undefined;
    for (
      let base = from;
      ;
      base = base.includes("/node_modules/") ? base.slice(0, base.lastIndexOf("/node_modules/")) : ""
    ) {
      const candidate = base ? `${base}/node_modules/${name}` : `node_modules/${name}`;
      if (lock.packages[candidate]) {
        key = candidate;
        break;
      }
      if (!base) break;
    }
    if (!key || found.has(key)) continue;
    found.add(key);
    const entry = lock.packages[key];
    for (const dep of Object.keys({ ...entry.dependencies, ...entry.optionalDependencies, ...entry.peerDependencies }))
      queue.push({ from: key, name: dep });
  }
  return [...found].sort();
}

interface ClientResult {
  ok: boolean;
  stage?: string;
  error?: string;
  replies?: { service: string; datacenter: string; servername: string | null; line: string }[];
  peer?: string;
}

describeWithDocker(status)("two datacenters through SNI gateways in real containers", () => {
  const sandbox = new DockerSandbox("cmg-e2e");
  const mesh = defaultMesh();
  const trustDomain = mesh.trustDomain as string;
  const plan = planRoutes(mesh);
  const started = Date.now();
  const gatewayImage = `consul-mesh/sni-gateway:e2e-${sandbox.runId}`;
  let work = "";
  let pki: TestPki | undefined;
  let otherPki: TestPki | undefined;
  const figures: Record<string, string> = {};

  const routeTo = (service: string): PlannedRoute => {
    const route = plan.routes.find((r) => r.source.service === "web" && r.destination.name === service);
    if (!route) throw new Error(`the default mesh has no upstream web → ${service}`);
    return route;
  };

  /** Runs the TLS client inside a client container and returns its JSON result. */
  const dial = async (
    client: string,
    host: string,
    port: number,
    servername: string,
    options: { ca?: string; holdMs?: number; messages?: string[] } = {},
  ): Promise<ClientResult> => {
    const args = [
      "exec",
      sandbox.nameOf(client),
      "node",
      "/e2e/tls-client.js",
      host,
      String(port),
      servername,
      options.ca ?? "/e2e/certs/ca.pem",
      String(options.holdMs ?? 0),
      ...(options.messages ?? ["ping"]),
    ];
    const result = await docker(args, { timeoutMs: 60_000 });
    const last = result.stdout.trim().split("\n").pop() ?? "";
    try {
      return JSON.parse(last) as ClientResult;
    } catch {
      throw new Error(`tls-client printed no result (exit ${result.code}): ${result.stdout} ${result.stderr}`);
    }
  };

  /**
   * Like {@link dial}, streaming: `firstReply` settles when the first reply is in (the stream
   * is open), `result` when the client exits, and `settled()` says whether it has.
   */
  const dialStreaming = (client: string, host: string, servername: string, holdMs: number, messages: string[]) => {
    const child = spawn("docker", [
      "exec",
      sandbox.nameOf(client),
      "node",
      "/e2e/tls-client.js",
      host,
      String(GATEWAY_PORT),
      servername,
      "/e2e/certs/ca.pem",
      String(holdMs),
      ...messages,
    ]);
    let stdout = "";
    let settled = false;
    let onFirst: () => void = () => {};
    const firstReply = new Promise<void>((resolve, reject) => {
      onFirst = resolve;
      child.on("exit", () => reject(new Error(`client exited before a reply: ${stdout}`)));
    });
    firstReply.catch(() => {});
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => /reply 1\b/.test(String(chunk)) && onFirst());
    const result = new Promise<ClientResult>((resolve) => {
      child.on("exit", () => {
        settled = true;
        try {
          resolve(JSON.parse(stdout.trim().split("\n").pop() ?? "") as ClientResult);
        } catch {
          resolve({ ok: false, stage: "exec", error: stdout });
        }
      });
    });
    return { firstReply, result, settled: () => settled };
  };

  /** The gateway's `/metrics` text, scraped from inside client-dc1 (which reaches both admin servers). */
  const scrape = async (gateway: string): Promise<string> => {
    const code =
      "require('http').get('http://' + process.argv[1] + '/metrics', (r) => r.pipe(process.stdout)).on('error', (e) => { console.error(e.message); process.exit(1); })";
    return dockerOk(["exec", sandbox.nameOf("client-dc1"), "node", "-e", code, `${gateway}:${ADMIN_PORT}`]);
  };

  /** Sum of the samples of `metric` whose labels include `labels`. */
  const sample = async (gateway: string, metric: string, labels: Record<string, string> = {}): Promise<number> => {
    let sum = 0;
    for (const line of (await scrape(gateway)).split("\n")) {
      const m = /^([a-z_]+)(?:\{(.*)\})? ([0-9.e+-]+)$/.exec(line);
      if (!m || m[1] !== metric) continue;
      const have = Object.fromEntries([...(m[2] ?? "").matchAll(/([a-z_]+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
      if (Object.entries(labels).every(([k, v]) => have[k] === v)) sum += Number(m[3]);
    }
    return sum;
  };
  const forwarded = (gateway: string, service: string) =>
    sample(gateway, "sni_gateway_connections_total", { result: "forwarded", datacenter: "dc2", service });

  const waitHealthy = async (container: string): Promise<void> => {
    const deadline = Date.now() + 60_000;
    let state = "";
    while (Date.now() < deadline) {
      state = await dockerOk([
        "inspect",
        "--format",
        "{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}",
        sandbox.nameOf(container),
      ]);
      if (state === "running healthy") return;
      if (!state.startsWith("running")) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const logs = await docker(["logs", "--tail", "30", sandbox.nameOf(container)]);
    throw new Error(`${container} is not healthy (${state}); logs:\n${logs.stdout}${logs.stderr}`);
  };

  /**
   * dc2's gateway gets every flag, as MeshGateway passes them; dc1's only the datacenter and
   * the routes file, relying on the image's defaults (listen 8443, admin 19000, the trust
   * domain of the routes file), as a plain `docker run` would.
   */
  const gatewayArgs = (datacenter: string): string[] =>
    datacenter === "dc1"
      ? ["--datacenter", datacenter, "--routes", `/e2e/routes-${datacenter}.json`]
      : [
          "--datacenter",
          datacenter,
          "--trust-domain",
          trustDomain,
          "--listen",
          `0.0.0.0:${GATEWAY_PORT}`,
          "--admin",
          `0.0.0.0:${ADMIN_PORT}`,
          "--routes",
          `/e2e/routes-${datacenter}.json`,
        ];

  beforeAll(async () => {
    assertDocker(status);
    await DockerSandbox.sweepDeadRuns();

    // The image from a fresh clone: compile, stage the context, build on the local base.
    let t = Date.now();
    await run("npx", ["tsc", "-p", "tsconfig.build.json"], { cwd: ROOT, timeout: 300_000 });
    figures.compile = `${((Date.now() - t) / 1000).toFixed(1)} s`;
    t = Date.now();
    await run("bash", [path.join(ROOT, "scripts", "node-base-image.sh"), BASE_IMAGE], { timeout: 300_000 });
    figures["base image"] = `${((Date.now() - t) / 1000).toFixed(1)} s`;
    work = fs.mkdtempSync(path.join(os.tmpdir(), "cmg-e2e-"));
    fs.chmodSync(work, 0o755);
    const context = path.join(work, "image-context");
    t = Date.now();
    await run("bash", [path.join(ROOT, "scripts", "gateway-image-context.sh"), context], { timeout: 120_000 });
    sandbox.trackImage(gatewayImage);
    await dockerOk(
      ["build", "-q", "--build-arg", `BASE_IMAGE=${BASE_IMAGE}`, ...sandbox.labelFlags(), "-t", gatewayImage, context],
      { timeoutMs: 300_000 },
    );
    figures["gateway image build"] = `${((Date.now() - t) / 1000).toFixed(1)} s`;
    const size = async (image: string) => Number(await dockerOk(["image", "inspect", "--format", "{{.Size}}", image]));
    const [gatewaySize, baseSize] = [await size(gatewayImage), await size(BASE_IMAGE)];
    figures["image size"] =
      `${(gatewaySize / 1e6).toFixed(1)} MB, ${((gatewaySize - baseSize) / 1e6).toFixed(1)} MB over the base (${(baseSize / 1e6).toFixed(1)} MB)`;

    // Files the containers read: scripts, certificates, routes.
    for (const file of ["tls-client.js", "tls-echo-server.js"]) {
      fs.copyFileSync(path.join(__dirname, "containers", file), path.join(work, file));
      fs.chmodSync(path.join(work, file), 0o644);
    }
    // Certificates: the mesh CA with a leaf per dc2 service for its SNI name, and another CA.
    const services = ["api", "db", "logging"];
    pki = await createTestPki("cmg-e2e-pki-");
    otherPki = await createTestPki("cmg-e2e-other-pki-");
    fs.mkdirSync(path.join(work, "certs"), { mode: 0o755 });
    const writePublic = (name: string, pem: string) =>
      fs.writeFileSync(path.join(work, "certs", name), pem, { mode: 0o644 });
    writePublic("ca.pem", pki.caCert);
    writePublic("other-ca.pem", otherPki.caCert);
    for (const service of services) {
      const leaf = await pki.issue([serviceSni({ service, datacenter: "dc2", trustDomain })]);
      writePublic(`${service}-dc2.crt`, leaf.cert);
      writePublic(`${service}-dc2.key`, leaf.key); // test-only key, readable by the container's user
    }
    for (const datacenter of ["dc1", "dc2"]) {
      const routes = renderGatewayRoutes(mesh, datacenter);
      const file = path.join(work, `routes-${datacenter}.json`);
      fs.writeFileSync(file, JSON.stringify(routes, null, 2));
      fs.chmodSync(file, 0o644);
    }
    const mount = `${work}:/e2e:ro`;

    t = Date.now();
    for (const network of ["dc1-lan", "dc2-lan", "wan"]) await sandbox.network(network);
    for (const service of services) {
      await sandbox.run({
        image: BASE_IMAGE,
        name: `${service}-dc2`,
        networks: ["dc2-lan"],
        user: "node",
        volumes: [mount],
        env: [
          `SERVICE=${service}`,
          "DATACENTER=dc2",
          `PORT=${SERVICE_PORT}`,
          `TLS_CERT=/e2e/certs/${service}-dc2.crt`,
          `TLS_KEY=/e2e/certs/${service}-dc2.key`,
        ],
        command: ["node", "/e2e/tls-echo-server.js"],
      });
    }
    const idle = ["node", "-e", "setInterval(() => {}, 1 << 30); process.on('SIGTERM', () => process.exit(0))"];
    await sandbox.run({
      image: BASE_IMAGE,
      name: "client-dc1",
      networks: ["dc1-lan", "wan"],
      user: "node",
      volumes: [mount],
      command: idle,
    });
    await sandbox.run({
      image: BASE_IMAGE,
      name: "client-dc2",
      networks: ["dc2-lan"],
      user: "node",
      volumes: [mount],
      command: idle,
    });
    // dc1's gateway runs under `--init` (as MeshGateway runs it), dc2's with node as PID 1;
    // both hardened: read-only root filesystem, no capabilities, no privilege gain.
    for (const datacenter of ["dc2", "dc1"]) {
      await sandbox.run({
        image: gatewayImage,
        name: `mesh-gateway-${datacenter}`,
        networks: [`${datacenter}-lan`, "wan"],
        volumes: [mount],
        extra: [
          "--health-interval",
          "1s",
          "--stop-timeout",
          String(STOP_GRACE_S),
          "--read-only",
          "--cap-drop",
          "ALL",
          "--security-opt",
          "no-new-privileges",
          ...(datacenter === "dc1" ? ["--init"] : []),
        ],
        command: gatewayArgs(datacenter),
      });
    }
    await waitHealthy("mesh-gateway-dc1");
    await waitHealthy("mesh-gateway-dc2");
    figures["containers up"] = `${((Date.now() - t) / 1000).toFixed(1)} s`;
  }, 900_000);

  afterAll(async () => {
    const errors = await sandbox.removeAll();
    if (work) fs.rmSync(work, { recursive: true, force: true });
    await pki?.cleanup();
    await otherPki?.cleanup();
    figures.total = `${((Date.now() - started) / 1000).toFixed(1)} s`;
    console.log(`e2e figures: ${JSON.stringify(figures)}`);
    const left = await dockerOk(["ps", "-aq", "--filter", `label=consul-mesh.test.run=${sandbox.runId}`]);
    const networks = await dockerOk(["network", "ls", "-q", "--filter", `label=consul-mesh.test.run=${sandbox.runId}`]);
    const image = await docker(["image", "inspect", gatewayImage]);
    expect({ errors, left, networks, imageGone: image.code !== 0 }).toEqual({
      errors: [],
      left: "",
      networks: "",
      imageGone: true,
    });
  }, 120_000);

  test("the image runs as a non-root user with sni-gateway as its entrypoint and a /healthz healthcheck", async () => {
    const config = JSON.parse(await dockerOk(["image", "inspect", "--format", "{{json .Config}}", gatewayImage]));
    expect(config.User).toBe("node");
    expect(config.Entrypoint).toEqual(["sni-gateway"]);
    expect(Object.keys(config.ExposedPorts).sort()).toEqual([`${ADMIN_PORT}/tcp`, `${GATEWAY_PORT}/tcp`]);
    expect(config.Healthcheck.Test.join(" ")).toContain("/healthz");
    const top = await dockerOk(["top", sandbox.nameOf("mesh-gateway-dc2"), "-o", "pid,uid,args"]);
    expect(top).toMatch(/\b1000\b.*sni-gateway/);
    // The image ships the splice relay's addon and runs node with the program's flags (its first line).
    for (const flag of GATEWAY_NODE_FLAGS) expect(top).toContain(flag);
    for (const gateway of ["mesh-gateway-dc1", "mesh-gateway-dc2"]) {
      const logs = await docker(["logs", sandbox.nameOf(gateway)]);
      const started = `${logs.stdout}`.split("\n").find((line) => line.includes('"event":"started"')) ?? "";
      expect(JSON.parse(started)).toHaveProperty("relay", "splice");
    }
    // Healthy under --init as well: the healthcheck finds --admin behind docker-init.
    expect(
      await dockerOk([
        "inspect",
        "--format",
        "{{.HostConfig.Init}} {{.State.Health.Status}}",
        sandbox.nameOf("mesh-gateway-dc1"),
      ]),
    ).toBe("true healthy");
    const help = await docker(["run", "--rm", ...sandbox.labelFlags(), "--network", "none", gatewayImage, "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage: sni-gateway --datacenter NAME");
    // Production dependencies only: exactly the closure of the dependencies the modules the
    // gateway requires import, as package-lock.json resolves them (not the components', the plan
    // tool's nor the diagram's).
    const walk =
      "const fs=require('fs'),p=require('path');const out=[];const pk=(d,k)=>{for(const n of fs.readdirSync(d)){if(n.startsWith('.'))continue;if(n.startsWith('@')){for(const m of fs.readdirSync(p.join(d,n)))visit(p.join(d,n,m),k+n+'/'+m)}else visit(p.join(d,n),k+n)}};const visit=(d,k)=>{out.push(k);const nm=p.join(d,'node_modules');if(fs.existsSync(nm))pk(nm,k+'/node_modules/')};pk('/app/node_modules','node_modules/');console.log(JSON.stringify(out.sort()))";
    const shipped = JSON.parse(
      await dockerOk([
        "run",
        "--rm",
        ...sandbox.labelFlags(),
        "--network",
        "none",
        "--entrypoint",
        "node",
        gatewayImage,
        "-e",
        walk,
      ]),
    );
    expect(shipped).toEqual(productionClosure());
    expect(shipped).toEqual(
      expect.arrayContaining(["node_modules/pino", "node_modules/prom-client", "node_modules/zod"]),
    );
    // The base script is idempotent: a second run keeps the same image.
    const baseId = await dockerOk(["image", "inspect", "--format", "{{.Id}}", BASE_IMAGE]);
    await run("bash", [path.join(ROOT, "scripts", "node-base-image.sh"), BASE_IMAGE], { timeout: 120_000 });
    expect(await dockerOk(["image", "inspect", "--format", "{{.Id}}", BASE_IMAGE])).toBe(baseId);
    // The directory MeshGateway uploads the routes file into.
    const etc = await docker([
      "run",
      "--rm",
      ...sandbox.labelFlags(),
      "--network",
      "none",
      "--entrypoint",
      "node",
      gatewayImage,
      "-e",
      "console.log(require('fs').statSync('/etc/sni-gateway').isDirectory())",
    ]);
    expect(etc.stdout.trim()).toBe("true");
  });

  test("remote: web (dc1) → mesh-gateway dc2 WAN → api (dc2), certificate verified end to end", async () => {
    const route = routeTo("api");
    expect(route.mode).toBe("remote");
    expect(route.text).toBe("web (dc1) → mesh-gateway dc2 WAN → api (dc2)");
    const before = { dc1: await forwarded("mesh-gateway-dc1", "api"), dc2: await forwarded("mesh-gateway-dc2", "api") };
    const result = await dial("client-dc1", "mesh-gateway-dc2", GATEWAY_PORT, route.sni, {
      messages: ["remote-1", "remote-2"],
    });
    expect(result).toMatchObject({ ok: true, peer: `DNS:${route.sni}` });
    expect(result.replies).toEqual([
      { service: "api", datacenter: "dc2", servername: route.sni, line: "remote-1" },
      { service: "api", datacenter: "dc2", servername: route.sni, line: "remote-2" },
    ]);
    // Only dc2's gateway carried it.
    expect(await forwarded("mesh-gateway-dc2", "api")).toBe(before.dc2 + 1);
    expect(await forwarded("mesh-gateway-dc1", "api")).toBe(before.dc1);
  });

  test("local: web (dc1) → mesh-gateway dc1 LAN → mesh-gateway dc2 WAN → db (dc2)", async () => {
    const route = routeTo("db");
    expect(route.mode).toBe("local");
    expect(route.text).toBe("web (dc1) → mesh-gateway dc1 LAN → mesh-gateway dc2 WAN → db (dc2)");
    const before = { dc1: await forwarded("mesh-gateway-dc1", "db"), dc2: await forwarded("mesh-gateway-dc2", "db") };
    const result = await dial("client-dc1", "mesh-gateway-dc1", GATEWAY_PORT, route.sni, { messages: ["local-1"] });
    expect(result).toMatchObject({ ok: true, peer: `DNS:${route.sni}` });
    expect(result.replies).toEqual([{ service: "db", datacenter: "dc2", servername: route.sni, line: "local-1" }]);
    // Both gateways carried it: dc1's to dc2's gateways, dc2's to the service.
    expect(await forwarded("mesh-gateway-dc1", "db")).toBe(before.dc1 + 1);
    expect(await forwarded("mesh-gateway-dc2", "db")).toBe(before.dc2 + 1);
  });

  test("none is impossible across isolated LANs: dc1 cannot dial dc2's service, dc2 itself can", async () => {
    const route = routeTo("logging");
    expect(route.mode).toBe("none");
    expect(route.usesGateway).toBe(false);
    // Control: inside dc2 the service answers its direct dial.
    const inside = await dial("client-dc2", "logging-dc2", SERVICE_PORT, route.sni, { messages: ["control"] });
    expect(inside).toMatchObject({ ok: true, replies: [{ service: "logging", line: "control" }] });
    // From dc1, by name: not resolvable; by dc2's address: no route.
    const byName = await dial("client-dc1", "logging-dc2", SERVICE_PORT, route.sni);
    expect(byName).toMatchObject({ ok: false, stage: "connect" });
    const ip = await dockerOk([
      "inspect",
      "--format",
      `{{(index .NetworkSettings.Networks "${sandbox.nameOf("dc2-lan")}").IPAddress}}`,
      sandbox.nameOf("logging-dc2"),
    ]);
    expect(ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    const byAddress = await dial("client-dc1", ip, SERVICE_PORT, route.sni);
    expect(byAddress).toMatchObject({ ok: false, stage: "connect" });
    // The same holds for every dc2 service: only the gateways reach them.
    for (const service of ["api", "db"]) {
      const direct = await dial(
        "client-dc1",
        `${service}-dc2`,
        SERVICE_PORT,
        serviceSni({ service, datacenter: "dc2", trustDomain }),
      );
      expect(direct).toMatchObject({ ok: false, stage: "connect" });
    }
  }, 120_000);

  test("the gateway never terminates TLS: a client that trusts another CA rejects the service's certificate", async () => {
    const route = routeTo("api");
    const result = await dial("client-dc1", "mesh-gateway-dc2", GATEWAY_PORT, route.sni, {
      ca: "/e2e/certs/other-ca.pem",
    });
    expect(result.ok).toBe(false);
    expect(result.stage).toBe("tls");
    expect(result.error).toMatch(/certificate|verify|issuer/i);
  });

  test.each([
    ["an unknown service", "mesh-gateway-dc2", () => serviceSni({ service: "nope", datacenter: "dc2", trustDomain })],
    ["an unknown datacenter", "mesh-gateway-dc1", () => serviceSni({ service: "api", datacenter: "dc9", trustDomain })],
    [
      "a foreign trust domain",
      "mesh-gateway-dc2",
      () =>
        serviceSni({ service: "api", datacenter: "dc2", trustDomain: "99999999-0000-0000-0000-000000000000.consul" }),
    ],
    ["a name outside Consul's scheme", "mesh-gateway-dc1", () => "example.com"],
  ])("%s is refused and counted (%s)", async (_what, gateway, name) => {
    const before = await sample(gateway, "sni_gateway_connections_total", { result: "rejected" });
    const totalBefore = await sample(gateway, "sni_gateway_connections_total");
    const result = await dial("client-dc1", gateway, GATEWAY_PORT, name());
    expect(result.ok).toBe(false);
    expect(result.stage).toBe("tls");
    expect(await sample(gateway, "sni_gateway_connections_total", { result: "rejected" })).toBe(before + 1);
    expect(await sample(gateway, "sni_gateway_connections_total")).toBe(totalBefore + 1);
  });

  test("docker stop: no new connections, an in-flight stream completes, exit 0 within the grace period; a restarted gateway serves again", async () => {
    const route = routeTo("api");
    const gateway = sandbox.nameOf("mesh-gateway-dc2");
    // A stream that stays open ~6 s across the stop: it must complete through the draining gateway.
    const inFlight = dialStreaming("client-dc1", "mesh-gateway-dc2", route.sni, 6000, ["before-stop", "during-drain"]);
    await inFlight.firstReply;
    const t = Date.now();
    const stopped = dockerOk(["stop", "-t", String(STOP_GRACE_S), gateway], { timeoutMs: (STOP_GRACE_S + 30) * 1000 });
    // New connections stop being served while the stream is still open (bounded: 20 tries).
    let refusedWhileDraining: ClientResult | undefined;
    for (let i = 0; i < 20 && !refusedWhileDraining && !inFlight.settled(); i++) {
      const attempt = await dial("client-dc1", "mesh-gateway-dc2", GATEWAY_PORT, route.sni);
      if (!attempt.ok && !inFlight.settled()) refusedWhileDraining = attempt;
      else await new Promise((r) => setTimeout(r, 200));
    }
    expect(refusedWhileDraining).toMatchObject({ ok: false });
    await stopped;
    figures["docker stop with a stream in flight"] =
      `${((Date.now() - t) / 1000).toFixed(1)} s (grace ${STOP_GRACE_S} s)`;
    const result = await inFlight.result;
    expect(result).toMatchObject({ ok: true });
    expect(result.replies?.map((r) => r.line)).toEqual(["before-stop", "during-drain"]);
    // Exit code 0: the gateway drained and exited by itself (a SIGKILL after the grace gives 137).
    expect(await dockerOk(["inspect", "--format", "{{.State.ExitCode}} {{.State.OOMKilled}}", gateway])).toBe(
      "0 false",
    );
    expect(await dial("client-dc1", "mesh-gateway-dc2", GATEWAY_PORT, route.sni)).toMatchObject({ ok: false });

    await dockerOk(["start", gateway]);
    await waitHealthy("mesh-gateway-dc2");
    const again = await dial("client-dc1", "mesh-gateway-dc2", GATEWAY_PORT, route.sni, {
      messages: ["after-restart"],
    });
    expect(again).toMatchObject({ ok: true, replies: [{ service: "api", datacenter: "dc2", line: "after-restart" }] });
  }, 120_000);
});
