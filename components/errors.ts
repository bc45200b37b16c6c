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

/**
 * A datacenter the program cannot use as given: its API does not answer, its certificate is not
 * signed by the CA given, the token is refused or lacks a right. `datacenter` names it; the
 * message says what failed (from the underlying `ConsulError`, whose `code` is kept as
 * `consulCode`) or which rights are missing (`missingRights`).
 */
export class DatacenterAccessError extends Error {
  /** Stable error code. */
  readonly code = "E_DATACENTER_ACCESS";

  /**
   * @param datacenter - The datacenter's name.
   * @param consulCode - The `ConsulError` code of the failure (`E_CONSUL_UNREACHABLE`, `E_CONSUL_HTTP_STATUS`, …);
   * none when Consul answered that the token lacks rights.
   * @param reason - What failed and what to check.
   * @param missingRights - The rights the token lacks, as ACL rules name them (`acl:write`). Default: none.
   */
  constructor(
    readonly datacenter: string,
    readonly consulCode: string | undefined,
    reason: string,
    readonly missingRights: string[] = [],
  ) {
    super(`datacenter ${JSON.stringify(datacenter)}: ${reason}`);
    this.name = "DatacenterAccessError";
  }
}

/** A Docker daemon a datacenter's containers are to run on that does not answer. */
export class DockerHostError extends Error {
  /** Stable error code. */
  readonly code = "E_DOCKER_HOST";

  /**
   * @param datacenter - The datacenter whose host it is.
   * @param host - The daemon, as `DOCKER_HOST` gave it.
   * @param reason - What failed and what to check.
   */
  constructor(
    readonly datacenter: string,
    readonly host: string,
    reason: string,
  ) {
    super(`datacenter ${JSON.stringify(datacenter)}: the Docker daemon at ${host} does not answer: ${reason}`);
    this.name = "DockerHostError";
  }
}
