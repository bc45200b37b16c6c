/**
 * One Consul blocking-query loop, by Consul's documented rules: pass the last `X-Consul-Index`
 * back with `wait`; a return does not mean a change (the value is compared); if the index goes
 * backwards, reset it to 0; never block on an index below 1; rate-limit the loop; back off
 * after errors, keep the last good value, and read afresh (index 0) after a failure.
 *
 * A handler that throws is a bug of the gateway, not a failure of Consul: it is reported through
 * `onError` as a {@link GatewayInternalError} (`E_GATEWAY_INTERNAL`), and the watch carries on
 * as Consul answered (healthy, blocking on the answered index, no back-off); the value counts as
 * delivered, so the same answer is not handed to the handler again.
 */
import type { BlockingParams, ConsulClient, ConsulResponse } from "../../consul/client";
import { ConsulError } from "../../consul/errors";
import { GatewayInternalError } from "../errors";

/** Timing of a {@link BlockingWatch}. */
export interface BlockingWatchTiming {
  /** How long Consul may hold each request, in ms. Default: `300000` (Consul's 5 min). */
  waitMs?: number;
  /** Least time between the starts of two requests of one watch, in ms. Default: `1000`. */
  minIntervalMs?: number;
  /** First retry delay after an error, in ms; doubles up to `retryMaxMs`. Default: `1000`. */
  retryMinMs?: number;
  /** Longest retry delay, in ms. Default: `30000`. */
  retryMaxMs?: number;
  /** For endpoints that do not block (no `X-Consul-Index`): how often to poll, in ms. Default: `30000`. */
  pollIntervalMs?: number;
  /**
   * Poll every `pollIntervalMs` even though the endpoint sends an index: for answers that change
   * without it (a peering's `StreamStatus`, computed when asked). Default: `false`.
   */
  pollOnly?: boolean;
}

/** What a watch reports. */
export interface BlockingWatchHandlers<T> {
  /** A value that differs from the previous one (the first value always). */
  onValue(value: T): void;
  /**
   * A failed request ({@link ConsulError}; the watch retries with back-off), or a handler of this
   * watch that threw ({@link GatewayInternalError}; reported once, not retried).
   */
  onError(error: ConsulError | GatewayInternalError): void;
  /** An answer that Consul filtered by ACLs after one that it did not (or the first one). Default: ignored. */
  onFilteredByAcls?(): void;
}

/**
 * Computes the next index from the previous one and the answer's `X-Consul-Index`.
 * @param previous the index sent (0 for a plain read).
 * @param answered the `X-Consul-Index` received, if any.
 * @returns the index to send next: `0` after a reset (index went backwards) or without one, else at least `1`.
 */
export function nextIndex(previous: number, answered: number | undefined): number {
  if (answered === undefined) return 0;
  if (answered < previous) return 0;
  return Math.max(1, answered);
}

/** A blocking query loop on one path. */
export class BlockingWatch<T> {
  /** Whether the last request succeeded. */
  healthy = false;
  /** Whether any request has completed (successfully or not). */
  settled = false;
  /** The last good value. */
  value: T | undefined;
  /** The index to send next. */
  index = 0;
  /** Whether Consul filtered the last answer by ACLs. */
  filteredByAcls = false;
  private lastJson: string | undefined;
  private stopped = false;
  private readonly abort = new AbortController();
  private sleepTimer: NodeJS.Timeout | undefined;
  private wakeSleep: (() => void) | undefined;
  private readonly timing: Required<BlockingWatchTiming>;

  /**
   * @param client the Consul client.
   * @param path API path.
   * @param query query parameters (`""` for a bare flag such as `passing`).
   * @param handlers value and error callbacks.
   * @param timing wait, rate limit and back-off; see {@link BlockingWatchTiming}.
   */
  constructor(
    private readonly client: ConsulClient,
    readonly path: string,
    private readonly query: Record<string, string | undefined>,
    private readonly handlers: BlockingWatchHandlers<T>,
    timing: BlockingWatchTiming = {},
  ) {
    this.timing = {
      waitMs: timing.waitMs ?? 300_000,
      minIntervalMs: timing.minIntervalMs ?? 1000,
      retryMinMs: timing.retryMinMs ?? 1000,
      retryMaxMs: timing.retryMaxMs ?? 30_000,
      pollIntervalMs: timing.pollIntervalMs ?? 30_000,
      pollOnly: timing.pollOnly ?? false,
    };
  }

  /** Starts the loop (it runs until {@link BlockingWatch.stop}). */
  start(): void {
    void this.loop();
  }

  /** Stops the loop and cancels the request in flight. */
  stop(): void {
    this.stopped = true;
    this.abort.abort();
    if (this.sleepTimer) clearTimeout(this.sleepTimer);
    this.wakeSleep?.();
  }

  private sleep(ms: number): Promise<void> {
    if (ms <= 0 || this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      this.wakeSleep = resolve;
      this.sleepTimer = setTimeout(resolve, ms);
    });
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      const began = Date.now();
      let answer: ConsulResponse<T>;
      try {
        const blocking: BlockingParams | undefined =
          this.index > 0 && !this.timing.pollOnly ? { index: this.index, waitMs: this.timing.waitMs } : undefined;
        answer = await this.client.get<T>(this.path, this.query, blocking, this.abort.signal);
      } catch (error) {
        if (this.stopped) return;
        const consulError =
          error instanceof ConsulError
            ? error
            : new ConsulError("E_CONSUL_BAD_RESPONSE", `GET ${this.path}: ${(error as Error).message}`);
        this.healthy = false;
        this.settled = true;
        // Read afresh after a failure: a blocking query with the old index would hang on a Consul
        // that came back with nothing new (up to `wait`, minutes), leaving the watch unhealthy.
        this.index = 0;
        failures++;
        this.handlers.onError(consulError);
        await this.sleep(Math.min(this.timing.retryMaxMs, this.timing.retryMinMs * 2 ** Math.min(failures - 1, 16)));
        continue;
      }
      if (this.stopped) return;
      failures = 0;
      this.healthy = true;
      this.settled = true;
      this.index = nextIndex(this.index, answer.index);
      this.deliver(answer);
      // Rate limit; endpoints without an index are polled.
      await this.sleep(
        answer.index === undefined || this.timing.pollOnly
          ? this.timing.pollIntervalMs
          : this.timing.minIntervalMs - (Date.now() - began),
      );
    }
  }

  /** Hands an answer to the handlers; one that throws is reported as the gateway's own failure. */
  private deliver(answer: ConsulResponse<T>): void {
    try {
      if (answer.filteredByAcls && !this.filteredByAcls) this.handlers.onFilteredByAcls?.();
      this.filteredByAcls = answer.filteredByAcls;
      const json = JSON.stringify(answer.body);
      if (json !== this.lastJson) {
        this.lastJson = json;
        this.value = answer.body;
        this.handlers.onValue(answer.body);
      }
    } catch (error) {
      this.handlers.onError(new GatewayInternalError(`GET ${this.path}`, error));
    }
  }
}
