/** TCP ports, as every layer checks them. */

/**
 * Whether `value` is a TCP port a listener or a dialler can use: an integer from 1 to 65535.
 * @param value - Anything (untyped input included).
 */
export function isPort(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 1 && value <= 65535;
}
