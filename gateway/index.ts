/**
 * The SNI mesh gateway as a library: start gateways in-process with {@link startGateway}, or use
 * the parts (ClientHello reader, router, route sources) on their own.
 */
export { DEFAULT_MAX_ROUTES, startGateway } from "./gateway";
export type { GatewayHandle, GatewayOptions, GatewayRoutesOption } from "./gateway";
export { ClientHelloReader, HELLO_FAILURE_REASONS, parseClientHelloBody } from "./client-hello";
export type { ClientHelloReaderOptions, HelloFailureReason, HelloResult } from "./client-hello";
export { route, ROUTE_REJECT_REASONS } from "./router";
export type { RouteDecision, RouteRejectReason } from "./router";
export { gatewayKey, routeTableFromRoutesFile, routeTableToRoutesFile, serviceKey } from "./route-table";
export type { RouteSource, RouteSourceListener, RouteSourceStatus, RouteTable } from "./route-table";
export { parseRoutesFile, routesFileSchema, routesJsonSchema } from "./routes-schema";
export { FileRouteSource } from "./file-route-source";
export type { FileRouteSourceOptions } from "./file-route-source";
export { StaticRouteSource } from "./static-route-source";
export { ConsulRouteSource, routesFromCatalog } from "./consul-route-source";
export type { ConsulRouteSourceOptions } from "./consul-route-source";
export { routesFromClusters, XdsRouteSource } from "./xds-route-source";
export type { XdsRouteSourceOptions, XdsServerOptions } from "./xds-route-source";
export { ConsulClient, consulClientOptionsFromEnv } from "./consul-client";
export type { ConsulClientOptions, ConsulClientOverrides } from "./consul-client";
export { CliError, ConsulError, GatewayConfigError, RouteLimitError, RoutesFileError } from "./errors";
export type { ConsulErrorCode } from "./errors";
export { GatewayMetrics } from "./metrics";
export type { ProxyOptions } from "./proxy";
export { parseHostPort, formatHostPort } from "./host-port";
export type { HostPort } from "./host-port";
