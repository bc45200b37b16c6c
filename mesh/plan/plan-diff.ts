/**
 * What changes between two route plans, upstream by upstream: the summary a pull request shows
 * (which upstream changes mode, deciding level or path; which appear or go).
 */
import type { PlannedRoute, RoutePlan } from "./plan";

/** One upstream whose route differs between two plans. */
export interface RouteChange {
  /** `added`, `removed`, or `changed` (mode, deciding level or path). */
  kind: "added" | "removed" | "changed";
  /** The upstream: `web (dc1) -> api (dc2) :10000`. */
  upstream: string;
  /** The route before (absent when added). */
  before?: PlannedRoute;
  /** The route after (absent when removed). */
  after?: PlannedRoute;
}

/** The differences, and how many upstreams stayed as they were. */
export interface RoutePlanDiff {
  /** The upstreams that differ, in the after-plan's order, removed ones last. */
  changes: RouteChange[];
  /** How many upstreams are the same in both. */
  unchanged: number;
}

/** The upstream a route belongs to, in a line: the key both plans are matched on. */
function upstreamOf(route: PlannedRoute): string {
  const { source, destination } = route;
  const proxy = source.proxy !== source.service ? ` [${source.proxy}]` : "";
  return `${source.service} (${source.datacenter})${proxy} -> ${destination.name} (${destination.datacenter}) :${route.localBindPort}`;
}

/** Whether two routes of one upstream take the same way. */
function sameRoute(a: PlannedRoute, b: PlannedRoute): boolean {
  return a.mode === b.mode && a.decidedBy === b.decidedBy && a.text === b.text && a.sni === b.sni;
}

/**
 * The upstreams whose routes differ between two plans.
 * @param before - The plan before the change; `undefined` for a stack not deployed yet.
 * @param after - The plan after the change.
 */
export function diffRoutePlans(before: RoutePlan | undefined, after: RoutePlan): RoutePlanDiff {
  const old = new Map((before?.routes ?? []).map((r) => [upstreamOf(r), r]));
  const changes: RouteChange[] = [];
  let unchanged = 0;
  for (const route of after.routes) {
    const upstream = upstreamOf(route);
    const was = old.get(upstream);
    old.delete(upstream);
    if (!was) changes.push({ kind: "added", upstream, after: route });
    else if (!sameRoute(was, route)) changes.push({ kind: "changed", upstream, before: was, after: route });
    else unchanged++;
  }
  for (const [upstream, route] of old) changes.push({ kind: "removed", upstream, before: route });
  return { changes, unchanged };
}

/** How a route reads in the summary: mode, deciding level, path. */
function describe(route: PlannedRoute): string {
  return `${route.mode} (decided by ${route.decidedBy}): ${route.text.replace(/→/g, "->")}`;
}

/**
 * The diff as Markdown, for a pull request comment or a CI job summary: a heading with the
 * counts, then a line per changed upstream.
 * @param diff - The diff.
 */
export function formatRoutePlanDiff(diff: RoutePlanDiff): string {
  const { changes, unchanged } = diff;
  const head =
    changes.length === 0
      ? `### Route plan: no upstream changes (${unchanged} unchanged)\n`
      : `### Route plan: ${changes.length} upstream${changes.length === 1 ? "" : "s"} change (${unchanged} unchanged)\n\n`;
  const lines = changes.map((c) => {
    if (c.kind === "added") return `- **added** \`${c.upstream}\`: ${describe(c.after as PlannedRoute)}`;
    if (c.kind === "removed") return `- **removed** \`${c.upstream}\`: was ${describe(c.before as PlannedRoute)}`;
    const [b, a] = [c.before as PlannedRoute, c.after as PlannedRoute];
    const what = b.mode !== a.mode ? `mode ${b.mode} -> ${a.mode}` : "path";
    return `- **${what}** \`${c.upstream}\`\n  - before: ${describe(b)}\n  - after: ${describe(a)}`;
  });
  return head + lines.join("\n") + (lines.length ? "\n" : "");
}
