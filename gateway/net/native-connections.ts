/**
 * Connections that never become Node.js sockets: the addon's front (`native/front.c`) listens,
 * accepts, reads each ClientHello, dials and relays; this side parses the hello, routes, picks
 * the endpoint (failover and host names included) and counts and logs as the pump's path does
 * (`connection-events.ts`). What JavaScript holds per connection is a hello reader while a hello
 * is incomplete and a {@link Dial} while dialling; nothing once the pair is relayed.
 */
import dns from "node:dns";
import net from "node:net";
import { NO_LABELS } from "../admin/destination-labels";
import {
  ClientHelloReader,
  DEFAULT_MAX_HELLO_LENGTH,
  defaultMaxBufferedBytes,
  type HelloFailureReason,
} from "./client-hello";
import { connectFailed, type EventHost, helloRefused, routeRefused } from "./connection-events";
import type { RouteEndpoint } from "../../mesh/model/routes-file";
import type { ConnectionSettings, Destination } from "./connection-host";
import { type RelayEnd, SpliceRelay } from "./splice-relay";

/** What the front needs from the proxy. */
export interface NativeConnectionsHost extends EventHost {
  /** Timeouts and the hello cap. */
  readonly settings: ConnectionSettings & { readonly maxConnections: number };
  /** Routes a server name with the live table; see `ConnectionHost.destinationOf`. */
  destinationOf(sni: string): Destination;
  /** Told after each connection has ended and been reported (for the drain). */
  ended(): void;
}

/** A connection being dialled: where it goes and which attempt is current. */
interface Dial {
  readonly destination: Destination;
  readonly endpoints: readonly RouteEndpoint[];
  attempt: number;
}

/** The connections of the addon's front, for a proxy. */
export class NativeConnections {
  private readonly relay: SpliceRelay;
  private readonly readerOptions: { maxHelloLength: number; maxBufferedBytes: number };
  /** Readers of hellos not yet complete, by pair id. */
  private readonly hellos = new Map<number, ClientHelloReader>();
  /** Connections being dialled, by pair id. */
  private readonly dials = new Map<number, Dial>();

  /**
   * @param host - The proxy.
   * @param idleTimeoutMs - Close a relayed pair when nothing has moved for this long, in ms; `0` disables.
   */
  constructor(
    private readonly host: NativeConnectionsHost,
    idleTimeoutMs: number,
  ) {
    const settings = host.settings;
    const maxHelloLength = settings.maxHelloLength ?? DEFAULT_MAX_HELLO_LENGTH;
    this.readerOptions = { maxHelloLength, maxBufferedBytes: defaultMaxBufferedBytes(maxHelloLength) };
    this.relay = new SpliceRelay({ idleTimeoutMs, onClose: (id, end) => this.onClose(id, end) });
    this.relay.front({
      helloTimeoutMs: settings.helloTimeoutMs,
      connectTimeoutMs: settings.connectTimeoutMs,
      // One byte past what the reader buffers: a hello that fills the front's buffer is refused as too large.
      maxHelloBytes: this.readerOptions.maxBufferedBytes + 1,
      maxConnections: settings.maxConnections,
      onHello: (id, chunk, end) => this.onHello(id, chunk, end),
      onDialed: (id, code, seconds) => this.onDialed(id, code, seconds),
      onOverLimit: (remote) => {
        host.count("over-limit", NO_LABELS);
        host.log("warn", "connection-over-limit", { remote, limit: settings.maxConnections });
      },
    });
  }

  /**
   * Listens on an address (a host name is resolved first, as `net.Server` does).
   * @param host - The address to bind.
   * @param port - The port; `0` picks a free one.
   * @param backlog - Pending connections the kernel queues.
   * @returns the bound address.
   */
  async listen(host: string, port: number, backlog: number): Promise<net.AddressInfo> {
    const address = net.isIP(host) ? host : (await dns.promises.lookup(host)).address;
    const bound = this.relay.listen(address, port, backlog);
    return { address, family: net.isIPv6(address) ? "IPv6" : "IPv4", port: bound };
  }

  /** Stops accepting; connections already accepted carry on. */
  unlisten(): void {
    this.relay.unlisten();
  }

  /** Connections open now, in any phase. */
  get active(): number {
    return this.relay.active;
  }

