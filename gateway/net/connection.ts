/**
 * One client connection on Node.js sockets (the TypeScript pump's path; where the addon is built,
 * the addon's front carries connections instead: `native-connections.ts`) and, once routed, its
 * upstream: the hello deadline (counted from accept), the routing decision, the dial with its
 * connect timeout and failover to the next endpoint, the hello bytes first, then both directions
 * through pooled buffers with backpressure and half-close (`pump.ts`), until both sides are
 * closed or the idle timeout fires.
 *
 * Kept lean: no `pipe()`, no per-chunk allocation of ours, no Error objects on the hot path,
 * and `end()`/`destroy()` called only on sockets that still need it. What it needs from the
 * proxy that accepted it is {@link ConnectionHost} (`connection-host.ts`).
 */
import net from "node:net";
import type { RouteEndpoint } from "../../mesh/model/routes-file";
import { ClientHelloReader, HelloFailureReason } from "./client-hello";
import { type DestinationLabels, NO_LABELS } from "../admin/destination-labels";
import { connectFailed, helloRefused, routeRefused } from "./connection-events";
import type { ConnectionHost, Destination, OpenConnection } from "./connection-host";
import { eofReceived, Pump, useReadBuffer } from "./pump";

type Phase = "hello" | "dial" | "pipe" | "done";

/** One client connection and, once routed, its upstream. */
export class Connection implements OpenConnection {
  private phase: Phase = "hello";
  private reader: ClientHelloReader | undefined;
  private upstream: net.Socket | undefined;
  private destination: Destination | undefined;
  /** The metric labels of the decision. */
  private labels: DestinationLabels = NO_LABELS;
  private clientClosed = false;
  private upstreamClosed = true;
  private clientReadEnded = false;
  private upstreamReadEnded = false;
  private released = false;
  /** The hello deadline: absolute from accept, not reset by activity (a trickling client hits it too). */
  private helloTimer: NodeJS.Timeout | undefined;
  /** Upstream → client (created when routed, shared by every connect attempt). */
  private toClient: Pump | undefined;
  /** Client → upstream (created when forwarding starts, if the client socket allows it). */
  private toUpstream: Pump | undefined;

  /**
   * Starts reading the client's hello.
   * @param host - The proxy that accepted the client.
   * @param client - The accepted socket.
   */
  constructor(
    private readonly host: ConnectionHost,
    private readonly client: net.Socket,
  ) {
    const settings = host.settings;
    this.reader = new ClientHelloReader({ maxHelloLength: settings.maxHelloLength });
    this.helloTimer = setTimeout(this.onHelloTimeout, settings.helloTimeoutMs);
    client.on("data", this.onHelloData);
    client.on("end", this.onClientEnd);
    client.on("error", this.onClientError);
    client.on("timeout", this.onClientTimeout);
    client.on("close", this.onClientClose);
  }

  /** Closes both sides now. */
  destroy(): void {
    if (!this.client.destroyed) this.client.destroy();
    if (this.upstream && !this.upstream.destroyed) this.upstream.destroy();
  }

  private readonly onHelloData = (chunk: Buffer): void => {
    const reader = this.reader as ClientHelloReader;
    const result = reader.push(chunk);
    if (result.status === "need-more") return;
    if (result.status === "error") {
      this.refuseHello(result.reason);
      return;
    }
    clearTimeout(this.helloTimer);
    this.client.pause();
    this.client.removeListener("data", this.onHelloData);
    const destination = this.host.destinationOf(result.sni);
    const { decision, labels, start } = destination;
    this.destination = destination;
    this.labels = labels;
    if (decision.kind === "reject") {
      this.phase = "done";
      routeRefused(this.host, destination, result.sni, this.client.remoteAddress);
      this.client.destroy();
      return;
    }
    this.phase = "dial";
    this.client.setTimeout(this.host.settings.idleTimeoutMs);
    this.dial(decision.endpoints, start, 0);
  };

  private readonly onHelloTimeout = (): void => {
    if (this.phase === "hello") this.refuseHello("timeout");
  };

  private refuseHello(reason: HelloFailureReason): void {
    clearTimeout(this.helloTimer);
    this.phase = "done";
    const received = this.reader ? this.reader.bytes.length : 0;
    this.reader = undefined;
    helloRefused(this.host, reason, received, this.client.remoteAddress);
    if (!this.client.destroyed) this.client.destroy();
  }

