/**
 * One mesh from several sources: datacenters merged by name, services, gateways and
 * `service-defaults` concatenated, one `proxy-defaults`; a disagreement between sources is a
 * problem naming both, never a silent choice. {@link locateProblem} turns a problem of the
 * merged mesh (a field path of the model) back into the file or Consul object it came from.
 */
import { isObject } from "../model/guards";
import {
  emptyMesh,
  emptyOrigins,
  type MeshFragment,
  type MeshOrigins,
  type SourceProblem,
} from "../model/mesh-fragment";
import type { MeshProblem } from "../errors";
import type { DatacenterSpec, Mesh } from "../model/types";

/** The mesh of every source together. */
export interface MergedMesh {
  /** The merged mesh. */
  mesh: Mesh;
  /** Where each of its objects came from. */
  origins: MeshOrigins;
  /** The sources' own problems and their disagreements. */
  problems: SourceProblem[];
  /** Health of `mesh.gateways[i]` where a live source reported it, else `undefined`. */
  gatewayHealth: (MeshFragmentHealth | undefined)[];
}

type MeshFragmentHealth = NonNullable<MeshFragment["gatewayHealth"]>[number];

/** Fields `a` and `b` both set to different values. */
function conflicts(a: DatacenterSpec, b: DatacenterSpec): (keyof DatacenterSpec)[] {
  return (Object.keys(b) as (keyof DatacenterSpec)[]).filter(
    (key) => a[key] !== undefined && b[key] !== undefined && JSON.stringify(a[key]) !== JSON.stringify(b[key]),
  );
}

/** `spec` without its `undefined` fields, so that merging never erases a value. */
function definedFields(spec: DatacenterSpec): DatacenterSpec {
  return Object.fromEntries(Object.entries(spec).filter(([, value]) => value !== undefined)) as DatacenterSpec;
}

/**
 * Merges `fragments` in order. Pure; never throws.
 * @param fragments - What each source read.
 */
export function mergeFragments(fragments: MeshFragment[]): MergedMesh {
  const mesh: Mesh = emptyMesh();
  const origins = emptyOrigins();
  const problems: SourceProblem[] = [];
  const gatewayHealth: (MeshFragmentHealth | undefined)[] = [];
  for (const fragment of fragments) {
    const part = fragment.mesh;
    const from = fragment.origins;
    problems.push(...(fragment.problems ?? []));
    // One federation, one way: a source that says the servers federate through the gateways decides.
    if (part.wanFederation?.mode && !mesh.wanFederation) {
      mesh.wanFederation = { ...part.wanFederation };
      origins.mesh ??= from.mesh;
    }
    for (const field of ["trustDomain", "primaryDatacenter"] as const) {
      const value = part[field];
      if (value === undefined) continue;
      if (mesh[field] === undefined) {
        mesh[field] = value;
        origins.mesh ??= from.mesh;
      } else if (mesh[field] !== value) {
        problems.push({
          origin: from.mesh ?? "?",
          field,
          message:
            `${field} "${value}" differs from "${mesh[field]}" ` +
            `(${origins.mesh}): the sources describe different meshes`,
        });
      }
    }
    (part.datacenters ?? []).forEach((dc, i) => {
      const at = mesh.datacenters.findIndex((known) => isObject(known) && known.name === dc.name);
      if (at < 0) {
        mesh.datacenters.push({ ...dc });
        origins.datacenters.push(from.datacenters[i]);
        return;
      }
      for (const key of conflicts(mesh.datacenters[at], dc)) {
        problems.push({
          origin: from.datacenters[i],
          field: key,
          message:
            `datacenter "${dc.name}": ${key} ${JSON.stringify(dc[key])} differs from ` +
            `${JSON.stringify(mesh.datacenters[at][key])} (${origins.datacenters[at]})`,
        });
      }
      mesh.datacenters[at] = { ...definedFields(dc), ...definedFields(mesh.datacenters[at]) };
    });
    mesh.services!.push(...(part.services ?? []));
    origins.services.push(...from.services);
    mesh.gateways!.push(...(part.gateways ?? []));
    origins.gateways.push(...from.gateways);
    (part.gateways ?? []).forEach((_, i) => gatewayHealth.push(fragment.gatewayHealth?.[i]));
    mesh.serviceDefaults!.push(...(part.serviceDefaults ?? []));
    origins.serviceDefaults.push(...from.serviceDefaults);
    if (part.proxyDefaults) {
      if (mesh.proxyDefaults && JSON.stringify(mesh.proxyDefaults) !== JSON.stringify(part.proxyDefaults)) {
        problems.push({
          origin: from.proxyDefaults ?? "?",
          message: `a second, different proxy-defaults (the first is ${origins.proxyDefaults}): Consul keeps one`,
        });
      } else if (!mesh.proxyDefaults) {
        mesh.proxyDefaults = part.proxyDefaults;
        origins.proxyDefaults = from.proxyDefaults;
      }
    }
  }
  return { mesh, origins, problems, gatewayHealth };
}

const INDEXED = /^(datacenters|services|gateways|serviceDefaults)\[(\d+)\]\.?/;

/**
 * `problem` of the merged mesh, named by the source object it is in: `services[7].proxy…`
 * becomes the origin of services[7] and the field `proxy…`. Paths outside any sourced object
 * keep their field path and the mesh's origin.
 * @param problem - A problem of `validateMesh(merged.mesh)`.
 * @param origins - The merged mesh's origins.
 */
export function locateProblem(problem: MeshProblem, origins: MeshOrigins): SourceProblem {
  const indexed = INDEXED.exec(problem.path);
  let origin: string | undefined;
  let field = problem.path;
  if (indexed) {
    origin = origins[indexed[1] as "datacenters" | "services" | "gateways" | "serviceDefaults"][Number(indexed[2])];
    field = problem.path.slice(indexed[0].length);
  } else if (problem.path.startsWith("proxyDefaults")) {
    origin = origins.proxyDefaults;
    field = problem.path.replace(/^proxyDefaults\.?/, "");
  }
  return { origin: origin ?? origins.mesh ?? "mesh", ...(field ? { field } : {}), message: problem.message };
}
