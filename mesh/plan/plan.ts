/**
 * The route plan: for every upstream of every connect proxy, which mode is in force, which
 * level decided it, the SNI name the proxy sends, and the hops the traffic takes. This is
 * the answer to "which path does my traffic take" (hashicorp/consul#12623).
 */
import { decideMeshGatewayMode, type ModeLevel } from "../model/mode";
import { meshProxies, serviceDefaultsByName } from "../model/mesh-proxies";
import { DEFAULT_GATEWAY_NAME, DEFAULT_NAMESPACE, DEFAULT_PARTITION } from "../model/defaults";
import { formatAddress, gatewayAddress } from "../model/gateway-address";
import { peeredServiceSni, serverSni, serviceSni } from "../model/sni";
import { isObject, listOf } from "../model/guards";
import {
  DEFAULT_TRUST_DOMAIN,
  type EffectiveMode,
  type Mesh,
  type MeshGatewaySpec,
  type Mode,
  type PeerSpec,
  type Upstream,
} from "../model/types";

/** One hop of a route. */
export type RouteHop =
  | {
      /** The downstream service (first hop) or the destination service (last hop). */
      kind: "service";
      /** Service name. */
      name: string;
      /** Its datacenter (the peer's name when `peer`). */
      datacenter: string;
      /** `datacenter` names a cluster peer, not a datacenter of the mesh. Default: absent. */
      peer?: true;
    }
  | {
      /** A mesh gateway. */
      kind: "mesh-gateway";
      /** Gateway service name (default `mesh-gateway`). */
      name: string;
      /** The gateway's datacenter. */
      datacenter: string;
      /** Which of the gateway's addresses is dialled: `LAN` from its own datacenter, `WAN` from another. */
      address: "LAN" | "WAN";
      /**
       * `address:port` (`[address]:port` for IPv6) of every gateway of `datacenter` on the side
       * dialled, in declaration order, by the one rule of `mesh/model/gateway-address.ts`
       * (`gatewayAddress`). A gateway with no address is left out: `[]` when none has one.
       */
      endpoints: string[];
      /** `datacenter` names a cluster peer, not a datacenter of the mesh. Default: absent. */
      peer?: true;
    };

/** The route of one upstream. */
export interface PlannedRoute {
  /** Field path of the upstream, e.g. `services[0].connect.sidecarService.proxy.upstreams[1]`. */
  path: string;
  /** The downstream: the service whose proxy has the upstream, and its datacenter. */
  source: { service: string; proxy: string; datacenter: string; namespace: string; partition: string };
  /**
   * The upstream's destination; namespace and partition default to the source's. A peer's service
   * has `peer` (this cluster's name for the peer) and `datacenter` `""`.
   */
  destination: { name: string; namespace: string; partition: string; datacenter: string; peer?: string };
  /** The upstream's local bind port. */
  localBindPort: number;
  /** The effective mesh gateway mode. */
  mode: EffectiveMode;
  /** Which level decided `mode`. */
  decidedBy: ModeLevel;
  /**
   * Whether a gateway carries the traffic: never within one datacenter, never in mode `none`;
   * always to a peer's service (its endpoints are the peer's gateways, whatever the mode).
   */
  usesGateway: boolean;
  /**
   * The SNI name the proxy sends (always the destination service's); for a peer's service,
   * `<svc>.<ns>.<ap>.<peer's name for us>.external.<peer's trust domain>`, with a placeholder for
   * what `peers` does not say.
   */
  sni: string;
  /** The hops, from the source service to the destination service. */
  hops: RouteHop[];
  /** One line, e.g. `web (dc1) → mesh-gateway dc1 LAN → mesh-gateway dc2 WAN → api (dc2)`. */
  text: string;
}

/** The path of the Consul servers' own traffic from one datacenter to another, through the gateways. */
export interface PlannedServerPath {
  /** The datacenter whose servers dial. */
  from: string;
  /** The datacenter dialled. */
  to: string;
  /** The SNI name they send for any server of `to` (`<node>.server.<to>.<domain>` for one of them). */
  sni: string;
  /** The hops: the servers (`consul`) of `from`, its gateways (LAN), those of `to` (WAN), the servers of `to`. */
  hops: RouteHop[];
  /** One line, e.g. `consul (dc2) → mesh-gateway dc2 LAN → mesh-gateway dc1 WAN → consul (dc1)`. */
  text: string;
}

