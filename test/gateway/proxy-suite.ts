/**
 * The data path on real sockets: exact bytes both ways, backpressure, half-close, failover,
 * connection limit, hello and idle timeouts, and route swaps that leave connections in flight alone.
 * Run for each relay of established connections: `proxy.test.ts` (the native splice relay) and
 * `proxy-pump.test.ts` (the TypeScript pump).
 */
import { createHash, randomBytes } from "node:crypto";
import net from "node:net";
import { startGateway, GatewayHandle } from "../../gateway";
import { MIN_READ_BUFFER_BYTES, proxySettings, type RelayMode } from "../../gateway/net/proxy";
import { readBufferModeAvailable } from "../../gateway/net/pump";
import { StaticRouteSource } from "../../gateway/sources/static-route-source";
import type { RoutesFile } from "../../mesh/model/routes-file";
import { serviceSni } from "../../mesh/model/sni";
import {
  blackholeEndpoint,
  httpGet,
  metricValue,
  rawExchange,
  syntheticHello as hello,
  unansweredEndpoint,
  waitFor,
} from "./helpers";

const TD = "11111111-2222-3333-4444-555555555555.consul";
const RAW = serviceSni({ service: "raw", datacenter: "dc1", trustDomain: TD });

/** A plain TCP upstream that records what it receives and can send data back. */
interface RawUpstream {
  port: number;
  connections: net.Socket[];
  /** Everything connection `i` has received so far. */
  received(i: number): Buffer;
  close(): Promise<void>;
}

async function rawUpstream(
  onConnection?: (socket: net.Socket, index: number) => void,
  host = "127.0.0.21",
): Promise<RawUpstream> {
  const chunks: Buffer[][] = [];
  const up: RawUpstream = {
    port: 0,
    connections: [],
    received: (i) => Buffer.concat(chunks[i] ?? []),
    close: async () => undefined,
  };
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    const index = up.connections.length;
    up.connections.push(socket);
    chunks.push([]);
    socket.on("error", () => undefined);
    socket.on("data", (d) => chunks[index].push(d));
    // By default, answer a FIN with a FIN; a custom handler decides for itself.
    if (onConnection) onConnection(socket, index);
    else socket.on("end", () => socket.end());
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  up.port = (server.address() as net.AddressInfo).port;
  up.close = () =>
    new Promise((resolve) => {
      for (const s of up.connections) s.destroy();
      server.close(() => resolve());
    });
  return up;
}

function routes(endpoints: Array<{ address: string; port: number }>): RoutesFile {
  return { datacenter: "dc1", trustDomain: TD, services: [{ name: "raw", endpoints }], gateways: [] };
}

/** The relay the suite runs on, set by {@link proxySuite}. */
let relay: RelayMode = "splice";

async function gateway(endpoints: Array<{ address: string; port: number }>, proxy = {}): Promise<GatewayHandle> {
  return startGateway({
    datacenter: "dc1",
    listen: [{ host: "127.0.0.4", port: 0 }],
    admin: { host: "127.0.0.1", port: 0 },
    routes: { static: routes(endpoints) },
    proxy: { relay, ...proxy },
    logLevel: "silent",
  });
}

async function metrics(gw: GatewayHandle): Promise<string> {
  return (await httpGet(`http://127.0.0.1:${gw.adminAddress?.port}/metrics`)).body;
}

function connect(gw: GatewayHandle): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: "127.0.0.4", port: gw.listenAddresses[0].port, allowHalfOpen: true }, () =>
      resolve(s),
    );
    s.on("error", reject);
  });
}

function closed(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => (socket.destroyed ? resolve() : socket.once("close", () => resolve())));
}

/** Resolves when the peer has closed its side (FIN) or the socket is closed. */
function ended(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    if (socket.readableEnded || socket.destroyed) return resolve();
    socket.once("end", () => resolve());
    socket.once("close", () => resolve());
    socket.resume();
  });
}

/**
 * Registers the suite's tests for one relay (a relay that cannot start fails every test).
 * @param mode - The relay under test.
 */
