/**
 * Our gateway as the mesh gateway of a real Consul mesh with Consul's own Envoy sidecars, and
 * Envoy as the reference beside it: `web` (dc1) calls `api` (dc2) through its sidecar's local bind
 * port, with the gateway mode set at each level of Consul's documentation in turn (proxy-defaults,
 * service-defaults, service instance, upstream), `remote` and `local`. Each case checks where the
 * sidecar dials (its Envoy cluster's endpoints), that requests arrive, and which gateways carried
 * them. mTLS is Consul's own: a `deny` intention makes the same request fail.
 */
import type { EffectiveMode } from "../../mesh";
import { eventually } from "../support/processes";
import { connectionsSeen, type GatewayKind } from "../support/real-mesh";
import { LEVELS, median, WebApiMesh, type Level } from "../support/web-api-mesh";

jest.setTimeout(240_000);

const REQUESTS = 10;

/** Figures of each case, printed at the end for the note. */
const figures: string[] = [];
afterAll(() => {
  if (figures.length) process.stdout.write(`\nreal mesh figures:\n${figures.join("\n")}\n`);
});

describe.each([
  ["ours", "ours"],
  ["envoy", "envoy"],
  ["ours", "envoy"],
  ["envoy", "ours"],
] as Array<[GatewayKind, GatewayKind]>)("mesh gateways: %s in dc1, %s in dc2, Envoy sidecars", (dc1Kind, dc2Kind) => {
  const mesh = new WebApiMesh({ gateways: { dc1: dc1Kind, dc2: dc2Kind } });
  const label = `${dc1Kind}/${dc2Kind}`;
  const mixed = dc1Kind !== dc2Kind;

  beforeAll(() => mesh.start(), 180_000);
  afterAll(() => mesh.stop());

  test("with no mode set anywhere, web's sidecar dials api's sidecar directly (none)", async () => {
    await mesh.setMode(undefined);
    await mesh.awaitEndpoint("none");
    // Right after start, api's sidecar may still be loading its listener: wait for a first answer.
    const started = Date.now();
    const first = await eventually(
      "a first answer from api",
      async () => {
        const [result] = await mesh.requests(1);
        return result.ok ? result : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(first.body).toBe("api in dc2\n");
    figures.push(`${label} none: first answer ${Date.now() - started} ms after the sidecars were live`);
    const results = await mesh.requests(3);
    expect(results.map((r) => r.body)).toEqual(Array(3).fill("api in dc2\n"));
  });

  const cases: Array<[Level, EffectiveMode]> = (mixed ? (["upstream"] as Level[]) : LEVELS).flatMap(
    (level) =>
      [
        [level, "remote"],
        [level, "local"],
      ] as Array<[Level, EffectiveMode]>,
  );

  test.each(cases)("mode set at the %s level: %s", async (level, mode) => {
    await mesh.setMode(level, mode);
    const tookMs = await mesh.awaitEndpoint(mode);
    const before = { dc1: await connectionsSeen(mesh.gateways.dc1), dc2: await connectionsSeen(mesh.gateways.dc2) };
    const apiServed = mesh.api.served;
    const results = await mesh.requests(REQUESTS);
    expect(results.filter((r) => !r.ok)).toEqual([]);
    expect(results.map((r) => r.body)).toEqual(Array(REQUESTS).fill("api in dc2\n"));
    expect(mesh.api.served - apiServed).toBe(REQUESTS);
    const after = { dc1: await connectionsSeen(mesh.gateways.dc1), dc2: await connectionsSeen(mesh.gateways.dc2) };
    // remote: dc2's gateway alone carries them; local: dc1's, then dc2's.
    expect(after.dc2 - before.dc2).toBe(REQUESTS);
    expect(after.dc1 - before.dc1).toBe(mode === "local" ? REQUESTS : 0);
    figures.push(
      `${label} ${level} ${mode}: applied in ${tookMs} ms, ${REQUESTS}/${REQUESTS} requests, p50 ${median(results.map((r) => r.ms)).toFixed(2)} ms`,
    );
  });

  test("a deny intention makes the same request fail; removing it lets it through again", async () => {
    await mesh.setMode("upstream", "remote");
    await mesh.awaitEndpoint("remote");
    expect((await mesh.requests(1))[0]).toMatchObject({ ok: true, body: "api in dc2\n" });
    const intention = { Kind: "service-intentions", Name: "api", Sources: [{ Name: "web", Action: "deny" }] };
    expect((await mesh.dc1.api("PUT", "/v1/config", intention)).status).toBe(200);
    let started = Date.now();
    await eventually("the deny intention to take effect", async () => !(await mesh.requests(1))[0].ok, {
      timeoutMs: 30_000,
    });
    const denyMs = Date.now() - started;
    const apiServed = mesh.api.served;
    const denied = await mesh.requests(3);
    expect(denied.every((r) => !r.ok)).toBe(true);
    expect(mesh.api.served).toBe(apiServed);
    expect((await mesh.dc1.api("DELETE", "/v1/config/service-intentions/api")).status).toBe(200);
    started = Date.now();
    await eventually("the intention's removal to take effect", async () => (await mesh.requests(1))[0].ok, {
      timeoutMs: 30_000,
    });
    figures.push(`${label} deny intention: effective in ${denyMs} ms, lifted in ${Date.now() - started} ms`);
  });
});
