/**
 * The errors of the gateway, each a class with a stable `code` and its subject as data: callers
 * branch on the class or the code, and read the field from the error, never from the message.
 * (Errors of talking to Consul are `consul/errors.ts`.)
 */
import { ConsulError } from "../consul/errors";
import { GATEWAY_TOKEN_RIGHTS } from "../mesh/render/gateway-acl-rules";

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

/**
 * The report of a read Consul filtered by ACLs, naming what a mesh gateway's token needs.
 * @param request - The request, e.g. `GET /v1/catalog/nodes`.
 */
export function aclFilteredError(request: string): ConsulError {
  return new ConsulError(
    "E_CONSUL_ACL_FILTERED",
    `${request}: Consul left out results this token may not read (X-Consul-Results-Filtered-By-ACLs), ` +
      `so routes are missing: ${GATEWAY_TOKEN_RIGHTS}`,
  );
}

/**
 * A failure of the gateway's own code where it handles what it was given (a route source's
 * handler of a Consul answer, say): a bug, not a failure of what it talks to, so it is
 * reported as what it is and not retried as if Consul had failed.
 */
export class GatewayInternalError extends Error {
  /** Stable error code. */
  readonly code = "E_GATEWAY_INTERNAL";

  /**
   * @param where - What was being handled, e.g. `GET /v1/catalog/services`.
   * @param cause - What the code threw.
   */
  constructor(
    readonly where: string,
    override readonly cause: unknown,
  ) {
    super(
      `${where}: the gateway failed to handle the answer: ${cause instanceof Error ? cause.message : String(cause)}`,
    );
    this.name = "GatewayInternalError";
  }
}
