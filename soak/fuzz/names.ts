/**
 * Server names as an attacker or a broken client would send them: the names the fuzzed table
 * routes and refuses, changed in the ways that have broken name handling elsewhere (case,
 * trailing and doubled dots, NUL, spaces, Unicode that case-folds into ASCII, over-long names
 * and labels, other trust domains and name shapes).
 */
import { FUZZ_TRUST_DOMAIN, REFUSED_NAMES, ROUTED_NAMES } from "./fuzz-table";
import type { Prng } from "./prng";

const BASES = [...ROUTED_NAMES, ...REFUSED_NAMES];

/** Characters that are not host-name characters, some of which lower-case into ASCII (KELVIN SIGN → k, İ → i̇). */
const STRANGE = [
  "\u0000",
  " ",
  "\t",
  "/",
  ":",
  "@",
  "*",
  "\u00e9",
  "\u0130",
  "\u212a",
  "\u017f",
  "\uff41",
  "\u200b",
  "\u00ad",
  "%00",
  "\\",
];

const LONG_LABEL = "a".repeat(63);

/** One way of changing a name. */
type NameMutation = (name: string, prng: Prng) => string;

const MUTATIONS: NameMutation[] = [
  // Case: DNS names are case-insensitive, so these must route exactly as the lower-case name.
  (name, prng) => [...name].map((c) => (prng.chance(0.3) ? c.toUpperCase() : c)).join(""),
  (name) => `${name}.`,
  (name) => `.${name}`,
  (name, prng) => insert(name, prng, ".."),
  (name, prng) => insert(name, prng, prng.pick(STRANGE)),
  (name, prng) => `${name}${prng.pick(STRANGE)}${prng.pick(BASES)}`,
  // Over-long: a name of exactly 252 to 256 characters, or far longer, ending in a routed name.
  (name, prng) => longName(name, prng.pick([252, 253, 254, 255, 256, 257, 300, 1000])),
  (name, prng) =>
    replaceLabel(name, prng, prng.pick(["", "-a", "a-", "_a", LONG_LABEL, `${LONG_LABEL}a`, "xn--bcher-kva", "*"])),
  (name, prng) =>
    replaceLabel(
      name,
      prng,
      prng.pick(["internal", "internal-v1", "external", "query", "consul", "dc1", "dc2", "default"]),
    ),
  (name, prng) =>
    name.replace(
      FUZZ_TRUST_DOMAIN,
      prng.pick([
        "",
        "consul",
        FUZZ_TRUST_DOMAIN.toUpperCase(),
        `x${FUZZ_TRUST_DOMAIN}`,
        `${FUZZ_TRUST_DOMAIN}.evil.example`,
      ]),
    ),
  (name, prng) => name.split(".").slice(prng.below(3)).join("."),
  (name, prng) => `${prng.pick(["a.", "v2.", "x.y.", "web."])}${name}`,
  (_name, prng) => randomText(prng),
];

function insert(name: string, prng: Prng, what: string): string {
  const at = prng.below(name.length + 1);
  return `${name.slice(0, at)}${what}${name.slice(at)}`;
}

function replaceLabel(name: string, prng: Prng, label: string): string {
  const labels = name.split(".");
  labels[prng.below(labels.length)] = label;
  return labels.join(".");
}

function longName(name: string, length: number): string {
  let prefix = "";
  while (prefix.length + name.length < length)
    prefix += `${LONG_LABEL.slice(0, Math.min(63, length - name.length - prefix.length - 1) || 1)}.`;
  return `${prefix}${name}`.slice(-length);
}

function randomText(prng: Prng): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_";
  let text = "";
  for (let i = prng.below(80); i >= 0; i--)
    text += prng.chance(0.05) ? prng.pick(STRANGE) : alphabet[prng.below(alphabet.length)];
  return text;
}

/**
 * A name to route: a base name with one to three mutations.
 * @param prng the case's randomness.
 */
export function fuzzName(prng: Prng): string {
  let name = prng.pick(BASES);
  for (let i = prng.between(1, 3); i > 0; i--) name = prng.pick(MUTATIONS)(name, prng);
  return name;
}
