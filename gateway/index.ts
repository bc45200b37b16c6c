/**
 * The SNI mesh gateway as a library: start gateways in-process with {@link startGateway}, or use
 * the parts (ClientHello reader, router, route sources) on their own.
 */
export { DEFAULT_MAX_ROUTES, startGateway } from "./gateway";
export type { GatewayHandle, GatewayOptions, GatewayRoutesOption } from "./gateway";
export { ClientHelloReader, HELLO_FAILURE_REASONS, parseClientHelloBody } from "./net/client-hello";
export type { ClientHelloReaderOptions, HelloFailureReason, HelloResult } from "./net/client-hello";
export { route, ROUTE_REJECT_REASONS } from "./routing/router";
export type { RouteDecision, RouteRejectReason } from "./routing/router";
export { gatewayKey, routeTableFromRoutesFile, routeTableToRoutesFile, serviceKey } from "./routing/route-table";
export type { RouteSource, RouteSourceListener, RouteSourceStatus, RouteTable } from "./routing/route-table";
export { parseRoutesFile, routesFileSchema, routesJsonSchema } from "./routing/routes-schema";
export { FileRouteSource } from "./sources/file-route-source";
export type { FileRouteSourceOptions } from "./sources/file-route-source";
export { StaticRouteSource } from "./sources/static-route-source";
export { ConsulRouteSource, routesFromCatalog } from "./sources/consul-route-source";
export type { ConsulRouteSourceOptions } from "./sources/consul-route-source";
export { XdsRouteSource } from "./sources/xds-route-source";
export { routesFromClusters } from "./sources/xds-routes";
export type { XdsRouteSourceOptions } from "./sources/xds-route-source";
export type { XdsServerOptions } from "./sources/xds-stream";
export { ConsulClient } from "../consul/client";
export type { ConsulClientOptions } from "../consul/client";
export { readConsulSettings } from "../consul/settings";
export type { ConsulConnection, ConsulSettingOverrides } from "../consul/settings";
export { CliError, GatewayConfigError, GatewayInternalError, RouteLimitError, RoutesFileError } from "./errors";
export { ConsulAddressError, ConsulError, ConsulSettingError } from "../consul/errors";
export type { ConsulErrorCode } from "../consul/errors";
export { GatewayMetrics } from "./admin/metrics";
export type { ProxyOptions } from "./net/proxy";
export { parseHostPort, formatHostPort } from "./net/host-port";
export type { HostPort } from "./net/host-port";