export function proxySuite(mode: Exclude<RelayMode, "auto">): void {
  relay = mode;
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  test("this Node.js supports reading accepted sockets into the proxy's own buffers (the fast path these tests run)", () => {
    expect(readBufferModeAvailable()).toBe(true);
  });

  test("the settings are computed once, frozen, with every default and the least read buffer", () => {
    const settings = proxySettings({ readBufferBytes: 10, helloTimeoutMs: 1 });
    expect(Object.isFrozen(settings)).toBe(true);
    expect(settings).toEqual({
      helloTimeoutMs: 1,
      idleTimeoutMs: 3_600_000,
      connectTimeoutMs: 5000,
      maxConnections: 10_000,
      maxHelloLength: undefined,
      logLinesPerSecond: 20,
      readBufferBytes: MIN_READ_BUFFER_BYTES,
      maxLabelledRemoteServices: 1000,
      relay: "auto",
    });
  });

  test("the upstream receives exactly the client's bytes, in tiny and large chunks, and vice versa", async () => {
    const up = await rawUpstream((socket) => socket.on("end", () => socket.end(Buffer.from("upstream done"))));
    const gw = await gateway([{ address: "127.0.0.21", port: up.port }]);
    cleanups.push(
      () => up.close(),
      () => gw.close(0),
    );
    const client = await connect(gw);
    const sent = Buffer.concat([hello(RAW), randomBytes(300_000)]);
    // The hello byte by byte, then the rest in uneven chunks.
    for (let i = 0; i < 60; i++) client.write(sent.subarray(i, i + 1));
    for (let p = 60; p < sent.length; p += 7777) client.write(sent.subarray(p, p + 7777));
    const back: Buffer[] = [];
    client.on("data", (d) => back.push(d));
    client.end();
    await closed(client);
    expect(up.received(0).equals(sent)).toBe(true);
    expect(Buffer.concat(back).toString()).toBe("upstream done");
    const text = await metrics(gw);
    expect(metricValue(text, "sni_gateway_bytes_total", { direction: "client_to_upstream" })).toBe(sent.length);
    expect(metricValue(text, "sni_gateway_bytes_total", { direction: "upstream_to_client" })).toBe(13);
  });

  test("backpressure: 64 MiB from a fast upstream to a client that reads late arrive intact", async () => {
    const payload = randomBytes(64 * 1024 * 1024);
    const digest = createHash("sha256").update(payload).digest("hex");
    let upstreamSocket: import("node:net").Socket | undefined;
    const up = await rawUpstream((socket) => {
      socket.once("data", () => {
        upstreamSocket = socket;
        socket.end(payload);
      });
    });
    const gw = await gateway([{ address: "127.0.0.21", port: up.port }]);
    cleanups.push(
      () => up.close(),
      () => gw.close(0),
    );
    const client = await connect(gw);
    client.write(hello(RAW));
    client.pause();
    // While the client does not read, the gateway must stop reading the upstream, not absorb
    // 64 MiB: the kernel buffers on the way hold a few MiB at most, so the upstream's write of
    // the payload cannot have completed.
    await new Promise((r) => setTimeout(r, 300));
    expect(upstreamSocket).toBeDefined();
    expect(upstreamSocket?.writableLength).toBeGreaterThan(0);
    const hash = createHash("sha256");
    let total = 0;
    client.on("data", (d) => {
      hash.update(d);
      total += d.length;
    });
    client.resume();
    await new Promise<void>((resolve) => client.on("end", () => resolve()));
    client.end();
    expect(total).toBe(payload.length);
    expect(hash.digest("hex")).toBe(digest);
    expect(upstreamSocket?.writableLength).toBe(0);
  }, 60_000);

  test("backpressure the other way: 32 MiB from a fast client to an upstream that reads late arrive intact", async () => {
    const payload = randomBytes(32 * 1024 * 1024);
    const hash = createHash("sha256");
    let total = 0;
    let upstreamDone: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => (upstreamDone = resolve));
    const up = await rawUpstream((socket) => {
      socket.pause();
      setTimeout(() => socket.resume(), 300);
      socket.on("data", (d) => {
        hash.update(d);
        total += d.length;
      });
      socket.on("end", () => {
        socket.end();
        upstreamDone();
      });
    });
    const gw = await gateway([{ address: "127.0.0.21", port: up.port }]);
    cleanups.push(
      () => up.close(),
      () => gw.close(0),
    );
    const client = await connect(gw);
    const helloBytes = hello(RAW);
    client.write(helloBytes);
    client.end(payload);
    await finished;
    expect(total).toBe(helloBytes.length + payload.length);
    expect(hash.digest("hex")).toBe(createHash("sha256").update(helloBytes).update(payload).digest("hex"));
  }, 60_000);

  test.each([
    ["one 4 KiB size", 4096],
    ["4 KiB and 32 KiB, switching", undefined],
  ])(
    "20 concurrent connections, each with its own 2 MiB both ways, never mix bytes (buffers: %s, reused)",
    async (_what, readBufferBytes) => {
      const up = await rawUpstream((socket) => {
        socket.on("data", (d) => socket.write(d));
        socket.on("end", () => socket.end());
      });
      const gw = await gateway([{ address: "127.0.0.21", port: up.port }], { readBufferBytes });
      cleanups.push(
        () => up.close(),
        () => gw.close(0),
      );
      const one = async () => {
        const client = await connect(gw);
        const sent = Buffer.concat([hello(RAW), randomBytes(2 * 1024 * 1024)]);
        const back: Buffer[] = [];
        client.on("data", (d) => back.push(d));
        for (let p = 0; p < sent.length; p += 50_000) client.write(sent.subarray(p, p + 50_000));
        client.end();
        await closed(client);
        return Buffer.concat(back).equals(sent);
      };
      for (let round = 0; round < 2; round++) {
        const results = await Promise.all(Array.from({ length: 10 }, one));
        expect(results).toEqual(Array(10).fill(true));
      }
    },
    60_000,
  );

  test("half-close: the client's FIN reaches the upstream, which can still answer", async () => {
    const up = await rawUpstream((socket) =>
      socket.on("end", () => setTimeout(() => socket.end("after your FIN"), 50)),
    );
    const gw = await gateway([{ address: "127.0.0.21", port: up.port }]);
    cleanups.push(
      () => up.close(),
      () => gw.close(0),
    );
    const client = await connect(gw);
    client.end(Buffer.concat([hello(RAW), Buffer.from("request")]));
    let answer = "";
    client.on("data", (d) => (answer += d));
    await closed(client);
    expect(answer).toBe("after your FIN");
    expect(up.received(0).subarray(-7).toString()).toBe("request");
    await waitFor(() => gw.activeConnections() === 0, 2000, "connection released");
  });

  test("failover: a refused endpoint is skipped, round-robin starts at each endpoint in turn", async () => {
    const dead = net.createServer();
    await new Promise<void>((resolve) => dead.listen(0, "127.0.0.22", resolve));
    const deadPort = (dead.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => dead.close(() => resolve()));
    const up = await rawUpstream((socket) => socket.end("ok"));
    const gw = await gateway([
      { address: "127.0.0.22", port: deadPort },
      { address: "127.0.0.21", port: up.port },
    ]);
    cleanups.push(
      () => up.close(),
      () => gw.close(0),
    );
    for (let i = 0; i < 4; i++) {
      const r = await rawExchange("127.0.0.4", gw.listenAddresses[0].port, hello(RAW));
      expect(r.received.toString()).toBe("ok");
    }
    const text = await metrics(gw);
    expect(
      metricValue(text, "sni_gateway_connections_total", { result: "forwarded", datacenter: "dc1", service: "raw" }),
    ).toBe(4);
    // Half of the connections started at the dead endpoint and failed over.
    expect(
      metricValue(text, "sni_gateway_upstream_connect_failures_total", { datacenter: "dc1", service: "raw" }),
    ).toBe(2);
    expect(metricValue(text, "sni_gateway_upstream_connect_seconds_count", { result: "failure" })).toBe(2);
  });

  test("connect timeout: an endpoint that never answers is abandoned after connectTimeoutMs, and the next one is used", async () => {
    const blackhole = await blackholeEndpoint("127.0.0.23", 8000);
    cleanups.push(async () => blackhole.close());
    const blockedPort = blackhole.port;
    const up = await rawUpstream((socket) => socket.end("ok"));
    const gw = await gateway(
      [
        { address: "127.0.0.23", port: blockedPort },
        { address: "127.0.0.21", port: up.port },
      ],
      { connectTimeoutMs: 200 },
    );
    cleanups.push(
      () => up.close(),
      () => gw.close(0),
    );
    for (let i = 0; i < 2; i++) {
      const r = await rawExchange("127.0.0.4", gw.listenAddresses[0].port, hello(RAW), 3000);
      expect(r.received.toString()).toBe("ok");
    }
    const text = await metrics(gw);
    expect(
      metricValue(text, "sni_gateway_upstream_connect_failures_total", { datacenter: "dc1", service: "raw" }),
    ).toBe(1);
    expect(metricValue(text, "sni_gateway_upstream_connect_seconds_count", { result: "failure" })).toBe(1);
    expect(metricValue(text, "sni_gateway_upstream_connect_seconds_sum", { result: "failure" })).toBeGreaterThanOrEqual(
      0.19,
    );
  });

  test("bytes and the FIN a client sends while the gateway is still dialling reach the upstream after the hello, in order", async () => {
    const blackhole = await blackholeEndpoint("127.0.0.23", 8000);
    cleanups.push(async () => blackhole.close());
    const up = await rawUpstream((socket) => socket.on("end", () => socket.end("answered")));
    const gw = await gateway(
      [
        { address: "127.0.0.23", port: blackhole.port },
        { address: "127.0.0.21", port: up.port },
      ],
      { connectTimeoutMs: 300 },
    );
    cleanups.push(
      () => up.close(),
      () => gw.close(0),
    );
    const client = await connect(gw);
    const answer: Buffer[] = [];
    client.on("data", (chunk: Buffer) => answer.push(chunk));
    const early = randomBytes(3000);
    client.write(hello(RAW));
    // The first endpoint swallows the SYN for 300 ms: all of this arrives before any upstream exists.
    await new Promise((resolve) => setTimeout(resolve, 50));
    client.write(early);
    client.end();
    await ended(client);
    expect(Buffer.concat(answer).toString()).toBe("answered");
    await waitFor(() => up.connections.length === 1, 2000, "the upstream connection");
    expect(up.received(0).equals(Buffer.concat([hello(RAW), early]))).toBe(true);
  });

  test("an endpoint by host name (localhost) is resolved and dialled by Node.js, with exact bytes and counters", async () => {
    const up = await rawUpstream((socket) => socket.on("end", () => socket.end("by name")), "127.0.0.1");
    const gw = await gateway([{ address: "localhost", port: up.port }]);
    cleanups.push(
      () => up.close(),
      () => gw.close(0),
    );
    const client = await connect(gw);
    const sent = Buffer.concat([hello(RAW), randomBytes(50_000)]);
    client.write(sent);
    const back: Buffer[] = [];
    client.on("data", (d) => back.push(d));
    await waitFor(() => up.received(0).length === sent.length, 5000, "every byte upstream");
    client.end();
    await closed(client);
    expect(up.received(0).equals(sent)).toBe(true);
    expect(Buffer.concat(back).toString()).toBe("by name");
    const text = await metrics(gw);
    expect(metricValue(text, "sni_gateway_bytes_total", { direction: "client_to_upstream" })).toBe(sent.length);
    expect(metricValue(text, "sni_gateway_bytes_total", { direction: "upstream_to_client" })).toBe(7);
  });

  test("a connection closed while its upstream connect is pending (idle timeout): the attempt is dropped, not counted as failed", async () => {
    const endpoint = await unansweredEndpoint("127.0.0.23");
    cleanups.push(async () => endpoint.close());
    const gw = await gateway([{ address: "127.0.0.23", port: endpoint.port }], {
      connectTimeoutMs: 5000,
      idleTimeoutMs: 300,
    });
    cleanups.push(() => gw.close(0));
    const client = await connect(gw);
    const began = Date.now();
    client.write(hello(RAW));
    await waitFor(() => gw.activeConnections() === 1, 2000, "the connection");
    // The client's idle timeout closes it while the SYN is still dropped, long before the connect timeout.
    await ended(client);
    await waitFor(() => gw.activeConnections() === 0, 2000, "the connection released");
    expect(Date.now() - began).toBeLessThan(3000);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const text = await metrics(gw);
    expect(
      metricValue(text, "sni_gateway_upstream_connect_failures_total", { datacenter: "dc1", service: "raw" }),
    ).toBe(0);
    expect(metricValue(text, "sni_gateway_upstream_connect_seconds_count", { result: "failure" })).toBe(0);
    expect(metricValue(text, "sni_gateway_connections_total", { result: "upstream-failed" })).toBe(0);
  });

  test("every endpoint down: the client is closed and counted as upstream-failed", async () => {
    const gw = await gateway([{ address: "127.0.0.22", port: 1 }]);
    cleanups.push(() => gw.close(0));
    const r = await rawExchange("127.0.0.4", gw.listenAddresses[0].port, hello(RAW));
    expect(r).toEqual({ received: Buffer.alloc(0), closedBy: "peer" });
    expect(
      metricValue(await metrics(gw), "sni_gateway_connections_total", {
        result: "upstream-failed",
        datacenter: "dc1",
        service: "raw",
      }),
    ).toBe(1);
  });

  test("max connections: one more than the limit is closed at once and counted", async () => {
    const up = await rawUpstream();
    const gw = await gateway([{ address: "127.0.0.21", port: up.port }], { maxConnections: 2 });
    cleanups.push(
      () => up.close(),
      () => gw.close(0),
    );
    const a = await connect(gw);
    const b = await connect(gw);
    a.write(hello(RAW));
    b.write(hello(RAW));
    await waitFor(() => up.connections.length === 2, 2000, "two upstream connections");
    const r = await rawExchange("127.0.0.4", gw.listenAddresses[0].port, hello(RAW), 2000);
    expect(r).toEqual({ received: Buffer.alloc(0), closedBy: "peer" });
    expect(up.connections.length).toBe(2);
    expect(metricValue(await metrics(gw), "sni_gateway_connections_total", { result: "over-limit" })).toBe(1);
    // Closing one frees a slot.
    a.destroy();
    await waitFor(() => gw.activeConnections() === 1, 2000, "slot freed");
    const c = await connect(gw);
    c.write(hello(RAW));
    await waitFor(() => up.connections.length === 3, 2000, "third upstream connection");
    b.destroy();
    c.destroy();
  });

  test("hello timeout: a client that sends part of a hello is closed and counted", async () => {
    const gw = await gateway([{ address: "127.0.0.21", port: 1 }], { helloTimeoutMs: 200 });
    cleanups.push(() => gw.close(0));
    const started = Date.now();
    const r = await rawExchange("127.0.0.4", gw.listenAddresses[0].port, hello(RAW).subarray(0, 20), 5000);
    expect(r.closedBy).toBe("peer");
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    expect(metricValue(await metrics(gw), "sni_gateway_hello_failures_total", { reason: "timeout" })).toBe(1);
  });

  test("hello timeout is a deadline: a client trickling its hello byte by byte is closed on time", async () => {
    const gw = await gateway([{ address: "127.0.0.21", port: 1 }], { helloTimeoutMs: 300 });
    cleanups.push(() => gw.close(0));
    const bytes = hello(RAW);
    const socket = await connect(gw);
    const started = Date.now();
    let sent = 0;
    const timer = setInterval(() => {
      if (!socket.destroyed && sent < bytes.length) socket.write(bytes.subarray(sent, ++sent));
    }, 50);
    await ended(socket);
    clearInterval(timer);
    socket.destroy();
    expect(Date.now() - started).toBeLessThan(2000);
    expect(sent).toBeLessThan(bytes.length);
    expect(metricValue(await metrics(gw), "sni_gateway_hello_failures_total", { reason: "timeout" })).toBe(1);
  });

  test("idle timeout: a forwarded connection with no traffic is closed on both sides", async () => {
    const up = await rawUpstream();
    const gw = await gateway([{ address: "127.0.0.21", port: up.port }], { idleTimeoutMs: 300 });
    cleanups.push(
      () => up.close(),
      () => gw.close(0),
    );
    const client = await connect(gw);
    client.write(hello(RAW));
    await waitFor(() => up.connections.length === 1, 2000, "upstream connection");
    await ended(client);
    await ended(up.connections[0]);
    await waitFor(() => gw.activeConnections() === 0, 2000, "connection released");
  });

  test("a client that connects and closes without a byte is a probe (a TCP health check), not a rejection", async () => {
    const gw = await gateway([{ address: "127.0.0.21", port: 1 }]);
    cleanups.push(() => gw.close(0));
    const s = await connect(gw);
    s.end();
    await closed(s);
    const probes = async () =>
      metricValue(await metrics(gw), "sni_gateway_connections_total", { result: "probe", datacenter: "", service: "" });
    await waitFor(async () => (await probes()) === 1, 2000, "probe counted");
    const text = await metrics(gw);
    expect(
      metricValue(text, "sni_gateway_connections_total", { result: "rejected", datacenter: "", service: "" }),
    ).toBe(0);
    expect(metricValue(text, "sni_gateway_hello_failures_total", { reason: "eof" })).toBe(0);
  });

  test("a client that closes after part of a hello is counted as an eof rejection", async () => {
    const gw = await gateway([{ address: "127.0.0.21", port: 1 }]);
    cleanups.push(() => gw.close(0));
    const s = await connect(gw);
    s.end(hello(RAW).subarray(0, 10));
    await closed(s);
    await waitFor(
      async () => metricValue(await metrics(gw), "sni_gateway_hello_failures_total", { reason: "eof" }) === 1,
      2000,
      "eof counted",
    );
  });

  test("a route swap applies to new connections and leaves connections in flight alone", async () => {
    const first = await rawUpstream((socket) => socket.write("first"));
    const gw = await gateway([{ address: "127.0.0.21", port: first.port }]);
    cleanups.push(
      () => first.close(),
      () => gw.close(0),
    );
    const old = await connect(gw);
    let oldData = "";
    old.on("data", (d) => (oldData += d));
    old.write(hello(RAW));
    await waitFor(() => oldData === "first", 2000, "first upstream");
    // Swap: the service now has no endpoints.
    (gw.source as StaticRouteSource).update({ ...routes([]), services: [{ name: "raw", endpoints: [] }] });
    const r = await rawExchange("127.0.0.4", gw.listenAddresses[0].port, hello(RAW), 2000);
    expect(r).toEqual({ received: Buffer.alloc(0), closedBy: "peer" });
    expect(metricValue(await metrics(gw), "sni_gateway_route_rejections_total", { reason: "no-endpoints" })).toBe(1);
    // The old connection still works both ways.
    old.write("still here");
    await waitFor(() => first.received(0).toString().endsWith("still here"), 2000, "old connection alive");
    old.destroy();
  });

  test("close(grace) lets a connection in flight finish, then stops", async () => {
    const up = await rawUpstream((socket) => socket.on("end", () => socket.end("bye")));
    const gw = await gateway([{ address: "127.0.0.21", port: up.port }]);
    const client = await connect(gw);
    client.write(hello(RAW));
    await waitFor(() => up.connections.length === 1, 2000, "upstream connection");
    const closing = gw.close(5000);
    // New connections are refused while draining.
    await expect(connect(gw)).rejects.toThrow(/ECONNREFUSED/);
    let answer = "";
    client.on("data", (d) => (answer += d));
    setTimeout(() => client.end(), 100);
    await closed(client);
    await closing;
    expect(answer).toBe("bye");
    await up.close();
  });

  /** A gateway to a fresh upstream, with one client connection forwarded to it. */
  async function forwardedConnection(): Promise<{ gw: GatewayHandle; client: net.Socket }> {
    const up = await rawUpstream();
    const gw = await gateway([{ address: "127.0.0.21", port: up.port }]);
    cleanups.push(() => up.close());
    const client = await connect(gw);
    client.write(hello(RAW));
    await waitFor(() => up.connections.length === 1, 2000, "upstream connection");
    return { gw, client };
  }

  test("close(grace) closes connections still open when the grace period ends", async () => {
    const { gw, client } = await forwardedConnection();
    const started = Date.now();
    await gw.close(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    await ended(client);
    client.destroy();
  });

  test("close resolves only once every connection is released, handed-over pairs included", async () => {
    // One connection forwarding (in the relay, when it splices), one still in its hello.
    const { gw, client: forwarding } = await forwardedConnection();
    const silent = await connect(gw);
    await waitFor(() => gw.activeConnections() === 2, 2000, "two open connections");
    await gw.close(0);
    expect(gw.activeConnections()).toBe(0);
    expect(metricValue(await gw.metrics.registry.metrics(), "sni_gateway_active_connections")).toBe(0);
    await Promise.all([ended(forwarding), ended(silent)]);
    forwarding.destroy();
    silent.destroy();
  });

  test("close(grace) resolves only once the connections it closed at the end of the grace are released", async () => {
    const { gw, client } = await forwardedConnection();
    await gw.close(100);
    expect(gw.activeConnections()).toBe(0);
    await ended(client);
    client.destroy();
  });

  test(`the gateway runs the ${mode} relay`, async () => {
    const gw = await gateway([{ address: "127.0.0.21", port: 1 }]);
    cleanups.push(() => gw.close(0));
    expect(gw.relayMode).toBe(mode);
  });
}
