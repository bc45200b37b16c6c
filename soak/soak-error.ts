/**
 * The soak's errors: a class with a stable `code` and its subject as data. Each one that reaches
 * a phase fails one of its figures, naming why; none is thrown for a figure that merely misses
 * its target (that is a FAIL line, not an error).
 */

/** Stable codes of {@link SoakError}. */
export type SoakErrorCode =
  /** A helper process got a request it does not know, or exited with requests pending. */
  | "E_SOAK_HELPER"
  /** A client connection of the soak failed (no echo in time, closed, reset). */
  | "E_SOAK_CONNECTION"
  /** What a phase needs could not be set up (the repository, a Consul registration, the real mesh). */
  | "E_SOAK_SETUP";

/** Why the soak could not measure something. */
export class SoakError extends Error {
  /**
   * @param code stable error code.
   * @param subject what failed: a helper, a connection, an API path.
   * @param reason what happened, without the subject.
   */
  constructor(
    readonly code: SoakErrorCode,
    readonly subject: string,
    readonly reason: string,
  ) {
    super(`${subject}: ${reason}`);
    this.name = "SoakError";
  }
}
