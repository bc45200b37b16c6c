/**
 * Cluster peering routes from the catalog (pure), as Consul's gateway config builds them
 * (hashicorp/consul `agent/proxycfg/mesh_gateway.go`, `agent/xds`), for `--consul-routes catalog`:
 *
 * - with `PeerThroughMeshGateways` (`GET /v1/config/mesh`): `server.<dc>.peering.<td>` to the
 *   local servers (`/v1/health/service/consul`, read replicas left out) at their gRPC TLS port
 *   (`Service.Meta.grpc_tls_port`; a server without one is left out), and each dialing peering's
 *   `PeerServerName` to its `PeerServerAddresses` (`GET /v1/peerings`);
 * - each service of the `exported-services` entries (`GET /v1/config/exported-services`; `*` for
 *   every service) to each consumer peering that exists: its peered name to the service's healthy
 *   connect endpoints, or refused when its protocol (`service-defaults`, else `proxy-defaults`'s
 *   `Config.protocol`) is `http`, `http2` or `grpc`, which Consul's gateway terminates;
 * - each imported service (`/v1/health/connect/<svc>?peer=<name>`, the peering's
 *   `StreamStatus.ImportedServices`): its `Connect.PeerMeta.SNI` names to the peer's gateways
 *   (the entries' WAN addresses), for proxies in mode `local`.
 */
import { DEFAULT_NAMESPACE, DEFAULT_PARTITION } from "../../mesh/model/defaults";
import { isPort } from "../../mesh/model/port";
import type { RouteEndpoint, RoutesFilePeeringRoute } from "../../mesh/model/routes-file";
import { peeredServiceSni, peeringServerSni } from "../../mesh/model/sni";
import { connectEndpoint, gatewayWanEndpoint, type HealthEntry } from "./catalog-entries";

/** The parts of a `/v1/peerings` entry the gateway reads. */
export interface PeeringJson {
  Name?: string;
  State?: string;
  PeerServerName?: string;
  PeerServerAddresses?: string[];
  StreamStatus?: { ImportedServices?: string[] | null };
}

/** The parts of an `exported-services` entry the gateway reads. */
export interface ExportedServicesJson {
  Services?: Array<{ Name?: string; Namespace?: string; Consumers?: Array<{ Peer?: string }> }>;
}

/** A config entry with a protocol: `service-defaults` (`Protocol`) or `proxy-defaults` (`Config.protocol`). */
export interface ProtocolEntryJson {
  Name?: string;
  Protocol?: string;
  Config?: { protocol?: unknown };
}

/** The parts of a `mesh` entry the gateway reads. */
export interface MeshEntryJson {
  Peering?: { PeerThroughMeshGateways?: boolean };
}

/** What the catalog says of peering; see the module's comment. */
export interface CatalogPeeringAnswers {
  /** `GET /v1/config/mesh`. */
  mesh: readonly MeshEntryJson[];
  /** `GET /v1/peerings`. */
  peerings: readonly PeeringJson[];
  /** `GET /v1/config/exported-services`. */
  exported: readonly ExportedServicesJson[];
  /** `GET /v1/config/service-defaults`. */
  serviceDefaults: readonly ProtocolEntryJson[];
  /** `GET /v1/config/proxy-defaults`. */
  proxyDefaults: readonly ProtocolEntryJson[];
  /** `GET /v1/health/service/consul` of the local datacenter. */
  servers: readonly HealthEntry[];
  /** Local service name → its `/v1/health/connect` entries. */
  local: ReadonlyMap<string, readonly HealthEntry[]>;
  /** Peer name → imported service name → its `/v1/health/connect/<svc>?peer=` entries. */
  imported: ReadonlyMap<string, ReadonlyMap<string, readonly HealthEntry[]>>;
}

/** Peerings that are gone or going: nothing routes to or for them. */
const ENDED = new Set(["DELETING", "TERMINATED"]);

/** Protocols whose peered traffic Consul's gateway terminates. */
const TERMINATED_PROTOCOLS = new Set(["http", "http2", "grpc"]);

const list = <T>(value: unknown): T[] => (Array.isArray(value) ? (value as T[]) : []);

/** `host:port` as an endpoint, or `undefined`. */
function hostPort(value: unknown): RouteEndpoint | undefined {
  if (typeof value !== "string") return undefined;
  const at = value.lastIndexOf(":");
  const port = Number(value.slice(at + 1));
  const address = value.slice(0, at).replace(/^\[(.*)\]$/, "$1");
  return at > 0 && address && isPort(port) ? { address, port } : undefined;
}

