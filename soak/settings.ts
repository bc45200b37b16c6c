/**
 * How big each soak phase is: the full run (`npm run soak`, about 10 minutes on 2 cores) or the
 * quick one (`--quick`, inside `npm test`, well under a minute).
 */

/** The sizes of one soak run. */
export interface SoakSettings {
  /** The quick run. */
  quick: boolean;
  /** Folder for the run's files (routes files, logs). */
  workDir: string;
  /** Fuzz cases. Full: 1,000,000; quick: 20,000. */
  fuzzCases: number;
  /** Concurrent connections held through one gateway: as many as its open-file limit allows (full), or this many (quick: 500). */
  concurrent: number | "fd-limit";
  /** Connections opened and closed in churn. Full: 100,000; quick: 2,000. */
  churn: number;
  /** `--max-connections` of the overflow test, and how many connections go over it. Full: 1,000 and 2,000; quick: 100 and 200. */
  overflow: { limit: number; over: number };
  /** Streams during route changes, and new connections per second. Full: 200 and 50/s; quick: 50 and 20/s. */
  routeChange: { streams: number; arrivalsPerSecond: number };
}

/**
 * The sizes for a run.
 * @param quick the quick run.
 * @param workDir the run's folder.
 */
export function soakSettings(quick: boolean, workDir: string): SoakSettings {
  return quick
    ? {
        quick,
        workDir,
        fuzzCases: 20_000,
        concurrent: 500,
        churn: 2_000,
        overflow: { limit: 100, over: 200 },
        routeChange: { streams: 50, arrivalsPerSecond: 20 },
      }
    : {
        quick,
        workDir,
        fuzzCases: 1_000_000,
        concurrent: "fd-limit",
        churn: 100_000,
        overflow: { limit: 1_000, over: 2_000 },
        routeChange: { streams: 200, arrivalsPerSecond: 50 },
      };
}
