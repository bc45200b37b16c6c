import fc from "fast-check";
import tls from "node:tls";
import { ClientHelloReader, HelloResult, MAX_RECORD_LENGTH } from "../../gateway/net/client-hello";
import { captureHello, opensslClient } from "./helpers";

const TD = "5fcd4b81-a2ca-405a-ac62-0fac602c1949.consul";

/** Builds a ClientHello handshake message (header included) by RFC 8446 §4.1.2. */
function helloMessage(
  options: {
    sni?: string;
    extraExtensionBytes?: number;
    ciphers?: number;
    sessionId?: number;
    extensions?: Buffer[];
  } = {},
): Buffer {
  const parts: Buffer[] = [];
  parts.push(Buffer.from([0x03, 0x03]), Buffer.alloc(32, 7));
  const sid = options.sessionId ?? 32;
  parts.push(Buffer.from([sid]), Buffer.alloc(sid, 1));
  const ciphers = options.ciphers ?? 3;
  const cs = Buffer.alloc(2 + ciphers * 2);
  cs.writeUInt16BE(ciphers * 2, 0);
  for (let i = 0; i < ciphers; i++) cs.writeUInt16BE(0x1301 + i, 2 + i * 2);
  parts.push(cs, Buffer.from([1, 0]));
  const extensions: Buffer[] = [...(options.extensions ?? [])];
  if (options.sni !== undefined) {
    const name = Buffer.from(options.sni, "latin1");
    const ext = Buffer.alloc(4 + 2 + 3 + name.length);
    ext.writeUInt16BE(0, 0);
    ext.writeUInt16BE(2 + 3 + name.length, 2);
    ext.writeUInt16BE(3 + name.length, 4);
    ext[6] = 0;
    ext.writeUInt16BE(name.length, 7);
    name.copy(ext, 9);
    extensions.push(ext);
  }
  if (options.extraExtensionBytes) {
    const pad = Buffer.alloc(4 + options.extraExtensionBytes);
    pad.writeUInt16BE(21, 0); // padding extension
    pad.writeUInt16BE(options.extraExtensionBytes, 2);
    extensions.push(pad);
  }
  const ext = Buffer.concat(extensions);
  const extLen = Buffer.alloc(2);
  extLen.writeUInt16BE(ext.length, 0);
  parts.push(extLen, ext);
  const body = Buffer.concat(parts);
  const header = Buffer.from([1, 0, 0, 0]);
  header.writeUIntBE(body.length, 1, 3);
  return Buffer.concat([header, body]);
}

/** Frames a handshake message into TLS records of the given payload sizes (the last takes the rest). */
function frame(message: Buffer, sizes: number[] = []): Buffer {
  const records: Buffer[] = [];
  let p = 0;
  let i = 0;
  while (p < message.length) {
    const size = Math.min(
      message.length - p,
      Math.max(1, Math.min(MAX_RECORD_LENGTH, sizes[i++] ?? MAX_RECORD_LENGTH)),
    );
    const header = Buffer.from([0x16, 0x03, 0x01, 0, 0]);
    header.writeUInt16BE(size, 3);
    records.push(header, message.subarray(p, p + size));
    p += size;
  }
  return Buffer.concat(records);
}

/** The handshake message inside a captured hello (its records' payloads joined). */
function unframe(bytes: Buffer): Buffer {
  const payloads: Buffer[] = [];
  let p = 0;
  while (p + 5 <= bytes.length) {
    const len = bytes.readUInt16BE(p + 3);
    payloads.push(bytes.subarray(p + 5, p + 5 + len));
    p += 5 + len;
  }
  return Buffer.concat(payloads);
}

function readAll(chunks: Buffer[]): HelloResult {
  const reader = new ClientHelloReader();
  let result: HelloResult = { status: "need-more" };
  for (const c of chunks) result = reader.push(c);
  return result;
}

