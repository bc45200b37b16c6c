/**
 * The intentions a mesh needs so that exactly its declared upstreams may connect: for each
 * destination, the services that name it as an upstream. Under `default_policy = deny` any other
 * pair is refused.
 */
import { planRoutes } from "./plan";
import type { Mesh } from "../model/types";

/** The sources allowed to one destination. */
export interface DeclaredIntention {
  /** The destination service. */
  destination: string;
  /** The services that declare it as an upstream, sorted, each once. */
  sources: string[];
}

/**
 * One allow-intention per destination of the mesh's upstreams, sorted by destination.
 * Intentions name services, not datacenters: one entry covers a destination in every datacenter.
 * @param mesh - A valid mesh.
 */
export function declaredIntentions(mesh: Mesh): DeclaredIntention[] {
  const sources = new Map<string, Set<string>>();
  for (const route of planRoutes(mesh).routes) {
    const set = sources.get(route.destination.name) ?? new Set<string>();
    set.add(route.source.service);
    sources.set(route.destination.name, set);
  }
  return [...sources.keys()].sort().map((destination) => ({
    destination,
    sources: [...(sources.get(destination) as Set<string>)].sort(),
  }));
}
