/**
 * Validation of a whole mesh: the prerequisites the Consul documentation lists for mesh
 * gateways, and every topology mistake that would only fail at runtime. All problems are
 * returned at once, each naming its field path.
 */
import { DEFAULT_NAMESPACE, DEFAULT_PARTITION } from "../model/defaults";
import { decideMeshGatewayMode, isMode } from "../model/mode";
import { meshProxies, serviceDefaultsByName, type MeshProxy } from "../model/mesh-proxies";
import { Collector } from "./problem-collector";
import { checkConfigEntries, checkDatacenters, checkGateways, checkWanFederation } from "./validate-infrastructure";
import { checkPeers } from "./peering";
import { MeshValidationError, type MeshProblem } from "../errors";
import { isObject } from "../model/guards";
import type { Mesh, MeshService, Mode, ServiceDefaultsEntry } from "../model/types";

/** Key of a service in the catalog of one datacenter. */
function catalogKey(datacenter: string, partition: string, namespace: string, name: string): string {
  return `${datacenter}\u0000${partition}\u0000${namespace}\u0000${name}`;
}

interface Catalog {
  /** Every declared service name per datacenter/partition/namespace. */
  declared: Set<string>;
  /** Those with connect endpoints (a sidecar, or a connect-proxy fronting them). */
  connect: Set<string>;
}

function buildCatalog(services: MeshService[]): Catalog {
  const declared = new Set<string>();
  const connect = new Set<string>();
  for (const s of services) {
    const partition = s.partition || DEFAULT_PARTITION;
    const namespace = s.namespace || DEFAULT_NAMESPACE;
    declared.add(catalogKey(s.datacenter, partition, namespace, s.name));
    if (s.connect?.sidecarService) connect.add(catalogKey(s.datacenter, partition, namespace, s.name));
    if (s.kind === "connect-proxy" && s.proxy?.destinationServiceName) {
      const key = catalogKey(s.datacenter, partition, namespace, s.proxy.destinationServiceName);
      declared.add(key);
      connect.add(key);
    }
  }
  return { declared, connect };
}

function checkServices(mesh: Mesh, dcNames: Set<string>, c: Collector): void {
  /** Service IDs per datacenter/partition/namespace, and the field that registers each. */
  const seenIds = new Map<string, string>();
  (mesh.services ?? []).forEach((s, i) => {
    const at = `services[${i}]`;
    if (!dcNames.has(s.datacenter)) c.add(`${at}.datacenter`, `unknown datacenter ${JSON.stringify(s.datacenter)}`);
    c.label(`${at}.name`, s.name, "service name");
    if (s.namespace !== undefined) c.label(`${at}.namespace`, s.namespace, "namespace");
    if (s.partition !== undefined) c.label(`${at}.partition`, s.partition, "partition");
    c.port(`${at}.port`, s.port, "port");
    if (s.kind !== undefined && s.kind !== "connect-proxy" && s.kind !== "mesh-gateway") {
      c.add(
        `${at}.kind`,
        `invalid kind ${JSON.stringify(s.kind)}: use "connect-proxy", or leave unset for a typical service`,
      );
    }
    if (s.kind === "mesh-gateway") c.add(`${at}.kind`, "declare mesh gateways in gateways[], not in services[]");
    if (s.kind === "connect-proxy" && !s.proxy?.destinationServiceName) {
      c.add(
        `${at}.proxy.destinationServiceName`,
        "a connect-proxy service needs proxy.destinationServiceName (the service it fronts)",
      );
    }
    if (s.kind !== "connect-proxy" && s.kind !== "mesh-gateway" && s.proxy) {
      c.add(
        `${at}.proxy`,
        'a proxy block needs kind "connect-proxy" (Consul accepts it without and silently drops it, ' +
          "upstreams and modes included); for a sidecar use connect.sidecarService.proxy",
      );
    }
    c.object(`${at}.proxy`, s.proxy, "{ destinationServiceName, upstreams: [] }");
    if (c.object(`${at}.connect`, s.connect, "{ sidecarService: { proxy: { upstreams: [] } } }") && s.connect) {
      if (s.kind === "connect-proxy" || s.kind === "mesh-gateway") {
        c.add(`${at}.connect.sidecarService`, `a ${s.kind} service cannot have a sidecar service`);
      } else if (!s.connect.sidecarService) {
        c.add(`${at}.connect.sidecarService`, "connect needs a sidecarService block");
      }
      c.object(`${at}.connect.sidecarService.proxy`, s.connect.sidecarService?.proxy, "{ upstreams: [] }");
      const sidecarPort = s.connect.sidecarService?.port;
      if (sidecarPort !== undefined) c.port(`${at}.connect.sidecarService.port`, sidecarPort, "sidecar port");
      if (
        s.connect.sidecarService?.proxy?.destinationServiceName !== undefined &&
        s.connect.sidecarService.proxy.destinationServiceName !== s.name
      ) {
        c.add(
          `${at}.connect.sidecarService.proxy.destinationServiceName`,
          `a sidecar always fronts its own service ${JSON.stringify(s.name)}: leave destinationServiceName unset`,
        );
      }
    }
    const placement = [s.datacenter, s.node ?? "", s.partition || DEFAULT_PARTITION, s.namespace || DEFAULT_NAMESPACE];
    const scope = placement.join("\u0000") + "\u0000";
    const id = s.id ?? s.name;
    const first = seenIds.get(scope + id);
    if (first !== undefined)
      c.add(
        `${at}.${s.id === undefined ? "name" : "id"}`,
        `service ID ${JSON.stringify(id)} already registered in ` +
          `${JSON.stringify(s.datacenter)} by ${first}: give each instance a unique id`,
      );
    else seenIds.set(scope + id, `services[${i}]`);
    if (isObject(s.connect) && isObject(s.connect.sidecarService) && s.kind === undefined) {
      // Consul registers the sidecar under the ID `<service ID>-sidecar-proxy`.
      const sidecarId = `${id}-sidecar-proxy`;
      const owner = seenIds.get(scope + sidecarId);
      if (owner !== undefined)
        c.add(
          `${at}.connect.sidecarService`,
          `sidecar ID ${JSON.stringify(sidecarId)} already registered in ` +
            `${JSON.stringify(s.datacenter)} by ${owner}: rename that service or give this one another id`,
        );
      else seenIds.set(scope + sidecarId, `${at}.connect.sidecarService`);
    }
  });
}