function recordCount(bytes: Buffer): number {
  let p = 0;
  let n = 0;
  while (p + 5 <= bytes.length) {
    n++;
    p += 5 + bytes.readUInt16BE(p + 3);
  }
  return n;
}

describe("ClientHelloReader: synthetic hellos", () => {
  const name = `web.default.dc1.internal.${TD}`;

  test("reads the SNI of a one-record hello in one chunk, lower-cased", () => {
    expect(readAll([frame(helloMessage({ sni: name.toUpperCase() }))])).toEqual({ status: "done", sni: name });
  });

  test("needs more until the record is complete, then answers", () => {
    const bytes = frame(helloMessage({ sni: name }));
    const reader = new ClientHelloReader();
    expect(reader.push(bytes.subarray(0, 3))).toEqual({ status: "need-more" });
    expect(reader.push(bytes.subarray(3, bytes.length - 1))).toEqual({ status: "need-more" });
    expect(reader.push(bytes.subarray(bytes.length - 1))).toEqual({ status: "done", sni: name });
    expect(reader.bytes.equals(bytes)).toBe(true);
  });

  test("keeps every byte received, including bytes after the hello", () => {
    const bytes = Buffer.concat([frame(helloMessage({ sni: name })), Buffer.from("early data")]);
    const reader = new ClientHelloReader();
    reader.push(bytes.subarray(0, 10));
    expect(reader.push(bytes.subarray(10))).toEqual({ status: "done", sni: name });
    expect(reader.bytes.equals(bytes)).toBe(true);
  });

  test("a first chunk far larger than the cap, holding a hello and data, is accepted whole", () => {
    const bytes = Buffer.concat([frame(helloMessage({ sni: name })), Buffer.alloc(60_000, 0x17)]);
    const reader = new ClientHelloReader();
    expect(reader.push(bytes)).toEqual({ status: "done", sni: name });
    expect(reader.bytes.equals(bytes)).toBe(true);
  });

  test("a hello spread over many records", () => {
    const bytes = frame(helloMessage({ sni: name, extraExtensionBytes: 2000 }), Array(40).fill(50));
    expect(recordCount(bytes)).toBeGreaterThan(40);
    expect(readAll([bytes])).toEqual({ status: "done", sni: name });
  });

  test.each([
    ["an HTTP request", "not-tls", Buffer.from("GET / HTTP/1.1\r\nHost: x\r\n\r\n")],
    ["SSLv2-style hello", "not-tls", Buffer.from([0x80, 0x2e, 0x01, 0x03, 0x01])],
    ["alert record", "not-tls", Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28])],
    ["wrong major version", "not-tls", Buffer.from([0x16, 0x02, 0x00, 0x00, 0x10])],
    ["ServerHello", "not-client-hello", Buffer.from([0x16, 0x03, 0x03, 0x00, 0x04, 0x02, 0x00, 0x00, 0x00])],
    ["empty record", "malformed", Buffer.from([0x16, 0x03, 0x01, 0x00, 0x00])],
    ["record over 2^14", "malformed", Buffer.from([0x16, 0x03, 0x01, 0x40, 0x01])],
    ["message over the cap", "too-large", Buffer.from([0x16, 0x03, 0x01, 0x00, 0x04, 0x01, 0x01, 0x00, 0x00])],
  ] as const)("refuses %s as %s", (_what, reason, bytes) => {
    expect(readAll([bytes])).toEqual({ status: "error", reason });
  });

  test("refuses a hello without server_name as no-sni", () => {
    expect(readAll([frame(helloMessage({}))])).toEqual({ status: "error", reason: "no-sni" });
  });

  test("refuses a hello whose extensions overrun as malformed", () => {
    const message = helloMessage({ sni: name });
    message.writeUInt16BE(
      message.readUInt16BE(message.length - (name.length + 9) - 2) + 5,
      message.length - (name.length + 9) - 2,
    );
    expect(readAll([frame(message)])).toEqual({ status: "error", reason: "malformed" });
  });

  test("refuses duplicate server_name extensions and non-host-name characters", () => {
    const one = helloMessage({ sni: name });
    const ext = one.subarray(one.length - (name.length + 9));
    expect(readAll([frame(helloMessage({ sni: name, extensions: [Buffer.from(ext)] }))])).toEqual({
      status: "error",
      reason: "malformed",
    });
    expect(readAll([frame(helloMessage({ sni: "web\u0000.evil" }))])).toEqual({ status: "error", reason: "malformed" });
  });

  /** A server_name extension holding these (type, name bytes) entries; `listDelta` skews the list length. */
  function serverNameExtension(entries: Array<[number, Buffer]>, listDelta = 0): Buffer {
    const list = Buffer.concat(
      entries.map(([type, bytes]) =>
        Buffer.concat([Buffer.from([type, bytes.length >> 8, bytes.length & 0xff]), bytes]),
      ),
    );
    const ext = Buffer.alloc(6);
    ext.writeUInt16BE(0, 0);
    ext.writeUInt16BE(list.length + 2, 2);
    ext.writeUInt16BE(list.length + listDelta, 4);
    return Buffer.concat([ext, list]);
  }
  const withExtension = (ext: Buffer) => readAll([frame(helloMessage({ extensions: [ext] }))]);

  test.each([
    [
      "two host names in one list",
      serverNameExtension([
        [0, Buffer.from(name)],
        [0, Buffer.from(`api.default.dc2.internal.${TD}`)],
      ]),
    ],
    ["an empty host name", serverNameExtension([[0, Buffer.alloc(0)]])],
    ["a 256-byte host name", serverNameExtension([[0, Buffer.alloc(256, 0x61)]])],
    [
      "a UTF-8 (non-punycode) host name",
      serverNameExtension([[0, Buffer.from(`wéb.default.dc1.internal.${TD}`, "utf8")]]),
    ],
    ["a latin1 byte that lower-cases into ASCII range", serverNameExtension([[0, Buffer.from([0xc9, 0x2e, 0x61])]])],
    ["a space", serverNameExtension([[0, Buffer.from(`web .default.dc1.internal.${TD}`)]])],
    [
      "a NUL then a valid name",
      serverNameExtension([[0, Buffer.concat([Buffer.from(name), Buffer.from([0]), Buffer.from("x.example")])]]),
    ],
    ["a list length one short", serverNameExtension([[0, Buffer.from(name)]], -1)],
    ["a list length one long", serverNameExtension([[0, Buffer.from(name)]], 1)],
  ])("server_name with %s is malformed", (_what, ext) => {
    expect(withExtension(ext)).toEqual({ status: "error", reason: "malformed" });
  });

  test("a server_name list with only another name type has no SNI; one beside a host name is ignored", () => {
    expect(withExtension(serverNameExtension([[1, Buffer.from("opaque")]]))).toEqual({
      status: "error",
      reason: "no-sni",
    });
    expect(
      withExtension(
        serverNameExtension([
          [1, Buffer.from("other.example")],
          [0, Buffer.from(name)],
        ]),
      ),
    ).toEqual({ status: "done", sni: name });
  });

  test("an alert or change_cipher_spec record in the middle of a hello is malformed", () => {
    for (const type of [0x15, 0x14]) {
      const bytes = frame(helloMessage({ sni: name }), [20]);
      bytes[5 + 20] = type;
      expect(readAll([bytes])).toEqual({ status: "error", reason: "malformed" });
    }
  });

  test("a non-handshake record in the middle of a hello is malformed", () => {
    const bytes = frame(helloMessage({ sni: name }), [20]);
    bytes[5 + 20] = 0x17;
    expect(readAll([bytes])).toEqual({ status: "error", reason: "malformed" });
  });

  test("caps buffered bytes: a hello trickled in one-byte records is refused as too-large", () => {
    const bytes = frame(helloMessage({ sni: name, extraExtensionBytes: 4000 }), Array(5000).fill(1));
    const reader = new ClientHelloReader();
    let result: HelloResult = { status: "need-more" };
    for (let p = 0; p < bytes.length && result.status === "need-more"; p += 1000)
      result = reader.push(bytes.subarray(p, p + 1000));
    expect(result).toEqual({ status: "error", reason: "too-large" });
    expect(reader.bytes.length).toBeLessThanOrEqual(16384 + 4 + 1024 + 1000);
  });

  test("a hello of exactly the cap is accepted; one byte more is too-large", () => {
    const base = helloMessage({ sni: name }).length;
    const atCap = helloMessage({ sni: name, extraExtensionBytes: 16388 - base - 4 });
    expect(atCap.length).toBe(16388);
    expect(readAll([frame(atCap, [16384, 100])])).toEqual({ status: "done", sni: name });
    const over = helloMessage({ sni: name, extraExtensionBytes: 16388 - base - 3 });
    expect(readAll([frame(over, [16384, 100])])).toEqual({ status: "error", reason: "too-large" });
  });

  test("after the answer, further pushes repeat it", () => {
    const reader = new ClientHelloReader();
    reader.push(Buffer.from("GET /"));
    expect(reader.push(frame(helloMessage({ sni: name })))).toEqual({ status: "error", reason: "not-tls" });
  });
});

