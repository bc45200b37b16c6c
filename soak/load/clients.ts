/**
 * Clients for the soak, in a process of their own: connections through the gateway that send a
 * ClientHello and check that what comes back is the backend's echo of every byte. Requests
 * (each answers with its counts once done, every wait bounded):
 *
 * - `hold {count}`: opens and keeps `count` connections, each proven end to end by an echo;
 * - `ping`: one echo over every held connection; `release`: closes them all;
 * - `churn {count}`: `count` connections opened, echoed and closed, `parallel` at a time;
 * - `refused {count, bytes}`: connections that send `bytes` and must be closed by the gateway
 *   without receiving anything;
 * - `startStreams {count, arrivalsPerSecond}` … `stopStreams`: long-lived streams echoing a
 *   chunk every 100 ms while new connections arrive at a steady rate.
 *
 * Forked by the soak with the gateway's address and the server name: `clients.ts HOST PORT SNI`.
 */
import net from "node:net";
import { syntheticHello } from "../../test/gateway/helpers";
import { serveRequests } from "../child";
import { SoakError } from "../soak-error";

const [host, portText, sni] = process.argv.slice(2);
const port = Number(portText);
const HELLO = syntheticHello(sni);
const OPERATION_MS = 15_000;
/** Client connections come from several loopback addresses, so churn never runs out of ports. */
const SOURCES = Array.from({ length: 8 }, (_, i) => `127.0.2.${i + 1}`);
let nextSource = 0;

/** Opens a connection, sends the hello and `payload`, and resolves once all of it has come back. */
function open(payload: Buffer): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({
      host,
      port,
      localAddress: SOURCES[nextSource++ % SOURCES.length],
      allowHalfOpen: true,
      noDelay: true,
    });
    const expected = HELLO.length + payload.length;
    let received = 0;
    const fail = (why: string) => {
      clearTimeout(timer);
      socket.destroy();
      reject(new SoakError("E_SOAK_CONNECTION", `${host}:${port}`, why));
    };
    const timer = setTimeout(() => fail("no echo in time"), OPERATION_MS);
    socket.on("error", (error: NodeJS.ErrnoException) => fail(error.code ?? error.message));
    socket.on("close", () => fail("closed"));
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received < expected) return;
      clearTimeout(timer);
      socket.removeListener("data", onData);
      socket.removeAllListeners("close");
      socket.removeAllListeners("error");
      socket.on("error", () => undefined);
      resolve(socket);
    };
    socket.on("data", onData);
    socket.on("connect", () => socket.write(Buffer.concat([HELLO, payload])));
  });
}

/** Writes `chunk` and resolves with whether exactly it came back in time. */
function echo(socket: net.Socket, chunk: Buffer): Promise<boolean> {
  return new Promise((resolve) => {
    let got = Buffer.alloc(0);
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.removeListener("data", onData);
      socket.removeListener("close", onClose);
      resolve(ok);
    };
    const onData = (data: Buffer) => {
      got = Buffer.concat([got, data]);
      if (got.length >= chunk.length) done(got.equals(chunk));
    };
    const onClose = () => done(false);
    const timer = setTimeout(() => done(false), OPERATION_MS);
    socket.on("data", onData);
    socket.on("close", onClose);
    socket.write(chunk);
  });
}

/** Half-closes and resolves once the other side has closed too (or after the time limit). */
function close(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => socket.destroy(), OPERATION_MS);
    socket.on("close", () => {
      clearTimeout(timer);
      resolve();
    });
    socket.on("end", () => socket.end());
    socket.resume();
    socket.end();
  });
}

/** Runs `task` `count` times, `parallel` at a time; resolves with how many succeeded. */
async function pool(count: number, parallel: number, task: (i: number) => Promise<boolean>): Promise<number> {
  let next = 0;
  let ok = 0;
  await Promise.all(
    Array.from({ length: Math.min(parallel, count) }, async () => {
      while (next < count) if (await task(next++)) ok++;
    }),
  );
  return ok;
}

const held: net.Socket[] = [];
const PING = Buffer.from("ping");

async function hold(count: number, parallel: number) {
  const started = Date.now();
  const established = await pool(count, parallel, async () => {
    try {
      held.push(await open(PING));
      return true;
    } catch {
      return false;
    }
  });
  return { established, failed: count - established, ms: Date.now() - started };
}

async function pingAll() {
  const started = Date.now();
  const results = await Promise.all(held.map((socket) => echo(socket, Buffer.from("x"))));
  const alive = results.filter(Boolean).length;
  return { alive, dead: held.length - alive, ms: Date.now() - started };
}

