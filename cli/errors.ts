/**
 * The errors of `consul-mesh plan`, each a class with a stable `code`. A usage error exits 2,
 * as does a source that cannot be read; the command branches on the class, never on the message.
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

/** Stable codes of {@link ConsulSourceError}. */
export type ConsulSourceErrorCode =
  /** The address, the token file or the CA file given cannot be used. */
  | "E_CONSUL_CONFIG"
  /** No connection to the agent, or it broke (TLS verification failures included). */
  | "E_CONSUL_UNREACHABLE"
  /** No complete answer within the per-request time-out. */
  | "E_CONSUL_TIMEOUT"
  /** The token was refused (HTTP 401 or 403). */
  | "E_CONSUL_ACL"
  /** Any other status than 2xx. */
  | "E_CONSUL_HTTP"
  /** An answer that is not the JSON expected. */
  | "E_CONSUL_RESPONSE";

/**
 * A failed read of the live Consul. The message names the URL (never with credentials) and the
 * status; it never contains the ACL token.
 */
export class ConsulSourceError extends Error {
  /** Stable error code. */
  readonly code: ConsulSourceErrorCode;
  /** The URL requested, without credentials. Default: none (for `E_CONSUL_CONFIG`). */
  readonly url?: string;
  /** The HTTP status, for `E_CONSUL_ACL` and `E_CONSUL_HTTP`. Default: none. */
  readonly status?: number;

  /**
   * @param code - Stable error code.
   * @param message - What failed and how to fix it.
   * @param details - The URL and the HTTP status. Default: none.
   */
  constructor(code: ConsulSourceErrorCode, message: string, details: { url?: string; status?: number } = {}) {
    super(message);
    this.name = "ConsulSourceError";
    this.code = code;
    this.url = details.url;
    this.status = details.status;
  }
}
