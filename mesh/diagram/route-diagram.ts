/**
 * The route diagram of a mesh, in Graphviz DOT: datacenters as clusters, their mesh gateways with
 * a LAN and a WAN side, the services, and every upstream's route drawn hop by hop in the colour of
 * its mode, with a legend. Pure: `diagram-svg.ts` renders it.
 */
import { DiagramTooLargeError } from "../errors";
import { isObject, listOf } from "../model/guards";
import { primaryDatacenterOf } from "../model/mesh-proxies";
import { DEFAULT_GATEWAY_NAME, DEFAULT_NAMESPACE, DEFAULT_PARTITION } from "../model/defaults";
import { formatAddress, gatewayAddress } from "../model/gateway-address";
import type { PlannedRoute, RoutePlan } from "../plan/plan";
import { filterRoutes, type RouteFilter } from "../plan/route-filter";
import type { DatacenterSpec, EffectiveMode, Mesh, MeshGatewaySpec } from "../model/types";

/**
 * What {@link routeDiagramDot} draws: the routes {@link filterRoutes} keeps (`services`: from or to
 * one of these services; `datacenters`: from or to one of these datacenters, which are drawn even
 * without routes; both, when both are given; an empty or missing list keeps every route).
 */
export interface RouteDiagramOptions extends RouteFilter {
  /**
   * The most routes drawn, once filtered; more throw a {@link DiagramTooLargeError}.
   * Default: {@link DEFAULT_MAX_ROUTES}.
   */
  maxRoutes?: number;
}

/**
 * The default `maxRoutes`. A route takes 25 to 30 points of the diagram's height, so 500 routes make
 * a picture about 14,000 points tall (a 10-datacenter mesh of 200 services with two upstreams each,
 * 400 routes, is 11,000): about as far as a person scrolls and still follows the edges.
 */
export const DEFAULT_MAX_ROUTES = 500;

/**
 * The colour of each mode's routes, from the Okabe–Ito palette, which stays distinct with every
 * common colour-vision deficiency. Routes no gateway carries are dashed as well.
 */
export const MODE_COLOURS: Readonly<Record<EffectiveMode, string>> = {
  remote: "#0072B2",
  local: "#E69F00",
  none: "#009E73",
};

const MODES: EffectiveMode[] = ["remote", "local", "none"];

const MEANING: Record<EffectiveMode, string> = {
  remote: "to the destination datacenter's gateway (WAN)",
  local: "through the local gateway (LAN), then the destination's (WAN)",
  none: "straight to the destination service",
};

const NOTES = [
  "Left of the gateways: the services whose upstreams are drawn, by local bind port.",
  "Right of the gateways: the services those upstreams reach.",
  "Dashed: no gateway on the way (mode none, or the same datacenter).",
];

/** A service drawn: its datacenter, its label and, as a source, its upstreams' local bind ports. */
interface ServiceNode {
  datacenter: string;
  label: string;
  ports: Set<number>;
}

/**
 * The route diagram of `plan` (from `planRoutes(mesh)`), in Graphviz DOT. Each datacenter is a
 * cluster in three columns: the services whose upstreams are drawn (with each upstream's local
 * bind port), the datacenter's mesh gateways (their LAN and WAN addresses), and the services those
 * upstreams reach; so a service that both calls and is called appears once on each side. Each route
 * is one edge per hop, from its bind port (source → [local gateway LAN →] destination gateway WAN →
 * destination, or straight there), coloured by {@link MODE_COLOURS} and dashed when no gateway
 * carries it; hops that routes share are drawn once. Without filters every datacenter of the mesh
 * is drawn, routes or not; with filters, those the remaining routes pass through and those named.
 * The same routes give the same output in any order, and every name is escaped.
 * @param mesh - The mesh the plan is of, for its datacenters and gateways.
 * @param plan - The mesh's route plan.
 * @param options - Filters and the size limit. Default: every route, at most {@link DEFAULT_MAX_ROUTES}.
 * @throws {@link DiagramTooLargeError} when more than `maxRoutes` routes remain.
 */
