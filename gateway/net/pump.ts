/**
 * Moves bytes from one socket to another through pooled buffers: the source socket reads into
 * a buffer of ours (Node's `onread`), the chunk is written to the destination from that same
 * buffer, and the buffer is reused once the write is done. No allocation per chunk, explicit
 * backpressure: while `maxInFlight` writes are still queued, reading stops.
 *
 * Two buffer sizes: a connection starts (and idles) on a small buffer, moves to a large one
 * when a read fills the small one (bulk transfer), and back when reads fit in the small size
 * again, so idle connections hold little memory and bulk transfers make few system calls.
 *
 * The Node.js internals the data path relies on live here too, each with its fallback: switching
 * an accepted socket to this mode ({@link useReadBuffer}) and seeing a received EOF ({@link eofReceived}).
 */
import net from "node:net";

/** Free-lists of read buffers in two sizes. */
export class BufferPool {
  private readonly freeSmall: Buffer[] = [];
  private readonly freeLarge: Buffer[] = [];

  /**
   * @param largeSize bytes per large buffer (bulk transfer).
   * @param smallSize bytes per small buffer (idle and interactive connections). Default: `4096` (at most `largeSize`).
   * @param maxFree most buffers of each size kept for reuse. Default: `256`.
   */
  constructor(
    readonly largeSize: number,
    readonly smallSize = Math.min(4096, largeSize),
    private readonly maxFree = 256,
  ) {}

  /**
   * A buffer from the pool, or a new one.
   * @param large a large buffer rather than a small one.
   */
  acquire(large: boolean): Buffer {
    if (large) return this.freeLarge.pop() ?? Buffer.allocUnsafeSlow(this.largeSize);
    return this.freeSmall.pop() ?? Buffer.allocUnsafeSlow(this.smallSize);
  }

  /**
   * Returns a buffer that nothing reads into or writes from any more.
   * @param buffer a buffer from {@link BufferPool.acquire}.
   */
  release(buffer: Buffer): void {
    const free = buffer.length === this.largeSize ? this.freeLarge : this.freeSmall;
    if (free.length < this.maxFree) free.push(buffer);
  }
}

/** One direction of a proxied connection. */
export class Pump {
  /** The buffer the source reads into next. */
  private current: Buffer;
  /** One entry per write not yet called back: its buffer when that write went asynchronous, else `null`. */
  private readonly queued: Array<Buffer | null> = [];
  private asyncWrites = 0;
  private stopped = false;
  private disposed = false;
  /** The socket read from; set once it exists (the upstream is created after the pump). */
  source: net.Socket | undefined;

  /**
   * @param destination the socket written to.
   * @param pool where buffers come from and go back to.
   * @param counted called with the size of each chunk (metrics).
   * @param maxInFlight writes that may be queued before reading stops. Default: `2`.
   */
  constructor(
    private readonly destination: net.Socket,
    private readonly pool: BufferPool,
    private readonly counted: (bytes: number) => void,
    private readonly maxInFlight = 2,
  ) {
    this.current = pool.acquire(false);
  }

  /** The buffer to read into next (Node's `onread.buffer`, function form). */
  readonly nextBuffer = (): Buffer => this.current;

  /** The first buffer, for sockets switched to `onread` mode by hand. */
  get firstBuffer(): Buffer {
    return this.current;
  }

  /** Node's `onread.callback`: `bytes` were read into `buffer`; `false` stops reading. */
  readonly onRead = (bytes: number, buffer: Buffer): boolean => {
    if (this.disposed) return false;
    this.counted(bytes);
    const destination = this.destination;
    destination.write(buffer.subarray(0, bytes), this.onWritten);
    const pool = this.pool;
    // A full buffer means more is waiting: go large. A read that fits the small size: go small.
    const isLarge = buffer.length === pool.largeSize;
    const large = bytes === buffer.length ? true : bytes <= pool.smallSize ? false : isLarge;
    if (destination.writableLength === 0) {
      // Written at once: the buffer is free for the next read, or for the pool on a size change.
      this.queued.push(null);
      if (large !== isLarge && pool.largeSize !== pool.smallSize) {
        pool.release(buffer);
        this.current = pool.acquire(large);
      }
      return true;
    }
    // The write holds on to the buffer until it is called back: read into another one.
    this.queued.push(buffer);
    this.asyncWrites++;
    this.current = pool.acquire(large);
    if (this.asyncWrites >= this.maxInFlight) {
      this.stopped = true;
      return false;
    }
    return true;
  };

  private readonly onWritten = (): void => {
    if (this.disposed) return;
    const buffer = this.queued.shift();
    if (buffer) {
      this.asyncWrites--;
      this.pool.release(buffer);
    }
    if (this.stopped && this.asyncWrites < this.maxInFlight) {
      this.stopped = false;
      const source = this.source;
      if (source && !source.destroyed) source.resume();
    }
  };

  /** Gives every buffer back; call only once both sockets are closed. Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.pool.release(this.current);
    for (const buffer of this.queued) if (buffer) this.pool.release(buffer);
    this.queued.length = 0;
  }
}

/**
 * Node's `onread` option (read into a caller's buffer, no allocation per read) exists for
 * sockets we create, not for sockets a server accepts. These are the net.Socket fields behind
 * it; when they are all present an accepted socket can be switched to the same mode.
 */
interface UserBufferFields {
  buffer: symbol;
  callback: symbol;
  generator: symbol;
}

function findUserBufferFields(): UserBufferFields | undefined {
  const probe = new net.Socket();
  const symbols = Object.getOwnPropertySymbols(probe);
  const find = (name: string) => symbols.find((s) => s.description === name);
  const buffer = find("kBuffer");
  const callback = find("kBufferCb");
  const generator = find("kBufferGen");
  probe.destroy();
  if (!buffer || !callback || !generator) return undefined;
  return { buffer, callback, generator };
}

const USER_BUFFER_FIELDS = findUserBufferFields();

/**
 * Switches an accepted socket to reading into a pump's buffers, as the public `onread` option
 * does for sockets we create.
 * @param socket - An accepted socket that has not been switched yet.
 * @param pump - The pump its reads go to.
 * @returns `false` when this Node.js does not allow it (the socket then keeps its 'data' events).
 */
export function useReadBuffer(socket: net.Socket, pump: Pump): boolean {
  const fields = USER_BUFFER_FIELDS;
  const handle = (socket as unknown as { _handle?: { useUserBuffer?: (b: Buffer) => void } })._handle;
  if (!fields || !handle || typeof handle.useUserBuffer !== "function") return false;
  const record = socket as unknown as Record<symbol, unknown>;
  if (record[fields.buffer] !== null || record[fields.callback] !== null) return false;
  record[fields.buffer] = pump.firstBuffer;
  record[fields.callback] = pump.onRead;
  record[fields.generator] = pump.nextBuffer;
  handle.useUserBuffer(pump.firstBuffer);
  return true;
}

/**
 * Whether this Node.js lets {@link useReadBuffer} switch accepted sockets (no allocation per
 * read); when not, the proxy falls back to ordinary 'data' events, which work everywhere.
 */
export function readBufferModeAvailable(): boolean {
  return USER_BUFFER_FIELDS !== undefined;
}

/**
 * Whether the socket has received its peer's EOF, even if `'end'` is not emitted yet (it waits
 * for the buffered data to be read). Assumed received when this Node.js does not say.
 * @param socket - The socket.
 */
export function eofReceived(socket: net.Socket): boolean {
  return (socket as unknown as { _readableState?: { ended?: boolean } })._readableState?.ended !== false;
}
