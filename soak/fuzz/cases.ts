/**
 * The fuzz cases, each a pure function of its number: first the systematic ones (every seed
 * truncated at every byte, every length field of every seed off by one both ways, every
 * regression input), then random mutations of the seeds. A case that fails can therefore be
 * regenerated from its number alone, in any process.
 */
import {
  extension,
  frame,
  layoutOf,
  serverNameExtension,
  unframe,
  withExtensions,
  type HelloLayout,
} from "./hello-layout";
import { fuzzName } from "./names";
import { Prng } from "./prng";

/** How a case was made; the figures count cases by strategy. */
export const STRATEGIES = [
  "regression",
  "truncation",
  "length-off-by-one",
  "havoc",
  "duplicate-extension",
  "oversized-extension",
  "server-name",
  "reframed",
  "garbage",
  "router-name",
] as const;

/** One of {@link STRATEGIES}. */
export type Strategy = (typeof STRATEGIES)[number];

/** One fuzz case. */
export type FuzzCase =
  | {
      strategy: Exclude<Strategy, "router-name">;
      /** The bytes a client sends. */
      input: Buffer;
      /** How the bytes are cut into pushes for the second reading (cycled); `[]` tries every cut in two (slow: for seeds and regressions). */
      chunks: number[];
    }
  | {
      strategy: "router-name";
      /** A server name given straight to the router. */
      name: string;
    };

/** A seed: a hello captured from a real client. */
export interface Seed {
  /** Its file name. */
  name: string;
  /** The bytes as the client sent them. */
  framed: Buffer;
  /** Its handshake message. */
  message: Buffer;
  /** Its records' payload sizes. */
  recordSizes: number[];
  /** Its layout. */
  layout: HelloLayout;
}

/**
 * A seed from the bytes a client sent.
 * @param name its file name.
 * @param framed the bytes.
 */
export function loadSeed(name: string, framed: Buffer): Seed {
  const { message, recordSizes } = unframe(framed);
  return { name, framed, message, recordSizes, layout: layoutOf(message) };
}

type Systematic = (seeds: readonly Seed[]) => FuzzCase[];

const SYSTEMATIC: Systematic[] = [
  // Every seed cut short at every byte.
  (seeds) =>
    seeds.flatMap((s) =>
      Array.from({ length: s.framed.length }, (_, at) =>
        hello("truncation", s.framed.subarray(0, at), [1 + (at % 97)]),
      ),
    ),
  // Every length field of every seed one off both ways, in the seed's own records and in three.
  (seeds) =>
    seeds.flatMap((s) =>
      s.layout.lengthFields.flatMap((field) =>
        [-1, 1].flatMap((delta) => [
          hello("length-off-by-one", frame(offByOne(s.message, field.at, field.width, delta), s.recordSizes), []),
          hello("length-off-by-one", frame(offByOne(s.message, field.at, field.width, delta), [100, 7, 300]), [1]),
        ]),
      ),
    ),
  // Every record length of every seed one off both ways.
  (seeds) =>
    seeds.flatMap((s) =>
      recordLengthOffsets(s.framed).flatMap((at) =>
        [-1, 1].map((delta) => hello("length-off-by-one", offByOne(s.framed, at, 2, delta), [3])),
      ),
    ),
];

function hello(strategy: Exclude<Strategy, "router-name">, input: Buffer, chunks: number[]): FuzzCase {
  return { strategy, input, chunks };
}

/** A copy of `bytes` with the `width`-byte big-endian integer at `at` changed by `delta` (wrapping). */
function offByOne(bytes: Buffer, at: number, width: number, delta: number): Buffer {
  const copy = Buffer.from(bytes);
  const max = 2 ** (8 * width);
  copy.writeUIntBE((copy.readUIntBE(at, width) + delta + max) % max, at, width);
  return copy;
}

function recordLengthOffsets(framed: Buffer): number[] {
  const offsets: number[] = [];
  for (let p = 0; p + 5 <= framed.length; p += 5 + framed.readUInt16BE(p + 3)) offsets.push(p + 3);
  return offsets;
}

type Mutator = (seed: Seed, prng: Prng) => FuzzCase;

