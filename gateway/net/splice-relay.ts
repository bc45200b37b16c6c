/**
 * A zero-copy relay for proxied connections, Linux only: a small native addon of ours
 * (`native/`, built by `npm ci` into `build/Release/splice_relay.node`) moves the bytes of
 * connected pairs with `splice(2)` through a pipe, in the event loop, without the bytes entering
 * JavaScript. Pairs come to it either as two connected sockets ({@link SpliceRelay.adopt}), or
 * from its own front ({@link SpliceRelay.front}, `native/front.c`): it listens, accepts, reads
 * each ClientHello and dials, so a connection never becomes a Node.js socket and JavaScript only
 * routes (`native-connections.ts`). Where it is not built, {@link spliceRelayAvailability} says
 * why and the gateway keeps its TypeScript pump (`pump.ts`). See docs/splice-relay.md.
 *
 * What the addon does per pair: half-close passes through (an EOF read from one side becomes a
 * `shutdown(SHUT_WR)` of the other once its bytes are written), backpressure (a side that does
 * not read stops the reads of the other, so at most one pipe per direction is buffered), one
 * shared sweep for the idle timeout, and an idle pair holds no pipe (pipes come from a pool).
 */
import fs from "node:fs";
import net from "node:net";
import path from "node:path";

/** How a relayed pair ended, with the bytes it moved. */
export interface RelayEnd {
  /**
   * `done`: both sides sent their EOF and everything was written; `idle-timeout`: nothing moved
   * for `idleTimeoutMs`; `error`: a side failed (see {@link RelayEnd.code}), both were closed;
   * `closed`: by {@link SpliceRelay.close}, {@link SpliceRelay.closeAll} or {@link SpliceRelay.dispose}.
   */
  reason: "done" | "idle-timeout" | "error" | "closed";
  /** The errno name when `reason` is `error`, e.g. `ECONNRESET`, `EPIPE`; absent otherwise. */
  code?: string;
  /** Bytes written to the upstream (client → upstream). */
  toUpstream: number;
  /** Bytes written to the client (upstream → client). */
  toClient: number;
  /** The client's address, for a pair the front accepted that ended `idle-timeout` or `error`. */
  remote?: string;
}

/**
 * The front's settings and callbacks ({@link SpliceRelay.front}). Every callback is called from
 * the event loop, never from inside a method of the relay; an exception it throws is an uncaught
 * exception.
 */
export interface RelayFrontOptions {
  /** Time a client has for its whole ClientHello, from accept, in ms (≥ 1). No default. */
  helloTimeoutMs: number;
  /** Time one dial may take, and JavaScript between a failed dial and the next, in ms (≥ 1). No default. */
  connectTimeoutMs: number;
  /** Most hello bytes read before {@link RelayFrontOptions.onHello} must have refused them (≥ 1). No default. */
  maxHelloBytes: number;
  /** Most pairs open at once; a connection accepted beyond is closed at once (≥ 1). No default. */
  maxConnections: number;
  /**
   * Each chunk a client sends before its hello is taken, or its end (`eof`: closed or reset;
   * `timeout`: the hello deadline passed; the pair is closed right after). Return `true` once the
   * hello is complete (then {@link SpliceRelay.dial} or {@link SpliceRelay.close}, now or after
   * resolving a name), `false` to read more. No default.
   */
  onHello(id: number, chunk: Buffer | undefined, end: "eof" | "timeout" | undefined): boolean;
  /**
   * The outcome of a dial: `code` undefined once connected (the hello is sent, the pair relayed),
   * else the errno name (`ETIMEDOUT` when the connect timeout passed); after a failure, dial
   * again or close. No default.
   */
  onDialed(id: number, code: string | undefined, seconds: number): void;
  /** A connection closed at accept because {@link RelayFrontOptions.maxConnections} are open. No default. */
  onOverLimit(remote: string | undefined): void;
}

