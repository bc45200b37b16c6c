/**
 * Talking to a Consul agent, as every part of this package does: the `CONSUL_*` settings read as
 * Consul's CLI reads them, one HTTP client with blocking queries, one error type with stable codes.
 */
export { ConsulClient, DEFAULT_REQUEST_TIMEOUT_MS } from "./client";
export type { BlockingParams, ConsulClientOptions, ConsulResponse } from "./client";
export {
  consulBaseUrl,
  consulEnvironment,
  consulGrpcAddress,
  DEFAULT_CONSUL_ADDRESS,
  readConsulSettings,
} from "./settings";
export type { ConsulConnection, ConsulEnvironment, ConsulSettingOverrides } from "./settings";
export { ConsulAddressError, ConsulError, ConsulSettingError, withoutCredentials } from "./errors";
export type { ConsulErrorCode } from "./errors";
export { readLiveConsul } from "./live-consul";
export type { LiveConsulOptions } from "./live-consul";
export { formatRight, missingRights } from "./authorize";
export type { AclRight } from "./authorize";