const INTERESTING = [0x00, 0x01, 0x02, 0x03, 0x16, 0x7f, 0x80, 0xfe, 0xff];

/** Random mutators with their weights (out of 100). */
const MUTATORS: Array<[number, Mutator]> = [
  [
    30,
    (seed, prng) =>
      hello(
        "havoc",
        havoc(prng.chance(0.5) ? seed.framed : frame(seed.message, randomSizes(prng)), prng),
        chunking(prng),
      ),
  ],
  [
    8,
    (seed, prng) => {
      const field = prng.pick(seed.layout.lengthFields);
      const message = offByOne(seed.message, field.at, field.width, prng.pick([-1, 1, -2, 2, 0x100, -0x100]));
      return hello("length-off-by-one", frame(message, randomSizes(prng)), chunking(prng));
    },
  ],
  [
    4,
    (seed, prng) =>
      hello(
        "truncation",
        frame(seed.message, randomSizes(prng)).subarray(0, prng.below(seed.framed.length + 40)),
        chunking(prng),
      ),
  ],
  [
    10,
    (seed, prng) => {
      const extensions = seed.layout.extensions.map((e) => e.bytes);
      const copy = extensions.length > 0 ? prng.pick(extensions) : serverNameExtension([[0, Buffer.from("a")]]);
      extensions.splice(prng.below(extensions.length + 1), 0, copy);
      return hello(
        "duplicate-extension",
        frame(withExtensions(seed.layout, extensions), randomSizes(prng)),
        chunking(prng),
      );
    },
  ],
  [
    10,
    (seed, prng) => {
      const extensions = seed.layout.extensions.map((e) => e.bytes);
      const size = prng.pick([0, 1, 255, 256, 4096, 16_000, 16_300, 16_400, 17_000, 65_535]);
      const oversized = prng.chance(0.5)
        ? extension(prng.pick([21, 0xfe0d, 0x4a4a, 41, 10]), Buffer.alloc(size, prng.below(256)))
        : lyingLength(extension(prng.pick([0, 21, 43]), prng.bytes(prng.below(64))), prng);
      extensions.splice(prng.below(extensions.length + 1), 0, oversized);
      return hello(
        "oversized-extension",
        frame(withExtensions(seed.layout, extensions), randomSizes(prng)),
        chunking(prng),
      );
    },
  ],
  [
    15,
    (seed, prng) => {
      const extensions = seed.layout.extensions.filter((e) => e.type !== 0).map((e) => e.bytes);
      extensions.splice(prng.below(extensions.length + 1), 0, serverNameExtension(nameEntries(prng)));
      return hello("server-name", frame(withExtensions(seed.layout, extensions), randomSizes(prng)), chunking(prng));
    },
  ],
  [5, (seed, prng) => hello("reframed", frame(seed.message, randomSizes(prng)), chunking(prng))],
  [
    6,
    (_seed, prng) => {
      const head = Buffer.from([0x16, 0x03, prng.below(5), 0, 0, 0x01, 0, 0, 0]);
      head.writeUInt16BE(prng.chance(0.5) ? prng.below(0x4100) : prng.between(1, 64), 3);
      head.writeUIntBE(prng.chance(0.5) ? prng.below(0x1000000) : prng.between(0, 600), 6, 3);
      return hello("garbage", Buffer.concat([head, prng.bytes(prng.below(700))]), chunking(prng));
    },
  ],
  [12, (_seed, prng) => ({ strategy: "router-name", name: fuzzName(prng) })],
];
const WEIGHT = MUTATORS.reduce((sum, [weight]) => sum + weight, 0);

