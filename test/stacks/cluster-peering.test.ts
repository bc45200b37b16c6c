/**
 * `examples/cluster-peering` under the real engine, against two Consul 1.16.3 clusters started
 * outside Pulumi (TLS on every link, each its own CA and trust domain): the program adds our
 * gateway and the `mesh` entry to each, peers them (token from the first, established from the
 * second), exports `api` with its intention, and registers both services; the test runs the
 * services and their Envoy sidecars as processes, and `web` of the second cluster reaches `api`
 * of the first through both gateways. Then a clean second preview, the peering token a secret in
 * the state, and destroy deleting the peering.
 */
import http from "node:http";
import path from "node:path";
import { eventually, freePorts } from "../support/processes";
import { RealConsul } from "../support/real-consul";
import { httpRequest, startEnvoySidecar, type RunningProxy } from "../support/real-mesh";
import { describeWhereStacksRun, prepareStacks, reportedFigures, StackCli } from "../support/stack-cli";

const EXAMPLE = path.join(__dirname, "../../examples/cluster-peering");
const describeReal = describeWhereStacksRun("real-engine cluster peering tests");
const figures = reportedFigures("cluster peering figures");

jest.setTimeout(900_000);

/** The example's fixed service ports: `api` on 9090, `web` on 9091 with its upstream `api` on 127.0.0.1:9191. */
const API_PORT = 9090;
const WEB_UPSTREAM_PORT = 9191;

/** An HTTP app on 127.0.0.1:`port` (where a sidecar forwards), answering `<name> in <dc>`. */
async function startApp(name: string, dc: string, port: number): Promise<http.Server> {
  const server = http.createServer((_req, res) => res.end(`${name} in ${dc}\n`));
  await new Promise<void>((resolve, reject) => server.once("error", reject).listen(port, "127.0.0.1", resolve));
  return server;
}

