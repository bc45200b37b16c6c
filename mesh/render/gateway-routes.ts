/**
 * Renders the routes file of one datacenter's gateway from the mesh model: its local
 * services' connect endpoints and the other datacenters' gateways at their WAN addresses.
 */
import { DEFAULT_NAMESPACE, DEFAULT_PARTITION } from "../model/defaults";
import { gatewayAddress, gatewayRegistrationAddresses } from "../model/gateway-address";
import { isPort } from "../model/port";
import { MeshValidationError, type MeshProblem } from "../errors";
import type { RouteEndpoint, RoutesFile, RoutesFileGateway, RoutesFileService } from "../model/routes-file";
import { DEFAULT_TRUST_DOMAIN, type Mesh, type MeshGatewaySpec, type MeshService } from "../model/types";

/** What an address override is asked about. */
export type AddressTarget =
  | {
      /** A connect endpoint of a local service. */
      kind: "service";
      /** The service declaring the endpoint (the service with the sidecar, or the connect-proxy). */
      service: MeshService;
      /** The endpoint as the model declares it (`address` may be empty when the model has none). */
      endpoint: RouteEndpoint;
    }
  | {
      /** A remote gateway's WAN endpoint. */
      kind: "gateway";
      /** The gateway. */
      gateway: MeshGatewaySpec;
      /** The endpoint as the model declares it (`address` may be empty when the model has none). */
      endpoint: RouteEndpoint;
    };

/** Options of {@link renderGatewayRoutes}. */
export interface GatewayRoutesOptions {
  /**
   * Maps an endpoint to the address the gateway can reach it at (e.g. a Docker container
   * name). Return `undefined` to keep the model's endpoint. Default: the model's endpoints.
   */
  resolveAddress?: (target: AddressTarget) => RouteEndpoint | undefined;
  /** Trust domain of the file. Default: the mesh's `trustDomain`, else {@link DEFAULT_TRUST_DOMAIN}. */
  trustDomain?: string;
}

function compareEndpoints(a: RouteEndpoint, b: RouteEndpoint): number {
  return a.address < b.address ? -1 : a.address > b.address ? 1 : a.port - b.port;
}

function uniqueSorted(endpoints: RouteEndpoint[]): RouteEndpoint[] {
  const seen = new Set<string>();
  const out: RouteEndpoint[] = [];
  for (const e of [...endpoints].sort(compareEndpoints)) {
    const key = `${e.address}\u0000${e.port}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push({ address: e.address, port: e.port });
    }
  }
  return out;
}

/**
 * The routes file for the gateway of `datacenter`. Local services are the services of that
 * datacenter with connect endpoints: a service with `connect.sidecarService` (its address and
 * sidecar port) and a `kind: "connect-proxy"` service (its address and port, listed under its
 * `destinationServiceName`). Remote gateways are every other datacenter's gateways at
 * their WAN endpoint (`gatewayAddress`, the one rule of `mesh/model/gateway-address.ts`). Services, gateways and
 * endpoints are sorted. Throws a {@link MeshValidationError} naming each field when an
 * endpoint has no address or port and `resolveAddress` supplies none (a configuration-time
 * error), or when `datacenter` is not declared.
 * @param mesh - The mesh (validate it first).
 * @param datacenter - The gateway's datacenter.
 * @param options - Address overrides and trust domain.
 */
export function renderGatewayRoutes(mesh: Mesh, datacenter: string, options: GatewayRoutesOptions = {}): RoutesFile {
  const problems: MeshProblem[] = [];
  if (!(mesh.datacenters ?? []).some((dc) => dc.name === datacenter)) {
    problems.push({
      path: "datacenter",
      message: `datacenter ${JSON.stringify(datacenter)} is not declared in the mesh`,
    });
  }
  const resolve = (target: AddressTarget, path: string, portPath: string): RouteEndpoint | undefined => {
    const endpoint = options.resolveAddress?.(target) ?? target.endpoint;
    if (!endpoint.address) {
      problems.push({ path, message: "no address to route to: set it in the model or supply options.resolveAddress" });
      return undefined;
    }
    if (!isPort(endpoint.port)) {
      problems.push({
        path: portPath,
        message: "no port to route to: set it in the model or supply options.resolveAddress",
      });
      return undefined;
    }
    return endpoint;
  };

  const services = new Map<string, RoutesFileService>();
  (mesh.services ?? []).forEach((s, i) => {
    if (s.datacenter !== datacenter) return;
    let name: string | undefined;
    let endpoint: RouteEndpoint | undefined;
    if (s.kind === "connect-proxy" && s.proxy?.destinationServiceName) {
      name = s.proxy.destinationServiceName;
      endpoint = resolve(
        { kind: "service", service: s, endpoint: { address: s.address ?? "", port: s.port } },
        `services[${i}].address`,
        `services[${i}].port`,
      );
    } else if (s.kind === undefined && s.connect?.sidecarService) {
      name = s.name;
      endpoint = resolve(
        {
          kind: "service",
          service: s,
          endpoint: { address: s.address ?? "", port: s.connect.sidecarService.port ?? 0 },
        },
        `services[${i}].address`,
        `services[${i}].connect.sidecarService.port`,
      );
    }
    if (!name || !endpoint) return;
    const namespace = s.namespace || DEFAULT_NAMESPACE;
    const partition = s.partition || DEFAULT_PARTITION;
    const key = `${partition}\u0000${namespace}\u0000${name}`;
    const entry = services.get(key) ?? { name, namespace, partition, endpoints: [] };
    entry.endpoints.push(endpoint);
    services.set(key, entry);
  });

  const gateways = new Map<string, RoutesFileGateway>();
  (mesh.gateways ?? []).forEach((gw, i) => {
    if (gw.datacenter === datacenter) return;
    const declared: RouteEndpoint = gatewayAddress(gw, "wan") ?? {
      address: "",
      port: gatewayRegistrationAddresses(gw).port,
    };
    const field = gw.taggedAddresses?.wan ? `gateways[${i}].taggedAddresses.wan` : `gateways[${i}]`;
    const endpoint = resolve({ kind: "gateway", gateway: gw, endpoint: declared }, `${field}.address`, `${field}.port`);
    if (!endpoint) return;
    const entry = gateways.get(gw.datacenter) ?? {
      datacenter: gw.datacenter,
      partition: DEFAULT_PARTITION,
      endpoints: [],
    };
    entry.endpoints.push(endpoint);
    gateways.set(gw.datacenter, entry);
  });

  if (problems.length > 0)
    throw new MeshValidationError(problems, `routes for datacenter ${JSON.stringify(datacenter)}`);
  const byKey = <T>(map: Map<string, T>) => [...map.keys()].sort().map((k) => map.get(k) as T);
  return {
    datacenter,
    trustDomain: options.trustDomain || mesh.trustDomain || DEFAULT_TRUST_DOMAIN,
    services: byKey(services).map((s) => ({ ...s, endpoints: uniqueSorted(s.endpoints) })),
    gateways: byKey(gateways).map((g) => ({ ...g, endpoints: uniqueSorted(g.endpoints) })),
  };
}
