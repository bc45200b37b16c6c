/**
 * What every soak phase reports: figures, each measured against a target, passed or failed.
 * `RELIABILITY.md` lists them; the soak exits non-zero when any failed.
 */

/** One figure of a soak run. */
export interface Check {
  /** The phase it belongs to, e.g. `"Bad input"`. */
  phase: string;
  /** What was measured. */
  name: string;
  /** The measured value, with its unit. */
  measured: string;
  /** The target it is held to. */
  target: string;
  /** Whether the measured value meets the target. */
  pass: boolean;
}

/** A phase's way of recording its figures. */
export interface CheckList {
  /**
   * Records one figure.
   * @param name what was measured.
   * @param measured the value, with its unit.
   * @param target the target.
   * @param pass whether it is met.
   */
  add(name: string, measured: string | number, target: string, pass: boolean): void;
  /** Every figure recorded so far, in order. */
  readonly checks: Check[];
}

/**
 * A new list of figures for one phase; each figure is also printed as it is recorded.
 * @param phase the phase's name.
 * @param print where progress lines go. Default: standard output.
 */
export function checkList(
  phase: string,
  print: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): CheckList {
  const checks: Check[] = [];
  return {
    checks,
    add(name, measured, target, pass) {
      const check = {
        phase,
        name,
        measured: typeof measured === "number" ? formatCount(measured) : measured,
        target,
        pass,
      };
      checks.push(check);
      print(`  ${pass ? "PASS" : "FAIL"}  ${name}: ${check.measured} (target ${target})`);
    },
  };
}

/**
 * A whole number with thousands separators: `1,000,000`.
 * @param n the number.
 */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}
