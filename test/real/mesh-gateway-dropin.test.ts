/**
 * Our gateway as the mesh gateway of a real Consul mesh with Consul's own Envoy sidecars, and
 * Envoy as the reference beside it: `web` (dc1) calls `api` (dc2) through its sidecar's local bind
 * port, with the gateway mode set at each level of Consul's documentation in turn (proxy-defaults,
 * service-defaults, service instance, upstream), `remote` and `local`. Each case checks where the
 * sidecar dials (its Envoy cluster's endpoints), that requests arrive, and which gateways carried
 * them. mTLS is Consul's own: a `deny` intention makes the same request fail.
 */
import { registerService } from "../../components/consul-agent-client";
import { toConfigEntry, toServiceRegistration, type EffectiveMode, type MeshService } from "../../mesh";
import { compileGatewayProgram, type GatewayProgram } from "../support/gateway-program";
import { eventually, freePorts } from "../support/processes";
import { RealConsul, type RealDatacenter } from "../support/real-consul";
import {
  connectionsSeen,
  envoyClusterEndpoints,
  gatewayAddresses,
  httpRequest,
  startEnvoySidecar,
  startGatewayOf,
  startTinyApp,
  type GatewayKind,
  type RunningGateway,
  type RunningProxy,
  type TinyApp,
} from "../support/real-mesh";

jest.setTimeout(240_000);

/** Where a mode is set. */
type Level = "proxy-defaults" | "service-defaults" | "service instance" | "upstream";
const LEVELS: Level[] = ["proxy-defaults", "service-defaults", "service instance", "upstream"];
const REQUESTS = 10;

/** Figures of each case, printed at the end of each suite for the note. */
const figures: string[] = [];
afterAll(() => {
  if (figures.length) process.stdout.write(`\nreal mesh figures:\n${figures.join("\n")}\n`);
});

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** The whole mesh for one pairing of gateways. */
class Mesh {
  consul!: RealConsul;
  program!: GatewayProgram;
  dc1!: RealDatacenter;
  dc2!: RealDatacenter;
  web!: TinyApp;
  api!: TinyApp;
  webSidecar!: RunningProxy;
  apiSidecar!: RunningProxy;
  gateways: Record<string, RunningGateway> = {};
  bindPort = 0;
  ports = { webSidecar: 0, apiSidecar: 0 };
  trustDomain = "";

  constructor(readonly kinds: Record<"dc1" | "dc2", GatewayKind>) {}

  get upstreamCluster(): string {
    return `api.default.dc2.internal.${this.trustDomain}`;
  }

  webService(level?: Level, mode?: EffectiveMode): MeshService {
    const upstreamMode = level === "upstream" ? { meshGateway: { mode } } : {};
    const instanceMode = level === "service instance" ? { meshGateway: { mode } } : {};
    return {
      name: "web",
      datacenter: "dc1",
      address: this.dc1.host,
      port: this.web.port,
      connect: {
        sidecarService: {
          port: this.ports.webSidecar,
          proxy: { ...instanceMode, upstreams: [{ destinationName: "api", datacenter: "dc2", localBindPort: this.bindPort, ...upstreamMode }] },
        },
      },
    };
  }

