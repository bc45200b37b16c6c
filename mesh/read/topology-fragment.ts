/**
 * A topology file (the {@link Mesh} model as JSON or YAML, see `mesh/mesh.schema.json`) as a
 * {@link MeshFragment}: each object keeps its own path in the file as its origin, so a problem
 * reads `mesh.yaml: services[3]` whatever else was merged in.
 */
import { isObject, listOf } from "../model/guards";
import { emptyOrigins, type MeshFragment } from "../model/mesh-fragment";
import type { Mesh } from "../model/types";

/**
 * The fragment of a parsed topology document. Pure; never throws: a document that is not an
 * object, or whose lists are not lists, gives a fragment with a problem.
 * @param document - The parsed file.
 * @param origin - The file's name, for origins and problems.
 */
export function topologyFragment(document: unknown, origin: string): MeshFragment {
  if (!isObject(document) || Array.isArray(document)) {
    return {
      mesh: { datacenters: [] },
      origins: emptyOrigins(),
      problems: [
        { origin, message: "a topology file holds one object with `datacenters` (see mesh/mesh.schema.json)" },
      ],
    };
  }
  const mesh = document as Mesh;
  const problems = (["datacenters", "services", "gateways", "serviceDefaults"] as const)
    .filter((field) => mesh[field] !== undefined && !Array.isArray(mesh[field]))
    .map((field) => ({ origin, field, message: `${field} must be a list` }));
  const lists = {
    datacenters: listOf<Mesh["datacenters"][number]>(mesh.datacenters),
    services: listOf<NonNullable<Mesh["services"]>[number]>(mesh.services),
    gateways: listOf<NonNullable<Mesh["gateways"]>[number]>(mesh.gateways),
    serviceDefaults: listOf<NonNullable<Mesh["serviceDefaults"]>[number]>(mesh.serviceDefaults),
  };
  const labels = (field: keyof typeof lists) => lists[field].map((_, i) => `${origin}: ${field}[${i}]`);
  return {
    mesh: { ...mesh, ...lists },
    origins: {
      datacenters: labels("datacenters"),
      services: labels("services"),
      gateways: labels("gateways"),
      serviceDefaults: labels("serviceDefaults"),
      ...(mesh.proxyDefaults !== undefined ? { proxyDefaults: `${origin}: proxyDefaults` } : {}),
      mesh: origin,
    },
    ...(problems.length ? { problems } : {}),
  };
}
