/**
 * The proxy's side of the zero-copy relay: a connection hands its two sockets over once the
 * ClientHello is forwarded, and from then on all that is left of it in JavaScript is a
 * {@link SplicedPair} (a few fields: the sockets, the connection and its closures are garbage),
 * which the relay tells how the pair ended.
 */
import type net from "node:net";
import { type RelayEnd, SpliceRelay } from "./splice-relay";

/** A connection the proxy holds open and can close (for the connection limit and the drain). */
export interface OpenConnection {
  /** Closes both sides now. */
  destroy(): void;
}

/** What a handed-over pair still needs from the proxy. */
export interface SplicedPairHost {
  /**
   * Writes one rate-limited log line about a connection.
   * @param level - Its level.
   * @param event - The `event` field, also the message.
   * @param fields - More fields.
   */
  log(level: "info", event: string, fields: Record<string, unknown>): void;
  /**
   * Told once the pair has closed.
   * @param connection - The pair.
   */
  released(connection: OpenConnection): void;
}

/** A connection the relay owns. */
export class SplicedPair implements OpenConnection {
  /**
   * @param relay - The relay that owns it.
   * @param id - Its id in the relay.
   * @param host - The proxy.
   * @param remote - The client's address, for the log.
   */
  constructor(
    private readonly relay: SplicedConnections,
    readonly id: number,
    private readonly host: SplicedPairHost,
    private readonly remote: string | undefined,
  ) {}

  /** {@inheritDoc OpenConnection.destroy} */
  destroy(): void {
    this.relay.close(this.id);
  }

  /**
   * The relay closed the pair.
   * @param end - How.
   */
  ended(end: RelayEnd): void {
    if (end.reason === "idle-timeout") this.host.log("info", "idle-timeout", { remote: this.remote });
    else if (end.reason === "error") this.host.log("info", "relay-error", { code: end.code, remote: this.remote });
    this.host.released(this);
  }
}

/** Connections whose bytes the native relay moves. */
export class SplicedConnections {
  private readonly relay: SpliceRelay;
  private readonly pairs = new Map<number, SplicedPair>();

  /**
   * @param idleTimeoutMs - Close a pair when neither side has sent anything for this long, in ms; `0` disables.
   */
  constructor(idleTimeoutMs: number) {
    this.relay = new SpliceRelay({
      idleTimeoutMs,
      onClose: (id, end) => {
        const pair = this.pairs.get(id);
        this.pairs.delete(id);
        pair?.ended(end);
      },
    });
  }

  /**
   * Hands both sockets to the relay: they are destroyed on the JavaScript side, and the relay
   * owns the connection from here on.
   * @param client - The client socket, nothing buffered.
   * @param upstream - The upstream socket, nothing buffered.
   * @param host - The proxy, told when the pair has closed.
   * @returns the pair.
   * @throws SpliceRelayError when the relay cannot take the sockets (they are still the caller's).
   */
  adopt(client: net.Socket, upstream: net.Socket, host: SplicedPairHost): SplicedPair {
    const remote = client.remoteAddress;
    const pair = new SplicedPair(this, this.relay.adopt(client, upstream), host, remote);
    this.pairs.set(pair.id, pair);
    return pair;
  }

  /**
   * Closes one pair now; it is told with the reason `closed`, later.
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
