/**
 * The intentions a mesh needs so that exactly its declared upstreams may connect: for each
 * destination, the services that name it as an upstream. Under `default_policy = deny` any other
 * pair is refused.
 */
import { planRoutes } from "./plan";
import { securityOf } from "../model/security";
import type { MeshProblem } from "../errors";
import type { Mesh } from "../model/types";
import { isSniLabel } from "../model/sni";

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

/** One source of a `service-intentions` entry. */
export interface IntentionSource {
  /** The source service's name, or `*` for every service (the destination's default). */
  name: string;
  /** Whether the source may connect. */
  action: "allow" | "deny";
  /** The cluster peer the source runs in (this cluster's name for it). Default: none (this cluster). */
  peer?: string;
}

/** A `service-intentions` entry: which sources may connect to one destination. */
export interface IntentionEntry {
  /** The destination service. */
  destination: string;
  /** The sources, each once. */
  sources: IntentionSource[];
}

const SERVICE_NAME = /^(\*|[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?)$/;

/**
 * Problems of one entry, each at its field under `at` (e.g. `intentions[0]`).
 * @param entry - The entry as given.
 * @param at - The entry's field path.
 */
export function intentionEntryProblems(entry: IntentionEntry, at: string): MeshProblem[] {
  const problems: MeshProblem[] = [];
  const destination = entry?.destination;
  if (typeof destination !== "string" || !SERVICE_NAME.test(destination) || destination === "*")
    problems.push({ path: `${at}.destination`, message: `${JSON.stringify(destination)} is not a service name` });
  const sources = Array.isArray(entry?.sources) ? entry.sources : [];
  const seen = new Set<string>();
  sources.forEach((source, i) => {
    if (typeof source?.name !== "string" || !SERVICE_NAME.test(source.name))
      problems.push({
        path: `${at}.sources[${i}].name`,
        message: `${JSON.stringify(source?.name)} is not a service name or "*"`,
      });
    else if (seen.has(`${source.peer ?? ""}/${source.name}`))
      problems.push({ path: `${at}.sources[${i}].name`, message: `${JSON.stringify(source.name)} is listed twice` });
    seen.add(`${source?.peer ?? ""}/${source?.name}`);
    if (source?.peer !== undefined && !isSniLabel(source.peer))
      problems.push({ path: `${at}.sources[${i}].peer`, message: `${JSON.stringify(source.peer)} is not a peer name` });
    if (source?.action !== "allow" && source?.action !== "deny")
      problems.push({
        path: `${at}.sources[${i}].action`,
        message: `${JSON.stringify(source?.action)} is not "allow" or "deny"`,
      });
  });
  if (sources.length === 0) problems.push({ path: `${at}.sources`, message: "list at least one source" });
  return problems;
}

/**
 * Whether `source` may connect to `destination`, as Consul decides it: the entry's source of that
 * name, else its `*` source, else the ACL default policy.
 * @param entries - The `service-intentions` entries, one per destination.
 * @param source - The source service.
 * @param destination - The destination service.
 * @param defaultPolicy - The ACL default policy.
 */
export function intentionAllows(
  entries: IntentionEntry[],
  source: string,
  destination: string,
  defaultPolicy: "allow" | "deny",
): boolean {
  const sources = (entries.find((e) => e.destination === destination)?.sources ?? []).filter((s) => !s.peer);
  const decided = sources.find((s) => s.name === source) ?? sources.find((s) => s.name === "*");
  return (decided?.action ?? defaultPolicy) === "allow";
}

/**
 * A problem at each upstream of the mesh that no intention allows, under the ACL default policy
 * of the source's datacenter: the upstream would carry nothing.
 * @param mesh - A valid mesh.
 * @param entries - The `service-intentions` entries the mesh is deployed with.
 */
export function unallowedUpstreamProblems(mesh: Mesh, entries: IntentionEntry[]): MeshProblem[] {
  const policies = new Map(mesh.datacenters.map((dc) => [dc.name, securityOf(dc)]));
  const problems: MeshProblem[] = [];
  for (const route of planRoutes(mesh).routes) {
    const security = policies.get(route.source.datacenter);
    const policy = security?.acl ? security.defaultPolicy : "allow";
    if (intentionAllows(entries, route.source.service, route.destination.name, policy)) continue;
    problems.push({
      path: route.path,
      message:
        `no intention allows ${route.source.service} -> ${route.destination.name} (ACL default policy ` +
        `${policy}): the upstream would carry nothing; allow it in intentions, or keep allowDeclaredUpstreams`,
    });
  }
  return problems;
}
