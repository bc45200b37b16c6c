/**
 * The two-datacenter mesh the real tests run: `web` in dc1 calls `api` in dc2 through its Envoy
 * sidecar's local bind port, with a mesh gateway (ours or Envoy) in each datacenter, on real
 * Consul. Registrations are the bodies `mesh/` renders, sent by the components' agent client.
 */
import { registerService } from "../../consul/agent";
import { toConfigEntry, toServiceRegistration, type EffectiveMode, type MeshService } from "../../mesh";
import { compileGatewayProgram, type GatewayProgram } from "./gateway-program";
import { eventually, freePorts } from "./processes";
import { RealConsul, type RealDatacenter } from "./real-consul";
import {
  envoyClusterEndpoints,
  gatewayAddresses,
  httpRequest,
  startEnvoyGateway,
  startEnvoySidecar,
  startOurGateway,
  startTinyApp,
  type GatewayAddresses,
  type GatewayKind,
  type RunningGateway,
  type RunningProxy,
  type TinyApp,
} from "./real-mesh";

/** Where a mode is set, in Consul's order of precedence (lowest first). */
export type Level = "proxy-defaults" | "service-defaults" | "service instance" | "upstream";
/** Every level. */
export const LEVELS: Level[] = ["proxy-defaults", "service-defaults", "service instance", "upstream"];

/** Options of {@link WebApiMesh}. */
export interface WebApiMeshOptions {
  /** The mesh gateway of each datacenter (a datacenter added later gets dc1's kind). */
  gateways: Record<"dc1" | "dc2", GatewayKind>;
  /**
   * WAN federation through the mesh gateways (needs `secure`): each datacenter's gateway starts
   * with its server and carries the servers' traffic. Default: `false` (WAN gossip joins).
   */
  throughGateways?: boolean;
  /** How our gateways learn routes (`--consul-routes`). Default: the gateway's default, `xds`. */
  ourRoutes?: "xds" | "catalog";
  /** ACLs on. Default: `false`. */
  acl?: boolean;
  /** TLS on every Consul link and gossip encryption (`RealConsulOptions.secure`). Default: `false`. */
  secure?: boolean;
  /**
   * The token our gateways run with, made once the servers are up. Default: the management token
   * (none with ACLs off).
   */
  gatewayToken?: (consul: RealConsul) => Promise<string>;
}

/** The whole mesh. */
export class WebApiMesh {
  consul!: RealConsul;
  program!: GatewayProgram;
  dc1!: RealDatacenter;
  dc2!: RealDatacenter;
  web!: TinyApp;
  api!: TinyApp;
  webSidecar!: RunningProxy;
  apiSidecar!: RunningProxy;
  gateways: Record<string, RunningGateway> = {};
  /** The token our gateways run with. */
  gatewayToken: string | undefined;
  /** web's sidecar listens on `bindHost:bindPort` for its `api` upstream: an address of its own, which nothing else binds. */
  bindHost = "";
  bindPort = 0;
  ports = { webSidecar: 0, apiSidecar: 0 };
  trustDomain = "";

  constructor(readonly options: WebApiMeshOptions) {}

  /** The Envoy cluster of web's `api` upstream: api's SNI name. */
  get upstreamCluster(): string {
    return `api.default.dc2.internal.${this.trustDomain}`;
  }

  /** The agent connection of a datacenter, with the management token. */
  agent(dc: RealDatacenter) {
    return { address: dc.httpAddress, token: this.consul.managementToken, caPem: this.consul.secrets?.ca.caPem };
  }

