/**
 * Cluster peering through the mesh gateways on real Consul 1.16.3 with Envoy sidecars, with Envoy
 * as the reference gateway, ours, and a mix: the peering established through the gateways (the
 * dialing servers reach the accepting ones only by their gateways, `PeerThroughMeshGateways`), an
 * exported service reached from the other cluster through both gateways in modes `remote` and
 * `local`, an intention on it enforced, an HTTP service (which Consul's gateway terminates) refused
 * by ours by name, and the peering deleted with traffic refused after.
 */
import tls from "node:tls";
import { eventually } from "../support/processes";
import { PEER_A, PEER_B, PeeredMesh } from "../support/peered-mesh";
import { gatewayMetric, trafficSeen, type GatewayKind, type RunningGateway } from "../support/real-mesh";
import { median } from "../support/web-api-mesh";

jest.setTimeout(300_000);

const REQUESTS = 10;

const figures: string[] = [];
afterAll(() => {
  if (figures.length) process.stdout.write(`\nCluster peering through the gateways:\n${figures.join("\n")}\n`);
});

/** Opens a TLS connection to `gateway`'s WAN side with `sni`; resolves how it ended. */
function tryName(gateway: RunningGateway, sni: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: gateway.addresses.wan.host, port: gateway.addresses.wan.port, servername: sni });
    const timer = setTimeout(() => done("no answer in 5 s"), 5000);
    const done = (how: string) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(how);
    };
    socket.on("secureConnect", () => done("handshake"));
    socket.on("error", (error) => done(`closed (${(error as NodeJS.ErrnoException).code ?? error.message})`));
    socket.on("close", () => done("closed"));
  });
}

