/**
 * Service definitions as the JSON body of Consul's `PUT /v1/agent/service/register`
 * (PascalCase, unset fields omitted), and back.
 */
import { DEFAULT_NAMESPACE, DEFAULT_PARTITION } from "../model/defaults";
import type { ConnectConfig, MeshGatewayConfig, ProxyConfig, ServiceDefinition, Upstream } from "../model/types";

/** `MeshGateway` in registration JSON. */
export interface MeshGatewayJson {
  /** `local`, `remote` or `none`. */
  Mode: string;
}

/** One element of `Proxy.Upstreams`. */
export interface UpstreamJson {
  /** `destination_name`. */
  DestinationName: string;
  /** `destination_namespace`; omitted when unset. */
  DestinationNamespace?: string;
  /** `destination_partition`; omitted when unset. */
  DestinationPartition?: string;
  /** `datacenter`; omitted when unset (the proxy's own). */
  Datacenter?: string;
  /** `local_bind_address`; omitted when unset (Consul's 127.0.0.1). */
  LocalBindAddress?: string;
  /** `local_bind_port`. */
  LocalBindPort: number;
  /** `mesh_gateway`; omitted when no mode is set. */
  MeshGateway?: MeshGatewayJson;
}

/** `Proxy` of a registration (or of `Connect.SidecarService`). */
export interface ProxyJson {
  /** `destination_service_name`. */
  DestinationServiceName?: string;
  /** `destination_service_id`. */
  DestinationServiceID?: string;
  /** `local_service_port`. */
  LocalServicePort?: number;
  /** The instance-level mode (`mesh_gateway`); omitted when no mode is set. */
  MeshGateway?: MeshGatewayJson;
  /** `upstreams`. */
  Upstreams?: UpstreamJson[];
  /** Opaque `config`, passed through. */
  Config?: Record<string, unknown>;
}

/** `Connect` of a registration: the inline sidecar. */
export interface ConnectJson {
  /** `sidecar_service`. */
  SidecarService: {
    /** Sidecar port; omitted to let Consul assign one. */
    Port?: number;
    /** The sidecar's proxy block. */
    Proxy?: ProxyJson;
  };
}

/** The body of `PUT /v1/agent/service/register` this model produces. */
export interface ServiceRegistrationJson {
  /** Service name. */
  Name: string;
  /** Instance ID; omitted means the name. */
  ID?: string;
  /** `connect-proxy` or `mesh-gateway`; omitted for a typical service. */
  Kind?: "connect-proxy" | "mesh-gateway";
  /** Enterprise namespace, only when not `default`. */
  Namespace?: string;
  /** Enterprise admin partition, only when not `default`. */
  Partition?: string;
  /** Service (or proxy) port. */
  Port: number;
  /** Instance address; omitted means the agent's. */
  Address?: string;
  /** Tags. */
  Tags?: string[];
  /** Metadata. */
  Meta?: Record<string, string>;
  /** The proxy block of a connect-proxy. */
  Proxy?: ProxyJson;
  /** The inline sidecar. */
  Connect?: ConnectJson;
}

/**
 * A service definition that may carry a `MeshService`'s placement: `namespace` and
 * `partition` (rendered when not `"default"`) and `datacenter` (never rendered: it decides
 * which agent to call).
 */
export type RegistrableService = ServiceDefinition & {
  /** Enterprise namespace. Default: `"default"`. */
  namespace?: string;
  /** Enterprise admin partition. Default: `"default"`. */
  partition?: string;
  /** Datacenter whose agent registers it; not part of the body. */
  datacenter?: string;
};

function meshGatewayToJson(config: MeshGatewayConfig | undefined): MeshGatewayJson | undefined {
  return config?.mode ? { Mode: config.mode } : undefined;
}

function meshGatewayFromJson(json: MeshGatewayJson | undefined): MeshGatewayConfig | undefined {
  return json?.Mode ? { mode: json.Mode as MeshGatewayConfig["mode"] } : undefined;
}

/** Copies `entries` into a new object in order, leaving out `undefined` values. */
function compact<T>(entries: [string, unknown][]): T {
  const out: Record<string, unknown> = {};
  for (const [key, value] of entries) if (value !== undefined) out[key] = value;
  return out as T;
}

function upstreamToJson(upstream: Upstream): UpstreamJson {
  return compact<UpstreamJson>([
    ["DestinationName", upstream.destinationName],
    ["DestinationNamespace", upstream.destinationNamespace],
    ["DestinationPartition", upstream.destinationPartition],
    ["Datacenter", upstream.datacenter],
    ["LocalBindAddress", upstream.localBindAddress],
    ["LocalBindPort", upstream.localBindPort],
    ["MeshGateway", meshGatewayToJson(upstream.meshGateway)],
  ]);
}

