/**
 * An incremental TLS ClientHello reader: feed it the bytes a client sends, chunk by chunk, and
 * it answers "need more", the server name (SNI), or why the connection must be refused.
 *
 * It handles records split across TCP segments and a ClientHello spanning several TLS records
 * (post-quantum key shares make hellos ~2 KB; real networks split them). It never decrypts,
 * caps the bytes it buffers and never throws, whatever the input.
 */

/** Why a ClientHello was refused; stable values, used as metric labels. */
export const HELLO_FAILURE_REASONS = [
  /** The first bytes are not a TLS handshake record (plain text, HTTP, SSLv2, garbage…). */
  "not-tls",
  /** A TLS handshake, but its first message is not a ClientHello. */
  "not-client-hello",
  /** A ClientHello whose lengths or fields are inconsistent. */
  "malformed",
  /** A well-formed ClientHello without a `server_name` host name. */
  "no-sni",
  /** The hello exceeds the size cap. */
  "too-large",
  /** The client did not send a complete hello in time (set by the proxy). */
  "timeout",
  /** The client closed (or reset) the connection before its hello was complete (set by the proxy). */
  "eof",
] as const;

/** One of {@link HELLO_FAILURE_REASONS}. */
export type HelloFailureReason = (typeof HELLO_FAILURE_REASONS)[number];

/** The outcome of feeding bytes to a {@link ClientHelloReader}. */
export type HelloResult =
  { status: "need-more" } | { status: "done"; sni: string } | { status: "error"; reason: HelloFailureReason };

/** TLS caps a record's plaintext at 2^14 bytes (RFC 8446 §5.1). */
export const MAX_RECORD_LENGTH = 16384;
/** The largest ClientHello message accepted by default: 16 KiB of body plus its 4-byte header. */
export const DEFAULT_MAX_HELLO_LENGTH = MAX_RECORD_LENGTH + 4;

const RECORD_HEADER = 5;
const HANDSHAKE_HEADER = 4;
const CONTENT_HANDSHAKE = 0x16;
const HANDSHAKE_CLIENT_HELLO = 0x01;
const EXTENSION_SERVER_NAME = 0x0000;
const NAME_TYPE_HOST_NAME = 0x00;
const MAX_HOST_NAME = 255;

const NEED_MORE: HelloResult = Object.freeze({ status: "need-more" });
const ERRORS: Record<HelloFailureReason, HelloResult> = Object.freeze(
  Object.fromEntries(HELLO_FAILURE_REASONS.map((reason) => [reason, Object.freeze({ status: "error", reason })])),
) as Record<HelloFailureReason, HelloResult>;

/**
 * The most raw bytes a {@link ClientHelloReader} buffers without a complete hello, by default:
 * the hello cap plus room for the headers of the records it may be cut into.
 * @param maxHelloLength - The reader's `maxHelloLength`.
 * @returns the default of {@link ClientHelloReaderOptions.maxBufferedBytes}.
 */
export function defaultMaxBufferedBytes(maxHelloLength: number): number {
  return maxHelloLength + 1024;
}

/** Options of a {@link ClientHelloReader}. */
export interface ClientHelloReaderOptions {
  /** Largest ClientHello handshake message (header included) accepted. Default: {@link DEFAULT_MAX_HELLO_LENGTH}. */
  maxHelloLength?: number;
  /**
   * Largest number of raw bytes buffered (record headers included) without a complete hello
   * before giving up, which also bounds a hello cut into many tiny records (one chunk may go
   * beyond it). Default: `maxHelloLength + 1024`.
   */
  maxBufferedBytes?: number;
}

/**
 * Reads one ClientHello from a byte stream. Feed chunks with {@link ClientHelloReader.push} until
 * it answers `done` or `error`; then {@link ClientHelloReader.bytes} holds every byte received,
 * to be forwarded untouched. Once finished, further pushes repeat the final answer.
 */
export class ClientHelloReader {
  private readonly maxHelloLength: number;
  private readonly maxBufferedBytes: number;
  /** Raw bytes received: the first chunk as is, or a growable copy once there are several. */
  private raw: Buffer | undefined;
  private rawLength = 0;
  private rawOwned = false;
  /** Offset in `raw` of the first record not yet consumed. */
  private recordStart = 0;
  /** Handshake bytes reassembled from the records consumed so far (when they span records). */
  private handshake: Buffer | undefined;
  private handshakeLength = 0;
  private result: HelloResult = NEED_MORE;

