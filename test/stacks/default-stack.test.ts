/**
 * The default stack (the root `Pulumi.yaml`) under the real engine with the real provider
 * plugins, as a user runs it: a bad configuration key refused at preview, preview, up, both
 * catalogs and the WAN federation, the stack's own trust domain (drawn once, what Consul uses), traffic through `demoUrl` in each mode (counted on each
 * gateway), a clean second preview, a configuration change previewed as exactly one entry,
 * drift found by refresh and repaired by up, a gateway replaced under a held stream, and
 * destroy after every container was removed by hand. Images are the local ones
 * (`npm run images:local`): these machines have no registry.
 */
import { spawn, spawnSync } from "node:child_process";
import path from "node:path";
import { dockerOk } from "../support/docker";
import { forwardedByService, HeldRequest } from "../support/docker-exec";
import { agentSecurityOf, callApi, SECURE_AGENT } from "../support/real-consul";
import {
  consulTrustDomain,
  describeWhereStacksRun,
  DRAWN_TRUST_DOMAIN,
  prepareStacks,
  reportedFigures,
  StackCli,
} from "../support/stack-cli";

const ROOT = path.join(__dirname, "../..");
const describeReal = describeWhereStacksRun("real-engine default stack tests");
const figures = reportedFigures("default stack figures");

jest.setTimeout(600_000);

/** The upstream answers of one request to the demo service. */
async function demo(
  url: string,
): Promise<
  { name: string; mode: string; status?: number; answer?: { service: string; datacenter: string }; error?: string }[]
> {
  const res = await fetch(url, { signal: AbortSignal.timeout(20_000) });
  return ((await res.json()) as { upstreams: never[] }).upstreams;
}

/** Waits until every upstream answers through `url`, or fails with the last answer. */
async function untilServed(url: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    try {
      const answers = await demo(url);
      if (answers.length > 0 && answers.every((a) => a.status === 200)) return;
      last = JSON.stringify(answers);
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`demoUrl did not serve every upstream within ${timeoutMs} ms: ${last}`);
}

/** Containers, networks and volumes of the stack's Docker objects (prefix `consul-mesh-`). */
async function leftovers(): Promise<string[]> {
  const out: string[] = [];
  for (const kind of ["container", "network", "volume"]) {
    const listed = await dockerOk([
      kind,
      "ls",
      ...(kind === "container" ? ["-a"] : []),
      "--format",
      kind === "container" ? "{{.Names}}" : "{{.Name}}",
    ]);
    out.push(
      ...listed
        .split("\n")
        .filter((n) => n.startsWith("consul-mesh-"))
        .map((n) => `${kind} ${n}`),
    );
  }
  return out;
}

/**
 * Every secret the stack holds, from the deployment exported with `--show-secrets`: the generated
 * tokens, the gossip key, the CA's and servers' private keys (a line of their base64 body, as a
 * leak would show it), and the tokens in the containers' environments (the gateways' and sidecars').
 */
function secretsOf(resources: { type: string; outputs?: Record<string, unknown> }[]): string[] {
  const reveal = (v: unknown): unknown => {
    const plaintext = (v as { plaintext?: string } | undefined)?.plaintext;
    return typeof plaintext === "string" ? JSON.parse(plaintext) : v;
  };
  const keyLine = (pem: unknown) => String(pem).split("\n")[1];
  const secrets: string[] = [];
  for (const r of resources) {
    const o = r.outputs ?? {};
    if (/GeneratedToken$|GossipKey$/.test(r.type)) secrets.push(String(reveal(o.value)));
    if (r.type.endsWith("ConsulCertificateAuthority")) secrets.push(keyLine(reveal(o.caKeyPem)));
    if (r.type.endsWith("ConsulServerCertificate")) secrets.push(keyLine(reveal(o.keyPem)));
    if (r.type === "docker:index/container:Container")
      for (const env of (reveal(o.envs) ?? []) as string[])
        if (env.startsWith("CONSUL_HTTP_TOKEN=")) secrets.push(env.slice("CONSUL_HTTP_TOKEN=".length));
  }
  return [...new Set(secrets)];
}

