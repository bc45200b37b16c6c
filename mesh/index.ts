/**
 * The pure domain model of a Consul mesh: topology types, validation, mesh gateway mode
 * precedence, Consul SNI names, route plans, and rendering of Consul JSON and HCL.
 * No Pulumi, no sockets.
 */
export { DEFAULT_TRUST_DOMAIN, EFFECTIVE_MODES, WAN_FEDERATION_MODES } from "./model/types";
export type {
  AddressPort,
  ConfigEntry,
  ConnectConfig,
  DatacenterSpec,
  EffectiveMode,
  Mesh,
  MeshGatewayConfig,
  MeshGatewaySpec,
  MeshService,
  Mode,
  PeerSpec,
  ProxyConfig,
  ProxyDefaultsEntry,
  ServiceDefaultsEntry,
  ServiceDefinition,
  Upstream,
  WanFederationMode,
  WanFederationSpec,
} from "./model/types";
export {
  bestAddress,
  catalogAddresses,
  formatAddress,
  gatewayAddress,
  gatewayRegistrationAddresses,
} from "./model/gateway-address";
export type {
  CatalogEntryAddresses,
  DialSide,
  GatewayRegistrationAddresses,
  InstanceAddresses,
} from "./model/gateway-address";
export {
  DEFAULT_CONSUL_DOMAIN,
  gatewaySni,
  isSniLabel,
  parsePeeringSni,
  parseServerSni,
  parseSni,
  peeredServiceSni,
  peeringServerSni,
  serverSni,
  serviceSni,
} from "./model/sni";
export type {
  GatewaySniParts,
  ParsedPeeringSni,
  ParsedServerSni,
  ParsedSni,
  PeeredServiceSniParts,
  ServerSniParts,
  ServiceSniParts,
} from "./model/sni";
export type {
  PeeringRouteKind,
  RouteEndpoint,
  RoutesFile,
  RoutesFileGateway,
  RoutesFilePeeringRoute,
  RoutesFileService,
} from "./model/routes-file";
export { decideMeshGatewayMode, isMode, resolveMeshGatewayMode } from "./model/mode";
export type { ModeDecision, ModeLevel, ModeLevels } from "./model/mode";
export { fromServiceRegistration, toServiceRegistration } from "./render/registration";
export type {
  ConnectJson,
  MeshGatewayJson,
  ProxyJson,
  RegistrableService,
  ServiceRegistrationJson,
  UpstreamJson,
} from "./render/registration";
export { toServiceHcl } from "./render/service-hcl";
export { sortKeys, toConfigEntry, toConfigEntryHcl, toStoredConfigEntry } from "./render/config-entry";
export type {
  ConfigEntryJson,
  ProxyDefaultsJson,
  ServiceDefaultsJson,
  StoredConfigEntryJson,
} from "./render/config-entry";
export { DiagramRenderError, DiagramTooLargeError, MeshValidationError } from "./errors";
export type { MeshProblem } from "./errors";
export { meshProxies, primaryDatacenterOf, serviceDefaultsByName, serviceDefaultsFor } from "./model/mesh-proxies";
export type { MeshProxy } from "./model/mesh-proxies";
export { assertValidMesh, validateMesh } from "./validate/validate";
export {
  declaredIntentions,
  intentionAllows,
  intentionEntryProblems,
  unallowedUpstreamProblems,
} from "./plan/intentions";
export type { DeclaredIntention, IntentionEntry, IntentionSource } from "./plan/intentions";
export { diffRoutePlans, formatRoutePlanDiff } from "./plan/plan-diff";
export type { RouteChange, RoutePlanDiff } from "./plan/plan-diff";
export { formatRoutePlan, planRoutes } from "./plan/plan";
export type { PlannedExport, PlannedRoute, PlannedServerPath, RouteHop, RoutePlan } from "./plan/plan";
export { renderGatewayRoutes } from "./render/gateway-routes";
export type { AddressTarget, GatewayRoutesOptions } from "./render/gateway-routes";
export { AGENT_TLS_FILES, renderAgentConfig } from "./render/agent-config";
export type { AgentConfigJson, AgentConfigOptions, AgentTlsFiles, AgentTlsJson } from "./render/agent-config";
export { gatewayServiceId, toGatewayRegistration } from "./render/gateway-registration";
export type { GatewayAddress, GatewayRegistrationInput, GatewayRegistrationJson } from "./render/gateway-registration";
export { defaultMesh } from "./model/default-mesh";
export { hclString } from "./render/hcl";
export { GATEWAY_TOKEN_RIGHTS, gatewayAclRules } from "./render/gateway-acl-rules";
export { clusterIdOf } from "./model/cluster-id";
export { agentPortsOf, securityOf } from "./model/security";
export type { AgentPorts, DatacenterSecurity } from "./model/security";
export { emptyMesh, emptyOrigins } from "./model/mesh-fragment";
export type { MeshFragment, MeshOrigins, SourceProblem } from "./model/mesh-fragment";
export { consulConfigFragment } from "./read/consul-config";
export type { ConsulConfigDocument, ConsulConfigOptions } from "./read/consul-config";
export { locateProblem, mergeFragments } from "./read/merge-fragments";
export type { MergedMesh } from "./read/merge-fragments";
export { topologyFragment } from "./read/topology-fragment";
export { filterRoutes } from "./plan/route-filter";
export type { RouteFilter } from "./plan/route-filter";
export { catalogMeshFragment } from "./read/catalog-mesh";
export type {
  CatalogDatacenterAnswers,
  CatalogNodeJson,
  CatalogProxyJson,
  CatalogServiceJson,
  CatalogUpstreamJson,
  ConsulCatalogAnswers,
  HealthCheckJson,
  HealthEntryJson,
  ProxyDefaultsReadJson,
  ServiceDefaultsReadJson,
  TaggedAddressJson,
} from "./read/catalog-mesh";
export { gatewayHealthProblems } from "./plan/gateway-health";
export type { GatewayHealthInput } from "./plan/gateway-health";
export { DEFAULT_MAX_ROUTES, MODE_COLOURS, routeDiagramDot } from "./diagram/route-diagram";
export type { RouteDiagramOptions } from "./diagram/route-diagram";
export {
  CONSUL_PORTS,
  DEFAULT_GATEWAY_ADMIN_PORT,
  DEFAULT_GATEWAY_NAME,
  DEFAULT_GATEWAY_PORT,
  DEFAULT_NAMESPACE,
  DEFAULT_PARTITION,
  ENVOY_ADMIN_PORT,
} from "./model/defaults";
export { isPort } from "./model/port";
export { federationProblems } from "./validate/federation";
