/**
 * Two Consul clusters peered through their mesh gateways, as the real tests run them: cluster A
 * (datacenter dc1) accepts the peering and exports `api` (TCP) and `docs` (HTTP, which Consul's
 * gateway terminates mTLS for, so a gateway that never decrypts must refuse it); cluster B (datacenter dc2) dials it and
 * runs `web`, whose Envoy sidecar has `api` of peer `cluster-a` as an upstream. Each cluster has its
 * own servers, CA and trust domain, TLS on every link, the `mesh` config entry with
 * `PeerThroughMeshGateways`, and a mesh gateway (ours or Envoy). Registrations and config entries
 * are the bodies `mesh/` renders.
 */
import { registerService } from "../../consul/agent";
import { gatewayAclRules, toConfigEntry, toServiceRegistration, type MeshService } from "../../mesh";
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

/** Cluster A's name for cluster B (the peering it accepts). */
export const PEER_B = "cluster-b";
/** Cluster B's name for cluster A (the peering it dials). */
export const PEER_A = "cluster-a";

/** A token of exactly the policy `MeshGateway` declares for a gateway named `mesh-gateway`. */
async function gatewayToken(dc: RealDatacenter): Promise<string> {
  const policy = await dc.api("PUT", "/v1/acl/policy", { Name: "mesh-gateway", Rules: gatewayAclRules() });
  if (policy.status !== 200) throw new Error(`gateway policy: ${policy.status} ${policy.text}`);
  const token = await dc.api("PUT", "/v1/acl/token", {
    Description: "mesh-gateway",
    Policies: [{ Name: "mesh-gateway" }],
  });
  if (token.status !== 200) throw new Error(`gateway token: ${token.status} ${token.text}`);
  return (token.json as { SecretID: string }).SecretID;
}

/** Options of {@link PeeredMesh}. */
export interface PeeredMeshOptions {
  /** The mesh gateway of each cluster: dc1 (A, accepting, exporting) and dc2 (B, dialing, consuming). */
  gateways: Record<"dc1" | "dc2", GatewayKind>;
  /** How our gateways learn routes (`--consul-routes`). Default: the gateway's default, `xds`. */
  ourRoutes?: "xds" | "catalog";
  /**
   * ACLs on in both clusters (`default_policy = deny`): our gateways run with a token of exactly
   * the policy `MeshGateway` declares (`gatewayAclRules`). Default: `false`.
   */
  acl?: boolean;
}

/** The whole pair of clusters. */
export class PeeredMesh {
  a!: RealConsul;
  b!: RealConsul;
  program!: GatewayProgram;
  dc1!: RealDatacenter;
  dc2!: RealDatacenter;
  api!: TinyApp;
  web!: TinyApp;
  apiSidecar!: RunningProxy;
  webSidecar!: RunningProxy;
  gateways: Record<string, RunningGateway> = {};
  /** With ACLs: our gateways' token in each datacenter, made once (a restarted gateway reuses it). */
  gatewayTokens: Record<string, string> = {};
  trustDomains = { a: "", b: "" };
  /** web's sidecar listens on `bindHost:bindPort` for its `api` upstream. */
  bindHost = "";
  bindPort = 0;
  ports = { webSidecar: 0, apiSidecar: 0 };

  constructor(readonly options: PeeredMeshOptions) {}

  /** api's peered SNI name, as web's sidecar dials it. */
  get apiSni(): string {
    return `api.default.default.${PEER_B}.external.${this.trustDomains.a}`;
  }

  /** The agent connection of a datacenter, with its cluster's management token. */
  agent(dc: RealDatacenter) {
    const consul = dc === this.dc1 ? this.a : this.b;
    return { address: dc.httpAddress, token: consul.managementToken, caPem: consul.secrets?.ca.caPem };
  }

  /** `web` with its sidecar; its upstream `api` of peer {@link PEER_A} in `mode` when given. */
  webService(mode?: "local" | "remote"): MeshService {
    return {
      name: "web",
      datacenter: "dc2",
      address: this.dc2.host,
      port: this.web.port,
      connect: {
        sidecarService: {
          port: this.ports.webSidecar,
          proxy: {
            upstreams: [
              {
                destinationName: "api",
                destinationPeer: PEER_A,
                localBindAddress: this.bindHost,
                localBindPort: this.bindPort,
                ...(mode ? { meshGateway: { mode } } : {}),
              },
            ],
          },
        },
      },
    };
  }