async function release() {
  const started = Date.now();
  const count = held.length;
  await Promise.all(held.splice(0).map(close));
  return { closed: count, ms: Date.now() - started };
}

async function churn(count: number, parallel: number) {
  const started = Date.now();
  const ok = await pool(count, parallel, async () => {
    try {
      const socket = await open(PING);
      await close(socket);
      return true;
    } catch {
      return false;
    }
  });
  return { ok, failed: count - ok, ms: Date.now() - started };
}

/** One connection the gateway must refuse: the time until it closed, and the bytes it received. */
function refusedOne(bytes: Buffer): Promise<{ ms: number; received: number; closed: boolean }> {
  return new Promise((resolve) => {
    const started = performance.now();
    let received = 0;
    const socket = net.connect({ host, port, localAddress: SOURCES[nextSource++ % SOURCES.length] });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ ms: performance.now() - started, received, closed: false });
    }, OPERATION_MS);
    socket.on("error", () => undefined);
    socket.on("data", (chunk: Buffer) => (received += chunk.length));
    socket.on("connect", () => {
      if (bytes.length > 0) socket.write(bytes);
    });
    socket.on("close", () => {
      clearTimeout(timer);
      resolve({ ms: performance.now() - started, received, closed: true });
    });
  });
}

async function refused(count: number, parallel: number, bytes: Buffer) {
  const times: number[] = [];
  let received = 0;
  let stillOpen = 0;
  await pool(count, parallel, async () => {
    const result = await refusedOne(bytes);
    times.push(result.ms);
    received += result.received;
    if (!result.closed) stillOpen++;
    return result.closed;
  });
  times.sort((a, b) => a - b);
  return { count, stillOpen, received, medianMs: times[Math.floor(times.length / 2)] ?? 0, maxMs: times.at(-1) ?? 0 };
}

/** Streams and arrivals running until `stopStreams`. */
const streaming = {
  running: false,
  streams: 0,
  broken: 0,
  echoes: 0,
  arrivals: 0,
  arrivalFailures: 0,
  done: [] as Promise<void>[],
};

async function startStreams(count: number, arrivalsPerSecond: number) {
  Object.assign(streaming, {
    running: true,
    streams: 0,
    broken: 0,
    echoes: 0,
    arrivals: 0,
    arrivalFailures: 0,
    done: [],
  });
  const sockets = await Promise.all(Array.from({ length: count }, () => open(PING).catch(() => undefined)));
  streaming.broken += sockets.filter((s) => s === undefined).length;
  for (const [i, socket] of sockets.entries()) {
    if (!socket) continue;
    streaming.streams++;
    streaming.done.push(
      (async () => {
        for (let n = 0; streaming.running; n++) {
          if (!(await echo(socket, Buffer.from(`stream ${i} chunk ${n}\n`)))) {
            streaming.broken++;
            return;
          }
          streaming.echoes++;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        await close(socket);
      })(),
    );
  }
  streaming.done.push(
    (async () => {
      const arrivals: Promise<void>[] = [];
      while (streaming.running) {
        streaming.arrivals++;
        arrivals.push(
          open(PING)
            .then(close)
            .catch(() => void streaming.arrivalFailures++),
        );
        await new Promise((resolve) => setTimeout(resolve, 1000 / arrivalsPerSecond));
      }
      await Promise.all(arrivals);
    })(),
  );
  return { streams: streaming.streams, broken: streaming.broken };
}

async function stopStreams() {
  streaming.running = false;
  await Promise.all(streaming.done);
  const { streams, broken, echoes, arrivals, arrivalFailures } = streaming;
  return { streams, broken, echoes, arrivals, arrivalFailures };
}

serveRequests(async (request) => {
  const count = Number(request.count ?? 0);
  const parallel = Number(request.parallel ?? 200);
  switch (request.type) {
    case "hold":
      return hold(count, parallel);
    case "ping":
      return pingAll();
    case "release":
      return release();
    case "churn":
      return churn(count, parallel);
    case "refused":
      return refused(count, parallel, Buffer.from(String(request.bytes ?? ""), "base64"));
    case "startStreams":
      return startStreams(count, Number(request.arrivalsPerSecond ?? 20));
    case "stopStreams":
      return stopStreams();
    default:
      throw new SoakError("E_SOAK_HELPER", "clients", `unknown request ${request.type}`);
  }
});