/** A service of the mesh exported to a cluster peer, as the peer's proxies reach it. */
export interface PlannedExport {
  /** The service. */
  service: string;
  /** The peer it is exported to (this cluster's name for it). */
  peer: string;
  /** The SNI name the peer's proxies send: `<svc>.<ns>.<ap>.<peer>.external.<trust-domain>`. */
  sni: string;
  /** The service's protocol (`service-defaults`, else `proxy-defaults`' `config.protocol`, else `tcp`). */
  protocol: string;
  /**
   * Whether a mesh gateway must terminate mTLS for it (`http`, `http2`, `grpc`: Consul's Envoy
   * gateway does; ours never decrypts and refuses the name, so such a service is not reached through it).
   */
  terminatedAtGateway: boolean;
}

/** Every upstream route of a mesh, in declaration order. */
export interface RoutePlan {
  /** The trust domain the SNI names use. */
  trustDomain: string;
  /** The routes. */
  routes: PlannedRoute[];
  /**
   * With WAN federation through the mesh gateways (`wanFederation.mode` `"mesh-gateways"`): the
   * servers' path between every two datacenters, in declaration order. Default: absent.
   */
  servers?: PlannedServerPath[];
  /** The services exported to cluster peers (`peers[i].exports`), in declaration order. Default: absent. */
  exports?: PlannedExport[];
}

function hopText(hop: RouteHop): string {
  const where = hop.peer ? `peer ${hop.datacenter}` : hop.datacenter;
  return hop.kind === "service" ? `${hop.name} (${where})` : `${hop.name} ${where} ${hop.address}`;
}

/** A hop as the table shows it: a gateway with the addresses dialled. */
function hopWithAddresses(hop: RouteHop): string {
  if (hop.kind === "service") return hopText(hop);
  return `${hopText(hop)} (${hop.endpoints.length > 0 ? hop.endpoints.join(", ") : "no address"})`;
}

/** The hops shown one way each, joined by arrows; `direct` when no gateway carries the traffic. */
function pathText(hops: RouteHop[], usesGateway: boolean, show: (hop: RouteHop) => string): string {
  return hops.map(show).join(" → ") + (usesGateway ? "" : " direct");
}

/** The gateways of one datacenter, as a route's hop names and dials them. */
interface DatacenterGateways {
  /** The first declared there. */
  name: string;
  /** Their `address:port` from their own datacenter. */
  lan: string[];
  /** Their `address:port` from other datacenters. */
  wan: string[];
}

/** The gateways of every datacenter of `mesh` that declares one, in one pass. */
function gatewaysByDatacenter(mesh: Mesh): Map<string, DatacenterGateways> {
  const byDatacenter = new Map<string, DatacenterGateways>();
  for (const gw of listOf<MeshGatewaySpec>(mesh.gateways)) {
    if (!isObject(gw)) continue;
    const entry = byDatacenter.get(gw.datacenter) ?? { name: gw.name ?? DEFAULT_GATEWAY_NAME, lan: [], wan: [] };
    byDatacenter.set(gw.datacenter, entry);
    const lan = gatewayAddress(gw, "lan");
    const wan = gatewayAddress(gw, "wan");
    if (lan) entry.lan.push(formatAddress(lan));
    if (wan) entry.wan.push(formatAddress(wan));
  }
  return byDatacenter;
}

/**
 * The route plan of `mesh`: one entry per upstream of every connect proxy (both
 * `kind: "connect-proxy"` services and `connect.sidecarService` proxies). The mode follows
 * {@link decideMeshGatewayMode}: upstream, instance, the `service-defaults` named after the
 * downstream service (the sidecar's service, or a connect-proxy's `destinationServiceName`),
 * then `proxy-defaults`, as the seed documents it. An upstream with no mode at any of those
 * levels is planned `none` (direct), although real Consul would then apply the destination
 * service's `service-defaults` mode if it sets one (hashicorp/consul
 * `agent/consul/discoverychain/compile.go`): set the mode on the source side to be sure.
 * Works on any input (validate first for a meaningful plan); never throws.
 * @param mesh - The mesh.
 */
