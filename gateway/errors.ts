/**
 * The errors of the gateway, each a class with a stable `code` and its subject as data: callers
 * branch on the class or the code, and read the field from the error, never from the message.
 * (An agent address that cannot be parsed is the mesh layer's `ConsulAddressError`.)
 */

/** A command line `sni-gateway` cannot run: reported with a pointer to `--help`, exit status 2. */
export class CliError extends Error {
  /** Stable error code. */
  readonly code = "E_CLI_USAGE";

  /**
   * @param field - The flag (`--listen`), variable (`CONSUL_HTTP_TOKEN_FILE`) or `arguments` concerned.
   * @param reason - What is wrong, without the field.
   */
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`);
    this.name = "CliError";
  }
}

/** Options the gateway cannot start with (given in code, or files they name that cannot be read). */
export class GatewayConfigError extends Error {
  /** Stable error code. */
  readonly code = "E_GATEWAY_CONFIG";

  /**
   * @param field - The option (`listen`, `routes.static.datacenter`) or variable (`CONSUL_CACERT`) concerned.
   * @param reason - What is wrong, without the field.
   */
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`);
    this.name = "GatewayConfigError";
  }
}

/** A routes file that cannot be read or used; reported to the gateway, which keeps its last good table. */
export class RoutesFileError extends Error {
  /** Stable error code. */
  readonly code = "E_ROUTES_FILE";

  /**
   * @param file - The file's absolute path.
   * @param reason - What is wrong; a field of the file is named first (`services[0].endpoints[1].port: …`).
   */
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`routes file ${file}: ${reason}`);
    this.name = "RoutesFileError";
  }
}

/** A table from the route source with more routes than `maxRoutes`: refused, the last good table stays. */
export class RouteLimitError extends Error {
  /** Stable error code. */
  readonly code = "E_ROUTES_LIMIT";

  /**
   * @param routes - Routes in the refused table (services and other datacenters).
   * @param maxRoutes - The limit (`--max-routes`).
   */
  constructor(
    readonly routes: number,
    readonly maxRoutes: number,
  ) {
    super(`the route source gave ${routes} routes, more than --max-routes ${maxRoutes}: table refused`);
    this.name = "RouteLimitError";
  }
}

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
  | "E_CONSUL_XDS";

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
 * The report of a read Consul filtered by ACLs, naming what a mesh gateway's token needs.
 * @param request - The request, e.g. `GET /v1/catalog/nodes`.
 */
export function aclFilteredError(request: string): ConsulError {
  return new ConsulError(
    "E_CONSUL_ACL_FILTERED",
    `${request}: Consul left out results this token may not read (X-Consul-Results-Filtered-By-ACLs), ` +
      "so routes are missing: a mesh gateway's token needs service:read on every service " +
      "and node:read on every node",
  );
}