export function routeDiagramDot(mesh: Mesh, plan: RoutePlan, options: RouteDiagramOptions = {}): string {
  const { routes } = filterRoutes(plan, options);
  const maxRoutes = options.maxRoutes ?? DEFAULT_MAX_ROUTES;
  if (routes.length > maxRoutes) throw tooLarge(routes, maxRoutes);

  const declared = listOf<DatacenterSpec>(mesh.datacenters)
    .filter(isObject)
    .map((dc) => dc.name);
  const named = options.datacenters ?? [];
  const filtered = (options.services ?? []).length > 0 || named.length > 0;
  const datacenters = new Set(filtered ? declared.filter((dc) => named.includes(dc)) : declared);
  const sources = new Map<string, ServiceNode>();
  const destinations = new Map<string, ServiceNode>();
  const edges = new Set<string>();
  for (const route of routes) {
    const { source, destination } = route;
    const from = serviceNode(sources, "source", { ...source, name: source.service });
    const to = serviceNode(destinations, "destination", destination);
    sources.get(from)?.ports.add(route.localBindPort);
    for (const hop of route.hops) datacenters.add(hop.datacenter);
    for (let i = 1; i < route.hops.length; i++) edges.add(hopEdge(route, i, from, to));
  }

  const gateways = new Map<string, MeshGatewaySpec[]>();
  for (const gw of listOf<MeshGatewaySpec>(mesh.gateways)) {
    if (!isObject(gw) || !datacenters.has(gw.datacenter)) continue;
    gateways.set(gw.datacenter, [...(gateways.get(gw.datacenter) ?? []), gw]);
  }
  const primary = primaryDatacenterOf(mesh);
  const lines = [
    `digraph "routes" {`,
    `  graph [rankdir=LR, newrank=true, fontname="Helvetica", fontsize=11, nodesep=0.15, ranksep=1.2];`,
    `  graph [labelloc=t, labeljust=l, label=${legend()}];`,
    `  node [fontname="Helvetica", fontsize=11, shape=box, style=rounded, height=0.3, margin="0.12,0.04"];`,
    `  edge [arrowsize=0.7, penwidth=1.3];`,
  ];
  for (const dc of [...datacenters].sort(compare)) {
    const label = `<B>${html(dc)}</B>${dc === primary ? " (primary)" : ""}`;
    lines.push(`  subgraph ${quote(`cluster_datacenter:${encodeURIComponent(dc)}`)} {`);
    lines.push(`    label=<${label}>; fontsize=13; style=rounded; color="#888888";`);
    for (const [id, s] of sorted(sources)) if (s.datacenter === dc) lines.push(`    ${quote(id)} ${sourceNode(s)};`);
    lines.push(`    ${quote(gatewayId(dc))} ${gatewayNode(gateways.get(dc) ?? [])};`);
    for (const [id, s] of sorted(destinations)) {
      if (s.datacenter === dc) lines.push(`    ${quote(id)} [label=<${s.label}>];`);
    }
    lines.push("  }");
  }
  // Three columns whatever the routes: sources, gateways, destinations.
  const rank = (kind: string, ids: string[]) => {
    if (ids.length > 0) lines.push(`  { rank=${kind}; ${ids.map(quote).join("; ")}; }`);
  };
  rank("min", [...sources.keys()].sort(compare));
  rank("same", [...datacenters].map(gatewayId).sort(compare));
  rank("max", [...destinations.keys()].sort(compare));
  lines.push(...[...edges].sort(compare).map((edge) => `  ${edge};`), "}", "");
  return lines.join("\n");
}

function tooLarge(routes: PlannedRoute[], maxRoutes: number): DiagramTooLargeError {
  const services = new Set<string>();
  const datacenters = new Set<string>();
  const key = (s: ServiceName) => `${s.datacenter}\u0000${s.partition}\u0000${s.namespace}\u0000${s.name}`;
  for (const { source, destination } of routes) {
    services.add(key({ ...source, name: source.service })).add(key(destination));
    datacenters.add(source.datacenter).add(destination.datacenter);
  }
  const counts = { routes: routes.length, services: services.size, datacenters: datacenters.size, maxRoutes };
  const { service, datacenter } = routes[0].source;
  return new DiagramTooLargeError(counts, { service, datacenter });
}

/**
 * The edge of hop `i` of `route` (from `from` to `to`), out of the upstream's port cell: in the
 * mode's colour, dashed when no gateway carries the route. A gateway is entered on the side dialled
 * and sends out of its LAN side to a service; between two gateways the edge joins their WAN sides on
 * the right, where it crosses no other gateway (they share a column).
 */
function hopEdge(route: PlannedRoute, i: number, from: string, to: string): string {
  const [a, b] = [route.hops[i - 1], route.hops[i]];
  const betweenGateways = a.kind === "mesh-gateway" && b.kind === "mesh-gateway";
  const tail =
    a.kind === "service"
      ? `${quote(from)}:"p${route.localBindPort}":e`
      : `${quote(gatewayId(a.datacenter))}:${betweenGateways ? "wan:e" : "lan"}`;
  const head =
    b.kind === "service"
      ? quote(to)
      : `${quote(gatewayId(b.datacenter))}:${b.address === "LAN" ? "lan" : "wan"}${betweenGateways ? ":e" : ""}`;
  return `${tail} -> ${head} [color="${MODE_COLOURS[route.mode]}"${route.usesGateway ? "" : ", style=dashed"}]`;
}

/** A service as the routes name it. */
interface ServiceName {
  datacenter: string;
  partition: string;
  namespace: string;
  name: string;
}