describeReal("two clusters started outside Pulumi, peered through their gateways by a stack", () => {
  let a: RealConsul;
  let b: RealConsul;
  let config: Record<string, string>;
  beforeAll(async () => {
    [a, b, config] = await Promise.all([
      RealConsul.start({ datacenters: ["dc1"], secure: true }),
      RealConsul.start({ datacenters: ["dc2"], secure: true }),
      prepareStacks(),
    ]);
  });
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
  });

  test("peered, api of the first reached from web of the second through both gateways; clean preview; destroy", async () => {
    const dc1 = a.dc("dc1");
    const dc2 = b.dc("dc2");
    const cli = await StackCli.create(EXAMPLE, config);
    const apps: http.Server[] = [];
    const sidecars: RunningProxy[] = [];
    try {
      const datacenters = await Promise.all(
        [a, b].map(async (consul) => {
          const dc = consul.datacenters[0];
          const [port, adminPort] = await freePorts(dc.host, 2);
          return {
            name: dc.name,
            address: dc.httpAddress,
            caPem: consul.secrets?.ca.caPem,
            grpcAddress: `https://${dc.grpcAddress}`,
            gateway: { port, adminPort },
          };
        }),
      );
      await cli.ok(["config", "set", "--secret", "datacenters", JSON.stringify(datacenters)]);
      const started = Date.now();
      const up = await cli.ok(["up", "--yes", "--skip-preview"]);
      const outputs = await cli.outputs();
      expect(outputs.peerNames).toEqual({ acceptor: "dc2", dialer: "dc1" });
      const active = await eventually(
        "the peering to be active on both sides",
        async () => {
          const states = await Promise.all([
            dc1.api("GET", "/v1/peering/dc2").then((r) => (r.json as { State?: string })?.State),
            dc2.api("GET", "/v1/peering/dc1").then((r) => (r.json as { State?: string })?.State),
          ]);
          return states.every((s) => s === "ACTIVE") ? Date.now() - started : undefined;
        },
        { timeoutMs: 120_000 },
      );
      // Through the gateways: the second cluster dials the first's gateway, not its servers.
      const peeringOfB = (await dc2.api("GET", "/v1/peering/dc1")).json as { PeerServerAddresses: string[] };
      expect(peeringOfB.PeerServerAddresses).toEqual([`${dc1.host}:${datacenters[0].gateway.port}`]);

      apps.push(await startApp("api", "dc1", API_PORT), await startApp("web", "dc2", 9091));
      sidecars.push(await startEnvoySidecar(a, dc1, "api"), await startEnvoySidecar(b, dc2, "web"));
      const answer = await eventually(
        "web's upstream api (of peer dc1) answering through the gateways",
        async () => {
          const res = await httpRequest("127.0.0.1", WEB_UPSTREAM_PORT, 3000);
          if (!res.ok) throw new Error(res.body);
          return res;
        },
        { timeoutMs: 120_000 },
      );
      expect(answer.body).toBe("api in dc1\n");
      const results = await Promise.all(
        Array.from({ length: 20 }, () => httpRequest("127.0.0.1", WEB_UPSTREAM_PORT, 5000)),
      );
      expect(results.filter((r) => r.ok && r.body === "api in dc1\n")).toHaveLength(20);

      const preview = await cli.run(["preview", "--expect-no-changes"]);
      expect(preview.code).toBe(0);
      // The peering token is a secret: in the state only as ciphertext.
      const plain = await cli.deployment(true);
      const shown = plain.resources?.find((r) => r.type === "consul:index/peeringToken:PeeringToken")?.outputs
        ?.peeringToken as { plaintext: string };
      const token = JSON.parse(shown.plaintext) as string;
      expect(token).toMatch(/^[A-Za-z0-9+/=]{40,}$/);
      expect(await cli.stateFile()).not.toContain(token);

      // The peering deleted (the token and the peering it made): web's requests are refused; `up` peers again.
      const tokenUrn = plain.resources?.find((r) => r.type === "consul:index/peeringToken:PeeringToken")?.urn as string;
      await cli.ok(["destroy", "--yes", "--skip-preview", "--target", tokenUrn, "--target-dependents"], 300_000);
      const deleted = Date.now();
      const refusedAfter = await eventually(
        "web's requests to api of the deleted peer to be refused",
        async () => ((await httpRequest("127.0.0.1", WEB_UPSTREAM_PORT, 3000)).ok ? undefined : Date.now() - deleted),
        { timeoutMs: 60_000 },
      );
      expect(
        (await Promise.all([1, 2, 3].map(() => httpRequest("127.0.0.1", WEB_UPSTREAM_PORT, 3000)))).filter((r) => r.ok),
      ).toHaveLength(0);
      const again = Date.now();
      await cli.ok(["up", "--yes", "--skip-preview"]);
      await eventually(
        "web's upstream api answering again once peered again",
        async () => (await httpRequest("127.0.0.1", WEB_UPSTREAM_PORT, 3000)).ok,
        { timeoutMs: 120_000 },
      );
      const repeered = Date.now() - again;

      const destroy = await cli.ok(["destroy", "--yes", "--skip-preview"], 300_000);
      expect((await cli.deployment()).resources ?? []).toHaveLength(0);
      await eventually(
        "the peering gone from the first cluster",
        async () => (await dc1.api("GET", "/v1/peering/dc2")).status === 404,
        { timeoutMs: 60_000 },
      );
      expect((await dc1.api("GET", "/v1/config/exported-services/default")).status).toBe(404);
      figures.push(
        `cluster peering (2 clusters, TLS): up ${up.ms} ms, peering active ${active} ms after up began, ` +
          `20/20 requests through both gateways, the peering deleted and requests refused ${refusedAfter} ms after, ` +
          `peered and answering again ${repeered} ms after a new up, destroy ${destroy.ms} ms`,
      );
    } finally {
      for (const sidecar of sidecars) await sidecar.stop();
      for (const app of apps) await new Promise((resolve) => app.close(resolve));
      await cli.run(["destroy", "--yes", "--skip-preview"]);
      await cli.remove();
    }
  });
});