/** What every proxy's check looks up, built once per validation. */
interface Lookups {
  /** The services declared, and those with connect endpoints. */
  catalog: Catalog;
  /** The declared datacenters. */
  dcNames: Set<string>;
  /** Datacenters with at least one mesh gateway. */
  gatewayDcs: Set<string>;
  /** The `service-defaults` entry of each service name (the first one). */
  serviceDefaults: Map<string, ServiceDefaultsEntry>;
}

function checkProxy(mesh: Mesh, p: MeshProxy, lookups: Lookups, c: Collector): void {
  const { proxy, path, service } = p;
  const { catalog, dcNames, gatewayDcs } = lookups;
  if (proxy.localServicePort !== undefined)
    c.port(`${path}.localServicePort`, proxy.localServicePort, "local service port");
  const instanceOk = c.meshGateway(`${path}.meshGateway`, proxy.meshGateway);
  const sd = lookups.serviceDefaults.get(p.sourceService);
  const levelsOk =
    instanceOk &&
    (sd?.meshGateway?.mode === undefined || isMode(sd.meshGateway.mode)) &&
    (mesh.proxyDefaults?.meshGateway?.mode === undefined || isMode(mesh.proxyDefaults.meshGateway.mode));
  const binds = new Map<string, number>();
  if (proxy.upstreams !== undefined && !Array.isArray(proxy.upstreams)) {
    c.add(`${path}.upstreams`, "upstreams must be a list");
    return;
  }
  (proxy.upstreams ?? []).forEach((up, k) => {
    const at = `${path}.upstreams[${k}]`;
    if (!isObject(up)) {
      c.add(
        at,
        `${JSON.stringify(up) ?? String(up)} must be an object such as { destinationName, datacenter, localBindPort }`,
      );
      return;
    }
    const nameOk = c.label(`${at}.destinationName`, up.destinationName, "destination service name");
    if (up.destinationNamespace !== undefined)
      c.label(`${at}.destinationNamespace`, up.destinationNamespace, "namespace");
    if (up.destinationPartition !== undefined)
      c.label(`${at}.destinationPartition`, up.destinationPartition, "partition");
    c.port(`${at}.localBindPort`, up.localBindPort, "local bind port");
    const bindKey = `${up.localBindAddress ?? "127.0.0.1"}:${up.localBindPort}`;
    const first = binds.get(bindKey);
    if (first !== undefined)
      c.add(`${at}.localBindPort`, `local bind port ${up.localBindPort} already used by ${path}.upstreams[${first}]`);
    else binds.set(bindKey, k);
    const modeOk = c.meshGateway(`${at}.meshGateway`, up.meshGateway);
    if (up.destinationPeer !== undefined) {
      // A peer's service: its catalog is the peer's, not this mesh's, so only the fields are judged.
      c.label(`${at}.destinationPeer`, up.destinationPeer, "peer name");
      if (up.datacenter)
        c.add(`${at}.datacenter`, "a peered upstream names its peer, not a datacenter: give one of the two");
      return;
    }
    const dc = up.datacenter || service.datacenter;
    if (!dcNames.has(dc)) {
      c.add(`${at}.datacenter`, `unknown datacenter ${JSON.stringify(dc)}`);
      return;
    }
    if (nameOk) {
      const key = catalogKey(
        dc,
        up.destinationPartition || service.partition || DEFAULT_PARTITION,
        up.destinationNamespace || service.namespace || DEFAULT_NAMESPACE,
        up.destinationName,
      );
      if (!catalog.declared.has(key)) {
        c.add(
          `${at}.destinationName`,
          `service ${JSON.stringify(up.destinationName)} is not declared in datacenter ${JSON.stringify(dc)}`,
        );
      } else if (!catalog.connect.has(key)) {
        c.add(
          `${at}.destinationName`,
          `service ${JSON.stringify(up.destinationName)} in ${JSON.stringify(dc)} has ` +
            `no connect endpoint: give it a connect.sidecarService or a connect-proxy`,
        );
      }
    }
    if (dc === service.datacenter || !modeOk || !levelsOk) return; // same datacenter: gateways are never used
    const decision = decideMeshGatewayMode({
      upstream: up.meshGateway?.mode as Mode | undefined,
      instance: proxy.meshGateway?.mode,
      serviceDefaults: sd?.meshGateway?.mode,
      proxyDefaults: mesh.proxyDefaults?.meshGateway?.mode,
    });
    const why = `mode ${decision.mode} (set by ${decision.decidedBy})`;
    if (decision.mode === "local" && !gatewayDcs.has(service.datacenter)) {
      c.add(
        `${at}.meshGateway.mode`,
        `${why} dials a mesh gateway in ${JSON.stringify(service.datacenter)}, ` +
          `which has none: add one to gateways[] or use another mode`,
      );
    }
    if ((decision.mode === "local" || decision.mode === "remote") && !gatewayDcs.has(dc)) {
      c.add(
        `${at}.meshGateway.mode`,
        `${why} needs a mesh gateway in the destination datacenter ${JSON.stringify(dc)}, ` +
          `which has none: add one to gateways[] or use another mode`,
      );
    }
  });
}

