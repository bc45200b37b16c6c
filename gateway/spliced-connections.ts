/**
 * The proxy's side of the zero-copy relay: connections hand their two sockets over once the
 * ClientHello is forwarded, and each is told, by its own callback, how its pair ended.
 */
import type net from "node:net";
import { type RelayEnd, SpliceRelay } from "./splice-relay";

/** Connections whose bytes the native relay moves. */
export class SplicedConnections {
  private readonly relay: SpliceRelay;
  private readonly ends = new Map<number, (end: RelayEnd) => void>();

  /**
   * @param idleTimeoutMs - Close a pair when neither side has sent anything for this long, in ms; `0` disables.
   */
  constructor(idleTimeoutMs: number) {
    this.relay = new SpliceRelay({
      idleTimeoutMs,
      onClose: (id, end) => {
        const ended = this.ends.get(id);
        this.ends.delete(id);
        ended?.(end);
      },
    });
  }

  /**
   * Hands both sockets to the relay (they are destroyed on the JavaScript side; the relay owns
   * the connection from here on).
   * @param client - The client socket, nothing buffered.
   * @param upstream - The upstream socket, nothing buffered.
   * @param ended - Called once when the pair has closed.
   * @returns the pair's id, for {@link SplicedConnections.close}.
   */
  adopt(client: net.Socket, upstream: net.Socket, ended: (end: RelayEnd) => void): number {
    const id = this.relay.adopt(client, upstream);
    this.ends.set(id, ended);
    return id;
  }

  /**
   * Closes one pair now; its callback runs with the reason `closed`.
   * @param id - The pair's id.
   */
  close(id: number): void {
    this.relay.close(id);
  }

  /** Bytes moved by the relay since it started, by direction. */
  totals(): { toUpstream: number; toClient: number } {
    return this.relay.totals();
  }

  /** Closes every pair and stops the relay's sweep. */
  dispose(): void {
    this.relay.dispose();
  }
}