/** The protocol a service's traffic is, as its discovery chain would say. */
function protocolOf(service: string, answers: CatalogPeeringAnswers): string {
  const own = list<ProtocolEntryJson>(answers.serviceDefaults).find((e) => e?.Name === service)?.Protocol;
  const global = list<ProtocolEntryJson>(answers.proxyDefaults).find((e) => e?.Name === "global")?.Config?.protocol;
  return String(own || (typeof global === "string" && global) || "tcp").toLowerCase();
}

/**
 * The peering routes of a gateway's table (pure); `[]` when the cluster has no peering.
 * @param datacenter - The local datacenter, lower case.
 * @param trustDomain - The local trust domain, lower case.
 * @param answers - The catalog's answers.
 */
export function peeringRoutesFromCatalog(
  datacenter: string,
  trustDomain: string,
  answers: CatalogPeeringAnswers,
): RoutesFilePeeringRoute[] {
  const routes: RoutesFilePeeringRoute[] = [];
  const peerings = list<PeeringJson>(answers.peerings).filter(
    (p) => typeof p?.Name === "string" && !ENDED.has(String(p.State)),
  );
  const throughGateways = list<MeshEntryJson>(answers.mesh).some((e) => e?.Peering?.PeerThroughMeshGateways === true);
  if (throughGateways) {
    const servers = list<HealthEntry>(answers.servers)
      .filter((e) => e?.Service?.Meta?.read_replica !== "true")
      .map((e) => {
        const address = connectEndpoint(e)?.address;
        const port = Number(e.Service?.Meta?.grpc_tls_port);
        return address && isPort(port) ? { address, port } : undefined;
      })
      .filter((e): e is RouteEndpoint => e !== undefined);
    if (servers.length > 0)
      routes.push({ sni: peeringServerSni(datacenter, trustDomain), kind: "local-servers", endpoints: servers });
    for (const p of peerings) {
      if (!p.PeerServerName) continue;
      const endpoints = list<string>(p.PeerServerAddresses)
        .map(hostPort)
        .filter((e): e is RouteEndpoint => e !== undefined);
      routes.push({ sni: p.PeerServerName.toLowerCase(), kind: "peer-servers", peer: p.Name, endpoints });
    }
  }
  const peerNames = new Set(peerings.map((p) => p.Name as string));
  for (const entry of list<ExportedServicesJson>(answers.exported)) {
    for (const s of list<NonNullable<ExportedServicesJson["Services"]>[number]>(entry?.Services)) {
      if (typeof s?.Name !== "string") continue;
      const names = s.Name === "*" ? [...answers.local.keys()] : [s.Name];
      for (const service of names) {
        const terminates = TERMINATED_PROTOCOLS.has(protocolOf(service, answers));
        const endpoints = terminates
          ? []
          : (answers.local.get(service) ?? []).map(connectEndpoint).filter((e): e is RouteEndpoint => e !== undefined);
        for (const consumer of list<{ Peer?: string }>(s.Consumers)) {
          if (!consumer?.Peer || !peerNames.has(consumer.Peer)) continue;
          const sni = peeredServiceSni({
            service,
            namespace: s.Namespace || DEFAULT_NAMESPACE,
            partition: DEFAULT_PARTITION,
            peer: consumer.Peer,
            trustDomain,
          });
          routes.push({
            sni,
            kind: "exported",
            peer: consumer.Peer.toLowerCase(),
            service,
            ...(terminates ? { terminates } : {}),
            endpoints,
          });
        }
      }
    }
  }
  for (const [peer, services] of answers.imported) {
    if (!peerNames.has(peer)) continue;
    for (const [service, entries] of services) {
      const bySni = new Map<string, RouteEndpoint[]>();
      for (const entry of entries) {
        const sni = entry.Service?.Connect?.PeerMeta?.SNI?.[0];
        const endpoint = gatewayWanEndpoint(entry);
        if (typeof sni !== "string" || !endpoint) continue;
        bySni.set(sni.toLowerCase(), [...(bySni.get(sni.toLowerCase()) ?? []), endpoint]);
      }
      for (const [sni, endpoints] of bySni) routes.push({ sni, kind: "imported", peer, service, endpoints });
    }
  }
  return routes;
}