/** The id of service `s` on one side of the diagram, added to `nodes` if new. */
function serviceNode(nodes: Map<string, ServiceNode>, side: string, s: ServiceName): string {
  const id = serviceId(side, s);
  if (!nodes.has(id)) nodes.set(id, { datacenter: s.datacenter, label: serviceLabel(s), ports: new Set() });
  return id;
}

// Ids are URI-encoded, so that no name can end a quoted DOT string or start an escape sequence.
function serviceId(side: string, s: ServiceName): string {
  return `${side}:${[s.datacenter, s.partition, s.namespace, s.name].map(encodeURIComponent).join("/")}`;
}

function gatewayId(datacenter: string): string {
  return `gateway:${encodeURIComponent(datacenter)}`;
}

/** A service's name, and its partition and namespace when they are not the default ones. */
function serviceLabel(s: ServiceName): string {
  const scope = [s.partition !== DEFAULT_PARTITION && s.partition, s.namespace !== DEFAULT_NAMESPACE && s.namespace]
    .filter(Boolean)
    .join("/");
  return html(s.name) + (scope ? ` <FONT POINT-SIZE="9" COLOR="#555555">${html(scope)}</FONT>` : "");
}

const TABLE = 'BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="3"';

/** A table node: square cells, as the sources and the gateways are drawn. */
function tableNode(rows: string[]): string {
  return `[shape=plain, style="", label=<<TABLE ${TABLE}>${rows.join("")}</TABLE>>]`;
}

/** A source service: its name beside a column of its upstreams' local bind ports, one port each. */
function sourceNode(s: ServiceNode): string {
  const cells = [...s.ports].sort((a, b) => a - b).map((port) => `<TD PORT="p${port}">${port}</TD>`);
  const name = `<TD ROWSPAN="${cells.length}">${s.label}</TD>`;
  return tableNode(cells.map((cell, i) => `<TR>${i === 0 ? name : ""}${cell}</TR>`));
}

/** The mesh gateways of one datacenter: their names, then a LAN and a WAN row, one port each. */
function gatewayNode(gateways: MeshGatewaySpec[]): string {
  const names = gateways.map((gw) => gw.name ?? DEFAULT_GATEWAY_NAME).join(", ") || "no mesh gateway";
  const row = (side: "lan" | "wan") => {
    const endpoints = html(
      gateways
        .map((gw) => {
          const at = gatewayAddress(gw, side);
          return at ? formatAddress(at) : "agent address";
        })
        .join(", ") || "none",
    );
    return `<TR><TD PORT="${side}" ALIGN="LEFT" BGCOLOR="#F2F2F2"><B>${side.toUpperCase()}</B> ${endpoints}</TD></TR>`;
  };
  return tableNode([`<TR><TD><B>${html(names)}</B></TD></TR>`, row("lan"), row("wan")]);
}

/** The legend, as the graph's label: a sample line and the meaning of each mode, then the notes. */
function legend(): string {
  const cell = (width: number, colour?: string) =>
    `<TD${colour ? ` BGCOLOR="${colour}"` : ""} WIDTH="${width}" HEIGHT="3" FIXEDSIZE="TRUE"></TD>`;
  const sample = (mode: EffectiveMode) => {
    const colour = MODE_COLOURS[mode];
    const cells = mode === "none" ? [1, 2, 3, 4].map(() => cell(6, colour) + cell(4)).join("") : cell(40, colour);
    return `<TD ALIGN="LEFT"><TABLE BORDER="0" CELLSPACING="0" CELLPADDING="0"><TR>${cells}</TR></TABLE></TD>`;
  };
  const rows = [
    ...MODES.map((mode) => `<TR>${sample(mode)}<TD ALIGN="LEFT"><B>${mode}</B>: ${html(MEANING[mode])}</TD></TR>`),
    ...NOTES.map((note) => `<TR><TD COLSPAN="2" ALIGN="LEFT">${html(note)}</TD></TR>`),
  ];
  return `<<TABLE BORDER="1" COLOR="#888888" CELLBORDER="0" CELLSPACING="2" CELLPADDING="2">${rows.join("")}</TABLE>>`;
}

function quote(id: string): string {
  return `"${id}"`;
}

function html(text: string): string {
  return text.replace(/[&<>"]/g, (c) => `&${{ "&": "amp", "<": "lt", ">": "gt", '"': "quot" }[c]};`);
}

const collator = new Intl.Collator("en", { numeric: true });

/** Numbers in names in numeric order (`dc2` before `dc10`); names the collator ties, by code unit. */
function compare(a: string, b: string): number {
  return collator.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0);
}

function sorted<T>(map: Map<string, T>): [string, T][] {
  return [...map].sort(([a], [b]) => compare(a, b));
}