function upstreamFromJson(json: UpstreamJson): Upstream {
  return compact<Upstream>([
    ["destinationName", json.DestinationName],
    ["destinationNamespace", json.DestinationNamespace],
    ["destinationPartition", json.DestinationPartition],
    ["datacenter", json.Datacenter],
    ["localBindPort", json.LocalBindPort],
    ["localBindAddress", json.LocalBindAddress],
    ["meshGateway", meshGatewayFromJson(json.MeshGateway)],
  ]);
}

function proxyToJson(proxy: ProxyConfig): ProxyJson {
  return compact<ProxyJson>([
    ["DestinationServiceName", proxy.destinationServiceName],
    ["DestinationServiceID", proxy.destinationServiceId],
    ["LocalServicePort", proxy.localServicePort],
    ["MeshGateway", meshGatewayToJson(proxy.meshGateway)],
    ["Upstreams", proxy.upstreams?.map(upstreamToJson)],
    ["Config", proxy.config],
  ]);
}

function proxyFromJson(json: ProxyJson): ProxyConfig {
  return compact<ProxyConfig>([
    ["destinationServiceName", json.DestinationServiceName],
    ["destinationServiceId", json.DestinationServiceID],
    ["localServicePort", json.LocalServicePort],
    ["meshGateway", meshGatewayFromJson(json.MeshGateway)],
    ["upstreams", json.Upstreams?.map(upstreamFromJson)],
    ["config", json.Config],
  ]);
}

function connectToJson(connect: ConnectConfig): ConnectJson {
  const sidecar = connect.sidecarService;
  return {
    SidecarService: compact<ConnectJson["SidecarService"]>([
      ["Port", sidecar.port],
      ["Proxy", sidecar.proxy ? proxyToJson(sidecar.proxy) : undefined],
    ]),
  };
}

function connectFromJson(json: ConnectJson): ConnectConfig {
  const sidecar = json.SidecarService ?? {};
  return {
    sidecarService: compact<ConnectConfig["sidecarService"]>([
      ["port", sidecar.Port],
      ["proxy", sidecar.Proxy ? proxyFromJson(sidecar.Proxy) : undefined],
    ]),
  };
}

/** A namespace or partition worth sending: set and not the default one. */
function nonDefault(value: string | undefined, fallback: string): string | undefined {
  return value && value !== fallback ? value : undefined;
}

/**
 * The JSON body of `PUT /v1/agent/service/register` for a service definition. Unset fields
 * are omitted, a mode of `""` (not set) omits its `MeshGateway`, and a `MeshService`'s
 * `namespace`/`partition` appear as `Namespace`/`Partition` only when not `"default"`
 * (its `datacenter` decides which agent to call and is not part of the body). Opaque
 * `config` objects are passed through unchanged. Pure; never throws on input of the declared type (check untyped
 * input with `validateMesh` first).
 * @param def - The service definition (a `MeshService` is accepted).
 */
export function toServiceRegistration(def: RegistrableService): ServiceRegistrationJson {
  return compact<ServiceRegistrationJson>([
    ["Name", def.name],
    ["ID", def.id],
    ["Kind", def.kind],
    ["Namespace", nonDefault(def.namespace, DEFAULT_NAMESPACE)],
    ["Partition", nonDefault(def.partition, DEFAULT_PARTITION)],
    ["Address", def.address],
    ["Port", def.port],
    ["Tags", def.tags ? [...def.tags] : undefined],
    ["Meta", def.meta ? { ...def.meta } : undefined],
    ["Proxy", def.proxy ? proxyToJson(def.proxy) : undefined],
    ["Connect", def.connect ? connectToJson(def.connect) : undefined],
  ]);
}

/**
 * The inverse of {@link toServiceRegistration}: a registration body back to the model.
 * Fields the model does not know are ignored.
 * @param json - A registration body, e.g. parsed from a file or from a Consul double.
 */
export function fromServiceRegistration(json: ServiceRegistrationJson): RegistrableService {
  return compact<RegistrableService>([
    ["name", json.Name],
    ["id", json.ID],
    ["kind", json.Kind],
    ["port", json.Port],
    ["address", json.Address],
    ["tags", json.Tags ? [...json.Tags] : undefined],
    ["meta", json.Meta ? { ...json.Meta } : undefined],
    ["proxy", json.Proxy ? proxyFromJson(json.Proxy) : undefined],
    ["connect", json.Connect ? connectFromJson(json.Connect) : undefined],
    ["namespace", json.Namespace],
    ["partition", json.Partition],
  ]);
}
