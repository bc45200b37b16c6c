/**
 * Logging: pino JSON lines, and a rate limiter for per-connection lines so a flood of bad
 * clients cannot flood the log. Tokens are never passed to the logger; the redact list is a
 * second line of defence.
 */
import pino, { Logger } from "pino";

/** Log levels accepted by `--log-level`. */
export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

/** One of {@link LOG_LEVELS}. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The level when none is given. */
export const DEFAULT_LOG_LEVEL: LogLevel = "info";

/**
 * The gateway's logger: JSON lines on stdout.
 * @param level minimum level. Default: {@link DEFAULT_LOG_LEVEL}.
 */
export function createLogger(level: LogLevel = DEFAULT_LOG_LEVEL): Logger {
  return pino({
    name: "sni-gateway",
    level,
    redact: { paths: ["token", "*.token", "headers.x-consul-token", "*.headers.x-consul-token"], censor: "[redacted]" },
  });
}

/**
 * Allows at most `perSecond` events per one-second window and counts the rest, so the next
 * allowed line can say how many were suppressed.
 */
export class RateLimiter {
  private windowStart = 0;
  private used = 0;
  private suppressed = 0;

  /** @param perSecond events allowed per second (the proxy's: `DEFAULT_LOG_LINES_PER_SECOND`). */
  constructor(private readonly perSecond: number) {}

  /**
   * Whether an event may be logged now; returns `false` when over the limit, else the number
   * of events suppressed since the last allowed one (`0` or more).
   * @param now the current time in ms. Default: `Date.now()`.
   */
  take(now = Date.now()): number | false {
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.used = 0;
    }
    if (this.used >= this.perSecond) {
      this.suppressed++;
      return false;
    }
    this.used++;
    const suppressed = this.suppressed;
    this.suppressed = 0;
    return suppressed;
  }
}
