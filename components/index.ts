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
export * from "./images/gateway-image";
export * from "./images/sidecar-image";
export * from "./service-intentions";
export * from "./workload";
export * from "./stack/stack-config";
export * from "./stack/stack-images";
export { type DemoUpstream } from "./plans/demo-app";
export { isImageName, isImageReference } from "./images/image-reference";
export * from "./connect-service";
export * from "./consul-mesh";
export * from "./dynamic/agent-service-registration";
export * from "./dynamic/generated-token";
export { InvalidArgumentError } from "./errors";
export {
  agentBaseUrl,
  ConsulApiError,
  deregisterService,
  readService,
  registerService,
  type AgentConnection,
} from "../consul/agent";
export { configEntryJson } from "./plans/config-entry-json";
export { DEFAULT_WAN_SUBNET, defaultLanSubnet } from "./plans/address-plan";
/** The mesh model, so that one import serves a stack. */
export * from "../mesh";
