/**
 * Type guards for untyped input (JavaScript callers, parsed YAML or JSON): the model's
 * functions that promise never to throw use them before reading a field. Internal: not
 * exported from `mesh/index.ts`.
 */

/** Whether `value` is a non-null object and not a list. */
export function isObject(value: unknown): value is object {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `value` if it is a list, else an empty list. */
export function listOf<T>(value: unknown): T[] {
  return Array.isArray(value) ? (value as T[]) : [];
}