  async start(): Promise<void> {
    this.program = await compileGatewayProgram();
    this.consul = await RealConsul.start();
    this.dc1 = this.consul.dc("dc1");
    this.dc2 = this.consul.dc("dc2");
    this.trustDomain = await this.consul.trustDomain();
    [this.bindPort] = await freePorts("127.0.0.1", 1);
    [this.ports.webSidecar] = await freePorts(this.dc1.host, 1);
    [this.ports.apiSidecar] = await freePorts(this.dc2.host, 1);
    this.web = await startTinyApp("web", this.dc1);
    this.api = await startTinyApp("api", this.dc2);
    const api: MeshService = { name: "api", datacenter: "dc2", address: this.dc2.host, port: this.api.port, connect: { sidecarService: { port: this.ports.apiSidecar } } };
    await registerService({ address: this.dc2.httpAddress }, toServiceRegistration(api));
    await registerService({ address: this.dc1.httpAddress }, toServiceRegistration(this.webService()));
    for (const dc of [this.dc1, this.dc2]) {
      const kind = this.kinds[dc.name as "dc1" | "dc2"];
      this.gateways[dc.name] = await startGatewayOf(kind, this.consul, this.program, dc, await gatewayAddresses(dc));
    }
    this.apiSidecar = await startEnvoySidecar(this.consul, this.dc2, "api");
    this.webSidecar = await startEnvoySidecar(this.consul, this.dc1, "web");
    // Gateways and sidecars are routed to once their TCP checks pass (first run within 10 s).
    for (const [dc, service] of [[this.dc2, "api"], [this.dc1, "mesh-gateway"], [this.dc2, "mesh-gateway"]] as const) {
      await eventually(`${service} in ${dc.name} to be healthy`, async () => {
        const path = service === "api" ? "/v1/health/connect/api?passing" : `/v1/health/service/${service}?passing`;
        return ((await dc.api("GET", path)).json as unknown[]).length > 0;
      }, { timeoutMs: 30_000 });
    }
  }

  async stop(): Promise<void> {
    const proxies = [this.webSidecar, this.apiSidecar, ...Object.values(this.gateways)].filter(Boolean);
    await Promise.all(proxies.map((p) => p.stop()));
    await Promise.all([this.web?.close(), this.api?.close()]);
    await this.consul?.stop();
    await this.program?.remove();
  }

  /** Sets `mode` at `level` (and nowhere else). */
  async setMode(level: Level | undefined, mode?: EffectiveMode): Promise<void> {
    await registerService({ address: this.dc1.httpAddress }, toServiceRegistration(this.webService(level, mode)));
    const proxyDefaults = toConfigEntry({ kind: "proxy-defaults", name: "global", meshGateway: { mode: level === "proxy-defaults" ? mode : "" } });
    const serviceDefaults = toConfigEntry({ kind: "service-defaults", name: "web", meshGateway: { mode: level === "service-defaults" ? mode : "" } });
    for (const entry of [proxyDefaults, serviceDefaults]) {
      const answer = await this.dc1.api("PUT", "/v1/config", entry);
      expect(answer.status).toBe(200);
    }
  }

  /** Where web's sidecar must dial for `mode`: a gateway's address, or api's sidecar. */
  expectedEndpoint(mode: EffectiveMode): string {
    if (mode === "remote") return `${this.gateways.dc2.addresses.wan.host}:${this.gateways.dc2.addresses.wan.port}`;
    if (mode === "local") return `${this.gateways.dc1.addresses.lan.host}:${this.gateways.dc1.addresses.lan.port}`;
    return `${this.dc2.host}:${this.ports.apiSidecar}`;
  }

  /** Waits until web's sidecar dials where `mode` says; returns the time it took in ms. */
  async awaitEndpoint(mode: EffectiveMode): Promise<number> {
    const started = Date.now();
    const want = this.expectedEndpoint(mode);
    await eventually(`web's sidecar to dial ${want} (${mode})`, async () => {
      const endpoints = await envoyClusterEndpoints(this.webSidecar, this.upstreamCluster);
      return endpoints.length === 1 && endpoints[0] === want;
    }, { timeoutMs: 30_000, describe: () => this.consul.logs(5) });
    return Date.now() - started;
  }

  /** `count` requests through web's upstream: their outcomes. */
  async requests(count = REQUESTS): Promise<Array<{ ok: boolean; body: string; ms: number }>> {
    const results = [];
    for (let i = 0; i < count; i++) results.push(await httpRequest("127.0.0.1", this.bindPort));
    return results;
  }
}

