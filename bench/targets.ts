/**
 * The performance targets the gateway is held to, checked on one run's figures (all systems
 * measured side by side): each is a comparison with an anchor measured in the same run.
 */

/** One system's medians, as the benchmark's table shows them. */
export interface Row {
  system: string;
  cpuPerGiB: number;
  cpuMsPerConn: number;
  addedP50us: number;
  idleKiB: Record<string, number>;
}

/** One target: what it compares, the figures, and whether the run met it. */
export interface TargetResult {
  target: string;
  ours: number;
  limit: number;
  unit: string;
  met: boolean;
}

/**
 * The targets that can be checked with the systems of this run (a target whose anchor did not
 * run is left out).
 * @param rows - The systems' medians.
 * @param lookupRatio - Route lookup time at the largest table over the smallest.
 * @param idleCount - The idle-connection count the memory target is read at. Default: `5000`.
 */
export function checkTargets(rows: readonly Row[], lookupRatio: number, idleCount = 5000): TargetResult[] {
  const by = new Map(rows.map((r) => [r.system, r]));
  const results: TargetResult[] = [];
  const add = (target: string, ours: number | undefined, limit: number | undefined, unit: string, strict = false) => {
    if (ours === undefined || limit === undefined || !Number.isFinite(ours) || !Number.isFinite(limit)) return;
    results.push({ target, ours, limit, unit, met: strict ? ours < limit : ours <= limit });
  };
  const gateway = by.get("sni-gateway");
  const pump = by.get("sni-gateway-pump");
  const haproxy = by.get("haproxy-t1");
  const haproxySplice = by.get("haproxy-t1-splice");
  const envoy = ["envoy-c1", "envoy-c2"].map((n) => by.get(n)).filter((r): r is Row => r !== undefined);
  const envoyBest = (f: (r: Row) => number) => (envoy.length ? Math.min(...envoy.map(f)) : undefined);
  const idle = String(idleCount);
  // The gateway as shipped (the splice relay where the addon is built), then its TypeScript fallback.
  add(`KiB per idle connection at ${idle} ≤ 4`, gateway?.idleKiB[idle], 4, "KiB");
  add("CPU per new connection ≤ 1.2× HAProxy", gateway?.cpuMsPerConn, haproxy && 1.2 * haproxy.cpuMsPerConn, "ms");
  add(
    "CPU per new connection < Envoy (best of c1, c2)",
    gateway?.cpuMsPerConn,
    envoyBest((r) => r.cpuMsPerConn),
    "ms",
    true,
  );
  add("CPU per GiB ≤ HAProxy without splice", gateway?.cpuPerGiB, haproxy?.cpuPerGiB, "s");
  add(
    "CPU per GiB < Envoy (best of c1, c2)",
    gateway?.cpuPerGiB,
    envoyBest((r) => r.cpuPerGiB),
    "s",
    true,
  );
  add("zero copy: CPU per GiB ≤ HAProxy splice-auto", gateway?.cpuPerGiB, haproxySplice?.cpuPerGiB, "s");
  add("added p50 latency ≤ HAProxy's", gateway?.addedP50us, haproxy?.addedP50us, "µs");
  add("route lookup at 100,000 routes ≤ 2× at 10", lookupRatio, 2, "×");
  add(`pump: KiB per idle connection at ${idle} ≤ 4`, pump?.idleKiB[idle], 4, "KiB");
  add("pump: CPU per new connection ≤ 1.2× HAProxy", pump?.cpuMsPerConn, haproxy && 1.2 * haproxy.cpuMsPerConn, "ms");
  add("pump: CPU per GiB ≤ HAProxy without splice", pump?.cpuPerGiB, haproxy?.cpuPerGiB, "s");
  add(
    "pump: CPU per GiB < Envoy (best of c1, c2)",
    pump?.cpuPerGiB,
    envoyBest((r) => r.cpuPerGiB),
    "s",
    true,
  );
  return results;
}
