/**
 * The few Envoy xDS v3 messages the gateway reads, as proto3 with Envoy's field numbers
 * (envoyproxy/data-plane-api: `envoy/service/discovery/v3/discovery.proto`,
 * `envoy/config/core/v3/{base,address,health_check}.proto`, `envoy/config/cluster/v3/cluster.proto`,
 * `envoy/config/endpoint/v3/{endpoint,endpoint_components}.proto`,
 * `envoy/config/listener/v3/{listener,listener_components}.proto`,
 * `envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.proto`). Only the fields used are
 * declared: protobuf skips the others when decoding, so Consul's full messages decode as these.
 */
import protobuf from "protobufjs";

const PROTO = `
syntax = "proto3";

message Any { string type_url = 1; bytes value = 2; }

message BuildVersion { SemanticVersion version = 1; }
message SemanticVersion { uint32 major_number = 1; uint32 minor_number = 2; uint32 patch = 3; }

message Node {
  string id = 1;
  string cluster = 2;
  string user_agent_name = 6;
  oneof user_agent_version_type { string user_agent_version = 7; BuildVersion user_agent_build_version = 8; }
}

message DeltaDiscoveryRequest {
  Node node = 1;
  string type_url = 2;
  repeated string resource_names_subscribe = 3;
  repeated string resource_names_unsubscribe = 4;
  map<string, string> initial_resource_versions = 5;
  string response_nonce = 6;
}

message Resource {
  string version = 1;
  Any resource = 2;
  string name = 3;
}

message DeltaDiscoveryResponse {
  string system_version_info = 1;
  repeated Resource resources = 2;
  string type_url = 4;
  string nonce = 5;
  repeated string removed_resources = 6;
}

message SocketAddress { string address = 2; oneof port_specifier { uint32 port_value = 3; string named_port = 4; } }
message Address { oneof address { SocketAddress socket_address = 1; } }
message Endpoint { Address address = 1; string hostname = 3; }
message LbEndpoint { oneof host_identifier { Endpoint endpoint = 1; } int32 health_status = 2; }
message LocalityLbEndpoints { repeated LbEndpoint lb_endpoints = 2; uint32 priority = 5; }
message ClusterLoadAssignment { string cluster_name = 1; repeated LocalityLbEndpoints endpoints = 2; }

message Cluster {
  string name = 1;
  oneof cluster_discovery_type { int32 type = 2; }
  ClusterLoadAssignment load_assignment = 33;
}

message FilterChainMatch { repeated string server_names = 11; }
message Filter { string name = 1; oneof config_type { Any typed_config = 4; } }
message TransportSocket { string name = 1; }
message FilterChain {
  FilterChainMatch filter_chain_match = 1;
  repeated Filter filters = 3;
  TransportSocket transport_socket = 6;
}
message Listener { string name = 1; repeated FilterChain filter_chains = 3; }
message TcpProxy { string stat_prefix = 1; oneof cluster_specifier { string cluster = 2; } }
`;

const root = protobuf.parse(PROTO, { keepCase: true }).root;

/** Type URLs of the resources the gateway asks for. */
export const CLUSTER_TYPE = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
/** See {@link CLUSTER_TYPE}. */
export const ENDPOINT_TYPE = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";

/** See {@link CLUSTER_TYPE}. */
export const LISTENER_TYPE = "type.googleapis.com/envoy.config.listener.v3.Listener";
/** The `typed_config` of a filter chain that relays TCP to one cluster. */
const TCP_PROXY_TYPE = "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy";

/** `Cluster.type` (`Cluster.DiscoveryType`) of a cluster whose endpoints come by EDS. */
export const DISCOVERY_TYPE_EDS = 3;

/**
 * `core.v3.HealthStatus` values an endpoint is used with, as Envoy uses them: `UNKNOWN` (0) and
 * `HEALTHY` (1). `UNHEALTHY`, `DRAINING`, `TIMEOUT` and `DEGRADED` are left out.
 */
export const USABLE_HEALTH = new Set([0, 1]);

/** The `Node` of a request: the proxy's service ID, as Consul's xDS server looks the proxy up by it. */
export interface XdsNode {
  id: string;
  cluster: string;
  user_agent_name: string;
  user_agent_version?: string;
}

