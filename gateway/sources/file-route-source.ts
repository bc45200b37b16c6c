/**
 * Routes from a JSON file (`--routes FILE`), validated with the zod schema and re-read when it
 * changes. An invalid new file is refused with a logged error; the last good table stays.
 *
 * Changes are noticed by watching the file's directory (which also sees atomic renames and
 * Kubernetes-style symlink swaps) and, as a fallback for file systems without notifications,
 * by comparing the file's content every `pollIntervalMs`.
 */
import { createHash } from "node:crypto";
import { FSWatcher, promises as fs, watch } from "node:fs";
import path from "node:path";
import { RoutesFileError } from "../errors";
import { RouteSource, RouteSourceListener, RouteSourceStatus, routeTableFromRoutesFile } from "../routing/route-table";
import { parseRoutesFile } from "../routing/routes-schema";

/** Options of a {@link FileRouteSource}. */
export interface FileRouteSourceOptions {
  /** Path of the routes file. */
  path: string;
  /** The gateway's datacenter; a file for another one is refused. Default: not checked. */
  datacenter?: string;
  /** The mesh trust domain; a file for another one is refused. Default: not checked. */
  trustDomain?: string;
  /** How often to re-read the file as a fallback to change notifications, in ms; `0` disables. Default: `1000`. */
  pollIntervalMs?: number;
  /** Wait this long after a change notification before reading (editors write in steps), in ms. Default: `50`. */
  debounceMs?: number;
}

/** A route source backed by a routes file. */
export class FileRouteSource implements RouteSource {
  /** Always `"file"`. */
  readonly kind = "file";
  private readonly file: string;
  private listener: RouteSourceListener | undefined;
  private watcher: FSWatcher | undefined;
  private poller: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private lastDigest: string | undefined;
  private lastBadDigest: string | undefined;
  private current: RouteSourceStatus = { loaded: false, stale: false };
  private reading: Promise<void> | undefined;
  private again = false;
  private closed = false;

  /** @param options see {@link FileRouteSourceOptions}. */
  constructor(private readonly options: FileRouteSourceOptions) {
    this.file = path.resolve(options.path);
  }

  /** Reads the file once, then watches it. */
  async start(listener: RouteSourceListener): Promise<void> {
    this.listener = listener;
    await this.reload();
    if (this.closed) return;
    try {
      this.watcher = watch(path.dirname(this.file), { persistent: false }, (_event, name) => {
        if (name === null || name === path.basename(this.file) || name.toString().startsWith("..")) this.schedule();
      });
      this.watcher.on("error", () => this.watcher?.close());
    } catch {
      // No notifications here (or the directory is gone): polling still works.
    }
    const interval = this.options.pollIntervalMs ?? 1000;
    if (interval > 0) {
      this.poller = setInterval(() => void this.reload(), interval);
      this.poller.unref();
    }
  }

  /** The source's health. */
  status(): RouteSourceStatus {
    return { ...this.current };
  }

  /**
   * Re-reads the file now (also on SIGHUP). Emits a table only when the content changed;
   * resolves when done. Never rejects.
   */
  reload(): Promise<void> {
    if (this.reading) {
      this.again = true;
      return this.reading;
    }
    this.reading = this.read().finally(() => {
      this.reading = undefined;
      if (this.again && !this.closed) {
        this.again = false;
        void this.reload();
      }
    });
    return this.reading;
  }

  /** Stops watching. */
  async close(): Promise<void> {
    this.closed = true;
    this.watcher?.close();
    if (this.poller) clearInterval(this.poller);
    if (this.debounce) clearTimeout(this.debounce);
    await this.reading;
  }

  private schedule(): void {
    if (this.closed) return;
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => void this.reload(), this.options.debounceMs ?? 50);
    this.debounce.unref();
  }

  private async read(): Promise<void> {
    let text: string;
    try {
      text = await fs.readFile(this.file, "utf8");
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? "error";
      this.fail(`cannot read (${code})`, `read:${code}`);
      return;
    }
    if (this.closed) return;
    const digest = createHash("sha256").update(text).digest("hex");
    if (digest === this.lastDigest) {
      this.markFresh();
      return;
    }
    if (digest === this.lastBadDigest) return; // already reported
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      this.fail(`invalid JSON: ${(error as Error).message}`, digest);
      return;
    }
    const parsed = parseRoutesFile(json);
    if (!parsed.ok) {
      this.fail(parsed.error, digest);
      return;
    }
    const { datacenter, trustDomain } = this.options;
    if (datacenter && parsed.routes.datacenter.toLowerCase() !== datacenter.toLowerCase()) {
      this.fail(`datacenter: "${parsed.routes.datacenter}" is not the gateway's datacenter "${datacenter}"`, digest);
      return;
    }
    if (trustDomain && parsed.routes.trustDomain.toLowerCase() !== trustDomain.toLowerCase()) {
      this.fail(
        `trustDomain: "${parsed.routes.trustDomain}" is not the gateway's trust domain "${trustDomain}"`,
        digest,
      );
      return;
    }
    this.lastDigest = digest;
    this.lastBadDigest = undefined;
    this.current = { loaded: true, stale: false, lastLoadedAt: Date.now() };
    this.listener?.onTable(routeTableFromRoutesFile(parsed.routes));
  }

  private markFresh(): void {
    if (!this.current.stale) return;
    this.current = { loaded: this.current.loaded, stale: false, lastLoadedAt: this.current.lastLoadedAt };
  }

  private fail(reason: string, badDigest: string): void {
    if (badDigest === this.lastBadDigest) return;
    this.lastBadDigest = badDigest;
    const error = new RoutesFileError(this.file, reason);
    this.current = { ...this.current, stale: true, lastError: error.message };
    this.listener?.onError(error);
  }
}
