/**
 * Deterministic JSON: object keys sorted at every depth, so the same value always renders to
 * the same text (no spurious diffs in previews, stable config entries and files).
 */

/** Returns a copy of `value` whose object keys are sorted at every depth; `undefined` fields are dropped. */
export function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortKeys(v);
    }
    return out;
  }
  return value;
}

/**
 * `JSON.stringify` with sorted keys.
 * @param value the value to render
 * @param indent spaces of indentation. Default: `0` (compact).
 */
export function stableJson(value: unknown, indent = 0): string {
  return JSON.stringify(sortKeys(value), null, indent || undefined);
}