/** A `DeltaDiscoveryRequest`. */
export interface DeltaRequest {
  node?: XdsNode;
  type_url: string;
  resource_names_subscribe?: string[];
  resource_names_unsubscribe?: string[];
  response_nonce?: string;
}

/** A `DeltaDiscoveryResponse`, decoded. */
export interface DeltaResponse {
  type_url: string;
  nonce: string;
  resources: Array<{ name: string; version: string; resource?: { type_url: string; value: Uint8Array } }>;
  removed_resources: string[];
}

/** A `ClusterLoadAssignment`, decoded. */
export interface LoadAssignment {
  cluster_name: string;
  endpoints: Array<{
    priority: number;
    lb_endpoints: Array<{
      health_status: number;
      endpoint?: { hostname: string; address?: { socket_address?: { address: string; port_value?: number } } };
    }>;
  }>;
}

/** A `Cluster`, decoded. */
export interface ClusterResource {
  name: string;
  type?: number;
  load_assignment?: LoadAssignment;
}

/**
 * A filter chain of a `Listener`, as far as routing by name goes: the SNI names it matches, the
 * cluster its TCP proxy relays to, and whether it terminates TLS (a transport socket: Consul's
 * gateway decrypts on such a chain).
 */
export interface FilterChainRoute {
  serverNames: string[];
  /** The TCP proxy's cluster; `undefined` when the chain does something else (an HTTP filter). */
  cluster?: string;
  terminates: boolean;
}

/** A `Listener`, decoded to its filter chains. */
export interface ListenerResource {
  name: string;
  chains: FilterChainRoute[];
}

const types = {
  request: root.lookupType("DeltaDiscoveryRequest"),
  response: root.lookupType("DeltaDiscoveryResponse"),
  cluster: root.lookupType("Cluster"),
  assignment: root.lookupType("ClusterLoadAssignment"),
  listener: root.lookupType("Listener"),
  tcpProxy: root.lookupType("TcpProxy"),
};

const DECODE = { defaults: true, arrays: true, longs: Number, bytes: Uint8Array } as const;

/** Encodes a request for the wire. */
export function encodeDeltaRequest(request: DeltaRequest): Buffer {
  return Buffer.from(types.request.encode(types.request.fromObject(request)).finish());
}

/** Decodes a response from the wire. */
export function decodeDeltaResponse(bytes: Buffer): DeltaResponse {
  return types.response.toObject(types.response.decode(bytes), DECODE) as unknown as DeltaResponse;
}

/** Decodes the `Any` of a CDS resource. */
export function decodeCluster(value: Uint8Array): ClusterResource {
  const cluster = types.cluster.decode(value);
  const object = types.cluster.toObject(cluster, { ...DECODE, defaults: false, oneofs: true }) as ClusterResource;
  return { name: object.name ?? "", type: object.type, load_assignment: object.load_assignment };
}

/** Decodes the `Any` of an EDS resource. */
export function decodeLoadAssignment(value: Uint8Array): LoadAssignment {
  return types.assignment.toObject(types.assignment.decode(value), DECODE) as LoadAssignment;
}

/** Decodes the `Any` of an LDS resource to its filter chains. */
export function decodeListener(value: Uint8Array): ListenerResource {
  const listener = types.listener.toObject(types.listener.decode(value), DECODE) as {
    name: string;
    filter_chains: Array<{
      filter_chain_match?: { server_names: string[] } | null;
      filters: Array<{ typed_config?: { type_url: string; value: Uint8Array } }>;
      transport_socket?: { name: string } | null;
    }>;
  };
  const chains = listener.filter_chains.map((chain) => {
    const proxy = chain.filters.find((f) => f.typed_config?.type_url === TCP_PROXY_TYPE)?.typed_config;
    const cluster = proxy ? (types.tcpProxy.toObject(types.tcpProxy.decode(proxy.value)) as { cluster?: string }) : {};
    return {
      serverNames: chain.filter_chain_match?.server_names ?? [],
      ...(cluster.cluster ? { cluster: cluster.cluster } : {}),
      terminates: Boolean(chain.transport_socket),
    };
  });
  return { name: listener.name, chains };
}