describe("ClientHelloReader: properties", () => {
  const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,14}[a-z0-9])?$/);
  const sniName = fc.array(label, { minLength: 1, maxLength: 6 }).map((labels) => labels.join("."));
  const hello = fc.record({
    sni: sniName,
    extraExtensionBytes: fc.integer({ min: 0, max: 3000 }),
    ciphers: fc.integer({ min: 1, max: 60 }),
    sessionId: fc.integer({ min: 0, max: 32 }),
  });

  test("random bytes never throw, in any chunking", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 600 }), { maxLength: 8 }), (chunks) => {
        const reader = new ClientHelloReader();
        for (const c of chunks) {
          const r = reader.push(c);
          expect(["need-more", "done", "error"]).toContain(r.status);
        }
      }),
      { numRuns: 2000 },
    );
  });

  test("bytes behind a plausible TLS header never throw", () => {
    const header = fc.tuple(fc.integer({ min: 0, max: 0x4100 }), fc.integer({ min: 0, max: 0xffffff }));
    fc.assert(
      fc.property(
        header,
        fc.uint8Array({ maxLength: 3000 }),
        fc.integer({ min: 1, max: 500 }),
        ([recordLength, messageLength], rest, step) => {
          const head = Buffer.from([0x16, 0x03, 0x01, 0, 0, 0x01, 0, 0, 0]);
          head.writeUInt16BE(recordLength, 3);
          head.writeUIntBE(messageLength, 6, 3);
          const bytes = Buffer.concat([head, rest]);
          const reader = new ClientHelloReader();
          for (let p = 0; p < bytes.length; p += step) reader.push(bytes.subarray(p, p + step));
        },
      ),
      { numRuns: 2000 },
    );
  });

  test("a mutated valid hello never throws", () => {
    fc.assert(
      fc.property(
        hello,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
        fc.nat(),
        (h, flips, cut) => {
          const bytes = Buffer.from(frame(helloMessage(h)));
          for (const [at, value] of flips) bytes[at % bytes.length] = value;
          new ClientHelloReader().push(bytes.subarray(0, cut % (bytes.length + 1)));
          new ClientHelloReader().push(bytes);
        },
      ),
      { numRuns: 1000 },
    );
  });

  test("a valid hello split at every byte gives the same name", () => {
    fc.assert(
      fc.property(hello, (h) => {
        const bytes = frame(helloMessage(h));
        for (let i = 0; i <= bytes.length; i++) {
          expect(readAll([bytes.subarray(0, i), bytes.subarray(i)])).toEqual({ status: "done", sni: h.sni });
        }
      }),
      { numRuns: 12 },
    );
  });

  test("a valid hello re-framed into several records, in random chunks, gives the same name", () => {
    fc.assert(
      fc.property(
        hello,
        fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 12 }),
        fc.array(fc.integer({ min: 1, max: 400 }), { minLength: 1, maxLength: 20 }),
        (h, recordSizes, chunkSizes) => {
          const bytes = frame(helloMessage(h), recordSizes);
          const chunks: Buffer[] = [];
          for (let p = 0, i = 0; p < bytes.length; i++) {
            const size = chunkSizes[i % chunkSizes.length];
            chunks.push(bytes.subarray(p, p + size));
            p += size;
          }
          expect(readAll(chunks)).toEqual({ status: "done", sni: h.sni });
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe("ClientHelloReader: hellos captured from real clients", () => {
  const name = `api.default.dc2.internal.${TD}`;
  const quiet = (s: tls.TLSSocket) => s.on("error", () => undefined);

  async function expectEveryWay(bytes: Buffer, sni: string): Promise<void> {
    expect(readAll([bytes])).toEqual({ status: "done", sni });
    for (let i = 0; i <= bytes.length; i++)
      expect(readAll([bytes.subarray(0, i), bytes.subarray(i)])).toEqual({ status: "done", sni });
    expect(readAll([...bytes].map((b) => Buffer.from([b])))).toEqual({ status: "done", sni });
    // The same message re-framed into 100-byte records.
    expect(readAll([frame(unframe(bytes), Array(100).fill(100))])).toEqual({ status: "done", sni });
  }

  test("Node tls.connect (TLS 1.3)", async () => {
    const bytes = await captureHello((port) => quiet(tls.connect({ port, host: "127.0.0.1", servername: name })));
    await expectEveryWay(bytes, name);
  });

  test("Node tls.connect limited to TLS 1.2", async () => {
    const bytes = await captureHello((port) =>
      quiet(tls.connect({ port, host: "127.0.0.1", servername: name, maxVersion: "TLSv1.2" })),
    );
    await expectEveryWay(bytes, name);
  });

  test("a ~2 KB hello (long ALPN list), as post-quantum key shares make them", async () => {
    const ALPNProtocols = Array.from({ length: 90 }, (_, i) => `mesh-protocol-${String(i).padStart(3, "0")}`);
    const bytes = await captureHello((port) =>
      quiet(tls.connect({ port, host: "127.0.0.1", servername: name, ALPNProtocols })),
    );
    expect(bytes.length).toBeGreaterThan(1800);
    await expectEveryWay(bytes, name);
  });

  test("Node tls.connect without SNI (IP address, no servername) is no-sni", async () => {
    const bytes = await captureHello((port) => quiet(tls.connect({ port, host: "127.0.0.1" })));
    expect(readAll([bytes])).toEqual({ status: "error", reason: "no-sni" });
  });

  test("openssl s_client", async () => {
    const bytes = await captureHello((port) => opensslClient(port, ["-servername", name]));
    await expectEveryWay(bytes, name);
  });

  test("openssl s_client sending its ~1.5 KB hello in 512-byte records", async () => {
    const alpn = Array.from({ length: 60 }, (_, i) => `protocol-number-${i}`).join(",");
    const bytes = await captureHello((port) =>
      opensslClient(port, ["-servername", name, "-alpn", alpn, "-max_send_frag", "512"]),
    );
    expect(recordCount(bytes)).toBeGreaterThanOrEqual(3);
    await expectEveryWay(bytes, name);
  });

  test("openssl s_client -noservername is no-sni", async () => {
    const bytes = await captureHello((port) => opensslClient(port, ["-noservername"]));
    expect(readAll([bytes])).toEqual({ status: "error", reason: "no-sni" });
  });
});
