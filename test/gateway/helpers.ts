/**
 * Shared helpers of the gateway tests: TLS backends that answer with their own name, TLS
 * clients that verify the backend certificate through a gateway, hello capture, metrics.
 */
import { spawn } from "node:child_process";
import http from "node:http";
import net from "node:net";
import tls from "node:tls";
import { ClientHelloReader } from "../../gateway/net/client-hello";

/**
 * A TLS backend: replies `hello from <name>\n`, echoes what follows, and once the client has
 * half-closed, sends `\nbye from <name>` 20 ms later and closes: the farewell only arrives if
 * half-close is carried end to end.
 */
export interface TlsBackend {
  name: string;
  port: number;
  host: string;
  /** Connections accepted so far. */
  accepted: number;
  close(): Promise<void>;
}

/**
 * Starts a TLS server on `host:0` with the given certificate. On each connection it writes
 * `hello from <name>\n`, then echoes every byte until the client ends, then ends.
 */
export async function startTlsBackend(
  name: string,
  key: string,
  cert: string,
  host = "127.0.0.1",
): Promise<TlsBackend> {
  const sockets = new Set<net.Socket>();
  const backend = { name, port: 0, host, accepted: 0 } as TlsBackend;
  const server = tls.createServer({ key, cert, allowHalfOpen: true, handshakeTimeout: 2000 }, (socket) => {
    backend.accepted++;
    socket.on("error", () => undefined);
    socket.write(`hello from ${name}\n`);
    socket.on("data", (d) => socket.write(d));
    socket.on("end", () => setTimeout(() => socket.end(`\nbye from ${name}`), 20));
  });
  server.on("connection", (socket: net.Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  server.on("tlsClientError", () => undefined);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  backend.port = (server.address() as net.AddressInfo).port;
  backend.close = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  return backend;
}

/** The outcome of {@link tlsRequest}. */
export type TlsOutcome =
  { ok: true; greeting: string; echo: string; farewell: string; authorized: boolean } | { ok: false; error: string };

/**
 * Connects with TLS to `host:port` sending `servername` (no SNI when `undefined`), verifying
 * the server certificate against `ca` for `servername`; reads the greeting, sends `payload`,
 * half-closes, and collects the echo and the farewell the backend sends after the half-close.
 */
export function tlsRequest(
  host: string,
  port: number,
  servername: string | undefined,
  ca: string,
  payload = "ping",
  timeoutMs = 5000,
): Promise<TlsOutcome> {
  return new Promise((resolve) => {
    let data = "";
    let settled = false;
    const done = (outcome: TlsOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const socket = tls.connect({
      host,
      port,
      ca,
      rejectUnauthorized: true,
      ...(servername ? { servername } : { servername: "", checkServerIdentity: () => undefined }),
    });
    const timer = setTimeout(() => done({ ok: false, error: "timeout" }), timeoutMs);
    socket.setEncoding("utf8");
    let secured = false;
    socket.on("secureConnect", () => {
      secured = true;
      socket.write(payload);
      socket.end();
    });
    socket.on("data", (d: string) => (data += d));
    socket.on("end", () => {
      if (!secured) return done({ ok: false, error: "closed before the handshake completed" });
      const newline = data.indexOf("\n");
      const last = data.lastIndexOf("\n");
      done({
        ok: true,
        greeting: data.slice(0, newline),
        echo: data.slice(newline + 1, last > newline ? last : undefined),
        farewell: last > newline ? data.slice(last + 1) : "",
        authorized: socket.authorized,
      });
    });
    socket.on("error", (e: NodeJS.ErrnoException) => done({ ok: false, error: e.code ?? e.message }));
    socket.on("close", () => done({ ok: false, error: "closed" }));
  });
}

/**
 * Runs a TLS client against a recording server and returns the ClientHello bytes it sent
 * (everything up to the complete hello).
 * @param connect starts the client against the given port.
 */
export async function captureHello(connect: (port: number) => { destroy(): void } | void): Promise<Buffer> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  try {
    return await new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no complete ClientHello within 5 s")), 5000);
      server.once("connection", (socket) => {
        const reader = new ClientHelloReader({ maxHelloLength: 1 << 20, maxBufferedBytes: 1 << 21 });
        socket.on("error", () => undefined);
        socket.on("data", (d) => {
          const result = reader.push(d);
          if (result.status === "need-more") return;
          clearTimeout(timer);
          resolve(Buffer.from(reader.bytes));
          socket.destroy();
        });
      });
      const client = connect(port);
      if (client) setTimeout(() => client.destroy(), 5000).unref();
    });
  } finally {
    server.close();
  }
}

/** Runs `openssl s_client` with extra args against `port`, for hello capture. */
export function opensslClient(port: number, args: string[]): { destroy(): void } {
  const child = spawn("openssl", ["s_client", "-connect", `127.0.0.1:${port}`, ...args], {
    stdio: ["pipe", "ignore", "ignore"],
  });
  child.on("error", () => undefined);
  return { destroy: () => child.kill() };
}

/** GETs an admin URL; returns status and body. */
export function httpGet(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d) => (body += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on("error", reject);
  });
}

/**
 * The value of one sample in Prometheus text, e.g.
 * `metricValue(text, 'sni_gateway_hello_failures_total', { reason: "not-tls" })`; 0 when absent.
 */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const value of samples(text, name, labels)) return value;
  return 0;
}

/** The sum of every sample of `name` whose labels include `labels`; 0 when there is none. */
export function metricSum(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const value of samples(text, name, labels)) total += value;
  return total;
}