  private dial(endpoints: readonly RouteEndpoint[], start: number, attempt: number): void {
    const endpoint = endpoints[(start + attempt) % endpoints.length];
    const host = this.host;
    const began = performance.now();
    const hot = host.metrics.hot;
    const connect: net.NetConnectOpts = {
      host: endpoint.address,
      port: endpoint.port,
      noDelay: true,
      allowHalfOpen: true,
    };
    const pump = (this.toClient ??= new Pump(this.client, host.pool, (bytes) => (hot.bytesToClient += bytes)));
    connect.onread = { buffer: pump.nextBuffer, callback: pump.onRead };
    const upstream = net.connect(connect);
    this.upstream = upstream;
    this.upstreamClosed = false;
    let settled = false;
    const fail = (why: string) => {
      if (settled) return;
      settled = true;
      upstream.removeAllListeners("connect");
      if (!upstream.destroyed) upstream.destroy();
      this.upstreamClosed = true;
      if (this.clientClosed || this.client.destroyed) {
        // The client left (reset) while dialling, or was closed (idle timeout, drain) and its
        // upstream with it: the attempt was abandoned, not an upstream failure. The client's
        // 'close' releases the connection if it has not come yet.
        this.maybeRelease();
        return;
      }
      connectFailed(host, this.destination as Destination, endpoint, attempt, why, (performance.now() - began) / 1000);
      if (attempt + 1 < endpoints.length) {
        this.dial(endpoints, start, attempt + 1);
        return;
      }
      this.phase = "done";
      host.count("upstream-failed", this.labels);
      this.client.destroy();
    };
    upstream.setTimeout(host.settings.connectTimeoutMs);
    upstream.once("timeout", () => fail("timeout"));
    upstream.once("error", (error: NodeJS.ErrnoException) => fail(error.code ?? "error"));
    upstream.once("close", () => {
      if (!settled) fail("closed");
      else if (this.upstream === upstream && !this.upstreamClosed) this.onUpstreamClose();
    });
    upstream.once("connect", () => {
      if (settled) return;
      settled = true;
      upstream.removeAllListeners("timeout");
      upstream.removeAllListeners("error");
      upstream.on("error", this.onUpstreamError);
      host.observeConnect("success", (performance.now() - began) / 1000);
      if (this.clientClosed) {
        upstream.destroy();
        return;
      }
      upstream.setTimeout(0);
      host.count("forwarded", this.labels);
      pump.source = upstream;
      this.startPipe(upstream);
    });
  }

  /** Writes the ClientHello to the upstream, first of all. */
  private forwardHello(upstream: net.Socket): void {
    this.phase = "pipe";
    const hello = (this.reader as ClientHelloReader).bytes;
    this.reader = undefined;
    this.host.metrics.hot.bytesToUpstream += hello.length;
    upstream.write(hello);
  }

  /** Writes to the upstream whatever the client socket has read and not delivered yet. */
  private forwardBuffered(upstream: net.Socket): void {
    const client = this.client;
    const hot = this.host.metrics.hot;
    for (let chunk = client.read() as Buffer | null; chunk !== null; chunk = client.read() as Buffer | null) {
      hot.bytesToUpstream += chunk.length;
      upstream.write(chunk);
    }
  }

  private startPipe(upstream: net.Socket): void {
    const client = this.client;
    const hot = this.host.metrics.hot;
    this.forwardHello(upstream);
    upstream.on("end", () => {
      this.upstreamReadEnded = true;
      if (!client.destroyed) client.end();
    });
    // Client → upstream: whatever arrived while dialling first, then straight from the socket
    // into a buffer of this connection (no allocation per read), else ordinary 'data' events.
    this.forwardBuffered(upstream);
    let buffered = false;
    if (!eofReceived(client)) {
      const pump = new Pump(upstream, this.host.pool, (bytes) => (hot.bytesToUpstream += bytes));
      pump.source = client;
      buffered = useReadBuffer(client, pump);
      if (buffered) this.toUpstream = pump;
      else pump.dispose();
    }
    if (!buffered) {
      client.on("data", (chunk: Buffer) => {
        hot.bytesToUpstream += chunk.length;
        if (!upstream.write(chunk)) client.pause();
      });
      upstream.on("drain", () => client.resume());
    }
    if (this.clientReadEnded) upstream.end();
    client.resume();
  }

  private readonly onClientEnd = (): void => {
    this.clientReadEnded = true;
    if (this.phase === "hello") {
      this.refuseHello("eof");
      return;
    }
    if (this.phase === "pipe" && this.upstream && !this.upstream.destroyed) this.upstream.end();
  };

  private readonly onClientError = (): void => {
    // Reset or broken pipe: 'close' follows and tears the other side down.
    if (this.phase === "hello") this.refuseHello("eof");
  };

  private readonly onUpstreamError = (error: NodeJS.ErrnoException): void => {
    this.host.log("info", "upstream-error", {
      code: error.code,
      remote: this.client.remoteAddress,
    });
  };

  private readonly onClientTimeout = (): void => {
    this.host.log("info", "idle-timeout", { remote: this.client.remoteAddress });
    this.destroy();
  };

  private readonly onClientClose = (): void => {
    this.clientClosed = true;
    if (this.phase === "hello") {
      // Closed without 'end' (reset): counts as eof; refuseHello does not run twice.
      this.refuseHello("eof");
    }
    const upstream = this.upstream;
    if (upstream && !upstream.destroyed) {
      // A clean close (our end() done and theirs received) lets the upstream flush what it holds,
      // within the idle timeout (the client's timer is gone with the client: an upstream that
      // never reads again must not hold the connection for ever).
      const clean = this.clientReadEnded && this.upstreamReadEnded;
      if (!clean) upstream.destroy();
      else {
        upstream.setTimeout(this.host.settings.idleTimeoutMs);
        upstream.once("timeout", () => upstream.destroy());
      }
    }
    this.maybeRelease();
  };

  private onUpstreamClose(): void {
    this.upstreamClosed = true;
    if (!this.client.destroyed) {
      const clean = this.clientReadEnded && this.upstreamReadEnded;
      if (!clean) this.client.destroy();
    }
    this.maybeRelease();
  }

  private maybeRelease(): void {
    if (this.released || !this.clientClosed || !this.upstreamClosed) return;
    this.released = true;
    this.phase = "done";
    // Both sockets are closed: nothing reads into or writes from the buffers any more.
    this.toClient?.dispose();
    this.toUpstream?.dispose();
    this.host.released(this);
  }
}
