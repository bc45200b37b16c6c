/**
 * A part of a mesh read from one source (a topology file, Consul configuration files, a live
 * Consul), with where each object came from, so that the problems of the merged mesh name the
 * file or the Consul object a person can go and fix, not only a field path of the model.
 */
import type { Mesh } from "./types";

/**
 * Where the objects of a mesh came from: one label per element, at the same index as the
 * element in the mesh's arrays, e.g. `"consul/web.hcl"` or `"Consul dc1: service web-sidecar-proxy"`.
 */
export interface MeshOrigins {
  /** Origin of `mesh.datacenters[i]`. */
  datacenters: string[];
  /** Origin of `mesh.services[i]`. */
  services: string[];
  /** Origin of `mesh.gateways[i]`. */
  gateways: string[];
  /** Origin of `mesh.serviceDefaults[i]`. */
  serviceDefaults: string[];
  /** Origin of `mesh.proxyDefaults`. Default: none. */
  proxyDefaults?: string;
  /** Origin of the mesh-wide fields (`trustDomain`, `primaryDatacenter`). Default: none. */
  mesh?: string;
}

/** A problem found while reading a source, before the mesh is validated. */
export interface SourceProblem {
  /** The file or Consul object, e.g. `consul/web.hcl` or `Consul dc2: mesh-gateway`. */
  origin: string;
  /** Field within it, when there is one, e.g. `service.proxy.upstreams[0]`. Default: none. */
  field?: string;
  /** What is wrong and how to fix it. */
  message: string;
}

/** What one source contributes to the plan. */
export interface MeshFragment {
  /** The objects found; arrays may be empty. `datacenters` lists every datacenter the source knows of. */
  mesh: Mesh;
  /** Where each object of `mesh` came from, index for index. */
  origins: MeshOrigins;
  /** Problems met while reading. Default: none. */
  problems?: SourceProblem[];
  /**
   * Health of the mesh gateways as Consul reports it, for a live source: one entry per gateway
   * instance, index for index with `mesh.gateways`. Default: none (files say nothing of health).
   */
  gatewayHealth?: ("passing" | "warning" | "critical")[];
}

/** A mesh with no datacenter and every list empty, for a source to fill. */
export function emptyMesh(): Mesh {
  return { datacenters: [], services: [], gateways: [], serviceDefaults: [] };
}

/** Origins with every array empty. */
export function emptyOrigins(): MeshOrigins {
  return { datacenters: [], services: [], gateways: [], serviceDefaults: [] };
}
