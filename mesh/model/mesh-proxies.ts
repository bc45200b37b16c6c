/**
 * Where the connect proxies of a mesh are: every `kind: "connect-proxy"` service's `proxy`
 * block and every `connect.sidecarService.proxy` block, with their field paths.
 */
import { isObject, listOf } from "./guards";
import type { DatacenterSpec, Mesh, MeshService, ProxyConfig, ServiceDefaultsEntry } from "./types";

/** One connect proxy of the mesh. */
export interface MeshProxy {
  /** The service that declares the proxy. */
  service: MeshService;
  /** Index of that service in `mesh.services`. */
  serviceIndex: number;
  /** The proxy block. */
  proxy: ProxyConfig;
  /** Field path of the proxy block, e.g. `services[0].connect.sidecarService.proxy`. */
  path: string;
  /** Which form declares it. */
  form: "connect-proxy" | "sidecar-service";
  /**
   * The downstream service whose traffic the proxy carries: the service name for a
   * sidecar, `destinationServiceName` (else the proxy's own name) for a connect-proxy.
   * Its `service-defaults` entry is the one that applies.
   */
  sourceService: string;
}

/**
 * Every connect proxy in `mesh.services`, in declaration order. Services of other kinds
 * with a `proxy` block (e.g. a typical service that carries one) count as connect-proxy form.
 * @param mesh - The mesh.
 */
export function meshProxies(mesh: Mesh): MeshProxy[] {
  const out: MeshProxy[] = [];
  listOf<MeshService>(mesh?.services).forEach((service, serviceIndex) => {
    if (!isObject(service) || service.kind === "mesh-gateway") return;
    if (isObject(service.proxy)) {
      out.push({
        service,
        serviceIndex,
        proxy: service.proxy,
        path: `services[${serviceIndex}].proxy`,
        form: "connect-proxy",
        sourceService: service.proxy.destinationServiceName || service.name,
      });
    }
    const sidecarProxy =
      isObject(service.connect) && isObject(service.connect.sidecarService)
        ? service.connect.sidecarService.proxy
        : undefined;
    if (isObject(sidecarProxy)) {
      out.push({
        service,
        serviceIndex,
        proxy: sidecarProxy,
        path: `services[${serviceIndex}].connect.sidecarService.proxy`,
        form: "sidecar-service",
        sourceService: service.name,
      });
    }
  });
  return out;
}

/**
 * The mesh's primary datacenter: `mesh.primaryDatacenter`, else the first datacenter's
 * `primaryDatacenter`, else the first datacenter's name. (Consul only asks that every
 * datacenter name the same one; `validateMesh` checks that they do.)
 */
export function primaryDatacenterOf(mesh: Mesh): string | undefined {
  if (mesh?.primaryDatacenter) return mesh.primaryDatacenter;
  const first = listOf<DatacenterSpec>(mesh?.datacenters)[0];
  if (!isObject(first)) return undefined;
  return first.primaryDatacenter || first.name;
}

/**
 * The `service-defaults` entry that applies to the proxies of downstream service `name`
 * (the first one of that name; duplicates are a validation problem). Consul looks it up the
 * same way for a proxy's own configuration: by the sidecar's `DestinationServiceName`.
 */
export function serviceDefaultsFor(mesh: Mesh, name: string): ServiceDefaultsEntry | undefined {
  return listOf<ServiceDefaultsEntry>(mesh?.serviceDefaults).find((entry) => isObject(entry) && entry.name === name);
}

/**
 * Every `service-defaults` entry of `mesh` by name, the first of each name: what
 * {@link serviceDefaultsFor} finds, for looking up every proxy of a mesh with one scan.
 * @param mesh - The mesh.
 */
export function serviceDefaultsByName(mesh: Mesh): Map<string, ServiceDefaultsEntry> {
  const byName = new Map<string, ServiceDefaultsEntry>();
  for (const entry of listOf<ServiceDefaultsEntry>(mesh?.serviceDefaults)) {
    if (isObject(entry) && !byName.has(entry.name)) byName.set(entry.name, entry);
  }
  return byName;
}
