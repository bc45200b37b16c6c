/**
 * The live-Consul source of `consul-mesh plan` against real Consul 1.16.3: two WAN-joined
 * datacenters named as the seed documents name them, each seed configuration registered for real,
 * and the plan of what Consul runs compared with the plan of the seed model in memory; gateway
 * health from TTL checks whose status the test sets; ACLs; the `CONSUL_*` environment; HTTPS.
 */
import { promises as fs } from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import tls from "node:tls";
import {
  gatewayHealthProblems,
  planRoutes,
  toConfigEntry,
  toGatewayRegistration,
  toServiceRegistration,
  type ConfigEntry,
  type Mesh,
  type RoutePlan,
  type ServiceDefinition,
  validateMesh,
} from "../../mesh";
import { readLiveConsul } from "../../consul/live-consul";
import { runPlan } from "../../cli/plan-command";
import { ConsulError } from "../../consul/errors";
import { createTestPki, type TestPki } from "../../demo/pki";
import { SEED_CONFIG_ENTRIES, SEED_SERVICES } from "../mesh/fixtures/seed-models";
import { eventually, freePorts } from "../support/processes";
import { RealConsul, type RealDatacenter } from "../support/real-consul";

jest.setTimeout(180_000);

/** An environment without `CONSUL_*` variables, so that only the options given count. */
const NO_ENV = {};

/** The fields of each route the live plan must share with the model's. */
function decisions(plan: RoutePlan) {
  return plan.routes.map(({ destination, mode, decidedBy, sni, usesGateway }) => {
    return { destination, mode, decidedBy, sni, usesGateway };
  });
}

/** Registers a mesh gateway whose health is a TTL check the test sets, with LAN and WAN addresses of its own. */
async function registerGateway(dc: RealDatacenter, id: string, port: number): Promise<void> {
  const registration = {
    ...toGatewayRegistration({ id, address: dc.host, port, wanAddress: { address: dc.host, port: port + 1 } }),
    Check: { Name: "mesh-gateway alive", TTL: "10m", Status: "passing" },
  };
  expect((await dc.api("PUT", "/v1/agent/service/register", registration)).status).toBe(200);
}

/** Sets the TTL check of gateway `id` (its check ID is `service:<id>`). */
async function setGatewayCheck(dc: RealDatacenter, id: string, status: "pass" | "fail"): Promise<void> {
  expect((await dc.api("PUT", `/v1/agent/check/${status}/service:${id}`)).status).toBe(200);
}

