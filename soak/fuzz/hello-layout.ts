/**
 * The layout of a well-formed ClientHello (RFC 8446 §4.1.2, RFC 6066 §3), for structural
 * mutations: where its length fields and extensions are, and how to rebuild one with other
 * extensions or other records. Only ever given valid hellos (the seeds), so it may assume them.
 */

/** TLS caps a record's payload at 2^14 bytes. */
const MAX_RECORD = 16384;
const EXTENSION_SERVER_NAME = 0;

/** A length field of a handshake message: its offset and width in bytes. */
export interface LengthField {
  /** What the field measures, e.g. `"extensions"`. */
  name: string;
  /** Offset in the message. */
  at: number;
  /** Width: 1, 2 or 3 bytes. */
  width: 1 | 2 | 3;
}

/** One extension of a ClientHello, as bytes of the message. */
export interface Extension {
  /** Its type. */
  type: number;
  /** Its offset in the message (type field first). */
  at: number;
  /** Its whole encoding: type, length, data. */
  bytes: Buffer;
}

/** A ClientHello message split into its parts. */
export interface HelloLayout {
  /** The whole handshake message, header included. */
  message: Buffer;
  /** Offset of the extensions' 2-byte total length. */
  extensionsAt: number;
  /** The extensions, in order. */
  extensions: Extension[];
  /** Every length field, in order of appearance. */
  lengthFields: LengthField[];
}

/**
 * The handshake message of a framed hello (its records' payloads joined) and the payload size
 * of each record.
 * @param framed TLS records holding one ClientHello.
 */
export function unframe(framed: Buffer): { message: Buffer; recordSizes: number[] } {
  const payloads: Buffer[] = [];
  for (let p = 0; p + 5 <= framed.length;) {
    const length = framed.readUInt16BE(p + 3);
    payloads.push(framed.subarray(p + 5, p + 5 + length));
    p += 5 + length;
  }
  return { message: Buffer.concat(payloads), recordSizes: payloads.map((b) => b.length) };
}

/**
 * Frames a handshake message into handshake records (version 3.1, as clients send).
 * @param message the handshake message.
 * @param sizes payload size of each record; the last record takes what is left. Default: as few records as possible.
 */
export function frame(message: Buffer, sizes: readonly number[] = []): Buffer {
  const parts: Buffer[] = [];
  for (let p = 0, i = 0; p < message.length; i++) {
    const size = Math.min(message.length - p, Math.max(1, Math.min(MAX_RECORD, sizes[i] ?? MAX_RECORD)));
    const header = Buffer.from([0x16, 0x03, 0x01, size >> 8, size & 0xff]);
    parts.push(header, message.subarray(p, p + size));
    p += size;
  }
  return Buffer.concat(parts);
}

/**
 * The layout of a valid ClientHello message.
 * @param message the handshake message, header included.
 */
export function layoutOf(message: Buffer): HelloLayout {
  const fields: LengthField[] = [{ name: "handshake", at: 1, width: 3 }];
  let p = 4 + 2 + 32;
  fields.push({ name: "session id", at: p, width: 1 });
  p += 1 + message[p];
  fields.push({ name: "cipher suites", at: p, width: 2 });
  p += 2 + message.readUInt16BE(p);
  fields.push({ name: "compression methods", at: p, width: 1 });
  p += 1 + message[p];
  const extensionsAt = p;
  fields.push({ name: "extensions", at: p, width: 2 });
  const end = p + 2 + message.readUInt16BE(p);
  p += 2;
  const extensions: Extension[] = [];
  while (p < end) {
    const type = message.readUInt16BE(p);
    const length = message.readUInt16BE(p + 2);
    fields.push({ name: `extension ${type}`, at: p + 2, width: 2 });
    if (type === EXTENSION_SERVER_NAME && length >= 2) {
      fields.push({ name: "server name list", at: p + 4, width: 2 });
      for (let q = p + 6; q + 3 <= p + 4 + length; q += 3 + message.readUInt16BE(q + 1)) {
        fields.push({ name: "server name", at: q + 1, width: 2 });
      }
    }
    extensions.push({ type, at: p, bytes: message.subarray(p, p + 4 + length) });
    p += 4 + length;
  }
  return { message, extensionsAt, extensions, lengthFields: fields };
}

/**
 * The same hello with other extensions, every enclosing length updated.
 * @param layout the hello.
 * @param extensions the new extensions, each encoded whole (see {@link extension}).
 */
export function withExtensions(layout: HelloLayout, extensions: readonly Buffer[]): Buffer {
  const head = Buffer.from(layout.message.subarray(0, layout.extensionsAt));
  const body = Buffer.concat(extensions);
  const total = Buffer.alloc(2);
  total.writeUInt16BE(Math.min(0xffff, body.length));
  const message = Buffer.concat([head, total, body]);
  message.writeUIntBE(Math.min(0xffffff, message.length - 4), 1, 3);
  return message;
}

/**
 * One extension's encoding.
 * @param type the extension type.
 * @param data its content.
 */
export function extension(type: number, data: Buffer): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt16BE(type);
  header.writeUInt16BE(Math.min(0xffff, data.length), 2);
  return Buffer.concat([header, data]);
}

/**
 * A `server_name` extension holding these entries.
 * @param entries each entry's name type (0 is host_name) and name bytes.
 */
export function serverNameExtension(entries: ReadonlyArray<readonly [number, Buffer]>): Buffer {
  const list = Buffer.concat(
    entries.map(([type, name]) => Buffer.concat([Buffer.from([type, name.length >> 8, name.length & 0xff]), name])),
  );
  const length = Buffer.alloc(2);
  length.writeUInt16BE(list.length);
  return extension(EXTENSION_SERVER_NAME, Buffer.concat([length, list]));
}