export function planRoutes(mesh: Mesh): RoutePlan {
  if (!isObject(mesh)) return { trustDomain: DEFAULT_TRUST_DOMAIN, routes: [] };
  const trustDomain =
    typeof mesh.trustDomain === "string" && mesh.trustDomain ? mesh.trustDomain : DEFAULT_TRUST_DOMAIN;
  const routes: PlannedRoute[] = [];
  const gateways = gatewaysByDatacenter(mesh);
  const serviceDefaults = serviceDefaultsByName(mesh);
  const peers = new Map(
    listOf<PeerSpec>(mesh.peers)
      .filter((peer) => isObject(peer) && typeof peer.name === "string")
      .map((peer) => [peer.name, peer]),
  );
  const gatewayHop = (datacenter: string, address: "LAN" | "WAN"): RouteHop => {
    const gws = gateways.get(datacenter);
    const endpoints = [...((address === "LAN" ? gws?.lan : gws?.wan) ?? [])];
    return { kind: "mesh-gateway", name: gws?.name ?? DEFAULT_GATEWAY_NAME, datacenter, address, endpoints };
  };
  for (const p of meshProxies(mesh)) {
    const sd = serviceDefaults.get(p.sourceService);
    const namespace = p.service.namespace || DEFAULT_NAMESPACE;
    const partition = p.service.partition || DEFAULT_PARTITION;
    listOf<Upstream>(p.proxy.upstreams).forEach((up, k) => {
      if (!isObject(up)) return;
      const datacenter = up.datacenter || p.service.datacenter;
      // Names go into text: on malformed input (which validateMesh reports) there is no route to plan.
      const names = [datacenter, p.service.datacenter, p.sourceService, up.destinationName, namespace, partition];
      if (!names.every((name) => typeof name === "string")) return;
      if (![up.destinationNamespace, up.destinationPartition].every((n) => n === undefined || typeof n === "string"))
        return;
      const destination = {
        name: up.destinationName,
        namespace: up.destinationNamespace || namespace,
        partition: up.destinationPartition || partition,
        datacenter,
      };
      const { mode, decidedBy } = decideMeshGatewayMode({
        upstream: up.meshGateway?.mode as Mode | undefined,
        instance: p.proxy.meshGateway?.mode,
        serviceDefaults: sd?.meshGateway?.mode,
        proxyDefaults: mesh.proxyDefaults?.meshGateway?.mode,
      });
      const from: RouteHop = { kind: "service", name: p.sourceService, datacenter: p.service.datacenter };
      if (typeof up.destinationPeer === "string") {
        const peer = peers.get(up.destinationPeer) ?? { name: up.destinationPeer };
        const hops: RouteHop[] = [from];
        if (mode === "local") hops.push(gatewayHop(from.datacenter, "LAN"));
        hops.push({
          kind: "mesh-gateway",
          name: DEFAULT_GATEWAY_NAME,
          datacenter: peer.name,
          address: "WAN",
          endpoints: [],
          peer: true,
        });
        hops.push({ kind: "service", name: destination.name, datacenter: peer.name, peer: true });
        routes.push({
          path: `${p.path}.upstreams[${k}]`,
          source: {
            service: p.sourceService,
            proxy: p.service.name,
            datacenter: p.service.datacenter,
            namespace,
            partition,
          },
          destination: { ...destination, datacenter: "", peer: peer.name },
          localBindPort: up.localBindPort,
          mode,
          decidedBy,
          usesGateway: true,
          sni: peeredServiceSni({
            service: destination.name,
            namespace: destination.namespace,
            partition: destination.partition,
            peer: peer.remoteName ?? "<peer's name for this cluster>",
            trustDomain: peer.trustDomain ?? "<peer's trust domain>",
          }),
          hops,
          text: pathText(hops, true, hopText),
        });
        return;
      }
      const crossDc = datacenter !== p.service.datacenter;
      const usesGateway = crossDc && mode !== "none";
      const to: RouteHop = { kind: "service", name: destination.name, datacenter };
      const hops: RouteHop[] = [from];
      if (usesGateway && mode === "local") hops.push(gatewayHop(from.datacenter, "LAN"));
      if (usesGateway) hops.push(gatewayHop(datacenter, "WAN"));
      hops.push(to);
      routes.push({
        path: `${p.path}.upstreams[${k}]`,
        source: {
          service: p.sourceService,
          proxy: p.service.name,
          datacenter: p.service.datacenter,
          namespace,
          partition,
        },
        destination,
        localBindPort: up.localBindPort,
        mode,
        decidedBy,
        usesGateway,
        sni: serviceSni({
          service: destination.name,
          namespace: destination.namespace,
          partition: destination.partition,
          datacenter,
          trustDomain,
        }),
        hops,
        text: pathText(hops, usesGateway, hopText),
      });
    });
  }
  const exports = plannedExports(mesh, trustDomain, serviceDefaults);
  const withExports = exports.length > 0 ? { exports } : {};
  if (mesh.wanFederation?.mode !== "mesh-gateways") return { trustDomain, routes, ...withExports };
  const names = listOf<{ name?: unknown }>(mesh.datacenters)
    .map((dc) => (isObject(dc) ? dc.name : undefined))
    .filter((name): name is string => typeof name === "string");
  const servers: PlannedServerPath[] = [];
  for (const from of names)
    for (const to of names.filter((n) => n !== from)) {
      const hops: RouteHop[] = [
        { kind: "service", name: "consul", datacenter: from },
        gatewayHop(from, "LAN"),
        gatewayHop(to, "WAN"),
        { kind: "service", name: "consul", datacenter: to },
      ];
      servers.push({ from, to, sni: serverSni({ datacenter: to }), hops, text: pathText(hops, true, hopText) });
    }
  return { trustDomain, routes, servers, ...withExports };
}