  /** Starts both clusters, the apps, their sidecars and the gateways; does not peer them. */
  async start(): Promise<void> {
    this.program = await compileGatewayProgram();
    this.a = await RealConsul.start({ datacenters: ["dc1"], secure: true, acl: this.options.acl });
    this.b = await RealConsul.start({ datacenters: ["dc2"], secure: true, acl: this.options.acl });
    this.dc1 = this.a.dc("dc1");
    this.dc2 = this.b.dc("dc2");
    this.trustDomains = { a: await this.a.trustDomain(), b: await this.b.trustDomain() };
    for (const dc of [this.dc1, this.dc2]) {
      await this.put(dc, { Kind: "mesh", Peering: { PeerThroughMeshGateways: true } });
    }
    this.bindHost = this.dc2.host.replace(/\.1$/, ".2");
    [this.bindPort] = await freePorts(this.bindHost, 1);
    [this.ports.apiSidecar] = await freePorts(this.dc1.host, 1);
    [this.ports.webSidecar] = await freePorts(this.dc2.host, 1);
    this.api = await startTinyApp("api", this.dc1);
    this.web = await startTinyApp("web", this.dc2);
    const api: MeshService = {
      name: "api",
      datacenter: "dc1",
      address: this.dc1.host,
      port: this.api.port,
      connect: { sidecarService: { port: this.ports.apiSidecar } },
    };
    await registerService(this.agent(this.dc1), toServiceRegistration(api));
    // docs needs no sidecar running: Consul's gateway terminates for it whatever its endpoints.
    await this.put(this.dc1, toConfigEntry({ kind: "service-defaults", name: "docs", protocol: "http" }));
    await registerService(
      this.agent(this.dc1),
      toServiceRegistration({
        name: "docs",
        datacenter: "dc1",
        address: this.dc1.host,
        port: 1,
        connect: { sidecarService: {} },
      }),
    );
    await registerService(this.agent(this.dc2), toServiceRegistration(this.webService()));
    for (const dc of [this.dc1, this.dc2]) this.gateways[dc.name] = await this.startGateway(dc);
    this.apiSidecar = await startEnvoySidecar(this.a, this.dc1, "api");
    this.webSidecar = await startEnvoySidecar(this.b, this.dc2, "web");
    for (const dc of [this.dc1, this.dc2]) await this.awaitHealthy(dc, "/v1/health/service/mesh-gateway?passing");
    await this.awaitHealthy(this.dc1, "/v1/health/connect/api?passing");
  }

  /** Starts the gateway of `dc`, of the kind the options say, at new addresses unless given. */
  async startGateway(dc: RealDatacenter, addresses?: GatewayAddresses): Promise<RunningGateway> {
    const consul = dc === this.dc1 ? this.a : this.b;
    const at = addresses ?? (await gatewayAddresses(dc));
    if (this.options.gateways[dc.name as "dc1" | "dc2"] !== "ours") return startEnvoyGateway(consul, dc, at);
    if (this.options.acl && !this.gatewayTokens[dc.name]) this.gatewayTokens[dc.name] = await gatewayToken(dc);
    return startOurGateway(consul, this.program, dc, at, {
      ...(this.options.ourRoutes ? { routes: this.options.ourRoutes } : {}),
      ...(this.options.acl ? { token: this.gatewayTokens[dc.name] } : {}),
    });
  }

  /**
   * Peers the clusters: a token from A for {@link PEER_B}, established from B as {@link PEER_A};
   * resolves once both sides say `ACTIVE`, with the time that took in ms.
   */
  async peer(): Promise<number> {
    const started = Date.now();
    const token = await this.dc1.api("POST", "/v1/peering/token", { PeerName: PEER_B });
    if (token.status !== 200) throw new Error(`peering token: ${token.status} ${token.text}`);
    const { PeeringToken } = token.json as { PeeringToken: string };
    const established = await this.dc2.api("POST", "/v1/peering/establish", { PeerName: PEER_A, PeeringToken });
    if (established.status !== 200) throw new Error(`peering establish: ${established.status} ${established.text}`);
    await eventually(
      "the peering to be active on both sides",
      async () =>
        (await this.peeringState(this.dc1, PEER_B)) === "ACTIVE" &&
        (await this.peeringState(this.dc2, PEER_A)) === "ACTIVE",
      { timeoutMs: 90_000, describe: () => `${this.a.logs(10)}\n${this.b.logs(10)}` },
    );
    return Date.now() - started;
  }