/**
 * Every problem in `mesh`, in a stable order (datacenters, config entries, gateways,
 * services, proxies), each naming its field path. An empty list means the mesh is valid.
 * Checks the documented prerequisites (unique datacenter names, one shared primary
 * datacenter that exists, Connect and gRPC enabled, central service config where defaults
 * set a mode, WAN join) and topology mistakes (unknown datacenters and services, missing
 * gateways for `local`/`remote` cross-datacenter upstreams, duplicate local bind ports,
 * invalid modes, names and ports, `proxy-defaults` not named `global`, duplicate
 * `service-defaults`, duplicate service IDs (a sidecar's `<id>-sidecar-proxy` included),
 * malformed connect-proxy and sidecar forms, blocks that are not objects). A mode on a
 * same-datacenter upstream is fine: gateways are never used there. Never throws.
 * @param mesh - The mesh to check.
 */
export function validateMesh(mesh: Mesh): MeshProblem[] {
  const c = new Collector();
  if (mesh === null || typeof mesh !== "object") {
    c.add("", "the mesh must be an object");
    return c.problems;
  }
  if (!checkShape(mesh, c)) return c.problems;
  try {
    checkAll(mesh, c);
  } catch (error) {
    // Only reachable with malformed input that slipped past checkShape: report, never throw.
    c.add("", `the mesh is malformed: ${error instanceof Error ? error.message : String(error)}`);
  }
  return c.problems;
}

/** Lists must be lists of objects, or nothing else can be checked. */
function checkShape(mesh: Mesh, c: Collector): boolean {
  const before = c.problems.length;
  for (const key of ["datacenters", "services", "gateways", "serviceDefaults"] as const) {
    const list: unknown = mesh[key];
    if (list === undefined && key !== "datacenters") continue;
    if (!Array.isArray(list)) {
      c.add(key, key === "datacenters" ? "declare at least one datacenter (a list)" : "must be a list");
      continue;
    }
    list.forEach((item, i) => {
      if (item === null || typeof item !== "object" || Array.isArray(item)) c.add(`${key}[${i}]`, "must be an object");
    });
  }
  for (const key of ["proxyDefaults"] as const) {
    const value: unknown = mesh[key];
    if (value !== undefined && (value === null || typeof value !== "object")) c.add(key, "must be an object");
  }
  return c.problems.length === before;
}

function checkAll(mesh: Mesh, c: Collector): void {
  checkDatacenters(mesh, c);
  checkConfigEntries(mesh, c);
  const dcNames = new Set((mesh.datacenters ?? []).map((dc) => dc.name));
  checkGateways(mesh, dcNames, c);
  checkWanFederation(mesh, c);
  checkPeers(mesh, c);
  checkServices(mesh, dcNames, c);
  const lookups: Lookups = {
    catalog: buildCatalog(mesh.services ?? []),
    dcNames,
    gatewayDcs: new Set((mesh.gateways ?? []).map((gw) => gw.datacenter)),
    serviceDefaults: serviceDefaultsByName(mesh),
  };
  for (const p of meshProxies(mesh)) checkProxy(mesh, p, lookups, c);
}

/**
 * Throws a {@link MeshValidationError} (code `E_MESH_INVALID`) listing every problem of
 * `mesh`, or returns normally when it is valid.
 * @param mesh - The mesh to check.
 */
export function assertValidMesh(mesh: Mesh): void {
  const problems = validateMesh(mesh);
  if (problems.length > 0) throw new MeshValidationError(problems);
}