/** The values of the samples of `name` whose labels include `labels`, in order. */
function* samples(text: string, name: string, labels: Record<string, string>): Generator<number> {
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const found: Record<string, string> = {};
    for (const pair of (m[2] ?? "").matchAll(/([a-zA-Z_]+)="((?:[^"\\]|\\.)*)"/g)) found[pair[1]] = pair[2];
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) yield Number(m[3]);
  }
}

/** Sends raw bytes and waits for the peer to close; resolves with what came back and how it ended. */
export function rawExchange(
  host: string,
  port: number,
  bytes: Buffer,
  timeoutMs = 5000,
): Promise<{ received: Buffer; closedBy: "peer" | "timeout" }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = net.connect({ host, port }, () => socket.write(bytes));
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ received: Buffer.concat(chunks), closedBy: "timeout" });
    }, timeoutMs);
    socket.on("data", (d) => chunks.push(d));
    socket.on("error", () => undefined);
    socket.on("close", () => {
      clearTimeout(timer);
      resolve({ received: Buffer.concat(chunks), closedBy: "peer" });
    });
  });
}

/** Waits until `predicate` holds, polling every 20 ms, for at most `timeoutMs`. */
export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
  what = "condition",
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await predicate()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * An endpoint that never completes a TCP connect: a child process listens with backlog 1, two
 * filler connections fill its accept queue, then it stops accepting (busy for `busyMs`), so the
 * kernel drops further SYNs and a connect neither succeeds nor fails.
 */
export async function blackholeEndpoint(host: string, busyMs: number): Promise<{ port: number; close(): void }> {
  const script = `const s=require('net').createServer().listen({port:0,host:'${host}',backlog:1},()=>{console.log(s.address().port);setTimeout(()=>{const end=Date.now()+${busyMs};while(Date.now()<end){}},50)})`;
  const blocked = spawn(process.execPath, ["-e", script], { stdio: ["ignore", "pipe", "inherit"] });
  const fillers: net.Socket[] = [];
  const close = () => {
    blocked.kill("SIGKILL");
    for (const f of fillers) f.destroy();
  };
  const port = await new Promise<number>((resolve) =>
    blocked.stdout.once("data", (d) => resolve(Number(String(d).trim()))),
  );
  await new Promise((r) => setTimeout(r, 150));
  for (let i = 0; i < 2; i++) {
    const f = net.connect({ host, port });
    f.on("error", () => undefined);
    fillers.push(f);
    await new Promise((r) => f.once("connect", r));
  }
  return { port, close };
}

/**
 * A TCP endpoint that never completes a handshake, at no CPU cost (unlike {@link blackholeEndpoint}):
 * a listener (backlog 1) in a stopped child process, its accept queue filled, so further SYNs
 * are dropped and a connect stays pending.
 * @param host - The address to listen on.
 */
export async function unansweredEndpoint(host: string): Promise<{ port: number; close(): void }> {
  const within = <T>(promise: Promise<T>, ms: number, what: string): Promise<T> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  };
  const script = `const s=require('net').createServer().listen({port:0,host:'${host}',backlog:1},()=>console.log(s.address().port))`;
  const child = spawn(process.execPath, ["-e", script], { stdio: ["ignore", "pipe", "inherit"] });
  const fillers: net.Socket[] = [];
  const close = () => {
    child.kill("SIGKILL");
    for (const f of fillers) f.destroy();
  };
  try {
    const port = await within(
      new Promise<number>((resolve) => child.stdout.once("data", (d) => resolve(Number(String(d).trim())))),
      10_000,
      "the child's port",
    );
    // Stopped, it accepts nothing: the kernel queues backlog + 1 handshakes, then drops SYNs.
    child.kill("SIGSTOP");
    for (let i = 0; i < 2; i++) {
      const f = net.connect({ host, port });
      f.on("error", () => undefined);
      fillers.push(f);
      await within(new Promise((r) => f.once("connect", r)), 5000, "a filler's connect");
    }
    return { port, close };
  } catch (error) {
    close();
    throw error;
  }
}

/** A ClientHello record with this SNI (enough for the gateway; no real TLS behind it). */
export function syntheticHello(sni: string): Buffer {
  const name = Buffer.from(sni);
  const sniExt = Buffer.alloc(9 + name.length);
  sniExt.writeUInt16BE(0, 0);
  sniExt.writeUInt16BE(5 + name.length, 2);
  sniExt.writeUInt16BE(3 + name.length, 4);
  sniExt.writeUInt16BE(name.length, 7);
  name.copy(sniExt, 9);
  const body = Buffer.concat([
    Buffer.from([3, 3]),
    Buffer.alloc(32, 9),
    Buffer.from([0, 0, 2, 0x13, 0x01, 1, 0]),
    Buffer.from([0, sniExt.length]),
    sniExt,
  ]);
  const message = Buffer.concat([Buffer.from([1, 0, (body.length >> 8) & 0xff, body.length & 0xff]), body]);
  const record = Buffer.from([0x16, 3, 1, 0, 0]);
  record.writeUInt16BE(message.length, 3);
  return Buffer.concat([record, message]);
}

/** A TCP server on `host` for tests: `onSocket` sees each accepted socket; `close` destroys them all. */
export async function tcpServer(
  host: string,
  onSocket: (socket: net.Socket) => void,
  options: net.ServerOpts = {},
): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer(options, (socket) => {
    sockets.add(socket);
    socket.on("error", () => undefined);
    socket.on("close", () => sockets.delete(socket));
    onSocket(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