/** 1 to 8 random edits: bit flips, interesting bytes, insertions, deletions, copied ranges. */
function havoc(input: Buffer, prng: Prng): Buffer {
  let bytes = Buffer.from(input);
  for (let edits = prng.between(1, 8); edits > 0 && bytes.length > 0; edits--) {
    const at = prng.below(bytes.length);
    switch (prng.below(6)) {
      case 0:
        bytes[at] ^= 1 << prng.below(8);
        break;
      case 1:
        bytes[at] = prng.pick(INTERESTING);
        break;
      case 2:
        bytes[at] = prng.below(256);
        break;
      case 3:
        bytes = Buffer.concat([bytes.subarray(0, at), prng.bytes(prng.between(1, 16)), bytes.subarray(at)]);
        break;
      case 4:
        bytes = Buffer.concat([
          bytes.subarray(0, at),
          bytes.subarray(Math.min(bytes.length, at + prng.between(1, 32))),
        ]);
        break;
      default: {
        const from = prng.below(bytes.length);
        bytes = Buffer.concat([
          bytes.subarray(0, at),
          bytes.subarray(from, from + prng.between(1, 64)),
          bytes.subarray(at),
        ]);
      }
    }
  }
  return bytes;
}

/** An extension whose length field says more or less than it holds. */
function lyingLength(encoded: Buffer, prng: Prng): Buffer {
  const copy = Buffer.from(encoded);
  copy.writeUInt16BE(prng.pick([0, 1, copy.length, 0x7fff, 0xffff, Math.max(0, copy.length - 5)]), 2);
  return copy;
}

/** The entries of a server_name list: usually one host name, sometimes other name types, two names, or none. */
function nameEntries(prng: Prng): Array<[number, Buffer]> {
  const encode = (name: string) => Buffer.from(name, prng.chance(0.7) ? "latin1" : "utf8");
  const entries: Array<[number, Buffer]> = [[0, encode(fuzzName(prng))]];
  if (prng.chance(0.15)) entries.unshift([prng.pick([1, 2, 0x7f, 0xff]), encode(fuzzName(prng))]);
  if (prng.chance(0.1)) entries.push([prng.pick([0, 1, 0xff]), encode(fuzzName(prng))]);
  if (prng.chance(0.05)) entries.splice(0, 1);
  return entries;
}

/** Record payload sizes: one record, a few, or many tiny ones. */
function randomSizes(prng: Prng): number[] {
  switch (prng.below(4)) {
    case 0:
      return [];
    case 1:
      return Array.from({ length: prng.between(2, 5) }, () => prng.between(1, 800));
    case 2:
      return Array.from({ length: 400 }, () => prng.between(1, 8));
    default:
      return [prng.between(1, 4), prng.between(1, 4)];
  }
}

/** Chunk sizes for the second reading: random sizes, two pieces, tiny pieces, or (rarely: it is slow) a byte at a time. */
function chunking(prng: Prng): number[] {
  const roll = prng.below(16);
  if (roll < 7) return Array.from({ length: prng.between(1, 12) }, () => prng.between(1, 300));
  if (roll < 12) return [prng.between(1, 2000), 1 << 20];
  if (roll < 15) return Array.from({ length: 8 }, () => prng.between(1, 8));
  return [1];
}

/** Every fuzz case of a run, by number. */
export class FuzzCases {
  private readonly systematic: FuzzCase[];

  /**
   * @param seeds the captured hellos.
   * @param regressions inputs that once failed, replayed first: bytes (read with every cut in two) and names.
   * @param runSeed the run's seed: the same seed gives the same cases. Default: `1`.
   */
  constructor(
    private readonly seeds: readonly Seed[],
    regressions: { bytes: readonly Buffer[]; names: readonly string[] },
    private readonly runSeed = 1,
  ) {
    this.systematic = [
      ...regressions.bytes.map((input) => hello("regression", input, [])),
      ...regressions.names.map((name): FuzzCase => ({ strategy: "router-name", name })),
      ...SYSTEMATIC.flatMap((make) => make(seeds)),
    ];
  }

  /** How many cases come before the random ones. */
  get systematicCount(): number {
    return this.systematic.length;
  }

  /**
   * Case number `index`.
   * @param index from 0.
   */
  at(index: number): FuzzCase {
    if (index < this.systematic.length) return this.systematic[index];
    const prng = new Prng(this.runSeed ^ Math.imul(index, 0x9e3779b1));
    let roll = prng.below(WEIGHT);
    const [, mutate] = MUTATORS.find(([weight]) => (roll -= weight) < 0) ?? MUTATORS[0];
    return mutate(prng.pick(this.seeds), prng);
  }
}
