/**
 * The route plan: for every upstream of every connect proxy, which mode is in force, which
 * level decided it, the SNI name the proxy sends, and the hops the traffic takes. This is
 * the answer to "which path does my traffic take" (hashicorp/consul#12623).
 */
import { decideMeshGatewayMode, type ModeLevel } from "./mode";
import { meshProxies, serviceDefaultsFor } from "./mesh-proxies";
import { serviceSni } from "./sni";
import { isObject, listOf } from "./guards";
import { DEFAULT_TRUST_DOMAIN, type EffectiveMode, type Mesh, type MeshGatewaySpec, type Mode, type Upstream } from "./types";

/** One hop of a route. */
export type RouteHop =
  | {
      /** The downstream service (first hop) or the destination service (last hop). */
      kind: "service";
      /** Service name. */
      name: string;
      /** Its datacenter. */
      datacenter: string;
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
    };

/** The route of one upstream. */
export interface PlannedRoute {
  /** Field path of the upstream, e.g. `services[0].connect.sidecarService.proxy.upstreams[1]`. */
  path: string;
  /** The downstream: the service whose proxy has the upstream, and its datacenter. */
  source: { service: string; proxy: string; datacenter: string; namespace: string; partition: string };
  /** The upstream's destination; namespace and partition default to the source's. */
  destination: { name: string; namespace: string; partition: string; datacenter: string };
  /** The upstream's local bind port. */
  localBindPort: number;
  /** The effective mesh gateway mode. */
  mode: EffectiveMode;
  /** Which level decided `mode`. */
  decidedBy: ModeLevel;
  /** Whether a gateway carries the traffic: never within one datacenter, never in mode `none`. */
  usesGateway: boolean;
  /** The SNI name the proxy sends (always the destination service's). */
  sni: string;
  /** The hops, from the source service to the destination service. */
  hops: RouteHop[];
  /** One line, e.g. `web (dc1) → mesh-gateway dc1 LAN → mesh-gateway dc2 WAN → api (dc2)`. */
  text: string;
}

/** Every upstream route of a mesh, in declaration order. */
export interface RoutePlan {
  /** The trust domain the SNI names use. */
  trustDomain: string;
  /** The routes. */
  routes: PlannedRoute[];
}

function hopText(hop: RouteHop): string {
  return hop.kind === "service" ? `${hop.name} (${hop.datacenter})` : `${hop.name} ${hop.datacenter} ${hop.address}`;
}

/** The name of the gateways of `datacenter`: the first declared there, else `mesh-gateway`. */
function gatewayName(mesh: Mesh, datacenter: string): string {
  return listOf<MeshGatewaySpec>(mesh.gateways).find((gw) => isObject(gw) && gw.datacenter === datacenter)?.name ?? "mesh-gateway";
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
  const trustDomain = typeof mesh.trustDomain === "string" && mesh.trustDomain ? mesh.trustDomain : DEFAULT_TRUST_DOMAIN;
  const routes: PlannedRoute[] = [];
  for (const p of meshProxies(mesh)) {
    const sd = serviceDefaultsFor(mesh, p.sourceService);
    const namespace = p.service.namespace || "default";
    const partition = p.service.partition || "default";
    listOf<Upstream>(p.proxy.upstreams).forEach((up, k) => {
      if (!isObject(up)) return;
      const datacenter = up.datacenter || p.service.datacenter;
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
      const crossDc = datacenter !== p.service.datacenter;
      const usesGateway = crossDc && mode !== "none";
      const from: RouteHop = { kind: "service", name: p.sourceService, datacenter: p.service.datacenter };
      const to: RouteHop = { kind: "service", name: destination.name, datacenter };
      const hops: RouteHop[] = [from];
      if (usesGateway && mode === "local") {
        hops.push({ kind: "mesh-gateway", name: gatewayName(mesh, from.datacenter), datacenter: from.datacenter, address: "LAN" });
      }
      if (usesGateway) hops.push({ kind: "mesh-gateway", name: gatewayName(mesh, datacenter), datacenter, address: "WAN" });
      hops.push(to);
      const text = hops.map(hopText).join(" → ") + (usesGateway ? "" : " direct");
      routes.push({
        path: `${p.path}.upstreams[${k}]`,
        source: { service: p.sourceService, proxy: p.service.name, datacenter: p.service.datacenter, namespace, partition },
        destination,
        localBindPort: up.localBindPort,
        mode,
        decidedBy,
        usesGateway,
        sni: serviceSni({ service: destination.name, namespace: destination.namespace, partition: destination.partition, datacenter, trustDomain }),
        hops,
        text,
      });
    });
  }
  return { trustDomain, routes };
}

/**
 * A readable text table of `plan` for the CLI: one row per route with its source, upstream,
 * local bind port, mode, deciding level, and path; the SNI names follow in a second table.
 * @param plan - A route plan from {@link planRoutes}.
 */
export function formatRoutePlan(plan: RoutePlan): string {
  if (plan.routes.length === 0) return "no upstreams: nothing to route\n";
  const header = ["SOURCE", "UPSTREAM", "PORT", "MODE", "DECIDED BY", "PATH"];
  const rows = plan.routes.map((r) => [
    `${r.source.service} (${r.source.datacenter})`,
    `${r.destination.name} (${r.destination.datacenter})`,
    String(r.localBindPort),
    r.mode,
    r.decidedBy,
    r.text,
  ]);
  const table = [header, ...rows];
  const widths = header.map((_, col) => Math.max(...table.map((row) => row[col].length)));
  const line = (row: string[]) =>
    row
      .map((cell, col) => (col === row.length - 1 ? cell : cell.padEnd(widths[col])))
      .join("  ")
      .trimEnd();
  const sniRows = plan.routes.map((r) => `  ${r.source.service} (${r.source.datacenter}) → ${r.destination.name}: ${r.sni}`);
  return [line(header), ...rows.map(line), "", `SNI names (trust domain ${plan.trustDomain}):`, ...sniRows, ""].join("\n");
}