describe.each([
  ["ours", "ours"],
  ["envoy", "envoy"],
  ["ours", "envoy"],
  ["envoy", "ours"],
] as Array<[GatewayKind, GatewayKind]>)("mesh gateways: %s in dc1, %s in dc2, Envoy sidecars", (dc1Kind, dc2Kind) => {
  const mesh = new Mesh({ dc1: dc1Kind, dc2: dc2Kind });
  const label = `${dc1Kind}/${dc2Kind}`;
  const mixed = dc1Kind !== dc2Kind;

  beforeAll(() => mesh.start(), 180_000);
  afterAll(() => mesh.stop());

  test("with no mode set anywhere, web's sidecar dials api's sidecar directly (none)", async () => {
    await mesh.setMode(undefined);
    await mesh.awaitEndpoint("none");
    // Right after start, api's sidecar may still be loading its listener: wait for a first answer.
    const started = Date.now();
    const first = await eventually("a first answer from api", async () => {
      const [result] = await mesh.requests(1);
      return result.ok ? result : undefined;
    }, { timeoutMs: 30_000 });
    expect(first.body).toBe("api in dc2\n");
    figures.push(`${label} none: first answer ${Date.now() - started} ms after the sidecars were live`);
    const results = await mesh.requests(3);
    expect(results.map((r) => r.body)).toEqual(Array(3).fill("api in dc2\n"));
  });

  const cases: Array<[Level, EffectiveMode]> = (mixed ? (["upstream"] as Level[]) : LEVELS).flatMap((level) => [
    [level, "remote"],
    [level, "local"],
  ] as Array<[Level, EffectiveMode]>);

  test.each(cases)("mode set at the %s level: %s", async (level, mode) => {
    await mesh.setMode(level, mode);
    const tookMs = await mesh.awaitEndpoint(mode);
    const before = { dc1: await connectionsSeen(mesh.gateways.dc1), dc2: await connectionsSeen(mesh.gateways.dc2) };
    const apiServed = mesh.api.served;
    const results = await mesh.requests();
    expect(results.filter((r) => !r.ok)).toEqual([]);
    expect(results.map((r) => r.body)).toEqual(Array(REQUESTS).fill("api in dc2\n"));
    expect(mesh.api.served - apiServed).toBe(REQUESTS);
    const after = { dc1: await connectionsSeen(mesh.gateways.dc1), dc2: await connectionsSeen(mesh.gateways.dc2) };
    // remote: dc2's gateway alone carries them; local: dc1's, then dc2's.
    expect(after.dc2 - before.dc2).toBe(REQUESTS);
    expect(after.dc1 - before.dc1).toBe(mode === "local" ? REQUESTS : 0);
    figures.push(`${label} ${level} ${mode}: applied in ${tookMs} ms, ${REQUESTS}/${REQUESTS} requests, p50 ${median(results.map((r) => r.ms)).toFixed(2)} ms`);
  });

  test("a deny intention makes the same request fail; removing it lets it through again", async () => {
    await mesh.setMode("upstream", "remote");
    await mesh.awaitEndpoint("remote");
    expect((await mesh.requests(1))[0]).toMatchObject({ ok: true, body: "api in dc2\n" });
    const intention = { Kind: "service-intentions", Name: "api", Sources: [{ Name: "web", Action: "deny" }] };
    expect((await mesh.dc1.api("PUT", "/v1/config", intention)).status).toBe(200);
    let started = Date.now();
    await eventually("the deny intention to take effect", async () => !(await mesh.requests(1))[0].ok, { timeoutMs: 30_000 });
    const denyMs = Date.now() - started;
    const apiServed = mesh.api.served;
    const denied = await mesh.requests(3);
    expect(denied.every((r) => !r.ok)).toBe(true);
    expect(mesh.api.served).toBe(apiServed);
    expect((await mesh.dc1.api("DELETE", "/v1/config/service-intentions/api")).status).toBe(200);
    started = Date.now();
    await eventually("the intention's removal to take effect", async () => (await mesh.requests(1))[0].ok, { timeoutMs: 30_000 });
    figures.push(`${label} deny intention: effective in ${denyMs} ms, lifted in ${Date.now() - started} ms`);
  });
});
