/**
 * What both Consul route sources (the catalog's and the xDS stream's) do with what they read:
 * changes coalesced into one rebuild, a new table handed on only when its routes changed, the
 * wait of `start()` for the first one, their status, and the trust domain from the agent's CA
 * roots.
 */
import type { RoutesFile } from "../../mesh/model/routes-file";
import { RouteSourceListener, RouteSourceStatus, routeTableFromRoutesFile } from "../routing/route-table";

/** Default of the Consul route sources' `initialLoadTimeoutMs`, in ms. */
export const DEFAULT_INITIAL_LOAD_TIMEOUT_MS = 10_000;

/** The timing of a {@link RoutesPublisher}. */
export interface RoutesPublisherTiming {
  /** Changes within this time make one rebuild, in ms. No default: each source has its own. */
  debounceMs: number;
  /** Most time {@link RoutesPublisher.start} waits for the first table, in ms. Default: {@link DEFAULT_INITIAL_LOAD_TIMEOUT_MS}. */
  initialLoadTimeoutMs?: number;
}

/** The agent's CA roots, where both Consul route sources read the trust domain. */
export const CA_ROOTS_PATH = "/v1/agent/connect/ca/roots";

/** The part of a `/v1/agent/connect/ca/roots` answer the gateway reads. */
export interface CaRoots {
  /** `<cluster-id>.consul`. */
  TrustDomain?: string;
}

/**
 * The trust domain to route with: the CA roots', else the one given, lower case; `""` for none yet.
 * @param roots - The last CA roots answer, if any.
 * @param given - The trust domain of the options, if any.
 */
export function trustDomainOf(roots: CaRoots | undefined, given: string | undefined): string {
  return (roots?.TrustDomain || given || "").toLowerCase();
}

/** Builds tables for a route source and hands them to its listener. */
export class RoutesPublisher {
  /** The source's last failure, shown by {@link RoutesPublisher.status} when asked to. */
  lastError: string | undefined;
  private listener: RouteSourceListener | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private lastJson: string | undefined;
  private lastLoadedAt: number | undefined;
  private firstLoad: (() => void) | undefined;
  private stopped = false;

  /**
   * @param build - The routes from what the source has read, or `undefined` while incomplete.
   * @param timing - The debounce and the first table's wait; see {@link RoutesPublisherTiming}.
   */
  constructor(
    private readonly build: () => RoutesFile | undefined,
    private readonly timing: RoutesPublisherTiming,
  ) {}

  /** Whether {@link RoutesPublisher.close} was called. */
  get closed(): boolean {
    return this.stopped;
  }

  /** Whether a table has been handed on. */
  get loaded(): boolean {
    return this.lastJson !== undefined;
  }

  /**
   * Takes the listener; the promise resolves once the first table is handed on, the publisher
   * is closed, or after `initialLoadTimeoutMs`, whichever comes first.
   * @param listener - Receives the tables and {@link RoutesPublisher.report}'s errors.
   */
  start(listener: RouteSourceListener): Promise<void> {
    this.listener = listener;
    let timer: NodeJS.Timeout | undefined;
    return new Promise<void>((resolve) => {
      this.firstLoad = resolve;
      timer = setTimeout(resolve, this.timing.initialLoadTimeoutMs ?? DEFAULT_INITIAL_LOAD_TIMEOUT_MS);
    }).finally(() => clearTimeout(timer));
  }

  /**
   * Tells the listener of a failure (the table in force stays).
   * @param error - The failure.
   */
  report(error: Error): void {
    this.listener?.onError(error);
  }

  /** Rebuilds soon, once for every change within `debounceMs`. */
  schedule(): void {
    if (this.stopped || this.debounce) return;
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      this.rebuild();
    }, this.timing.debounceMs);
  }

  /**
   * The source's status.
   * @param stale - Whether the table in force may be out of date.
   * @param showError - Whether to include {@link RoutesPublisher.lastError}. Default: `stale`.
   */
  status(stale: boolean, showError = stale): RouteSourceStatus {
    return {
      loaded: this.loaded,
      stale,
      ...(showError && this.lastError ? { lastError: this.lastError } : {}),
      ...(this.lastLoadedAt ? { lastLoadedAt: this.lastLoadedAt } : {}),
    };
  }

  /** Stops rebuilding; a pending {@link RoutesPublisher.start} resolves. */
  close(): void {
    this.stopped = true;
    if (this.debounce) clearTimeout(this.debounce);
    this.firstLoad?.();
  }

  private rebuild(): void {
    if (this.stopped) return;
    const routes = this.build();
    if (!routes) return;
    const json = JSON.stringify(routes);
    if (json !== this.lastJson) {
      this.lastJson = json;
      this.lastLoadedAt = Date.now();
      this.listener?.onTable(routeTableFromRoutesFile(routes));
    }
    this.firstLoad?.();
    this.firstLoad = undefined;
  }
}