/** Protocols whose peered traffic a mesh gateway terminates (Consul's `IsProtocolHTTPLike`). */
const TERMINATED_AT_GATEWAY = new Set(["http", "http2", "grpc"]);

/** The services `mesh` exports to its peers, each with its protocol. */
function plannedExports(
  mesh: Mesh,
  trustDomain: string,
  serviceDefaults: Map<string, { protocol?: string }>,
): PlannedExport[] {
  const global = mesh.proxyDefaults?.config?.protocol;
  const exports: PlannedExport[] = [];
  for (const peer of listOf<PeerSpec>(mesh.peers)) {
    if (!isObject(peer) || typeof peer.name !== "string") continue;
    for (const service of listOf<string>(peer.exports)) {
      if (typeof service !== "string") continue;
      const protocol = String(
        serviceDefaults.get(service)?.protocol || (typeof global === "string" && global) || "tcp",
      );
      exports.push({
        service,
        peer: peer.name,
        sni: peeredServiceSni({ service, peer: peer.name, trustDomain }),
        protocol,
        terminatedAtGateway: TERMINATED_AT_GATEWAY.has(protocol.toLowerCase()),
      });
    }
  }
  return exports;
}

/**
 * The route plan as a table for people, one line per route and a header line, columns aligned:
 * `SOURCE` (service and datacenter), `UPSTREAM`, `DATACENTER` (the upstream's), `BIND PORT`
 * (local bind port), `MODE` (effective), `DECIDED BY` (the level), `SNI` and `HOPS` (each
 * gateway with the addresses dialled, `no address` when none is known). The SNI name is a
 * column rather than a second table so that a route is one line, found by `grep` from the SNI
 * name in a gateway's log; the hops, the only cell of varying length, come last.
 * @param plan - A route plan from {@link planRoutes}.
 */
export function formatRoutePlan(plan: RoutePlan): string {
  const servers = plan.servers?.length
    ? "\nConsul servers, through the gateways:\n" +
      alignedTable([
        ["FROM", "TO", "SNI", "HOPS"],
        ...plan.servers.map((p) => [p.from, p.to, p.sni, pathText(p.hops, true, hopWithAddresses)]),
      ])
    : "";
  const exports = plan.exports?.length
    ? "\nExported to cluster peers:\n" +
      alignedTable([
        ["SERVICE", "PEER", "PROTOCOL", "SNI", "THROUGH OUR GATEWAY"],
        ...plan.exports.map((e) => [
          e.service,
          e.peer,
          e.protocol,
          e.sni,
          e.terminatedAtGateway ? "refused: a gateway must terminate mTLS for it (Consul's Envoy gateway does)" : "yes",
        ]),
      ])
    : "";
  if (plan.routes.length === 0) return "no upstreams: nothing to route\n" + servers + exports;
  const header = ["SOURCE", "UPSTREAM", "DATACENTER", "BIND PORT", "MODE", "DECIDED BY", "SNI", "HOPS"];
  const rows = plan.routes.map((r) => [
    `${r.source.service} (${r.source.datacenter})`,
    r.destination.name,
    r.destination.peer ? `peer ${r.destination.peer}` : r.destination.datacenter,
    String(r.localBindPort),
    r.mode,
    r.decidedBy,
    r.sni,
    pathText(r.hops, r.usesGateway, hopWithAddresses),
  ]);
  return alignedTable([header, ...rows]) + servers + exports;
}

/** `rows` as lines, every column but the last padded to its widest cell. */
function alignedTable(rows: string[][]): string {
  const widths = rows[0].map((_, col) => rows.reduce((width, row) => Math.max(width, row[col].length), 0));
  const last = widths.length - 1;
  const line = (row: string[]) => row.map((cell, col) => (col === last ? cell : cell.padEnd(widths[col]))).join("  ");
  return `${rows.map(line).join("\n")}\n`;
}