describeReal("the default stack under the real engine", () => {
  let cli: StackCli;
  let demoUrl: string;
  let token: string;
  let trustDomain: string;
  let caPem: string;
  const api = (port: number, method: string, p: string, withToken = true) =>
    callApi(`https://127.0.0.1:${port}`, method, p, undefined, withToken ? token : undefined, caPem);

  beforeAll(async () => {
    if ((await leftovers()).length > 0)
      throw new Error(`Docker objects of another mesh are here: ${await leftovers()}`);
    cli = await StackCli.create(ROOT, await prepareStacks());
  });
  afterAll(async () => {
    if (!cli) return;
    await cli.run(["destroy", "--yes", "--skip-preview"]);
    await cli.remove();
  });

  test("a bad configuration key fails preview naming the key, and nothing is created", async () => {
    await cli.config("meshGatewayMode", "sideways");
    await cli.config("acl", "maybe");
    const preview = await cli.run(["preview"]);
    expect(preview.code).not.toBe(0);
    const text = preview.stdout + preview.stderr;
    expect(text).toContain('config meshGatewayMode: "sideways" is not one of local, remote, none');
    expect(text).toContain('config acl: "maybe" is not one of true, false');
    expect(text).not.toMatch(/at Object\.|\.ts:\d+:\d+/); // a RunError: no stack trace
    await cli.ok(["config", "rm", "meshGatewayMode"]);
    await cli.ok(["config", "rm", "acl"]);
    expect((await cli.deployment()).resources ?? []).toHaveLength(0);
  });

  test("preview shows the mesh to create; up deploys it", async () => {
    const preview = await cli.ok(["preview", "--diff"]);
    const creates = Number(/\+ (\d+) to create/.exec(preview.stdout)?.[1]);
    expect(creates).toBeGreaterThanOrEqual(50);
    expect(preview.stdout).toContain("web (dc1) -> api (dc2): remote (upstream) via mesh-gateway dc2");
    expect(preview.stdout).not.toContain("Building your image");
    figures.push(`preview: ${preview.ms} ms, ${creates} resources to create`);
    const up = await cli.ok(["up", "--yes", "--skip-preview"]);
    figures.push(`up: ${up.ms} ms`);
    demoUrl = (await cli.outputs()).demoUrl as string;
    expect(demoUrl).toBe("http://127.0.0.1:8080/");
    const state = await cli.deployment(true);
    const management = state.resources?.find((r) => r.urn.endsWith("GeneratedToken::mesh-management-token"))?.outputs
      ?.value;
    token =
      typeof management === "string"
        ? management
        : String((management as { plaintext?: string })?.plaintext ?? "").replace(/"/g, "");
    expect(token).toMatch(/^[0-9a-f-]{36}$/);
    caPem = (await cli.outputs()).consulCaPem as string;
    expect(caPem).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect((await cli.outputs()).consulAddresses).toEqual({
      dc1: "https://127.0.0.1:8500",
      dc2: "https://127.0.0.1:8501",
    });
  });

  test("every secure default is on, as both datacenters' agents report it", async () => {
    for (const [dc, port] of [
      ["dc1", 8500],
      ["dc2", 8501],
    ] as const) {
      const settings = agentSecurityOf((await api(port, "GET", "/v1/agent/self")).json);
      expect(settings).toEqual({ ...SECURE_AGENT, HTTPSPort: 8501, GRPCTLSPort: 8503 });
      figures.push(`${dc} /v1/agent/self: ${JSON.stringify(settings)}`);
    }
    // Plain HTTP to the API is refused; so is a client that does not trust the stack's CA.
    const plain = await fetch("http://127.0.0.1:8500/v1/status/leader").then(
      async (r) => `${r.status} ${(await r.text()).trim()}`,
      (e: Error) => e.message,
    );
    expect(plain).toMatch(/^400 Client sent an HTTP request to an HTTPS server/);
    const untrusted = await fetch("https://127.0.0.1:8500/v1/status/leader").then(
      (r) => String(r.status),
      (e: Error) => String((e.cause as { code?: string })?.code ?? e.message),
    );
    expect(untrusted).toMatch(/SELF_SIGNED|UNABLE_TO_VERIFY|CERT/);
    // No token, no access.
    const anonymous = await api(8500, "GET", "/v1/acl/tokens", false);
    expect(anonymous.status).toBe(403);
    figures.push(
      `refused: plain HTTP "${plain}", unknown CA ${untrusted}, no token: GET /v1/acl/tokens ${anonymous.status}`,
    );
  });

  test("the stack has a trust domain of its own, drawn once, not secret, which Consul uses", async () => {
    trustDomain = (await cli.outputs()).trustDomain as string;
    expect(trustDomain).toMatch(DRAWN_TRUST_DOMAIN);
    // Kept in the state in plain text: a trust domain is no secret.
    const drawn = (await cli.deployment()).resources?.filter((r) => r.type.endsWith("GeneratedTrustDomain"));
    expect(drawn?.map((r) => `${r.outputs?.value}.consul`)).toEqual([trustDomain]);
    // Both datacenters' CAs (the primary's, and the secondary's signed by it) carry it.
    expect(await consulTrustDomain("https://127.0.0.1:8500", caPem)).toBe(trustDomain);
    expect(await consulTrustDomain("https://127.0.0.1:8501", caPem)).toBe(trustDomain);
    figures.push(`trust domain: ${trustDomain}, as both datacenters' CA roots report it`);
  });

  test("both catalogs hold their services and gateways, and the datacenters are WAN federated", async () => {
    const get = async (port: number, p: string) => (await api(port, "GET", p)).json;
    expect(await get(8500, "/v1/catalog/datacenters")).toEqual(expect.arrayContaining(["dc1", "dc2"]));
    expect(Object.keys((await get(8500, "/v1/catalog/services")) as object).sort()).toEqual(
      ["consul", "mesh-gateway", "web", "web-sidecar-proxy"].sort(),
    );
    expect(Object.keys((await get(8501, "/v1/catalog/services")) as object).sort()).toEqual(
      [
        "api",
        "api-sidecar-proxy",
        "consul",
        "db",
        "db-sidecar-proxy",
        "logging",
        "logging-sidecar-proxy",
        "mesh-gateway",
      ].sort(),
    );
    // Security: ACLs on, deny by default: the anonymous token sees no services.
    const anonymous = (await api(8501, "GET", "/v1/catalog/services", false)).json as object;
    expect(Object.keys(anonymous).filter((s) => s !== "consul")).toEqual([]);
  });

  test("demoUrl answers from dc2 for every upstream, each through the gateways its mode says", async () => {
    const started = Date.now();
    await untilServed(demoUrl);
    figures.push(`first full answer: ${Date.now() - started} ms after up returned`);
    const before = {
      dc1: await forwardedByService("consul-mesh-dc1-mesh-gateway-0"),
      dc2: await forwardedByService("consul-mesh-dc2-mesh-gateway-0"),
    };
    const requests = 20;
    for (let i = 0; i < requests; i++) {
      const answers = await demo(demoUrl);
      expect(answers.map((a) => [a.name, a.mode, a.status, a.answer?.service, a.answer?.datacenter])).toEqual([
        ["api", "remote", 200, "api", "dc2"],
        ["db", "local", 200, "db", "dc2"],
        ["logging", "none", 200, "logging", "dc2"],
      ]);
    }
    const after = {
      dc1: await forwardedByService("consul-mesh-dc1-mesh-gateway-0"),
      dc2: await forwardedByService("consul-mesh-dc2-mesh-gateway-0"),
    };
    const delta = (dc: "dc1" | "dc2", service: string) => (after[dc][service] ?? 0) - (before[dc][service] ?? 0);
    // remote: dc2's gateway only; local: dc1's then dc2's; none: neither.
    expect([delta("dc1", "api"), delta("dc2", "api")]).toEqual([0, requests]);
    expect([delta("dc1", "db"), delta("dc2", "db")]).toEqual([requests, requests]);
    expect([delta("dc1", "logging"), delta("dc2", "logging")]).toEqual([0, 0]);
    figures.push(`requests through demoUrl: ${requests} per mode (remote, local, none), all answered from dc2`);
  });

  test("a second preview, and a refresh, show no change", async () => {
    const preview = await cli.run(["preview", "--expect-no-changes"]);
    expect(preview.stdout + preview.stderr).toMatch(/\d+ unchanged/);
    expect(preview.code).toBe(0);
    const refresh = await cli.run(["refresh", "--yes", "--skip-preview", "--expect-no-changes"]);
    expect(refresh.stdout + refresh.stderr).not.toMatch(/updated|deleted/);
    expect(refresh.code).toBe(0);
    expect((await cli.outputs()).trustDomain).toBe(trustDomain);
  });

  test("meshGatewayMode changes exactly the proxy-defaults entry", async () => {
    await cli.config("meshGatewayMode", "remote");
    const preview = await cli.ok(["preview", "--json"]);
    const steps = (
      JSON.parse(preview.stdout) as { steps: { op: string; urn: string; diffReasons?: string[] }[] }
    ).steps.filter((s) => s.op !== "same");
    expect(steps.map((s) => [s.op, s.urn.split("::").pop(), s.diffReasons])).toEqual([
      ["update", "mesh-proxy-defaults-entry", ["configJson"]],
    ]);
    await cli.config("meshGatewayMode", "local");
  });

  test("refresh finds a registration removed by hand, and up repairs it", async () => {
    const res = await api(8500, "PUT", "/v1/agent/service/deregister/web");
    expect(res.status).toBe(200);
    const refresh = await cli.ok(["refresh", "--yes", "--skip-preview"]);
    expect(refresh.stdout).toMatch(/mesh-service-dc1-web-registration deleted/);
    const preview = await cli.ok(["preview"]);
    expect(preview.stdout).toMatch(/\+ 1 to create/);
    await cli.ok(["up", "--yes", "--skip-preview"]);
    await untilServed(demoUrl);
    // A second up keeps the trust domain drawn by the first.
    expect((await cli.outputs()).trustDomain).toBe(trustDomain);
    expect(await consulTrustDomain("https://127.0.0.1:8500", caPem)).toBe(trustDomain);
  });

  test("a gateway replaced under a held stream drains it, deregisters and exits 0", async () => {
    const old = (await dockerOk(["inspect", "--format", "{{.Id}}", "consul-mesh-dc2-mesh-gateway-0"])).trim();
    const events = spawn("docker", [
      "events",
      "--format",
      "{{.Action}} {{json .Actor.Attributes}}",
      "--filter",
      `container=${old}`,
    ]);
    let eventText = "";
    events.stdout.on("data", (d: Buffer) => (eventText += d.toString()));
    const logs = spawn("docker", ["logs", "-f", old]);
    let logText = "";
    logs.stdout.on("data", (d: Buffer) => (logText += d.toString()));
    logs.stderr.on("data", (d: Buffer) => (logText += d.toString()));
    try {
      // api is `remote`: web's sidecar dials dc2's gateway, which holds the stream.
      const held = await HeldRequest.open("consul-mesh-dc1-web", 10000);
      const urn = (await cli.deployment()).resources?.find((r) =>
        r.urn.endsWith("::mesh-gateway-dc2-mesh-gateway-gateway-0"),
      )?.urn;
      const up = cli.ok(["up", "--yes", "--skip-preview", "--replace", String(urn)]);
      const deadline = Date.now() + 120_000;
      while (!/^kill .*"signal":"15"/m.test(eventText) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 200));
      expect(eventText).toMatch(/^kill .*"signal":"15"/m);
      await new Promise((r) => setTimeout(r, 2000)); // well inside the drain
      expect(await held.finish()).toContain("status: HTTP/1.1 200 OK");
      await up;
      expect(eventText).toMatch(/^die .*"exitCode":"0"/m);
      expect(eventText).not.toMatch(/"signal":"9"/);
      expect(logText).toContain('"event":"draining"');
      expect(logText).toContain('"event":"deregistered"');
      figures.push("replace of dc2's gateway: the held stream answered 200 during the drain, SIGTERM only, exit 0");
    } finally {
      events.kill();
      logs.kill();
    }
    await untilServed(demoUrl);
  });

  test("no token, key or private key in plain text in the state file or in any log of the run", async () => {
    const secrets = secretsOf((await cli.deployment(true)).resources ?? []);
    // The management token, dc1's and dc2's server tokens, dc2's replication token, the gossip
    // key, the CA key, two server keys, two gateway tokens and four sidecar tokens.
    expect(secrets.length).toBeGreaterThanOrEqual(14);
    for (const secret of secrets) expect(secret.length).toBeGreaterThanOrEqual(32);
    const state = await cli.stateFile();
    const names = (await dockerOk(["ps", "-aq", "--filter", "label=consul-mesh.datacenter"]))
      .split("\n")
      .filter(Boolean);
    const logs = names.map((id) => {
      const out = spawnSync("docker", ["logs", id], { encoding: "utf8", maxBuffer: 64 << 20 });
      return out.stdout + out.stderr;
    });
    const transcript = cli.transcript.join("\n");
    const leaks = secrets.filter((s) => state.includes(s) || transcript.includes(s) || logs.some((l) => l.includes(s)));
    expect(leaks.map((s) => `${s.slice(0, 4)}…`)).toEqual([]);
    figures.push(
      `${secrets.length} secrets, none in the state file (${state.length} bytes), the CLI's output ` +
        `(${transcript.length} bytes) or the logs of ${names.length} containers`,
    );
  });

  test("destroy completes within 90 s after every container was removed by hand, leaving nothing", async () => {
    const names = (await dockerOk(["ps", "-aq", "--filter", "label=consul-mesh.datacenter"]))
      .split("\n")
      .filter(Boolean);
    expect(names.length).toBe(12);
    await dockerOk(["rm", "-f", ...names]);
    const destroy = await cli.run(["destroy", "--yes", "--skip-preview"], 90_000);
    expect(destroy.stdout + destroy.stderr).not.toMatch(/error:/);
    expect(destroy.code).toBe(0);
    expect(destroy.ms).toBeLessThan(90_000);
    figures.push(`destroy after docker rm -f: ${destroy.ms} ms`);
    expect(await leftovers()).toEqual([]);
    expect((await cli.deployment()).resources ?? []).toHaveLength(0);
  });
});