/** Settings of a {@link SpliceRelay}. */
export interface SpliceRelayOptions {
  /** Close a pair when no byte (nor EOF) has moved either way for this long, in ms; `0` disables. No default. */
  idleTimeoutMs: number;
  /**
   * Called exactly once per adopted pair, when it has ended and both its sockets are closed.
   * Always called later from the event loop, never from inside a method of the relay (not even
   * from {@link SpliceRelay.close}); microtasks run after it as after any Node.js callback. An
   * exception it throws is an uncaught exception. No default.
   */
  onClose: (id: number, end: RelayEnd) => void;
}

/** Whether the native relay can be used here, and if not, why. */
export type SpliceRelayAvailability = { available: true } | { available: false; reason: string };

/** A pair of sockets the relay cannot take over (see {@link SpliceRelay.adopt}). */
export class SpliceRelayError extends Error {
  /** Stable code of every adopt refusal. */
  readonly code = "E_SPLICE_ADOPT";

  /** @param message - Why the sockets were refused. */
  constructor(message: string) {
    super(message);
    this.name = "SpliceRelayError";
  }
}

/** The addon's class (native/splice_relay.c). */
interface NativeRelay {
  adopt(clientFd: number, upstreamFd: number): number;
  close(id: number): void;
  closeAll(): void;
  dispose(): void;
  counts(): [active: number, unreported: number];
  totals(): [toUpstream: number, toClient: number];
  pipes(): [inUse: number, free: number];
  front(
    helloTimeoutMs: number,
    connectTimeoutMs: number,
    maxHelloBytes: number,
    maxConnections: number,
    onHello: RelayFrontOptions["onHello"],
    onDialed: RelayFrontOptions["onDialed"],
    onOverLimit: RelayFrontOptions["onOverLimit"],
  ): void;
  listen(host: string, port: number, backlog: number): number;
  unlisten(): void;
  dial(id: number, ip: string, port: number): string | undefined;
  remote(id: number): string | undefined;
}

interface NativeAddon {
  Relay: new (
    idleTimeoutMs: number,
    onClose: (
      id: number,
      reason: RelayEnd["reason"],
      code: string | undefined,
      up: number,
      down: number,
      remote: string | undefined,
    ) => void,
  ) => NativeRelay;
}

/**
 * Where the addon is: in the package root's `build/`, two levels above `gateway/net/` (sources,
 * as ts-jest runs them), three above `dist/gateway/net/` (compiled), four above
 * `dist/bench/gateway/net/`.
 */
const ADDON_CANDIDATES = ["../..", "../../..", "../../../.."].map((up) =>
  path.join(__dirname, up, "build/Release/splice_relay.node"),
);

let loaded: { addon: NativeAddon } | { reason: string } | undefined;

function loadAddon(): { addon: NativeAddon } | { reason: string } {
  if (loaded) return loaded;
  if (process.platform !== "linux") return (loaded = { reason: "not Linux" });
  const file = ADDON_CANDIDATES.find((candidate) => fs.existsSync(candidate));
  if (!file) return (loaded = { reason: "not built: run npm ci (needs a C compiler, make and python3)" });
  try {
    const module = { exports: {} as Partial<NativeAddon> };
    process.dlopen(module, file);
    if (typeof module.exports.Relay !== "function") throw new Error(`${file} has no Relay`);
    loaded = { addon: module.exports as NativeAddon };
  } catch (error) {
    loaded = { reason: `cannot load ${file}: ${error instanceof Error ? error.message : String(error)}` };
  }
  return loaded;
}

/**
 * Whether {@link SpliceRelay} can be created here: Linux, and the addon built and loadable.
 * @returns `{ available: true }`, or `{ available: false, reason }` (e.g. `not Linux`,
 * `not built: run npm ci (…)`, or the load error).
 */
export function spliceRelayAvailability(): SpliceRelayAvailability {
  const state = loadAddon();
  return "addon" in state ? { available: true } : { available: false, reason: state.reason };
}

