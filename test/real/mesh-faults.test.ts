/**
 * The faults of a real mesh, with traffic flowing from `web` (dc1) to `api` (dc2) in `local` mode,
 * so that every request crosses both of our gateways (Consul Connect mTLS end to end, with the
 * client's and api's certificates from Consul's CA): the local Consul server crashes for 30 s; a
 * remote gateway is killed and comes back on another port; the upstream dies mid-stream; a gateway
 * gets SIGTERM with streams in flight. The scenarios are shared with the soak (`npm run soak`).
 */
import {
  consulCrash,
  remoteGatewayKilled,
  sigtermWithStreams,
  upstreamDiesMidStream,
} from "../support/mesh-fault-scenarios";
import { WebApiMesh } from "../support/web-api-mesh";

jest.setTimeout(240_000);

const figures: string[] = [];
afterAll(() => {
  if (figures.length) process.stdout.write(`\nmesh fault figures:\n${figures.join("\n")}\n`);
});

describe("faults of a real mesh (our gateways, local mode)", () => {
  const mesh = new WebApiMesh({ gateways: { dc1: "ours", dc2: "ours" } });
  beforeAll(async () => {
    await mesh.start();
    await mesh.setMode("upstream", "local");
    await mesh.awaitEndpoint("local");
  }, 180_000);
  afterAll(() => mesh.stop());

  test("dc1's Consul server crashes for 30 s: the gateway keeps its last good routes, says stale, and recovers", async () => {
    const seen = await consulCrash(mesh);
    expect(seen.beforeCrash.length).toBeGreaterThan(0);
    expect(seen.beforeCrash.every((o) => o.ok && o.body === "api in dc2\n")).toBe(true);
    expect(seen.readyzWhileDown.status).toBe(503);
    expect(seen.readyzWhileDown.body).toMatchObject({ stale: true });
    expect(seen.readyzAfter).toBe(200);
    expect(seen.failed).toEqual([]);
    expect(seen.outcomes.length).toBeGreaterThan(100);
    figures.push(`consul crash: ${seen.summary}`);
  });

  test("a remote gateway killed: dc1's gateway fails over to the other at once, then uses its replacement on a new port", async () => {
    const seen = await remoteGatewayKilled(mesh);
    // A request in flight through the killed gateway dies with it; every one started after the
    // kill goes through the other gateway.
    const failed = seen.outcomes.filter((o) => !o.ok);
    expect(failed.filter((o) => o.at >= seen.killedAt)).toEqual([]);
    expect(failed.length).toBeLessThanOrEqual(1);
    figures.push(`remote gateway killed: ${seen.summary}`);
  });

  test("SIGTERM with streams in flight: they finish within the drain grace, new connections are refused, exit 0", async () => {
    const seen = await sigtermWithStreams(mesh);
    expect(seen.exitCode).toBe(0);
    expect(seen.streams.map((r) => [r.ok, r.body.endsWith("api done\n")])).toEqual([
      [true, true],
      [true, true],
      [true, true],
    ]);
    // Drained and gone: nothing accepts on its address now.
    expect(seen.acceptedAfterExit).toBe(false);
    figures.push(`SIGTERM: ${seen.summary}`);
  });

  test("the upstream dies mid-stream: the client's stream is closed, not left hanging, and the gateways hold no connection", async () => {
    const seen = await upstreamDiesMidStream(mesh);
    expect(seen.result.ok).toBe(false);
    expect(seen.result.body).toContain("tick");
    expect(seen.closedMs).toBeLessThan(5000);
    figures.push(`upstream killed mid-stream: ${seen.summary}`);
  });
});
