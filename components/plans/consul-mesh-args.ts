/**
 * The arguments of `ConsulMesh` that decide its plan (pure: no Pulumi), and their problems: every
 * problem of the mesh model, then those of the deployment options (subnets, host ports, names,
 * the route source) against it, so that one error lists them all before any resource exists.
 */
import {
  clusterIdOf,
  CONSUL_PORTS,
  declaredIntentions,
  DEFAULT_GATEWAY_PORT,
  intentionEntryProblems,
  isPort,
  securityOf,
  unallowedUpstreamProblems,
  validateMesh,
  type IntentionEntry,
  type Mesh,
  type MeshProblem,
} from "../../mesh";
import { DEFAULT_WAN_SUBNET, subnetProblems } from "./address-plan";

/** The host port of `demoUrl` unless told otherwise. */
export const DEFAULT_DEMO_HOST_PORT = 8080;

/** The arguments of a mesh that decide its plan: the mesh model, and how to deploy it. */
export interface ConsulMeshPlanArgs extends Mesh {
  /**
   * The Connect trust domain of the mesh. `<uuid>.consul` in lower case pins the servers to it
   * (`connect.ca_config.cluster_id`, read when the CA first starts: Consul does not take another
   * for a cluster that has one); any other domain is given to the gateways and named in the route
   * plan only, and refused with `routeSource: "file"`. Default: a `<uuid>.consul` drawn once per
   * stack and kept in its state (`ConsulMesh.trustDomain`).
   */
  trustDomain?: string;
  /** Pull the Consul image. Default: `true`. */
  pullConsulImage?: boolean;
  /**
   * Where gateways get their routes: the datacenter's Consul agent, or a file rendered from this mesh.
   * Default: `"consul"`.
   */
  routeSource?: "consul" | "file";
  /** Prefix of Docker object names, unique per Docker host. Default: `"consul-mesh"`. */
  resourcePrefix?: string;
  /** IPv4 subnet of the WAN network. Default: `"10.250.0.0/24"`. */
  wanSubnet?: string;
  /** LAN subnet per datacenter name. Default: `10.250.<i+1>.0/24` for the i-th datacenter. */
  lanSubnets?: Record<string, string>;
  /** Host port of each datacenter's HTTP API, by datacenter name. Default: `8500 + i` for the i-th datacenter. */
  httpHostPorts?: Record<string, number>;
  /** The ACL initial management token; the plan reads only whether it is given. Default: none. */
  initialManagementToken?: unknown;
  /** Run a workload behind every connect service with a sidecar. Default: none. */
  workloads?: {
    /** Host port on 127.0.0.1 of the first service with upstreams (`demoUrl`). Default: `8080`. */
    demoHostPort?: number;
  };
  /**
   * With ACLs, write a `service-intentions` entry per destination allowing exactly the services
   * that declare it as an upstream (`declaredIntentions`). Default: `true`.
   */
  allowDeclaredUpstreams?: boolean;
  /**
   * `service-intentions` entries to write as given, one per destination (allow or deny per source,
   * `*` for the destination's default); a destination here is not given the declared upstreams' entry.
   * An upstream none of the entries allows, under the ACL default policy, is a problem at preview.
   * Default: none.
   */
  intentions?: IntentionEntry[];
}

/**
 * The `service-intentions` entries a mesh is deployed with: those given, and with ACLs (and
 * `allowDeclaredUpstreams`) one allowing the declared upstreams for every other destination.
 * @param args - The arguments.
 * @param mesh - A valid mesh.
 */
export function intentionEntriesOf(args: ConsulMeshPlanArgs, mesh: Mesh): IntentionEntry[] {
  const given = args.intentions ?? [];
  const acl = mesh.datacenters.some((dc) => securityOf(dc).acl);
  const declared =
    acl && args.allowDeclaredUpstreams !== false
      ? declaredIntentions(mesh)
          .filter(({ destination }) => !given.some((e) => e.destination === destination))
          .map(({ destination, sources }) => ({
            destination,
            sources: sources.map((name) => ({ name, action: "allow" as const })),
          }))
      : [];
  return [...declared, ...given].sort((a, b) => a.destination.localeCompare(b.destination));
}

/** Problems of the given intentions, and of each upstream the entries leave refused. */
function intentionProblems(args: ConsulMeshPlanArgs, mesh: Mesh): MeshProblem[] {
  const given = Array.isArray(args.intentions) ? args.intentions : [];
  if (args.intentions !== undefined && !Array.isArray(args.intentions))
    return [{ path: "intentions", message: "must be a list of service-intentions entries" }];
  const problems = given.flatMap((entry, i) => intentionEntryProblems(entry, `intentions[${i}]`));
  given.forEach((entry, i) => {
    if (given.findIndex((e) => e?.destination === entry?.destination) < i)
      problems.push({
        path: `intentions[${i}].destination`,
        message: `${JSON.stringify(entry.destination)} has an entry already: list its sources in one`,
      });
  });
  return problems.length > 0 ? problems : unallowedUpstreamProblems(mesh, intentionEntriesOf(args, mesh));
}

/**
 * The mesh model part of the arguments.
 * @param args - The arguments.
 */
