/**
 * A large, valid mesh for scale tests and benchmarks: the same input for every run, so that
 * sizes can be compared with each other.
 */
import {
  DEFAULT_TRUST_DOMAIN,
  type Mesh,
  type MeshGatewayConfig,
  type MeshService,
  type ServiceDefaultsEntry,
  type Upstream,
} from "../../mesh";

/** The size of a {@link largeMesh}. */
export interface LargeMeshSize {
  /** Datacenters, at least 1: `dc1` (the primary), `dc2`, …, each with one mesh gateway. */
  datacenters: number;
  /** Services, at least 1. */
  services: number;
  /** Upstreams of each service. */
  upstreamsPerService: number;
}

const MODES = ["local", "remote", "none"] as const;

/** The connect-proxies are every third service; the others have a sidecar. */
const isConnectProxy = (i: number) => i % 3 === 2;

/**
 * A deterministic mesh of `services × upstreamsPerService` routes that passes `validateMesh`.
 * Service `i` (`svc-<i>`) lives in datacenter `dc<i mod datacenters + 1>`; every third one is
 * fronted by a standalone connect-proxy (`svc-<i>-proxy`), the others have a sidecar. Upstream
 * `k` of service `i` goes to service `i + datacenters + k·(datacenters + 1)` (modulo the count;
 * the next one when that is `i` itself), so that, when the counts allow, upstream 0 stays in
 * the datacenter and the others reach `k` datacenters further. The modes are spread over every
 * level: `proxy-defaults` (`remote`), a `service-defaults` entry for every fifth service, the
 * instance for another fifth, the upstream itself for every fourth upstream; with all three
 * modes in turn.
 * @param size - Datacenters, services and upstreams per service.
 */
export function largeMesh(size: LargeMeshSize): Mesh {
  const { datacenters: dcCount, services: count, upstreamsPerService } = size;
  const dc = (i: number) => `dc${(i % dcCount) + 1}`;
  const name = (i: number) => `svc-${i}`;
  const mode = (n: number): MeshGatewayConfig => ({ mode: MODES[n % MODES.length] });
  const upstreams = (i: number): Upstream[] =>
    Array.from({ length: upstreamsPerService }, (_, k) => {
      let j = (i + dcCount + k * (dcCount + 1)) % count;
      if (j === i) j = (i + 1) % count;
      return {
        destinationName: name(j),
        datacenter: dc(j),
        localBindPort: 10000 + k,
        ...((i + k) % 4 === 0 ? { meshGateway: mode(i + k) } : {}),
      };
    });
  const service = (i: number): MeshService => {
    const proxy = { ...(i % 5 === 1 ? { meshGateway: mode(i) } : {}), upstreams: upstreams(i) };
    const address = `${name(i)}-${dc(i)}`;
    if (isConnectProxy(i)) {
      const fronting = { destinationServiceName: name(i), localServicePort: 8080, ...proxy };
      return {
        name: `${name(i)}-proxy`,
        kind: "connect-proxy",
        datacenter: dc(i),
        port: 21000,
        address,
        proxy: fronting,
      };
    }
    const connect = { sidecarService: { port: 21000, proxy } };
    return { name: name(i), datacenter: dc(i), port: 8080, address, connect };
  };
  const serviceDefaults: ServiceDefaultsEntry[] = [];
  for (let i = 2; i < count; i += 5) {
    serviceDefaults.push({ kind: "service-defaults", name: name(i), meshGateway: mode(i) });
  }
  const dcNames = Array.from({ length: dcCount }, (_, d) => dc(d));
  return {
    trustDomain: DEFAULT_TRUST_DOMAIN,
    primaryDatacenter: "dc1",
    datacenters: dcNames.map((dcName) => ({ name: dcName, primaryDatacenter: "dc1" })),
    proxyDefaults: { kind: "proxy-defaults", name: "global", meshGateway: { mode: "remote" } },
    serviceDefaults,
    gateways: dcNames.map((datacenter) => ({
      datacenter,
      name: "mesh-gateway",
      port: 8443,
      address: `mesh-gateway-${datacenter}`,
      taggedAddresses: {
        lan: { address: `mesh-gateway-${datacenter}`, port: 8443 },
        wan: { address: `mesh-gateway-${datacenter}.wan.example`, port: 443 },
      },
    })),
    services: Array.from({ length: count }, (_, i) => service(i)),
  };
}