/** The fd under a socket that the relay may take over; throws {@link SpliceRelayError} otherwise. */
function adoptableFd(socket: net.Socket, which: string): number {
  if (!(socket instanceof net.Socket)) throw new SpliceRelayError(`the ${which} is not a net.Socket`);
  if (socket.destroyed || socket.connecting) throw new SpliceRelayError(`the ${which} socket is not connected`);
  if (socket.writableLength !== 0) {
    throw new SpliceRelayError(`the ${which} socket still has ${socket.writableLength} bytes to write`);
  }
  if (socket.readableLength !== 0) {
    throw new SpliceRelayError(`the ${which} socket has ${socket.readableLength} bytes read but not consumed`);
  }
  const fd = (socket as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  if (typeof fd !== "number" || !Number.isInteger(fd) || fd < 0) {
    throw new SpliceRelayError(`the ${which} socket has no file descriptor (not a TCP socket?)`);
  }
  return fd;
}

const ignore = (): void => undefined;

/**
 * Relays pairs of connected sockets natively. One relay serves any number of pairs; each pair
 * keeps the event loop alive until it ends, and keeps the relay alive too.
 */
export class SpliceRelay {
  private readonly native: NativeRelay;
  private disposed = false;

  /**
   * @param options - The idle timeout and the close callback; see {@link SpliceRelayOptions}.
   * @throws Error when the addon is not available (see {@link spliceRelayAvailability}) or
   * `idleTimeoutMs` is not a number ≥ 0.
   */
  constructor(options: SpliceRelayOptions) {
    const state = loadAddon();
    if (!("addon" in state)) throw new Error(`the splice relay is not available: ${state.reason}`);
    const { idleTimeoutMs, onClose } = options;
    if (!Number.isFinite(idleTimeoutMs) || idleTimeoutMs < 0) {
      throw new RangeError(`idleTimeoutMs must be a number >= 0, not ${idleTimeoutMs}`);
    }
    this.native = new state.addon.Relay(idleTimeoutMs, (id, reason, code, toUpstream, toClient, remote) => {
      const end: RelayEnd = { reason, toUpstream, toClient };
      if (code !== undefined) end.code = code;
      if (remote !== undefined) end.remote = remote;
      onClose(id, end);
    });
  }

  /**
   * Gives the relay its front, once, before {@link SpliceRelay.listen}: the settings and
   * callbacks of the connections it accepts. See {@link RelayFrontOptions}.
   * @param options - The front's settings and callbacks.
   * @throws Error (code `E_RELAY_FRONT`) when called twice, on a disposed relay, or with a value out of range.
   */
  front(options: RelayFrontOptions): void {
    const { helloTimeoutMs, connectTimeoutMs, maxHelloBytes, maxConnections } = options;
    this.native.front(
      helloTimeoutMs,
      connectTimeoutMs,
      maxHelloBytes,
      maxConnections,
      (id, chunk, end) => options.onHello(id, chunk, end),
      (id, code, seconds) => options.onDialed(id, code, seconds),
      (remote) => options.onOverLimit(remote),
    );
  }

  /**
   * Listens on an address with a socket of the relay's own; each connection it accepts becomes a
   * pair in the front's hands. A listening relay keeps the event loop alive.
   * @param host - An IP address (`0.0.0.0`, `::` for both families, `127.0.0.1`…).
   * @param port - The port; `0` picks a free one.
   * @param backlog - Pending connections the kernel queues.
   * @returns the bound port.
   * @throws Error with the errno name as `code` (e.g. `EADDRINUSE`, `EACCES`), or `E_RELAY_FRONT`
   * without {@link SpliceRelay.front} or for a host that is not an IP address.
   */
  listen(host: string, port: number, backlog: number): number {
    return this.native.listen(host, port, backlog);
  }

  /** Closes every listener; accepted connections carry on. */
  unlisten(): void {
    this.native.unlisten();
  }

  /**
   * Connects a pair of the front to its upstream; the outcome comes as `onDialed`.
   * @param id - The pair, its hello taken.
   * @param ip - The upstream's IP address (resolve a host name first).
   * @param port - Its port.
   * @returns `undefined` when connecting (or when the pair has closed meanwhile: its `onClose`
   * says so), or the errno name of a failure known at once (e.g. `ENETUNREACH`, `EMFILE`).
   * @throws Error (code `E_RELAY_DIAL`) for an address that is not an IP, or a pair already dialling or relayed.
   */
  dial(id: number, ip: string, port: number): string | undefined {
    return this.native.dial(id, ip, port);
  }

  /**
   * The client's address of a pair the front accepted.
   * @param id - The pair.
   * @returns the address, or `undefined` for an unknown or closed pair, or one adopted from sockets.
   */
  remote(id: number): string | undefined {
    return this.native.remote(id);
  }

  /** Pairs whose `onClose` has not run yet (open, or closing). */
  get unreported(): number {
    return this.native.counts()[1];
  }

  /**
   * Takes both sockets over: the addon dups their file descriptors, then both JS sockets lose
   * every listener (a no-op `'error'` listener is left) and are destroyed, which closes only
   * their own descriptors; from then on the connection lives in the relay until `onClose`.
   * An EOF Node.js has already received (`'end'` emitted, or `readableEnded`) is seen again
   * by the relay and passed on. On a refusal nothing has changed: the sockets are still the caller's.
   * @param client - The client's socket: connected, `writableLength === 0` and `readableLength === 0`.
   * @param upstream - The upstream's socket, under the same conditions.
   * @returns the pair's id, as given to `onClose` and taken by {@link SpliceRelay.close}.
   * @throws SpliceRelayError (code `E_SPLICE_ADOPT`) when a socket does not meet them, the relay
   * is disposed, or the descriptors cannot be taken over (e.g. `EMFILE`).
   */
  adopt(client: net.Socket, upstream: net.Socket): number {
    if (client === upstream) throw new SpliceRelayError("the client and the upstream are the same socket");
    const clientFd = adoptableFd(client, "client");
    const upstreamFd = adoptableFd(upstream, "upstream");
    if (this.disposed) throw new SpliceRelayError("the relay is disposed");
    let id: number;
    try {
      id = this.native.adopt(clientFd, upstreamFd);
    } catch (error) {
      throw new SpliceRelayError(error instanceof Error ? error.message : String(error));
    }
    for (const socket of [client, upstream]) {
      socket.removeAllListeners();
      socket.on("error", ignore);
      socket.destroy();
    }
    return id;
  }

  /**
   * Closes one pair now (both connections are closed, unread bytes make the kernel reset them);
   * its `onClose` still follows once, later, with reason `closed`. Unknown or ended ids are ignored.
   * @param id - A pair id from {@link SpliceRelay.adopt}.
   */
  close(id: number): void {
    this.native.close(id);
  }

  /** Closes every pair now, as {@link SpliceRelay.close} does each; their `onClose` follow later. */
  closeAll(): void {
    this.native.closeAll();
  }

  /** Pairs open now (adopted and not yet ended; a pair counts no more once it is closing). */
  get active(): number {
    return this.native.counts()[0];
  }

  /** Bytes written by all pairs since the relay was created, for metrics. */
  totals(): { toUpstream: number; toClient: number } {
    const [toUpstream, toClient] = this.native.totals();
    return { toUpstream, toClient };
  }

  /**
   * Pipes held now: `inUse` by directions with bytes in flight (none for an idle pair), `free`
   * kept empty for reuse (at most 64; each is two file descriptors).
   */
  pipes(): { inUse: number; free: number } {
    const [inUse, free] = this.native.pipes();
    return { inUse, free };
  }

  /**
   * Closes every pair (their `onClose` follow later, with reason `closed`), stops the idle
   * sweep and closes the pooled pipes; {@link SpliceRelay.adopt} is refused afterwards. Idempotent.
   * A relay that is only dropped is released when collected, once its pairs have ended.
   */
  dispose(): void {
    this.disposed = true;
    this.native.dispose();
  }
}
