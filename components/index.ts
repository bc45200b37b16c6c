/**
 * The Pulumi component library: Consul datacenters on Docker, their WAN federation, the
 * config entries that set mesh gateway modes, the mesh gateways, and connect services, each
 * a thin `ComponentResource` over the pure model in `mesh/`. `ConsulMesh` builds the whole
 * topology at once.
 */
export * from "./datacenter";
export * from "./wan-federation";
export * from "./proxy-defaults";
export * from "./service-defaults";
export * from "./mesh-gateway";
export * from "./gateway-image";
export * from "./sidecar-image";
export * from "./service-intentions";
export * from "./workload";
export * from "./stack-config";
export * from "./stack-images";
export { type DemoUpstream } from "./demo-app";
export { isImageName, isImageReference } from "./image-reference";
export * from "./connect-service";
export * from "./consul-mesh";
export * from "./agent-service-registration";
export * from "./generated-token";
export { InvalidArgumentError } from "./errors";
export {
  agentBaseUrl,
  ConsulApiError,
  deregisterService,
  readService,
  registerService,
  type AgentConnection,
} from "./consul-agent-client";
export { gatewayAclRules } from "./gateway-acl-rules";
export { configEntryJson } from "./config-entry-json";
export { DEFAULT_WAN_SUBNET, defaultLanSubnet } from "./address-plan";
/** The mesh model, so that one import serves a stack. */
export * from "../mesh";
