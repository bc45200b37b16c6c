/**
 * The Pulumi component library: Consul datacenters on Docker, their WAN federation, the
 * config entries that set mesh gateway modes, the mesh gateways, and connect services, each
 * a thin `ComponentResource` over the pure model in `mesh/`. `ConsulMesh` builds the whole
 * topology at once.
 */
export {
  AGENT_CONFIG_PATH,
  CONSUL_IMAGE,
  DATA_PATH,
  Datacenter,
  DEFAULT_RESOURCE_PREFIX,
  SERVER_STOP_GRACE_SECONDS,
} from "./datacenter";
export type { DatacenterArgs, WanAttachment, WanHost, WanHostArgs } from "./datacenter";
export type { ConsulDatacenter } from "./consul-datacenter";
export type { AclRight } from "../consul/authorize";
export { ExistingDatacenter } from "./existing-datacenter";
export type { DatacenterFacts, ExistingDatacenterArgs, LiveRoutePlan } from "./existing-datacenter";
export { WanFederation } from "./wan-federation";
export type { FederatedDatacenter, WanFederationArgs } from "./wan-federation";
export { ProxyDefaults } from "./proxy-defaults";
export type { ProxyDefaultsArgs } from "./proxy-defaults";
export { ServiceDefaults } from "./service-defaults";
export type { ServiceDefaultsArgs } from "./service-defaults";
export {
  CONSUL_CA_FILE_PATH,
  GATEWAY_DRAIN_GRACE_SECONDS,
  GATEWAY_STOP_GRACE_SECONDS,
  MeshGateway,
  ROUTES_FILE_PATH,
} from "./mesh-gateway";
export type { GatewayRouteSource, MeshGatewayArgs } from "./mesh-gateway";
export {
  DEFAULT_GATEWAY_IMAGE_NAME,
  defaultGatewayImageContext,
  GatewayImage,
  gatewayImageProblems,
  packageRoot,
} from "./images/gateway-image";
export type { GatewayImageArgs } from "./images/gateway-image";
export { DEFAULT_ENVOY_IMAGE, DEFAULT_SIDECAR_IMAGE_NAME, SidecarImage } from "./images/sidecar-image";
export type { SidecarImageArgs } from "./images/sidecar-image";
export { ExportedServices, Peering, PeeringThroughGateways } from "./peering";
export type { ExportedService, ExportedServicesArgs, PeeringArgs, PeeringThroughGatewaysArgs } from "./peering";
export { ServiceIntentions } from "./service-intentions";
export type { IntentionSource, ServiceIntentionsArgs } from "./service-intentions";
export { Workload } from "./workload";
export type { WorkloadArgs } from "./workload";
export { dockerHostAddress, readStackConfig, StackConfigError } from "./stack/stack-config";
export type { ConfigSource, ExistingDatacenterConfig, StackConfig, StackConfigProblem } from "./stack/stack-config";
export { stackImages } from "./stack/stack-images";
export type { StackImages } from "./stack/stack-images";
export { type DemoUpstream } from "./plans/demo-app";
export { demoUpstreams } from "./plans/workload-plan";
export { isImageName, isImageReference } from "./images/image-reference";
export { ConnectService } from "./connect-service";
export type { ConnectServiceArgs } from "./connect-service";
export { ConsulMesh, DEFAULT_DEMO_HOST_PORT } from "./consul-mesh";
export type { ConsulMeshArgs, WorkloadsArgs } from "./consul-mesh";
export {
  agentServiceProvider,
  AgentServiceRegistration,
  DEFAULT_AGENT_RETRY_MS,
} from "./dynamic/agent-service-registration";
export type { AgentServiceRegistrationArgs, AgentServiceRegistrationState } from "./dynamic/agent-service-registration";
export { GeneratedToken, GeneratedTrustDomain, generatedUuidProvider } from "./dynamic/generated-token";
export {
  ConsulCertificateAuthority,
  ConsulServerCertificate,
  createCertificateAuthority,
  createGossipKey,
  GossipKey,
  issueServerCertificate,
} from "./dynamic/consul-secrets";
export type {
  CertificateAuthorityPem,
  CertificatePem,
  ConsulCertificateAuthorityArgs,
  ConsulServerCertificateArgs,
  GossipKeyArgs,
  ServerCertificateRequest,
} from "./dynamic/consul-secrets";
export { PresetAclToken } from "./dynamic/preset-acl-token";
export type { PresetAclTokenArgs } from "./dynamic/preset-acl-token";
export { DatacenterAccessError, DockerHostError, InvalidArgumentError } from "./errors";
export { DockerHost, pingDockerHost } from "./docker-host";
export type { DockerHostArgs } from "./docker-host";
export {
  agentBaseUrl,
  ConsulApiError,
  deregisterService,
  readService,
  registerService,
  type AgentConnection,
} from "../consul/agent";
export { configEntryJson } from "./plans/config-entry-json";
export { routePlanText, routeSummary } from "./plans/route-plan-outputs";
export { DEFAULT_WAN_SUBNET, defaultLanSubnet } from "./plans/address-plan";
/** The mesh model, so that one import serves a stack. */
export * from "../mesh";
