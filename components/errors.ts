/**
 * The errors of the components, each a class with a stable `code`. (`ConsulApiError` lives in
 * `consul/agent.ts`: Pulumi serializes that module into the dynamic provider, so it imports
 * nothing of this package at run time.)
 */

/** An argument a component cannot use; `field` names it, `reason` says why, as data. */
export class InvalidArgumentError extends Error {
  /** Stable error code. */
  readonly code = "E_INVALID_ARGUMENT";

  /**
   * @param field - The argument, e.g. `lanSubnet` or `servers`.
   * @param reason - What is wrong with it and how to fix it.
   */
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`);
    this.name = "InvalidArgumentError";
  }
}
