import { createHash, randomBytes } from "node:crypto";
import net from "node:net";
import { BufferPool, eofReceived, Pump, readBufferModeAvailable, useReadBuffer } from "../../gateway/net/pump";
import { waitFor } from "./helpers";

/** A connected socket pair on loopback; `reader` is created with the pump's onread. */
async function pumpedPair(pump: Pump): Promise<{ writer: net.Socket; reader: net.Socket; close(): void }> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const accepted = new Promise<net.Socket>((resolve) => server.once("connection", resolve));
  const reader = net.connect({
    host: "127.0.0.1",
    port: (server.address() as net.AddressInfo).port,
    onread: { buffer: pump.nextBuffer, callback: pump.onRead },
  });
  pump.source = reader;
  const writer = await accepted;
  return {
    writer,
    reader,
    close: () => {
      writer.destroy();
      reader.destroy();
      server.close();
    },
  };
}

/** A destination socket pair: what the pump writes to `into` arrives at `out`. */
async function destination(): Promise<{ into: net.Socket; out: net.Socket; close(): void }> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const accepted = new Promise<net.Socket>((resolve) => server.once("connection", resolve));
  const into = net.connect({ host: "127.0.0.1", port: (server.address() as net.AddressInfo).port });
  await new Promise((r) => into.once("connect", r));
  const out = await accepted;
  return { into, out, close: () => (into.destroy(), out.destroy(), server.close()) };
}

test("a pump carries bytes exactly, moves to large buffers for bulk and back to small ones when idle, and reuses them", async () => {
  const pool = new BufferPool(32 * 1024, 4096);
  const dest = await destination();
  let counted = 0;
  const pump = new Pump(dest.into, pool, (n) => (counted += n));
  const pair = await pumpedPair(pump);
  try {
    expect(pump.nextBuffer().length).toBe(4096);
    const payload = randomBytes(8 * 1024 * 1024);
    const hash = createHash("sha256");
    let received = 0;
    const sizes = new Set<number>();
    let digest = "";
    dest.out.on("data", (d: Buffer) => {
      if (received < payload.length) {
        hash.update(d);
        if (received + d.length === payload.length) digest = hash.digest("hex");
      }
      received += d.length;
      sizes.add(pump.nextBuffer().length);
    });
    // The destination reads late: writes queue, the pump stops reading, then catches up.
    dest.out.pause();
    pair.writer.write(payload);
    await new Promise((r) => setTimeout(r, 200));
    dest.out.resume();
    await waitFor(() => received === payload.length, 10_000, "bulk delivered");
    expect(digest).toBe(createHash("sha256").update(payload).digest("hex"));
    expect(counted).toBe(payload.length);
    expect(sizes.has(32 * 1024)).toBe(true);
    // A small message afterwards: back to a small buffer.
    pair.writer.write("ping");
    await waitFor(() => received === payload.length + 4, 5000, "small message");
    expect(pump.nextBuffer().length).toBe(4096);
  } finally {
    pair.close();
    dest.close();
    pump.dispose();
  }
  // Disposed: its buffers are back in the pool and come out again.
  const again = new Set([pool.acquire(false), pool.acquire(true)].map((b) => b.length));
  expect(again).toEqual(new Set([4096, 32 * 1024]));
});

test("an accepted socket switched to the pump's buffers (useReadBuffer) carries bytes exactly; twice is refused", async () => {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const accepted = new Promise<net.Socket>((resolve) => server.once("connection", resolve));
  const writer = net.connect({ host: "127.0.0.1", port: (server.address() as net.AddressInfo).port });
  const socket = await accepted;
  const dest = await destination();
  const pump = new Pump(dest.into, new BufferPool(32 * 1024), () => undefined);
  pump.source = socket;
  try {
    expect(readBufferModeAvailable()).toBe(true);
    expect(useReadBuffer(socket, pump)).toBe(true);
    expect(useReadBuffer(socket, pump)).toBe(false);
    const payload = randomBytes(1024 * 1024);
    const chunks: Buffer[] = [];
    dest.out.on("data", (d: Buffer) => chunks.push(d));
    writer.write(payload);
    await waitFor(() => Buffer.concat(chunks).length === payload.length, 5000, "payload through the pump");
    expect(Buffer.concat(chunks).equals(payload)).toBe(true);
  } finally {
    writer.destroy();
    socket.destroy();
    dest.close();
    server.close();
  }
});

test("eofReceived: false while the peer is open, true once its FIN is in (before 'end' is read)", async () => {
  const server = net.createServer({ allowHalfOpen: true });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const accepted = new Promise<net.Socket>((resolve) => server.once("connection", resolve));
  const writer = net.connect({ host: "127.0.0.1", port: (server.address() as net.AddressInfo).port });
  const socket = await accepted;
  try {
    socket.pause();
    expect(eofReceived(socket)).toBe(false);
    writer.end("last words");
    await waitFor(() => eofReceived(socket), 5000, "FIN received");
    expect(socket.readableEnded).toBe(false);
  } finally {
    writer.destroy();
    socket.destroy();
    server.close();
  }
});
