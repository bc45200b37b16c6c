/**
 * `examples/existing-consul` under the real engine, against Consul started outside Pulumi (two
 * real Consul 1.16.3 datacenters, WAN joined, ACLs on with `default_policy = deny`): the program
 * adds a gateway to each (our image, on the Docker host's network), `proxy-defaults`, the
 * intention `web` → `api` and both services; the test runs the services and their Envoy
 * sidecars as processes, and `web` reaches `api` across the gateways. Then a clean second
 * preview, no token in plain state, destroy leaving the datacenters as they were; and a preview
 * with a token Consul does not know fails naming the datacenter, before anything is changed.
 */
import http from "node:http";
import type net from "node:net";
import path from "node:path";
import { eventually, freePorts } from "../support/processes";
import { RealConsul, type RealDatacenter } from "../support/real-consul";
import { httpRequest, startEnvoySidecar, type RunningProxy } from "../support/real-mesh";
import { describeWhereStacksRun, prepareStacks, reportedFigures, StackCli } from "../support/stack-cli";

const EXAMPLE = path.join(__dirname, "../../examples/existing-consul");
const describeReal = describeWhereStacksRun("real-engine existing-Consul tests");
const figures = reportedFigures("existing-Consul figures");

jest.setTimeout(900_000);

/** The example's fixed service ports: `api` on 9090, `web`'s upstream `api` on 127.0.0.1:9191. */
const API_PORT = 9090;
const WEB_UPSTREAM_PORT = 9191;

/** An HTTP app on 127.0.0.1:`port` (where a sidecar forwards), answering `<name> in <dc>`. */
async function startApp(name: string, dc: string, port: number): Promise<http.Server> {
  const server = http.createServer((_req, res) => res.end(`${name} in ${dc}\n`));
  await new Promise<void>((resolve, reject) => server.once("error", reject).listen(port, "127.0.0.1", resolve));
  return server;
}

/** The `datacenters` key for the test's datacenters, a gateway on each at free ports. */
async function datacentersKey(consul: RealConsul, token = consul.managementToken as string): Promise<string> {
  const entries = await Promise.all(
    consul.datacenters.map(async (dc: RealDatacenter) => {
      const [port, adminPort] = await freePorts(dc.host, 2);
      return {
        name: dc.name,
        address: dc.httpAddress,
        token,
        grpcAddress: dc.grpcAddress,
        gateway: { port, adminPort },
      };
    }),
  );
  return JSON.stringify(entries);
}

describeReal("a mesh added to Consul started outside Pulumi", () => {
  let consul: RealConsul;
  let config: Record<string, string>;
  beforeAll(async () => {
    [consul, config] = await Promise.all([RealConsul.start({ acl: true }), prepareStacks()]);
  });
  afterAll(async () => {
    await consul?.stop();
  });

  test("a token Consul does not know: preview fails naming the datacenter, nothing created", async () => {
    const cli = await StackCli.create(EXAMPLE, config);
    try {
      await cli.ok([
        "config",
        "set",
        "--secret",
        "datacenters",
        await datacentersKey(consul, "00000000-0000-0000-0000-000000000000"),
      ]);
      const preview = await cli.run(["preview"], 300_000);
      expect(preview.code).not.toBe(0);
      expect(preview.stdout + preview.stderr).toMatch(/datacenter "dc1": GET \S+\/v1\/acl\/token\/self: HTTP 403/);
      expect((await cli.deployment()).resources ?? []).toHaveLength(0);
    } finally {
      await cli.remove();
    }
  });

  test("gateways, entries and services added; web reaches api through both gateways; clean preview; destroy", async () => {
    const [dc1, dc2] = consul.datacenters;
    const cli = await StackCli.create(EXAMPLE, config);
    const apps: http.Server[] = [];
    const sidecars: RunningProxy[] = [];
    try {
      await cli.ok(["config", "set", "--secret", "datacenters", await datacentersKey(consul)]);
      const up = await cli.ok(["up", "--yes", "--skip-preview"]);
      const outputs = await cli.outputs();
      const roots = (await dc1.api("GET", "/v1/connect/ca/roots")).json as { TrustDomain: string };
      expect(outputs.trustDomain).toBe(roots.TrustDomain);
      expect(outputs.routeSummary).toEqual([
        `web (dc1) -> api (dc2): local (proxy-defaults) via mesh-gateway dc1, mesh-gateway dc2`,
      ]);

      // What Consul now holds, written by the stack.
      // Each gateway registers itself once it has started.
      for (const dc of [dc1, dc2]) {
        await eventually(
          `the gateway of ${dc.name} registered and passing`,
          async () => ((await dc.api("GET", "/v1/health/service/mesh-gateway?passing")).json as unknown[]).length === 1,
          { timeoutMs: 60_000 },
        );
      }
      expect((await dc1.api("GET", "/v1/config/proxy-defaults/global")).json).toMatchObject({
        MeshGateway: { Mode: "local" },
      });
      expect((await dc1.api("GET", "/v1/config/service-intentions/api")).json).toMatchObject({
        Sources: [{ Name: "web", Action: "allow" }],
      });

      apps.push(await startApp("api", "dc2", API_PORT), await startApp("web", "dc1", 9091));
      sidecars.push(await startEnvoySidecar(consul, dc2, "api"), await startEnvoySidecar(consul, dc1, "web"));
      const answer = await eventually(
        "web's upstream api answering through the gateways",
        async () => {
          const res = await httpRequest("127.0.0.1", WEB_UPSTREAM_PORT, 3000);
          if (!res.ok) throw new Error(res.body);
          return res;
        },
        { timeoutMs: 90_000 },
      );
      expect(answer.body).toBe("api in dc2\n");
      const results = await Promise.all(
        Array.from({ length: 20 }, () => httpRequest("127.0.0.1", WEB_UPSTREAM_PORT, 5000)),
      );
      expect(results.filter((r) => r.ok && r.body === "api in dc2\n")).toHaveLength(20);

      const preview = await cli.run(["preview", "--expect-no-changes"]);
      expect(preview.code).toBe(0);
      const state = await cli.stateFile();
      expect(state).not.toContain(consul.managementToken as string);

      const destroy = await cli.ok(["destroy", "--yes", "--skip-preview"], 180_000);
      expect((await cli.deployment()).resources ?? []).toHaveLength(0);
      for (const dc of [dc1, dc2]) {
        expect((await dc.api("GET", "/v1/health/service/mesh-gateway")).json).toEqual([]);
        expect((await dc.api("GET", "/v1/agent/services")).json).toEqual({});
      }
      expect((await dc1.api("GET", "/v1/config/proxy-defaults/global")).status).toBe(404);
      figures.push(
        `existing Consul (2 datacenters, ACLs on): up ${up.ms} ms, first answer through both gateways, ` +
          `20/20 requests, destroy ${destroy.ms} ms`,
      );
    } finally {
      for (const sidecar of sidecars) await sidecar.stop();
      for (const app of apps) await new Promise((resolve) => app.close(resolve));
      await cli.run(["destroy", "--yes", "--skip-preview"]);
      await cli.remove();
    }
  });
});
