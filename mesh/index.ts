/**
 * The pure domain model of a Consul mesh: topology types, validation, mesh gateway mode
 * precedence, Consul SNI names, route plans, and rendering of Consul JSON and HCL.
 * No Pulumi, no sockets.
 */
export * from "./model/types";
export * from "./model/sni";
export * from "./model/routes-file";
export * from "./model/mode";
export * from "./render/registration";
export * from "./render/service-hcl";
export * from "./render/config-entry";
export * from "./errors";
export * from "./model/mesh-proxies";
export * from "./validate/validate";
export * from "./plan/intentions";
export * from "./plan/plan-diff";
export * from "./plan/plan";
export * from "./render/gateway-routes";
export * from "./render/agent-config";
export * from "./render/gateway-registration";
export * from "./model/default-mesh";
export { hclString } from "./render/hcl";
export { GATEWAY_TOKEN_RIGHTS, gatewayAclRules } from "./render/gateway-acl-rules";
export * from "./model/cluster-id";
export * from "./model/mesh-fragment";
export * from "./read/consul-config";
export * from "./read/merge-fragments";
export * from "./read/topology-fragment";
export * from "./plan/route-filter";
export * from "./read/catalog-mesh";
export * from "./plan/gateway-health";
export * from "./diagram/route-diagram";
export * from "./model/defaults";
export * from "./model/port";
export * from "./validate/federation";