describe.each([
  ["envoy", "envoy", "xds"],
  ["ours", "ours", "xds"],
  ["ours", "envoy", "xds"],
  ["ours", "ours", "catalog"],
  ["ours", "ours", "xds, ACLs on"],
  ["ours", "ours", "catalog, ACLs on"],
] as Array<[GatewayKind, GatewayKind, string]>)(
  "Cluster peering through the gateways: %s in A (dc1), %s in B (dc2) (ours from %s)",
  (k1, k2, how) => {
    const acl = how.endsWith("ACLs on");
    const ourRoutes = how.startsWith("catalog") ? "catalog" : "xds";
    const mesh = new PeeredMesh({ gateways: { dc1: k1, dc2: k2 }, ourRoutes, acl });
    const label = `${k1}/${k2}${ourRoutes === "catalog" ? " (catalog)" : ""}${acl ? " (ACLs on)" : ""}`;

    beforeAll(async () => {
      await mesh.start();
    }, 240_000);
    afterAll(() => mesh.stop());

    test("the peering is established through the gateways", async () => {
      const before = {
        dc1: await trafficSeen(mesh.gateways.dc1, "peering"),
        dc2: await trafficSeen(mesh.gateways.dc2, "peering"),
      };
      const ms = await mesh.peer();
      figures.push(`${label}: peering active on both sides in ${ms} ms`);
      // The token gave B A's gateways as A's servers: B's servers dial them through B's gateway.
      const wan = `${mesh.gateways.dc1.addresses.wan.host}:${mesh.gateways.dc1.addresses.wan.port}`;
      expect(await mesh.peerServerAddresses()).toEqual([wan]);
      for (const dc of ["dc1", "dc2"] as const)
        expect(await trafficSeen(mesh.gateways[dc], "peering")).toBeGreaterThan(before[dc]);
    });

    test.each(["remote", "local"] as const)(
      "an exported service reached from the other cluster, mode %s",
      async (mode) => {
        await mesh.exportServices(["api", "docs"]);
        await mesh.intention("allow");
        await mesh.setMode(mode);
        await mesh.awaitEndpoint(mode);
        const before = {
          dc1: await trafficSeen(mesh.gateways.dc1, "service"),
          dc2: await trafficSeen(mesh.gateways.dc2, "service"),
        };
        const served = mesh.api.served;
        const results = await eventually(
          `${REQUESTS} answers from api of ${PEER_A} (${mode})`,
          async () => {
            const batch = await mesh.requests(1);
            return batch[0].ok ? [...batch, ...(await mesh.requests(REQUESTS - 1))] : undefined;
          },
          { timeoutMs: 60_000 },
        );
        expect(results.filter((r) => r.ok)).toHaveLength(REQUESTS);
        expect(results[0].body).toBe("api in dc1\n");
        expect(mesh.api.served - served).toBeGreaterThanOrEqual(REQUESTS);
        figures.push(
          `${label}: mode ${mode}: ${REQUESTS}/${REQUESTS}, p50 ${median(results.map((r) => r.ms)).toFixed(2)} ms`,
        );
        expect(await trafficSeen(mesh.gateways.dc1, "service")).toBeGreaterThan(before.dc1);
        if (mode === "local") expect(await trafficSeen(mesh.gateways.dc2, "service")).toBeGreaterThan(before.dc2);
      },
    );

    test("an intention on the exported service is enforced", async () => {
      await mesh.intention("deny");
      await eventually("web of cluster-b to be denied", async () => !(await mesh.requests(1))[0].ok, {
        timeoutMs: 30_000,
      });
      const denied = await mesh.requests(5);
      expect(denied.filter((r) => r.ok)).toHaveLength(0);
      await mesh.intention("allow");
      await eventually("web of cluster-b to be allowed again", async () => (await mesh.requests(1))[0].ok, {
        timeoutMs: 30_000,
      });
    });

    test("the accepting cluster's gateway restarted: the peering survives, traffic flows again", async () => {
      const old = mesh.gateways.dc1;
      // SIGTERM: ours deregisters before it drains, Envoy (exec'd by `consul connect envoy`) cannot.
      await old.stop();
      const restarted = Date.now();
      mesh.gateways.dc1 = await mesh.startGateway(mesh.dc1, old.addresses);
      const answered = await eventually(
        "web of cluster-b to be answered again",
        async () => ((await mesh.requests(1))[0].ok ? Date.now() - restarted : undefined),
        { timeoutMs: 120_000 },
      );
      expect((await mesh.requests(REQUESTS)).filter((r) => r.ok)).toHaveLength(REQUESTS);
      // The peering's stream runs through the gateway too: it reconnects, with Consul's back-off.
      const active = await eventually(
        "the peering to be active again on both sides",
        async () =>
          (await mesh.peeringState(mesh.dc1, PEER_B)) === "ACTIVE" &&
          (await mesh.peeringState(mesh.dc2, PEER_A)) === "ACTIVE"
            ? Date.now() - restarted
            : undefined,
        { timeoutMs: 120_000 },
      );
      figures.push(
        `${label}: A's gateway restarted: answered again ${answered} ms after, peering active ${active} ms after`,
      );
    });

    test("names not exported, and services Consul's gateway would terminate, are refused by ours and counted", async () => {
      const gateway = mesh.gateways.dc1;
      if (gateway.kind !== "ours") return;
      for (const [sni, reason] of [
        [`nothere.default.default.${PEER_B}.external.${mesh.trustDomains.a}`, "unknown-peer-name"],
        [`api.default.default.nobody.external.${mesh.trustDomains.a}`, "unknown-peer-name"],
      ]) {
        const before = await gatewayMetric(gateway, "sni_gateway_route_rejections_total", { reason });
        expect(await tryName(gateway, sni)).toMatch(/^closed/);
        expect(await gatewayMetric(gateway, "sni_gateway_route_rejections_total", { reason })).toBe(before + 1);
      }
    });

    test("the peering deleted, traffic is refused", async () => {
      const deleted = await mesh.dc1.api("DELETE", `/v1/peering/${PEER_B}`);
      expect(deleted.status).toBe(200);
      const started = Date.now();
      await eventually("web of cluster-b to be refused", async () => !(await mesh.requests(1))[0].ok, {
        timeoutMs: 60_000,
      });
      figures.push(`${label}: peering deleted, traffic refused after ${Date.now() - started} ms`);
      expect((await mesh.requests(5)).filter((r) => r.ok)).toHaveLength(0);
    });
  },
);
