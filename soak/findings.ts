/**
 * What the soak has found so far: each defect, how it showed, its fix and the test that pins it.
 * `RELIABILITY.md` closes with this list; add to it with each fix.
 */

/** One defect the soak found. */
export interface Finding {
  /** The phase that found it. */
  phase: string;
  /** What was wrong, as the soak saw it. */
  defect: string;
  /** The fix. */
  fix: string;
  /** Where the regression test is. */
  regression: string;
}

/** Every defect found, oldest first. */
export const FINDINGS: Finding[] = [
  {
    phase: "Bad input",
    defect:
      "The ClientHello reader's refusal reason depended on how TCP cut the bytes: an empty or over-long (> 2^14) record followed by a " +
      "byte other than ClientHello's type was `not-client-hello` when that byte came in the same segment, `malformed` when it came later " +
      "(so `sni_gateway_hello_failures_total{reason}` counted the same bytes differently). Found as `chunking-changes-answer`.",
    fix: "`gateway/net/client-hello.ts` checks the record length before it peeks at the handshake type: an answer is a property of the bytes, not of their cutting.",
    regression: "test/gateway/fuzz-regressions.test.ts; soak/corpus/crashers/chunking-changes-answer-*.bin",
  },
  {
    phase: "Bad input",
    defect:
      "The router routed names that are not host names: `parseSni` lower-cases before it checks, and Unicode case mapping turns U+212A " +
      "KELVIN SIGN into `k`, so `a.\\u212Aapi.default.dc2.internal.<td>` went to dc2's gateways as `kapi`. The ClientHello reader never " +
      "yields such a name, but `route()` is public API. Found as `routed-non-host-name`.",
    fix: "`gateway/routing/router.ts` refuses (as `unsupported-name` or `foreign-trust-domain`) any name with a character other than ASCII letters, digits, `.`, `-` and `_` before parsing it.",
    regression: "test/gateway/fuzz-regressions.test.ts; soak/corpus/crashers/routed-non-host-name-*.name",
  },
];