export function meshOf(args: ConsulMeshPlanArgs): Mesh {
  const mesh: Mesh = { datacenters: args.datacenters };
  if (args.trustDomain !== undefined) mesh.trustDomain = args.trustDomain;
  if (args.primaryDatacenter !== undefined) mesh.primaryDatacenter = args.primaryDatacenter;
  if (args.proxyDefaults !== undefined) mesh.proxyDefaults = args.proxyDefaults;
  if (args.serviceDefaults !== undefined) mesh.serviceDefaults = args.serviceDefaults;
  if (args.gateways !== undefined) mesh.gateways = args.gateways;
  if (args.services !== undefined) mesh.services = args.services;
  if (args.wanFederation !== undefined) mesh.wanFederation = args.wanFederation;
  return mesh;
}

/**
 * Host port of a datacenter's HTTP API.
 * @param args - The arguments.
 * @param datacenter - The datacenter's name.
 * @param i - Its index among the datacenters.
 */
export function httpHostPortOf(args: ConsulMeshPlanArgs, datacenter: string, i: number): number {
  return args.httpHostPorts?.[datacenter] ?? CONSUL_PORTS.http + i;
}

/** Problems of the deployment options (subnets, ports, names) against the datacenters `names`. */
function optionProblems(args: ConsulMeshPlanArgs, names: string[]): MeshProblem[] {
  const problems = subnetProblems(args.wanSubnet ?? DEFAULT_WAN_SUBNET, "wanSubnet");
  // `id` and `node` describe the instances of a running Consul (consul-mesh plan reads them);
  // ConsulMesh runs one instance of each service and gateway, through its datacenter's agent.
  const instanceFields = (list: { id?: string; node?: string }[] | undefined, at: string, fields: ("id" | "node")[]) =>
    (list ?? []).forEach((item, i) => {
      for (const field of fields) {
        if (item?.[field] !== undefined)
          problems.push({
            path: `${at}[${i}].${field}`,
            message:
              `ConsulMesh runs one instance, registered under its ` +
              `name through the datacenter's agent: remove ${field}`,
          });
      }
    });
  instanceFields(args.gateways, "gateways", ["id", "node"]);
  // The route plan dials a tagged WAN port; ConsulMesh registers and publishes only the port
  // the gateway listens on, so another one would be planned and not deployed.
  (args.gateways ?? []).forEach((gw, i) => {
    const port = gw?.port ?? DEFAULT_GATEWAY_PORT;
    const wanPort = gw?.taggedAddresses?.wan?.port;
    if (wanPort !== undefined && wanPort !== port)
      problems.push({
        path: `gateways[${i}].taggedAddresses.wan.port`,
        message:
          `${JSON.stringify(wanPort)} is not the port the gateway listens on (${port}): ConsulMesh ` +
          `maps no other port to it; set ${port}, or set the gateway's port`,
      });
  });
  instanceFields(args.services, "services", ["node"]);
  if (args.wanFederation?.mode === "mesh-gateways" && args.routeSource === "file")
    problems.push({
      path: "routeSource",
      message:
        'the datacenters are federated through the gateways (wanFederation.mode "mesh-gateways"): the gateways ' +
        'carry the servers\' traffic only with routes from Consul; use "consul"',
    });
  for (const [dc, value] of Object.entries(args.lanSubnets ?? {})) {
    if (!names.includes(dc))
      problems.push({ path: `lanSubnets.${dc}`, message: `no datacenter named ${JSON.stringify(dc)}` });
    else problems.push(...subnetProblems(value, `lanSubnets.${dc}`));
  }
  const ports = new Map<number, string>();
  [...new Set(names)].forEach((dc, i) => {
    const port = httpHostPortOf(args, dc, i);
    const first = ports.get(port);
    if (first !== undefined)
      problems.push({ path: `httpHostPorts.${dc}`, message: `host port ${port} is already used by ${first}` });
    ports.set(port, dc);
  });
  const demoPort = args.workloads?.demoHostPort;
  if (demoPort !== undefined && (!isPort(demoPort) || ports.has(demoPort))) {
    problems.push({
      path: "workloads.demoHostPort",
      message: `${JSON.stringify(demoPort)} must be a port from 1 to 65535 that no datacenter's HTTP API uses`,
    });
  }
  for (const dc of Object.keys(args.httpHostPorts ?? {})) {
    if (!names.includes(dc))
      problems.push({ path: `httpHostPorts.${dc}`, message: `no datacenter named ${JSON.stringify(dc)}` });
  }
  if (args.routeSource !== undefined && args.routeSource !== "consul" && args.routeSource !== "file") {
    problems.push({
      path: "routeSource",
      message: `${JSON.stringify(args.routeSource)} is not a route source: use "consul" or "file"`,
    });
  }
  if (
    args.routeSource === "file" &&
    typeof args.trustDomain === "string" &&
    clusterIdOf(args.trustDomain) === undefined
  ) {
    problems.push({
      path: "trustDomain",
      message:
        `${JSON.stringify(args.trustDomain)} is not "<uuid>.consul": routes files name the ` +
        `trust domain, so the servers must be pinned to it (connect.ca_config.cluster_id)`,
    });
  }
  return problems;
}

/**
 * Problems of a mesh's arguments: every problem of the mesh model (`validateMesh`), then those
 * of the deployment options against it.
 * @param args - The arguments.
 */
export function consulMeshProblems(args: ConsulMeshPlanArgs): MeshProblem[] {
  const mesh = meshOf(args);
  const names = Array.isArray(mesh.datacenters) ? mesh.datacenters.map((dc) => dc.name) : [];
  const meshProblems = validateMesh(mesh);
  // The intentions are checked against the routes, which only a valid mesh has.
  const intentions = meshProblems.length === 0 ? intentionProblems(args, mesh) : [];
  return [...meshProblems, ...optionProblems(args, names), ...intentions];
}
