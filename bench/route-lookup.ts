/**
 * Route lookup cost against table size: `route()` over tables of 10 and 100,000 local services
 * (and as many remote datacenters), looking up names spread over the whole table, in the same run.
 */
import { routeTableFromRoutesFile } from "../gateway/routing/route-table";
import { route } from "../gateway/routing/router";

/** One table size's figure. */
export interface LookupFigure {
  /** Local services in the table (and as many remote datacenters). */
  routes: number;
  /** Median nanoseconds per lookup over the rounds. */
  nsPerLookup: number;
}

/**
 * Times `route()` for each table size, rounds interleaved so both see the same machine.
 * @param trustDomain - The mesh trust domain.
 * @param sizes - Table sizes. Default: `[10, 100_000]`.
 * @param lookups - Lookups per round. Default: `200_000`.
 * @param rounds - Rounds per size. Default: `7`.
 */
export function routeLookupFigures(
  trustDomain: string,
  sizes: readonly number[] = [10, 100_000],
  lookups = 200_000,
  rounds = 7,
): LookupFigure[] {
  const cases = sizes.map((size) => {
    const table = routeTableFromRoutesFile({
      datacenter: "dc1",
      trustDomain,
      services: Array.from({ length: size }, (_, i) => ({
        name: `svc-${i}`,
        endpoints: [{ address: "127.0.0.1", port: 20000 + (i % 1000) }],
      })),
      gateways: Array.from({ length: size }, (_, i) => ({
        datacenter: `dc-${i + 2}`,
        endpoints: [{ address: "127.0.0.1", port: 8443 }],
      })),
    });
    // 1,024 names spread over the table, half local services, half remote datacenters.
    const names = Array.from({ length: 1024 }, (_, i) => {
      const n = Math.floor((i * size) / 1024) % size;
      return i % 2 === 0
        ? `svc-${n}.default.dc1.internal.${trustDomain}`
        : `svc-${n}.default.dc-${n + 2}.internal.${trustDomain}`;
    });
    return { size, table, names, samples: [] as number[] };
  });
  let sink = 0;
  for (let round = 0; round < rounds; round++) {
    for (const c of cases) {
      const started = process.hrtime.bigint();
      for (let i = 0; i < lookups; i++) {
        const decision = route(c.names[i & 1023], c.table, "dc1", trustDomain);
        if (decision.kind !== "reject") sink++;
      }
      c.samples.push(Number(process.hrtime.bigint() - started) / lookups);
    }
  }
  if (sink !== rounds * lookups * cases.length) throw new Error("route lookup benchmark: some names were refused");
  return cases.map((c) => ({ routes: c.size, nsPerLookup: c.samples.sort((a, b) => a - b)[rounds >> 1] }));
}