  /** `web` with its sidecar, and `mode` set at `level` when given. */
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
          proxy: {
            ...instanceMode,
            upstreams: [
              {
                destinationName: "api",
                datacenter: "dc2",
                localBindAddress: this.bindHost,
                localBindPort: this.bindPort,
                ...upstreamMode,
              },
            ],
          },
        },
      },
    };
  }

  /** Starts Consul, the apps, their registrations, the gateways and the sidecars; waits until all are healthy. */
  async start(): Promise<void> {
    this.program = await compileGatewayProgram();
    const throughGateways = this.options.throughGateways
      ? async (dc: RealDatacenter, consul: RealConsul) => {
          this.consul = consul;
          this.gatewayToken = consul.managementToken;
          const gateway = await this.startGateway(dc);
          this.gateways[dc.name] = gateway;
          return [`${gateway.addresses.wan.host}:${gateway.addresses.wan.port}`];
        }
      : undefined;
    this.consul = await RealConsul.start({ acl: this.options.acl, secure: this.options.secure, throughGateways });
    this.dc1 = this.consul.dc("dc1");
    this.dc2 = this.consul.dc("dc2");
    this.trustDomain = await this.consul.trustDomain();
    this.gatewayToken = this.options.gatewayToken
      ? await this.options.gatewayToken(this.consul)
      : this.consul.managementToken;
    this.bindHost = this.dc1.host.replace(/\.1$/, ".2");
    [this.bindPort] = await freePorts(this.bindHost, 1);
    [this.ports.webSidecar] = await freePorts(this.dc1.host, 1);
    [this.ports.apiSidecar] = await freePorts(this.dc2.host, 1);
    this.web = await startTinyApp("web", this.dc1);
    this.api = await startTinyApp("api", this.dc2);
    const api: MeshService = {
      name: "api",
      datacenter: "dc2",
      address: this.dc2.host,
      port: this.api.port,
      connect: { sidecarService: { port: this.ports.apiSidecar } },
    };
    await registerService(this.agent(this.dc2), toServiceRegistration(api));
    await registerService(this.agent(this.dc1), toServiceRegistration(this.webService()));
    if (this.options.acl) {
      // With ACLs on and default_policy deny, intentions deny by default too.
      const allow = await this.dc1.api("PUT", "/v1/config", {
        Kind: "service-intentions",
        Name: "api",
        Sources: [{ Name: "web", Action: "allow" }],
      });
      if (allow.status !== 200) throw new Error(`allow intention: ${allow.status} ${allow.text}`);
      // Written in the primary, enforced by api's sidecar in dc2: the sidecars start once dc2 has
      // it (replicated later: the likeliest cause of 5 of 5 first requests refused, once in CI).
      await eventually(
        "dc2 to allow web → api (the intention replicated from the primary)",
        async () => {
          const check = await this.dc2.api("GET", "/v1/connect/intentions/check?source=web&destination=api");
          return check.status === 200 && (check.json as { Allowed?: boolean }).Allowed === true;
        },
        { timeoutMs: 30_000, describe: () => this.consul.logs(5) },
      );
    }
    if (!throughGateways) for (const dc of [this.dc1, this.dc2]) this.gateways[dc.name] = await this.startGateway(dc);
    this.apiSidecar = await startEnvoySidecar(this.consul, this.dc2, "api");
    this.webSidecar = await startEnvoySidecar(this.consul, this.dc1, "web");
    // Gateways and sidecars are routed to once their TCP checks pass (first run within 10 s).
    await this.awaitHealthy(this.dc2, "/v1/health/connect/api?passing");
    for (const dc of [this.dc1, this.dc2]) await this.awaitHealthy(dc, "/v1/health/service/mesh-gateway?passing");
    // Our gateways then hold the whole picture: dc1's the other datacenter's gateway (with ACLs,
    // once the token has replicated there), dc2's api.
    for (const gateway of Object.values(this.gateways).filter((g) => g.kind === "ours")) {
      await eventually(
        `${gateway.name} to route the whole mesh`,
        async () => {
          const routes = (await (await fetch(`${gateway.adminUrl}/routes`)).json()) as {
            services: Array<{ name: string }>;
            gateways: Array<{ datacenter: string }>;
          };
          return gateway.datacenter === "dc1"
            ? routes.gateways.some((g) => g.datacenter === "dc2")
            : routes.services.some((s) => s.name === "api");
        },
        { timeoutMs: 60_000, describe: () => gateway.process.tail(10) },
      );
    }
  }

  /**
   * Starts a gateway of `dc` (of the kind the options say), at new addresses unless given, under
   * its kind's service ID unless given (a twin needs its own).
   */
  async startGateway(dc: RealDatacenter, addresses?: GatewayAddresses, serviceId?: string): Promise<RunningGateway> {
    const at = addresses ?? (await gatewayAddresses(dc));
    const kind = this.options.gateways[dc.name as "dc1" | "dc2"] ?? this.options.gateways.dc1;
    const expose = this.options.throughGateways === true;
    return kind === "ours"
      ? startOurGateway(this.consul, this.program, dc, at, {
          token: this.gatewayToken,
          ...(serviceId ? { serviceId } : {}),
          ...(this.options.ourRoutes ? { routes: this.options.ourRoutes } : {}),
          args: expose ? ["--expose-servers"] : [],
          readyTimeoutMs: expose ? 90_000 : 30_000,
        })
      : // A secondary's gateway is live once its datacenter has federated: its Connect CA comes from the primary.
        startEnvoyGateway(
          this.consul,
          dc,
          at,
          this.consul.managementToken,
          expose ? 90_000 : 30_000,
          expose,
          serviceId,
        );
  }

  /** Waits until `path` lists at least one healthy instance. */
  async awaitHealthy(dc: RealDatacenter, path: string): Promise<void> {
    await eventually(
      `${path} in ${dc.name} to be healthy`,
      async () => ((await dc.api("GET", path)).json as unknown[]).length > 0,
      { timeoutMs: 30_000 },
    );
  }

  /** Stops everything it started. */
  async stop(): Promise<void> {
    const proxies = [this.webSidecar, this.apiSidecar, ...Object.values(this.gateways)].filter(Boolean);
    await Promise.all(proxies.map((p) => p.stop()));
    await Promise.all([this.web?.close(), this.api?.close()]);
    await this.consul?.stop();
    await this.program?.remove();
  }

  /** Sets `mode` at `level` (and nowhere else); no level sets none. */
  async setMode(level: Level | undefined, mode?: EffectiveMode): Promise<void> {
    await registerService(this.agent(this.dc1), toServiceRegistration(this.webService(level, mode)));
    const proxyDefaults = toConfigEntry({
      kind: "proxy-defaults",
      name: "global",
      meshGateway: { mode: level === "proxy-defaults" ? mode : "" },
    });
    const serviceDefaults = toConfigEntry({
      kind: "service-defaults",
      name: "web",
      meshGateway: { mode: level === "service-defaults" ? mode : "" },
    });
    for (const entry of [proxyDefaults, serviceDefaults]) {
      const answer = await this.dc1.api("PUT", "/v1/config", entry);
      if (answer.status !== 200)
        throw new Error(`PUT /v1/config ${JSON.stringify(entry)}: ${answer.status} ${answer.text}`);
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
    await eventually(
      `web's sidecar to dial ${want} (${mode})`,
      async () => {
        const endpoints = await envoyClusterEndpoints(this.webSidecar, this.upstreamCluster);
        return endpoints.length === 1 && endpoints[0] === want;
      },
      { timeoutMs: 30_000, describe: () => this.consul.logs(5) },
    );
    return Date.now() - started;
  }

  /** `count` requests through web's upstream, one after the other: their outcomes. */
  async requests(count: number): Promise<Array<{ ok: boolean; body: string; ms: number }>> {
    const results = [];
    for (let i = 0; i < count; i++) results.push(await httpRequest(this.bindHost, this.bindPort));
    return results;
  }
}

/** The median of `values`. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}
