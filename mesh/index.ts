/**
 * The pure domain model of a Consul mesh: topology types, validation, mesh gateway mode
 * precedence, Consul SNI names, route plans, and rendering of Consul JSON and HCL.
 * No Pulumi, no sockets.
 */
export * from "./types";
export * from "./sni";
export * from "./routes-file";
export * from "./mode";
export * from "./registration";
export * from "./service-hcl";
export * from "./config-entry";
export * from "./errors";
export * from "./mesh-proxies";
export * from "./validate";
export * from "./intentions";
export * from "./plan-diff";
export * from "./plan";
export * from "./gateway-routes";
export * from "./agent-config";
export * from "./gateway-registration";
export * from "./default-mesh";
export { hclString } from "./hcl";
export * from "./cluster-id";
export * from "./mesh-fragment";
export * from "./consul-config";
export * from "./merge-fragments";
export * from "./topology-fragment";
export * from "./route-filter";
export * from "./catalog-mesh";
export * from "./gateway-health";
export * from "./route-diagram";
export * from "./defaults";
export * from "./port";
export * from "./consul-address";
export * from "./federation";
