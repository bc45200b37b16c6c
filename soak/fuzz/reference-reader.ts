/**
 * A second ClientHello reader, the fuzzer's model of what the gateway's must answer: written
 * apart from it and differently (whole input at once, a bounds-checked cursor that throws), so
 * that a bug in the incremental reader's buffering or offsets shows up as a disagreement. It
 * tells apart only "need more", "refused" and the name, not the reasons.
 */
import { DEFAULT_MAX_HELLO_LENGTH, MAX_RECORD_LENGTH } from "../../gateway/net/client-hello";

/** The model's answer for an input. */
export type ModelAnswer = { status: "need-more" } | { status: "refused" } | { status: "done"; sni: string };

const NEED_MORE: ModelAnswer = { status: "need-more" };
const REFUSED: ModelAnswer = { status: "refused" };
const HOST_NAME = /^[A-Za-z0-9._-]+$/;

/** Thrown by {@link Cursor} on any read past its end. */
class Overrun extends Error {}

/** Reads big-endian integers and length-prefixed vectors from a slice, never past its end. */
class Cursor {
  constructor(
    private readonly bytes: Buffer,
    private at = 0,
    private readonly end = bytes.length,
  ) {}

  get atEnd(): boolean {
    return this.at === this.end;
  }

  skip(n: number): void {
    if (this.at + n > this.end) throw new Overrun();
    this.at += n;
  }

  int(width: 1 | 2): number {
    this.skip(width);
    return width === 1 ? this.bytes[this.at - 1] : this.bytes.readUInt16BE(this.at - 2);
  }

  /** A vector with a `width`-byte length prefix, as a cursor of its own. */
  vector(width: 1 | 2): Cursor {
    const length = this.int(width);
    this.skip(length);
    return new Cursor(this.bytes, this.at - length, this.at);
  }

  get remaining(): number {
    return this.end - this.at;
  }

  text(): string {
    return this.bytes.toString("latin1", this.at, this.end);
  }
}

/**
 * What a ClientHello reader must answer once it has received `input`, in one piece.
 * @param input every byte received.
 * @param maxHelloLength largest handshake message accepted. Default: the gateway's default.
 * @param maxBufferedBytes most bytes held without a complete hello. Default: `maxHelloLength + 1024`.
 */
export function modelAnswer(
  input: Buffer,
  maxHelloLength = DEFAULT_MAX_HELLO_LENGTH,
  maxBufferedBytes = maxHelloLength + 1024,
): ModelAnswer {
  const payloads: Buffer[] = [];
  let received = 0;
  let size = 0; // of the whole message, once its header is in
  for (let p = 0; p < input.length;) {
    if (input[p] !== 0x16) return REFUSED; // a handshake record, nothing else
    if (p + 1 < input.length && input[p + 1] !== 3) return REFUSED;
    if (p + 5 > input.length) break;
    const length = input.readUInt16BE(p + 3);
    if (length === 0 || length > MAX_RECORD_LENGTH) return REFUSED;
    if (payloads.length === 0 && p + 5 < input.length && input[p + 5] !== 1) return REFUSED; // not a ClientHello
    if (p + 5 + length > input.length) break;
    payloads.push(input.subarray(p + 5, p + 5 + length));
    p += 5 + length;
    received += length;
    if (size === 0 && received >= 4) size = 4 + Buffer.concat(payloads).readUIntBE(1, 3);
    if (size > maxHelloLength) return REFUSED;
    if (size > 0 && received >= size) return helloName(Buffer.concat(payloads).subarray(4, size));
  }
  return input.length > maxBufferedBytes ? REFUSED : NEED_MORE;
}

/** The server name of a complete ClientHello body, or refused. */
function helloName(body: Buffer): ModelAnswer {
  try {
    const hello = new Cursor(body);
    hello.skip(2 + 32); // legacy_version, random
    const sessionId = hello.vector(1);
    if (sessionId.remaining > 32) return REFUSED;
    const cipherSuites = hello.vector(2).remaining;
    if (cipherSuites < 2 || cipherSuites % 2 === 1) return REFUSED;
    if (hello.vector(1).atEnd) return REFUSED; // compression methods: at least one
    if (hello.atEnd) return REFUSED; // no extensions, so no server name
    const extensions = hello.vector(2);
    if (!hello.atEnd) return REFUSED;
    const seen = new Set<number>();
    let name: string | undefined;
    while (!extensions.atEnd) {
      const type = extensions.int(2);
      const data = extensions.vector(2);
      if (seen.has(type)) return REFUSED;
      seen.add(type);
      if (type === 0) name = serverName(data);
    }
    return name === undefined ? REFUSED : { status: "done", sni: name };
  } catch (error) {
    if (error instanceof Overrun || error instanceof Malformed) return REFUSED;
    throw error;
  }
}

/** Thrown for a server_name extension that breaks RFC 6066. */
class Malformed extends Error {}

/** The host_name of a server_name extension (RFC 6066 §3), `undefined` when it has none. */
function serverName(data: Cursor): string | undefined {
  if (data.atEnd) return undefined; // an empty extension, as servers echo it
  const list = data.vector(2);
  if (!data.atEnd) throw new Malformed();
  let name: string | undefined;
  while (!list.atEnd) {
    const type = list.int(1);
    const entry = list.vector(2);
    if (type !== 0) continue;
    const text = entry.text();
    if (name !== undefined || text.length === 0 || text.length > 255 || !HOST_NAME.test(text)) throw new Malformed();
    name = text.toLowerCase();
  }
  return name;
}
