/**
 * A small deterministic pseudo-random generator (SplitMix32): the same seed gives the same
 * cases on every machine and Node.js version, so any fuzz case can be regenerated from its
 * number alone. Not for anything that needs unpredictability.
 */
export class Prng {
  private state: number;

  /** @param seed any 32-bit integer. */
  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** The next value, an unsigned 32-bit integer. */
  next(): number {
    this.state = (this.state + 0x9e3779b9) >>> 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  }

  /**
   * An integer in `[0, n)`.
   * @param n the bound, at least 1.
   */
  below(n: number): number {
    return Math.floor((this.next() / 0x1_0000_0000) * n);
  }

  /**
   * An integer in `[min, max]`.
   * @param min the lowest value.
   * @param max the highest value.
   */
  between(min: number, max: number): number {
    return min + this.below(max - min + 1);
  }

  /**
   * `true` with probability `p`.
   * @param p a probability in `[0, 1]`.
   */
  chance(p: number): boolean {
    return this.next() / 0x1_0000_0000 < p;
  }

  /**
   * One element of a non-empty list.
   * @param items the list.
   */
  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)];
  }

  /**
   * `length` random bytes.
   * @param length how many.
   */
  bytes(length: number): Buffer {
    const out = Buffer.allocUnsafe(length);
    for (let i = 0; i < length; i++) out[i] = this.next() & 0xff;
    return out;
  }
}
