/**
 * Benchmark client. Every connection sends the SNI name and verifies the backend certificate
 * (valid only for that name) against the test CA: a completed test proves the session went end
 * to end to the right backend. Prints one JSON line.
 *
 *   bulk     HOST PORT NAME CA BYTES SECS       one connection, client→server, Gbit/s
 *   connrate HOST PORT NAME CA WORKERS SECS     full handshake + 64 B echo + close, conn/s
 *   latency  HOST PORT NAME CA COUNT            sequential 64 B request/response on one connection
 *   hold     HOST PORT NAME CA COUNT            open COUNT connections, one 64 B echo each, print
 *                                               {"ready":true}, keep them until SIGTERM
 *   hellos   HOST PORT NAME CA COUNT WORKERS    no TLS: COUNT connections that each send one real
 *                                               ClientHello for NAME (captured from Node.js's TLS client
 *                                               once) and wait for one byte back, then close
 */
import { readFileSync } from "node:fs";
import net from "node:net";
import tls from "node:tls";

const ACK_EVERY = 16 * 1024 * 1024;
const [mode, host, portText, name, caFile, a, b] = process.argv.slice(2);
const port = Number(portText);
if (!/^127\./.test(host ?? "")) throw new Error("bench-client: loopback addresses only");
const context = tls.createSecureContext({ ca: readFileSync(caFile) });
const now = () => Number(process.hrtime.bigint()) / 1e9;
const out = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);

function connect(): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host, port, servername: name, secureContext: context, rejectUnauthorized: true }, () => {
      s.removeListener("error", reject);
      if (!s.authorized || s.isSessionReused()) {
        s.destroy();
        reject(new Error("not a verified full handshake"));
        return;
      }
      resolve(s);
    });
    s.setNoDelay(true);
    s.once("error", reject);
  });
}

async function bulk(total: number, seconds: number): Promise<void> {
  const s = await connect();
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  const wantAcks = Math.floor(total / ACK_EVERY);
  let acks = 0;
  let sent = 0;
  const started = now();
  const deadline = started + seconds;
  const done = new Promise<void>((resolve) => {
    s.on("data", (d: Buffer) => {
      acks += d.length;
      if (acks >= wantAcks) resolve();
    });
  });
  s.write("S");
  while (sent < wantAcks * ACK_EVERY && now() < deadline) {
    sent += chunk.length;
    if (!s.write(chunk)) await new Promise((r) => s.once("drain", r));
  }
  const acked = await Promise.race([
    done.then(() => true),
    new Promise<boolean>((r) => setTimeout(() => r(false), Math.max(0, (deadline - now()) * 1000) + 5000)),
  ]);
  const elapsed = now() - started;
  const bytes = Math.min(acks, wantAcks) * ACK_EVERY;
  s.destroy();
  out({ ok: acked || bytes > 0, bytes, seconds: elapsed, gbps: (bytes * 8) / elapsed / 1e9 });
}

async function connrate(workers: number, seconds: number): Promise<void> {
  const payload = Buffer.alloc(64, 0x62);
  let conns = 0;
  let errors = 0;
  const started = now();
  const deadline = started + seconds;
  const one = async () => {
    const s = await connect();
    s.write("E");
    s.write(payload);
    let got = 0;
    await new Promise<void>((resolve, reject) => {
      s.on("data", (d: Buffer) => {
        got += d.length;
        if (got >= 64) s.end();
      });
      s.on("close", () => (got >= 64 ? resolve() : reject(new Error("short echo"))));
      s.on("error", reject);
    });
  };
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (now() < deadline) {
        try {
          await one();
          conns++;
        } catch {
          errors++;
        }
      }
    }),
  );
  const elapsed = now() - started;
  out({ ok: errors === 0, conns, errors, seconds: elapsed, rate: conns / elapsed });
}

async function latency(count: number): Promise<void> {
  const s = await connect();
  const payload = Buffer.alloc(64, 0x63);
  s.write("E");
  const samples: number[] = [];
  let pending: (() => void) | undefined;
  let got = 0;
  s.on("data", (d: Buffer) => {
    got += d.length;
    if (got >= 64 && pending) {
      got -= 64;
      const p = pending;
      pending = undefined;
      p();
    }
  });
  for (let i = 0; i < count + 500; i++) {
    const t0 = process.hrtime.bigint();
    await new Promise<void>((resolve) => {
      pending = resolve;
      s.write(payload);
    });
    if (i >= 500) samples.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  s.destroy();
  samples.sort((x, y) => x - y);
  const q = (p: number) => samples[Math.min(samples.length - 1, Math.floor(p * samples.length))];
  out({
    ok: true,
    count: samples.length,
    p50us: q(0.5),
    p99us: q(0.99),
    meanUs: samples.reduce((x, y) => x + y, 0) / samples.length,
  });
}

async function hold(count: number): Promise<void> {
  const sockets: tls.TLSSocket[] = [];
  const payload = Buffer.alloc(64, 0x64);
  // A connection the proxy drops while held is counted, not a crash: the parent reads `lost`.
  let lost = 0;
  for (let i = 0; i < count; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, count - i) }, async () => {
        const s = await connect();
        s.write("E");
        s.write(payload);
        await new Promise<void>((resolve) => {
          let got = 0;
          s.on("data", (d: Buffer) => {
            got += d.length;
            if (got >= 64) resolve();
          });
        });
        s.on("error", () => undefined);
        s.on("close", () => lost++);
        sockets.push(s);
      }),
    );
  }
  out({ ready: true, open: sockets.length, lost });
  await new Promise<void>((resolve) => process.once("SIGTERM", () => resolve()));
  out({ lost });
  for (const s of sockets) s.destroy();
}

/** The ClientHello Node.js's TLS client sends for `name`, as bytes. */
function capturedHello(): Promise<Buffer> {
  return new Promise((resolve) => {
    const capture = net.createServer((socket) =>
      socket.once("data", (hello: Buffer) => {
        resolve(hello);
        socket.destroy();
        capture.close();
      }),
    );
    capture.listen(0, "127.0.0.1", () => {
      const { port: capturePort } = capture.address() as net.AddressInfo;
      tls
        .connect({ host: "127.0.0.1", port: capturePort, servername: name, secureContext: context })
        .on("error", () => undefined);
    });
  });
}

async function hellos(count: number, workers: number): Promise<void> {
  const hello = await capturedHello();
  const one = () =>
    new Promise<boolean>((resolve) => {
      const s = net.connect({ host, port, noDelay: true }, () => s.write(hello));
      let answered = false;
      s.once("data", () => {
        answered = true;
        s.end();
      });
      s.on("error", () => undefined);
      s.on("close", () => resolve(answered));
    });
  let started = 0;
  let errors = 0;
  const t0 = now();
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (started++ < count) if (!(await one())) errors++;
    }),
  );
  const elapsed = now() - t0;
  out({ ok: errors === 0, conns: count, errors, seconds: elapsed, rate: count / elapsed });
}

const run =
  mode === "hellos"
    ? hellos(Number(a), Number(b))
    : mode === "hold"
      ? hold(Number(a))
      : mode === "bulk"
        ? bulk(Number(a), Number(b))
        : mode === "connrate"
          ? connrate(Number(a), Number(b))
          : mode === "latency"
            ? latency(Number(a))
            : Promise.reject(new Error(`unknown mode ${mode}`));
run.then(
  () => process.exit(0),
  (e: Error) => {
    out({ ok: false, error: e.message });
    process.exit(1);
  },
);
