/**
 * Where the workloads of a mesh run (pure: no Pulumi): one per connect service with a sidecar,
 * at a fixed LAN address of its datacenter, with the upstreams its demo service calls as the
 * route plan gives them.
 */
import type { Mesh, RoutePlan } from "../../mesh";
import { isIpAddress, lanWorkloadAddress } from "./address-plan";
import type { DemoUpstream } from "./demo-app";

/** One planned workload. */
export interface PlannedWorkload {
  /** Index of the service in `mesh.services`. */
  index: number;
  /** The service ID (`id`, else `name`). */
  serviceId: string;
  /** The service name. */
  serviceName: string;
  /** Its datacenter. */
  datacenter: string;
  /** The port the service listens on. */
  port: number;
  /** Its fixed LAN address, which the registration carries. */
  lanAddress: string;
  /** Network aliases: the model's address when it is a host name. */
  aliases: string[];
  /** The upstreams its demo service calls. */
  upstreams: DemoUpstream[];
  /** The host port that publishes it: the first service with upstreams gets `demoHostPort`. */
  hostPort?: number;
}

/**
 * The workloads of a mesh.
 * @param mesh - A valid mesh.
 * @param plan - Its route plan.
 * @param lanSubnetOf - The LAN subnet of each datacenter.
 * @param demoHostPort - Host port of the first service with upstreams. Default: none published.
 */
export function planWorkloads(
  mesh: Mesh,
  plan: RoutePlan,
  lanSubnetOf: (datacenter: string) => string,
  demoHostPort?: number,
): PlannedWorkload[] {
  const placed = new Map<string, number>();
  let published = demoHostPort === undefined;
  const workloads: PlannedWorkload[] = [];
  (mesh.services ?? []).forEach((service, index) => {
    if (!service.connect?.sidecarService || service.port === undefined) return;
    const k = placed.get(service.datacenter) ?? 0;
    placed.set(service.datacenter, k + 1);
    const upstreams = plan.routes
      .filter((route) => route.path.startsWith(`services[${index}].`))
      .map((route) => ({
        name: route.destination.name,
        datacenter: route.destination.datacenter,
        localBindPort: route.localBindPort,
        mode: route.mode,
        path: route.text,
      }));
    const workload: PlannedWorkload = {
      index,
      serviceId: service.id ?? service.name,
      serviceName: service.name,
      datacenter: service.datacenter,
      port: service.port,
      lanAddress: lanWorkloadAddress(lanSubnetOf(service.datacenter), k),
      aliases: service.address && !isIpAddress(service.address) ? [service.address] : [],
      upstreams,
    };
    if (!published && upstreams.length > 0) {
      workload.hostPort = demoHostPort;
      published = true;
    }
    workloads.push(workload);
  });
  return workloads;
}