describe("consul-mesh plan's live source: the seed configurations in real Consul", () => {
  let consul: RealConsul;
  let primary: RealDatacenter;
  let secondary: RealDatacenter;
  let trustDomain: string;

  beforeAll(async () => {
    consul = await RealConsul.start({ datacenters: ["primary", "secondary"] });
    [primary, secondary] = [consul.dc("primary"), consul.dc("secondary")];
    trustDomain = await consul.trustDomain();
    await registerGateway(primary, "mgw-primary", 8443);
    await registerGateway(secondary, "mgw-secondary-1", 8443);
    await registerGateway(secondary, "mgw-secondary-2", 8445);
  });
  afterAll(() => consul?.stop());

  const live = () => readLiveConsul({ address: primary.httpAddress, env: NO_ENV });

  /** Registers `service` in primary, after `entry` when there is one (so the agent merges it at once). */
  async function deploy(service: ServiceDefinition, entry?: ConfigEntry): Promise<void> {
    if (entry) expect((await primary.api("PUT", "/v1/config", toConfigEntry(entry))).json).toBe(true);
    expect((await primary.api("PUT", "/v1/agent/service/register", toServiceRegistration(service))).status).toBe(200);
  }

  /** Removes what {@link deploy} made, and waits until the catalog and the entries show it gone. */
  async function undeploy(service: ServiceDefinition, entry?: ConfigEntry): Promise<void> {
    expect((await primary.api("PUT", `/v1/agent/service/deregister/${service.id ?? service.name}`)).status).toBe(200);
    if (entry) expect((await primary.api("DELETE", `/v1/config/${entry.kind}/${entry.name}`)).status).toBe(200);
    await eventually("primary's catalog and config entries to be back to the gateways alone", async () => {
      const services = Object.keys((await primary.api("GET", "/v1/catalog/services")).json as object).sort();
      const entries = [
        (await primary.api("GET", "/v1/config/proxy-defaults/global")).status,
        ((await primary.api("GET", "/v1/config/service-defaults")).json as unknown[]).length,
      ];
      return (
        JSON.stringify([services, entries]) ===
        JSON.stringify([
          ["consul", "mesh-gateway"],
          [404, 0],
        ])
      );
    });
  }

  test("every datacenter, the primary, the trust domain, the gateways with their addresses and health", async () => {
    const fragment = await live();
    expect(fragment.mesh.datacenters).toEqual([{ name: "primary" }, { name: "secondary" }]);
    expect(fragment.mesh).toMatchObject({ primaryDatacenter: "primary", trustDomain });
    expect(fragment.mesh.gateways).toEqual(
      [primary, secondary, secondary].map((dc, i) => {
        const port = [8443, 8443, 8445][i];
        const lan = { address: dc.host, port };
        const taggedAddresses = { lan, wan: { ...lan, port: port + 1 } };
        const instance = { id: ["mgw-primary", "mgw-secondary-1", "mgw-secondary-2"][i], node: `${dc.name}-server` };
        return { datacenter: dc.name, name: "mesh-gateway", ...instance, port, address: dc.host, taggedAddresses };
      }),
    );
    // Two instances of one gateway service in secondary are instances, not a clash.
    expect(validateMesh(fragment.mesh).filter((p) => p.path.startsWith("gateways"))).toEqual([]);
    expect(fragment.origins.gateways).toEqual([
      "Consul primary: service mesh-gateway (id mgw-primary, node primary-server)",
      "Consul secondary: service mesh-gateway (id mgw-secondary-1, node secondary-server)",
      "Consul secondary: service mesh-gateway (id mgw-secondary-2, node secondary-server)",
    ]);
    expect(fragment.gatewayHealth).toEqual(["passing", "passing", "passing"]);
    expect(fragment.problems).toEqual([]);
  });

  // A proxy of web that sets no mode, so that the config entry seeds decide.
  const bareProxy: ServiceDefinition = {
    name: "web-sidecar-proxy",
    kind: "connect-proxy",
    port: 8181,
    proxy: {
      destinationServiceName: "web",
      upstreams: [{ destinationName: "api", datacenter: "secondary", localBindPort: 10000 }],
    },
  };
  const cases: { name: string; service: ServiceDefinition; entry?: ConfigEntry }[] = [
    ...SEED_SERVICES.map((s) => ({ name: s.seed, service: s.model })),
    ...SEED_CONFIG_ENTRIES.map((e) => ({ name: `${e.seed} over a bare proxy`, service: bareProxy, entry: e.model })),
    {
      name: "000-instance-connect-proxy under 000-proxy-defaults",
      service: SEED_SERVICES[0].model,
      entry: SEED_CONFIG_ENTRIES[0].model,
    },
  ];

  test.each(cases)("$name: the plan of what Consul runs is the seed model's", async ({ service, entry }) => {
    const model: Mesh = {
      trustDomain,
      primaryDatacenter: "primary",
      datacenters: [{ name: "primary" }, { name: "secondary" }],
      services: [{ ...service, datacenter: "primary" }],
      proxyDefaults: entry?.kind === "proxy-defaults" ? entry : undefined,
      serviceDefaults: entry?.kind === "service-defaults" ? [entry] : [],
    };
    const expected = decisions(planRoutes(model));
    expect(expected.length).toBeGreaterThan(0);
    // The 1.6-era seeds register a proxy block without kind "connect-proxy": Consul accepts it and
    // drops the block (validateMesh warns), so nothing of it is routed.
    const dropped = service.proxy !== undefined && service.kind !== "connect-proxy";
    await deploy(service, entry);
    try {
      await eventually(
        "the live plan to be the model's",
        async () => {
          expect(decisions(planRoutes((await live()).mesh))).toEqual(dropped ? [] : expected);
          return true;
        },
        { timeoutMs: 20_000 },
      );
    } finally {
      await undeploy(service, entry);
    }
  });

  test("remote to a datacenter whose gateways are all critical: a problem naming the proxy and each one", async () => {
    const seed = SEED_SERVICES[0].model; // web-sidecar-proxy, mode remote at the instance, api in secondary
    await deploy(seed);
    try {
      const problemsNow = async () => gatewayHealthProblems(await live());
      await eventually("the proxy to be read", async () => (await live()).mesh.services?.length === 1);
      expect(await problemsNow()).toEqual([]);
      await setGatewayCheck(secondary, "mgw-secondary-1", "fail");
      const oneCritical = async () => (await live()).gatewayHealth?.includes("critical");
      await eventually("a critical gateway in secondary", oneCritical);
      expect(await problemsNow()).toEqual([]); // the other one still carries the traffic
      await setGatewayCheck(secondary, "mgw-secondary-2", "fail");
      const problems = await eventually("the remote-mode problem", async () => {
        const found = await problemsNow();
        return found.length > 0 ? found : undefined;
      });
      expect(problems).toEqual([
        {
          origin: "Consul primary: service web-sidecar-proxy (id web-sidecar-proxy, node primary-server)",
          field: "proxy.upstreams[0]",
          message:
            "upstream api (secondary) of web-sidecar-proxy goes through a mesh gateway of secondary " +
            "(mode remote, decided by instance), but every one is critical, so this traffic fails until one passes: " +
            "Consul secondary: service mesh-gateway (id mgw-secondary-1, node secondary-server) is critical; " +
            "Consul secondary: service mesh-gateway (id mgw-secondary-2, node secondary-server) is critical",
        },
      ]);
    } finally {
      await setGatewayCheck(secondary, "mgw-secondary-1", "pass");
      await setGatewayCheck(secondary, "mgw-secondary-2", "pass");
      await undeploy(seed);
    }
  });

  test("the command: consul-mesh plan --consul (CONSUL_HTTP_ADDR) exits 0 for the deployed seed, 1 once its gateways are critical", async () => {
    const seed = SEED_SERVICES[0].model; // web-sidecar-proxy, mode remote at the instance, api in secondary
    const api = { Name: "api", Port: 9090, Connect: { SidecarService: {} } };
    await deploy(seed);
    expect((await secondary.api("PUT", "/v1/agent/service/register", api)).status).toBe(200);
    const run = async () => {
      let stdout = "";
      let stderr = "";
      const env = { CONSUL_HTTP_ADDR: primary.httpAddress.replace(/^http:\/\//, "") };
      const status = await runPlan(["--consul", "--format", "json"], {
        stdout: (t) => (stdout += t),
        stderr: (t) => (stderr += t),
        env,
      });
      return { status, body: JSON.parse(stdout), stderr };
    };
    try {
      const ok = await eventually(
        "a valid live plan with the route to api",
        async () => {
          const result = await run();
          return result.status === 0 && result.body.plan.routes.length === 1 ? result : undefined;
        },
        { timeoutMs: 20_000 },
      );
      expect(ok.body.plan.routes[0]).toMatchObject({ mode: "remote", decidedBy: "instance", usesGateway: true });
      expect(ok.body.plan.routes[0].hops[1].endpoints).toEqual([`${secondary.host}:8444`, `${secondary.host}:8446`]);
      await setGatewayCheck(secondary, "mgw-secondary-1", "fail");
      await setGatewayCheck(secondary, "mgw-secondary-2", "fail");
      const broken = await eventually("exit 1 with the critical gateways named", async () => {
        const result = await run();
        return result.status === 1 ? result : undefined;
      });
      expect(broken.body.valid).toBe(false);
      expect(broken.stderr).toContain("every one is critical");
    } finally {
      await setGatewayCheck(secondary, "mgw-secondary-1", "pass");
      await setGatewayCheck(secondary, "mgw-secondary-2", "pass");
      expect((await secondary.api("PUT", "/v1/agent/service/deregister/api")).status).toBe(200);
      await undeploy(seed);
    }
  });

  test("local (000-proxy-defaults) with the source datacenter's gateway critical: a problem naming it", async () => {
    const entry = SEED_CONFIG_ENTRIES[0].model;
    await deploy(bareProxy, entry);
    try {
      await setGatewayCheck(primary, "mgw-primary", "fail");
      const problems = await eventually("the local-mode problem", async () => {
        const found = gatewayHealthProblems(await live());
        return found.length > 0 ? found : undefined;
      });
      expect(problems.map((p) => p.message)).toEqual([
        "upstream api (secondary) of web-sidecar-proxy goes through its own datacenter's mesh gateway in primary " +
          "(mode local, decided by proxy-defaults), but every one is critical, so this traffic fails until one " +
          "passes: " +
          "Consul primary: service mesh-gateway (id mgw-primary, node primary-server) is critical",
      ]);
    } finally {
      await setGatewayCheck(primary, "mgw-primary", "pass");
      await undeploy(bareProxy, entry);
    }
  });

  test("HTTPS: CONSUL_HTTP_ADDR without a scheme, CONSUL_HTTP_SSL and CONSUL_CACERT verify the agent", async () => {
    const pki: TestPki = await createTestPki();
    const cert = await pki.issue([primary.host]);
    const terminator = tls.createServer({ key: cert.key, cert: cert.cert }, (socket) => {
      const upstream = net.connect({ host: primary.host, port: primary.ports.http });
      socket.pipe(upstream).pipe(socket);
      socket.on("error", () => upstream.destroy());
      upstream.on("error", () => socket.destroy());
    });
    await new Promise<void>((resolve) => terminator.listen(0, primary.host, resolve));
    const address = `${primary.host}:${(terminator.address() as net.AddressInfo).port}`;
    try {
      const env = { CONSUL_HTTP_ADDR: address, CONSUL_HTTP_SSL: "true" };
      const fragment = await readLiveConsul({ env: { ...env, CONSUL_CACERT: pki.caFile } });
      expect(fragment.mesh.datacenters.map((d) => d.name)).toEqual(["primary", "secondary"]);
      await expect(readLiveConsul({ env })).rejects.toMatchObject({
        code: "E_CONSUL_UNREACHABLE",
        message: expect.stringMatching(
          `^GET https://${address}/v1/catalog/datacenters: cannot connect \\(.*\\): is the agent's certificate signed`,
        ),
      });
    } finally {
      await new Promise((resolve) => terminator.close(resolve));
      await pki.cleanup();
    }
  });
});

describe("consul-mesh plan's live source: real Consul with ACLs", () => {
  let consul: RealConsul;
  let dc: RealDatacenter;
  let workDir: string;

  beforeAll(async () => {
    consul = await RealConsul.start({ datacenters: ["primary"], acl: true });
    dc = consul.dc("primary");
    workDir = await fs.mkdtemp(path.join(os.tmpdir(), "plan-live-consul-"));
    await registerGateway(dc, "mgw-primary", 8443);
    const proxy = toServiceRegistration(SEED_SERVICES[0].model);
    expect((await dc.api("PUT", "/v1/agent/service/register", proxy)).status).toBe(200);
    expect((await dc.api("PUT", "/v1/config", toConfigEntry(SEED_CONFIG_ENTRIES[1].model))).json).toBe(true);
  });
  afterAll(async () => {
    await consul?.stop();
    if (workDir) await fs.rm(workDir, { recursive: true, force: true });
  });

  /** A token with exactly `rules`. */
  async function tokenWith(name: string, rules: string): Promise<string> {
    const policy = (await dc.api("PUT", "/v1/acl/policy", { Name: name, Rules: rules })).json as { ID: string };
    const token = await dc.api("PUT", "/v1/acl/token", { Policies: [{ ID: policy.ID }] });
    return (token.json as { SecretID: string }).SecretID;
  }

  test("a token without service:read: problems naming the rights missing, and the token in no text", async () => {
    const token = await tokenWith("nodes-only", 'node_prefix "" { policy = "read" }');
    const fragment = await readLiveConsul({ address: dc.httpAddress, token, env: NO_ENV });
    expect(fragment.mesh.services).toEqual([]);
    expect(fragment.mesh.serviceDefaults).toEqual([]);
    expect(fragment.problems).toEqual([
      { origin: "Consul: GET /v1/agent/self", message: expect.stringContaining("lacks agent:read") },
      { origin: "Consul primary: GET /v1/catalog/services", message: expect.stringContaining("lacks service:read") },
      { origin: "Consul: GET /v1/config/service-defaults", message: expect.stringContaining("lacks service:read") },
    ]);
    expect(JSON.stringify(fragment)).not.toContain(token);
  });

  test("a token with service:read but not node:read: the services whose instances are hidden", async () => {
    const token = await tokenWith("services-only", 'service_prefix "" { policy = "read" }');
    const fragment = await readLiveConsul({ address: dc.httpAddress, token, env: NO_ENV });
    expect(fragment.problems).toContainEqual({
      origin: "Consul primary: GET /v1/health/service/…",
      message: expect.stringContaining("lacks node:read on nodes of consul, mesh-gateway, web-sidecar-proxy,"),
    });
    expect(fragment.mesh.serviceDefaults).toEqual([SEED_CONFIG_ENTRIES[1].model]);
    expect(JSON.stringify(fragment)).not.toContain(token);
  });

  test("a token Consul does not know: E_CONSUL_HTTP_STATUS naming the URL and the status, not the token", async () => {
    const token = "00000000-1111-2222-3333-444444444444";
    const error = await readLiveConsul({ address: dc.httpAddress, token, env: NO_ENV }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConsulError);
    expect(error).toMatchObject({
      code: "E_CONSUL_HTTP_STATUS",
      status: 403,
      message: expect.stringMatching(/^GET http:\/\/.*\/v1\/.*: HTTP 403: ACL not found/),
    });
    expect((error as Error).message).not.toContain(token);
  });

  test("CONSUL_HTTP_ADDR without a scheme and CONSUL_HTTP_TOKEN_FILE through env", async () => {
    const tokenFile = path.join(workDir, "token");
    await fs.writeFile(tokenFile, `${consul.managementToken}\n`);
    const env = { CONSUL_HTTP_ADDR: `${dc.host}:${dc.ports.http}`, CONSUL_HTTP_TOKEN_FILE: tokenFile };
    const fragment = await readLiveConsul({ env });
    expect(fragment.problems).toEqual([]);
    expect(fragment.mesh.primaryDatacenter).toBe("primary");
    expect(fragment.origins.services).toEqual([
      "Consul primary: service web-sidecar-proxy (id web-sidecar-proxy, node primary-server)",
    ]);
    // The token file wins over CONSUL_HTTP_TOKEN, as in Consul's CLI.
    expect((await readLiveConsul({ env: { ...env, CONSUL_HTTP_TOKEN: "not-a-token" } })).problems).toEqual([]);
  });
});

describe("consul-mesh plan's live source: failures, without Consul", () => {
  /** An HTTP server on loopback whose every request `answer` handles. */
  async function server(answer: http.RequestListener): Promise<{ address: string; close(): Promise<void> }> {
    const s = http.createServer(answer);
    await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
    return {
      address: `http://127.0.0.1:${(s.address() as net.AddressInfo).port}`,
      close: () =>
        new Promise<void>((resolve) => {
          s.closeAllConnections();
          s.close(() => resolve());
        }),
    };
  }

  test("nothing listening: E_CONSUL_UNREACHABLE naming the URL", async () => {
    const [port] = await freePorts("127.0.0.1", 1);
    await expect(readLiveConsul({ address: `127.0.0.1:${port}`, env: NO_ENV })).rejects.toMatchObject({
      code: "E_CONSUL_UNREACHABLE",
      message:
        `GET http://127.0.0.1:${port}/v1/catalog/datacenters: cannot connect (ECONNREFUSED): ` +
        "is a Consul agent listening there?",
    });
  });

  test("no answer within timeoutMs: E_CONSUL_TIMEOUT, promptly", async () => {
    const silent = await server(() => undefined);
    try {
      const started = Date.now();
      await expect(readLiveConsul({ address: silent.address, timeoutMs: 300, env: NO_ENV })).rejects.toMatchObject({
        code: "E_CONSUL_TIMEOUT",
        message: `GET ${silent.address}/v1/catalog/datacenters: no complete answer within 300 ms`,
      });
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      await silent.close();
    }
  });

  test("a status other than 2xx: E_CONSUL_HTTP_STATUS with it; an echoed token is left out", async () => {
    const token = "s3cr3t-t0ken";
    const echo = await server((req, res) => {
      res.statusCode = 500;
      res.end(`rpc error: token ${String(req.headers["x-consul-token"])} made me fail`);
    });
    try {
      const error = await readLiveConsul({ address: echo.address, token, env: NO_ENV }).catch((e: unknown) => e);
      expect(error).toMatchObject({
        code: "E_CONSUL_HTTP_STATUS",
        status: 500,
        message: `GET ${echo.address}/v1/catalog/datacenters: HTTP 500: rpc error: token <token> made me fail`,
      });
      expect((error as Error).message).not.toContain(token);
    } finally {
      await echo.close();
    }
  });

  test.each([
    [
      "an address of another scheme",
      { address: "unix:///run/consul.sock" },
      "E_CONSUL_ADDRESS",
      'address "unix:///run/consul.sock"',
    ],
    [
      "a token file that cannot be read",
      { tokenFile: "/nonexistent/token" },
      "E_CONSUL_SETTING",
      "CONSUL_HTTP_TOKEN_FILE: cannot read /nonexistent/token (ENOENT)",
    ],
    [
      "a CA file that cannot be read",
      { caFile: "/nonexistent/ca.pem" },
      "E_CONSUL_SETTING",
      "CONSUL_CACERT: cannot read /nonexistent/ca.pem (ENOENT)",
    ],
  ])("%s: %s", async (_label, options, code, message) => {
    const failure = { code, message: expect.stringContaining(message) };
    await expect(readLiveConsul({ env: NO_ENV, ...options })).rejects.toMatchObject(failure);
  });
});
