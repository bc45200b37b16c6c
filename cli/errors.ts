/**
 * The errors of `consul-mesh plan`, each a class with a stable `code`. A usage error exits 2,
 * as does a live Consul that cannot be read (`ConsulError`, `consul/errors.ts`); the command
 * branches on the class, never on the message.
 */

/** A command line that cannot be run: exit status 2. */
export class PlanUsageError extends Error {
  /** Stable error code. */
  readonly code = "E_PLAN_USAGE";
  /**
   * @param message - What is wrong, naming the flag.
   */
  constructor(message: string) {
    super(message);
    this.name = "PlanUsageError";
  }
}