  /** The state of peering `name` as `dc` sees it, or `""` when there is none. */
  async peeringState(dc: RealDatacenter, name: string): Promise<string> {
    const answer = await dc.api("GET", `/v1/peering/${name}`);
    return answer.status === 200 ? ((answer.json as { State?: string }).State ?? "") : "";
  }

  /** The server addresses B dials A's servers at, from B's peering (A's gateways, through the gateways). */
  async peerServerAddresses(): Promise<string[]> {
    const answer = await this.dc2.api("GET", `/v1/peering/${PEER_A}`);
    return ((answer.json as { PeerServerAddresses?: string[] }).PeerServerAddresses ?? []).sort();
  }

  /** Exports `services` of A to {@link PEER_B}. */
  async exportServices(services: string[]): Promise<void> {
    await this.put(this.dc1, {
      Kind: "exported-services",
      Name: "default",
      Services: services.map((Name) => ({ Name, Consumers: [{ Peer: PEER_B }] })),
    });
  }

  /** Writes A's intention on `api` from web of {@link PEER_B}. */
  async intention(action: "allow" | "deny"): Promise<void> {
    await this.put(this.dc1, {
      Kind: "service-intentions",
      Name: "api",
      Sources: [{ Name: "web", Peer: PEER_B, Action: action }],
    });
  }

  /** Registers web again with its upstream in `mode`. */
  async setMode(mode: "local" | "remote"): Promise<void> {
    await registerService(this.agent(this.dc2), toServiceRegistration(this.webService(mode)));
  }

  /** Waits until web's sidecar has an endpoint for api: where it dials for `mode`. */
  async awaitEndpoint(mode: "local" | "remote"): Promise<void> {
    const want =
      mode === "local"
        ? `${this.gateways.dc2.addresses.lan.host}:${this.gateways.dc2.addresses.lan.port}`
        : `${this.gateways.dc1.addresses.wan.host}:${this.gateways.dc1.addresses.wan.port}`;
    await eventually(
      `web's sidecar to dial api of ${PEER_A} at ${want} (${mode})`,
      async () => (await envoyClusterEndpoints(this.webSidecar, this.upstreamCluster)).includes(want),
      { timeoutMs: 60_000, describe: () => `${this.b.logs(5)}` },
    );
  }

  /** The Envoy cluster of web's `api` upstream. */
  get upstreamCluster(): string {
    return `api.default.${PEER_A}.external.${this.trustDomains.a}`;
  }

  /** `count` requests through web's upstream, one after the other. */
  async requests(count: number): Promise<Array<{ ok: boolean; body: string; ms: number }>> {
    const results = [];
    for (let i = 0; i < count; i++) results.push(await httpRequest(this.bindHost, this.bindPort));
    return results;
  }

  /** Stops everything it started. */
  async stop(): Promise<void> {
    const proxies = [this.webSidecar, this.apiSidecar, ...Object.values(this.gateways)].filter(Boolean);
    await Promise.all(proxies.map((p) => p.stop()));
    await Promise.all([this.web?.close(), this.api?.close()]);
    await this.a?.stop();
    await this.b?.stop();
    await this.program?.remove();
  }

  private async put(dc: RealDatacenter, entry: unknown): Promise<void> {
    const answer = await dc.api("PUT", "/v1/config", entry);
    if (answer.status !== 200)
      throw new Error(`PUT /v1/config ${JSON.stringify(entry)}: ${answer.status} ${answer.text}`);
  }

  private async awaitHealthy(dc: RealDatacenter, path: string): Promise<void> {
    await eventually(
      `${path} in ${dc.name} to be healthy`,
      async () => ((await dc.api("GET", path)).json as unknown[]).length > 0,
      { timeoutMs: 30_000 },
    );
  }
}