  /** @param options size caps; see {@link ClientHelloReaderOptions}. */
  constructor(options: ClientHelloReaderOptions = {}) {
    this.maxHelloLength = options.maxHelloLength ?? DEFAULT_MAX_HELLO_LENGTH;
    this.maxBufferedBytes = options.maxBufferedBytes ?? defaultMaxBufferedBytes(this.maxHelloLength);
  }

  /** Every byte pushed so far, in order (a view, not a copy). */
  get bytes(): Buffer {
    if (this.raw === undefined) return Buffer.alloc(0);
    return this.rawLength === this.raw.length ? this.raw : this.raw.subarray(0, this.rawLength);
  }

  /** The final answer so far (`need-more` until the hello is complete or refused). */
  get state(): HelloResult {
    return this.result;
  }

  /**
   * Adds a chunk and answers what is known now.
   * @param chunk the next bytes from the client; any content, any length.
   */
  push(chunk: Uint8Array): HelloResult {
    if (this.result.status !== "need-more") return this.result;
    if (chunk.length === 0) return this.result;
    // A chunk may carry bytes beyond the hello (early data): they are kept, to be forwarded.
    // The cap applies to what is still buffered without a complete hello.
    this.append(chunk);
    let result = this.parse();
    if (result.status === "need-more" && this.rawLength > this.maxBufferedBytes) result = ERRORS["too-large"];
    this.result = result;
    return result;
  }

  private append(chunk: Uint8Array): void {
    const view = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    if (this.raw === undefined) {
      this.raw = view;
      this.rawLength = view.length;
      return;
    }
    const needed = this.rawLength + view.length;
    if (!this.rawOwned || needed > this.raw.length) {
      let capacity = this.rawOwned ? this.raw.length : Math.max(1024, this.rawLength * 2);
      while (capacity < needed) capacity *= 2;
      const grown = Buffer.allocUnsafe(Math.max(needed, Math.min(capacity, this.maxBufferedBytes)));
      this.raw.copy(grown, 0, 0, this.rawLength);
      this.raw = grown;
      this.rawOwned = true;
    }
    view.copy(this.raw, this.rawLength);
    this.rawLength = needed;
  }

  /** Consumes every complete record; answers once the ClientHello message is complete. */
  private parse(): HelloResult {
    const raw = this.raw as Buffer;
    for (;;) {
      const available = this.rawLength - this.recordStart;
      const at = this.recordStart;
      // Refuse early on what the first bytes already show.
      if (available >= 1 && raw[at] !== CONTENT_HANDSHAKE) {
        return at === 0 ? ERRORS["not-tls"] : ERRORS.malformed;
      }
      if (available >= 2 && raw[at + 1] !== 3) return at === 0 ? ERRORS["not-tls"] : ERRORS.malformed;
      if (available < RECORD_HEADER) return NEED_MORE;
      const recordLength = raw.readUInt16BE(at + 3);
      if (recordLength === 0 || recordLength > MAX_RECORD_LENGTH) return ERRORS.malformed;
      // Only once the record header is known good: the answer must not depend on how the bytes were cut.
      if (
        available > RECORD_HEADER &&
        this.handshakeLength === 0 &&
        raw[at + RECORD_HEADER] !== HANDSHAKE_CLIENT_HELLO
      ) {
        return ERRORS["not-client-hello"];
      }
      if (available < RECORD_HEADER + recordLength) return NEED_MORE;

      const payload = raw.subarray(at + RECORD_HEADER, at + RECORD_HEADER + recordLength);
      this.recordStart = at + RECORD_HEADER + recordLength;

      // Fast path: the whole message sits in this one record; parse it in place.
      if (this.handshakeLength === 0 && payload.length >= HANDSHAKE_HEADER) {
        const messageLength = HANDSHAKE_HEADER + payload.readUIntBE(1, 3);
        if (messageLength > this.maxHelloLength) return ERRORS["too-large"];
        if (payload.length >= messageLength) {
          return parseClientHelloBody(payload.subarray(HANDSHAKE_HEADER, messageLength));
        }
      }
      const outcome = this.appendHandshake(payload);
      if (outcome !== NEED_MORE) return outcome;
    }
  }