  /** Connections not yet reported ended (open, or closing). */
  get unreported(): number {
    return this.relay.unreported;
  }

  /** Closes every connection now; each is reported ended later. */
  closeAll(): void {
    this.relay.closeAll();
  }

  /** Bytes moved since the start, by direction. */
  totals(): { toUpstream: number; toClient: number } {
    return this.relay.totals();
  }

  /** Stops listening and closes every connection, for good. */
  dispose(): void {
    this.relay.dispose();
  }

  private onHello(id: number, chunk: Buffer | undefined, end: "eof" | "timeout" | undefined): boolean {
    const host = this.host;
    if (chunk === undefined) {
      const reader = this.hellos.get(id);
      this.hellos.delete(id);
      helloRefused(host, end ?? "eof", reader ? reader.bytes.length : 0, this.relay.remote(id));
      return true;
    }
    const reader = this.hellos.get(id) ?? new ClientHelloReader(this.readerOptions);
    const result = reader.push(chunk);
    if (result.status === "need-more") {
      this.hellos.set(id, reader);
      return false;
    }
    this.hellos.delete(id);
    if (result.status === "error") {
      this.refuse(id, result.reason, reader.bytes.length);
      return true;
    }
    const destination = host.destinationOf(result.sni);
    const decision = destination.decision;
    if (decision.kind === "reject") {
      routeRefused(host, destination, result.sni, this.relay.remote(id));
      this.relay.close(id);
      return true;
    }
    const dial: Dial = { destination, endpoints: decision.endpoints, attempt: 0 };
    this.dials.set(id, dial);
    this.dial(id, dial);
    return true;
  }

  private refuse(id: number, reason: HelloFailureReason, received: number): void {
    helloRefused(this.host, reason, received, this.relay.remote(id));
    this.relay.close(id);
  }

  /** Dials the current attempt's endpoint, resolving a host name first. */
  private dial(id: number, dial: Dial): void {
    const endpoint = this.endpointOf(dial);
    if (net.isIP(endpoint.address)) {
      this.connect(id, dial, endpoint.address, endpoint.port);
      return;
    }
    const attempt = dial.attempt;
    const began = performance.now();
    dns.lookup(endpoint.address, (error, ip) => {
      // A later attempt (the front's connect timeout passed meanwhile) or a closed pair: stale.
      if (this.dials.get(id) !== dial || dial.attempt !== attempt) return;
      if (error) this.failed(id, dial, error.code ?? "ENOTFOUND", (performance.now() - began) / 1000);
      else this.connect(id, dial, ip, endpoint.port);
    });
  }

  private connect(id: number, dial: Dial, ip: string, port: number): void {
    const code = this.relay.dial(id, ip, port);
    if (code !== undefined) this.failed(id, dial, code, 0);
  }

  private onDialed(id: number, code: string | undefined, seconds: number): void {
    const dial = this.dials.get(id);
    if (dial === undefined) return;
    if (code === undefined) {
      this.dials.delete(id);
      this.host.observeConnect("success", seconds);
      this.host.count("forwarded", dial.destination.labels);
      return;
    }
    this.failed(id, dial, code === "ETIMEDOUT" ? "timeout" : code, seconds);
  }

  /** One attempt failed: the next endpoint, or the client is closed once every one has. */
  private failed(id: number, dial: Dial, why: string, seconds: number): void {
    connectFailed(this.host, dial.destination, this.endpointOf(dial), dial.attempt, why, seconds);
    dial.attempt++;
    if (dial.attempt < dial.endpoints.length) {
      this.dial(id, dial);
      return;
    }
    this.dials.delete(id);
    this.host.count("upstream-failed", dial.destination.labels);
    this.relay.close(id);
  }

  private endpointOf(dial: Dial): RouteEndpoint {
    return dial.endpoints[(dial.destination.start + dial.attempt) % dial.endpoints.length];
  }

  private onClose(id: number, end: RelayEnd): void {
    this.hellos.delete(id);
    // Closed while dialling (the drain, or the client's idle timeout): abandoned, not an upstream failure.
    this.dials.delete(id);
    if (end.reason === "idle-timeout") this.host.log("info", "idle-timeout", { remote: end.remote });
    else if (end.reason === "error") this.host.log("info", "relay-error", { code: end.code, remote: end.remote });
    this.host.ended();
  }
}
