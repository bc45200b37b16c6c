/**
 * The errors of talking to Consul, for every layer that does (the gateway, `consul-mesh plan`,
 * the components): one class, {@link ConsulError}, with a stable `code`; callers branch on the
 * code, never on the message. Messages name the request or the setting, never the token.
 */

/** Stable codes of {@link ConsulError}. */
export type ConsulErrorCode =
  /** Consul answered with a non-2xx status. */
  | "E_CONSUL_HTTP_STATUS"
  /** No complete answer in time. */
  | "E_CONSUL_TIMEOUT"
  /** Could not connect, or the connection broke (TLS verification failures included). */
  | "E_CONSUL_UNREACHABLE"
  /** An answer that is not the JSON expected. */
  | "E_CONSUL_BAD_RESPONSE"
  /** The request was cancelled by the caller. */
  | "E_CONSUL_ABORTED"
  /**
   * Consul answered, but left out what the token may not read
   * (`X-Consul-Results-Filtered-By-ACLs: true`): a gateway's token lacks `service:read` or
   * `node:read`. Reported, not thrown: the answer is still used.
   */
  | "E_CONSUL_ACL_FILTERED"
  /** The agent's xDS server refused or ended the gateway's stream (a gRPC status other than "unavailable"). */
  | "E_CONSUL_XDS"
  /** An agent address that is not `http(s)://host:port` or `host:port` ({@link ConsulAddressError}). */
  | "E_CONSUL_ADDRESS"
  /** A file a setting names (`CONSUL_CACERT`, `CONSUL_HTTP_TOKEN_FILE`, …) that cannot be read ({@link ConsulSettingError}). */
  | "E_CONSUL_SETTING";

/** A failed Consul API call; `message` names the method and path, never the token. */
export class ConsulError extends Error {
  /**
   * @param code - Stable error code.
   * @param message - What failed.
   * @param status - The HTTP status, for `E_CONSUL_HTTP_STATUS`. Default: none.
   */
  constructor(
    readonly code: ConsulErrorCode,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = "ConsulError";
  }
}

/**
 * An agent address with any `user:password@` part masked (`[redacted]@`), with or without a
 * scheme: what errors and logs may show of an address.
 * @param address - The address as given.
 */
export function withoutCredentials(address: string): string {
  const userInfo = /^([a-z][a-z0-9+.-]*:\/\/)?[^@/]*@/i;
  return address.replace(userInfo, (_match, scheme: string | undefined) => `${scheme ?? ""}[redacted]@`);
}

/** Thrown by `consulBaseUrl` for an address that is not `http(s)://host:port` or `host:port`. */
export class ConsulAddressError extends ConsulError {
  /** The address as given, its `user:password@` part masked. */
  readonly address: string;

  /**
   * @param address - The address as given (credentials are removed before it is shown).
   */
  constructor(address: string) {
    const shown = withoutCredentials(address);
    super("E_CONSUL_ADDRESS", `Consul address ${JSON.stringify(shown)} is not http(s)://host:port or host:port`);
    this.name = "ConsulAddressError";
    this.address = shown;
  }
}

/** A file a Consul setting names that cannot be read; `field` is the variable or flag. */
export class ConsulSettingError extends ConsulError {
  /** What is wrong, without the field: `cannot read FILE (CODE)`. */
  readonly reason: string;

  /**
   * @param field - The variable (`CONSUL_CACERT`) or flag (`--consul-cacert`) that names the file.
   * @param file - The file.
   * @param systemCode - Why it cannot be read, e.g. `ENOENT`.
   */
  constructor(
    readonly field: string,
    readonly file: string,
    systemCode: string,
  ) {
    const reason = `cannot read ${file} (${systemCode})`;
    super("E_CONSUL_SETTING", `${field}: ${reason}`);
    this.name = "ConsulSettingError";
    this.reason = reason;
  }
}