  /** Adds a record's payload to the reassembled handshake; answers when the message is whole. */
  private appendHandshake(payload: Buffer): HelloResult {
    if (this.handshake === undefined) this.handshake = Buffer.allocUnsafe(Math.min(this.maxHelloLength, 4096));
    const needed = this.handshakeLength + payload.length;
    if (needed > this.handshake.length) {
      const capacity = Math.max(needed, Math.min(this.maxHelloLength + MAX_RECORD_LENGTH, this.handshake.length * 2));
      const grown = Buffer.allocUnsafe(capacity);
      this.handshake.copy(grown, 0, 0, this.handshakeLength);
      this.handshake = grown;
    }
    payload.copy(this.handshake, this.handshakeLength);
    this.handshakeLength = needed;
    if (this.handshakeLength < HANDSHAKE_HEADER) return NEED_MORE;
    const messageLength = HANDSHAKE_HEADER + this.handshake.readUIntBE(1, 3);
    if (messageLength > this.maxHelloLength) return ERRORS["too-large"];
    if (this.handshakeLength < messageLength) return NEED_MORE;
    return parseClientHelloBody(this.handshake.subarray(HANDSHAKE_HEADER, messageLength));
  }
}

/**
 * Reads the SNI host name out of a complete ClientHello body (the handshake message without its
 * 4-byte header), per RFC 8446 §4.1.2 and RFC 6066 §3. Never throws.
 * @param body the ClientHello body.
 */
export function parseClientHelloBody(body: Buffer): HelloResult {
  const end = body.length;
  let p = 2 + 32; // legacy_version, random
  if (p + 1 > end) return ERRORS.malformed;
  const sessionIdLength = body[p];
  if (sessionIdLength > 32) return ERRORS.malformed;
  p += 1 + sessionIdLength;
  if (p + 2 > end) return ERRORS.malformed;
  const cipherSuitesLength = body.readUInt16BE(p);
  if (cipherSuitesLength < 2 || cipherSuitesLength % 2 !== 0) return ERRORS.malformed;
  p += 2 + cipherSuitesLength;
  if (p + 1 > end) return ERRORS.malformed;
  const compressionLength = body[p];
  if (compressionLength < 1) return ERRORS.malformed;
  p += 1 + compressionLength;
  if (p > end) return ERRORS.malformed;
  if (p === end) return ERRORS["no-sni"]; // no extensions at all (TLS 1.2 allows it)
  if (p + 2 > end) return ERRORS.malformed;
  const extensionsEnd = p + 2 + body.readUInt16BE(p);
  if (extensionsEnd !== end) return ERRORS.malformed;
  p += 2;
  let sni: string | undefined;
  const seen = new Set<number>();
  while (p < extensionsEnd) {
    if (p + 4 > extensionsEnd) return ERRORS.malformed;
    const type = body.readUInt16BE(p);
    const length = body.readUInt16BE(p + 2);
    p += 4;
    if (p + length > extensionsEnd) return ERRORS.malformed;
    if (seen.has(type)) return ERRORS.malformed; // RFC 8446 §4.2: at most one of each
    seen.add(type);
    if (type === EXTENSION_SERVER_NAME) {
      const name = readServerName(body, p, p + length);
      if (name === null) return ERRORS.malformed;
      sni = name;
    }
    p += length;
  }
  return sni === undefined ? ERRORS["no-sni"] : { status: "done", sni };
}

/** The host_name of a server_name extension; `undefined` if none, `null` if malformed. */
function readServerName(body: Buffer, start: number, end: number): string | undefined | null {
  if (start === end) return undefined; // empty extension (a server's echo); no name
  if (start + 2 > end) return null;
  const listEnd = start + 2 + body.readUInt16BE(start);
  if (listEnd !== end) return null;
  let q = start + 2;
  let name: string | undefined;
  while (q < listEnd) {
    if (q + 3 > listEnd) return null;
    const nameType = body[q];
    const nameLength = body.readUInt16BE(q + 1);
    q += 3;
    if (q + nameLength > listEnd) return null;
    if (nameType === NAME_TYPE_HOST_NAME) {
      if (name !== undefined) return null; // RFC 6066: one name per type
      if (nameLength === 0 || nameLength > MAX_HOST_NAME) return null;
      for (let i = q; i < q + nameLength; i++) {
        const c = body[i];
        // Host names are ASCII letters, digits, '-', '_' and '.'; refuse anything else.
        const ok =
          (c >= 0x61 && c <= 0x7a) ||
          (c >= 0x41 && c <= 0x5a) ||
          (c >= 0x30 && c <= 0x39) ||
          c === 0x2d ||
          c === 0x2e ||
          c === 0x5f;
        if (!ok) return null;
      }
      name = body.toString("latin1", q, q + nameLength).toLowerCase();
    }
    q += nameLength;
  }
  return name;
}
