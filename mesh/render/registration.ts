/**
 * Service definitions as the JSON body of Consul's `PUT /v1/agent/service/register`
 * (PascalCase, unset fields omitted), and back.
 */
import { DEFAULT_NAMESPACE, DEFAULT_PARTITION } from "../model/defaults";
import type { ConnectConfig, MeshGatewayConfig, ServiceDefinition } from "../model/types";

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
  /** `destination_peer`; omitted when unset. */
  DestinationPeer?: string;
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

/** A value of the model and of Consul's JSON, each way. */
interface Codec {
  toJson(value: unknown): unknown;
  fromJson(value: unknown): unknown;
}

/** Copies `entries` into a new object in order, leaving out `undefined` values. */
function compact<T>(entries: [string, unknown][]): T {
  const out: Record<string, unknown> = {};
  for (const [key, value] of entries) if (value !== undefined) out[key] = value;
  return out as T;
}

/** An object whose fields are written `[model name, Consul name, codec of the value]`, each way. */
function record(fields: [string, string, Codec?][]): Codec {
  const convert = (value: unknown, codec: Codec | undefined, way: keyof Codec) =>
    value === undefined || !codec ? value : codec[way](value);
  return {
    toJson: (value) =>
      compact(
        fields.map(([model, json, codec]) => [
          json,
          convert((value as Record<string, unknown>)[model], codec, "toJson"),
        ]),
      ),
    fromJson: (value) =>
      compact(
        fields.map(([model, json, codec]) => [
          model,
          convert((value as Record<string, unknown>)[json], codec, "fromJson"),
        ]),
      ),
  };
}

/** A list of values of `codec`. */
const listOf = (codec: Codec): Codec => ({
  toJson: (value) => (value as unknown[]).map((v) => codec.toJson(v)),
  fromJson: (value) => (value as unknown[]).map((v) => codec.fromJson(v)),
});

/** A fresh copy of a list or a map, so that the output shares nothing with the input. */
const copy: Codec = {
  toJson: (value) => (Array.isArray(value) ? [...value] : { ...(value as object) }),
  fromJson: (value) => (Array.isArray(value) ? [...value] : { ...(value as object) }),
};

/** A mesh gateway mode; an empty one (not set here) is left out. */
const meshGateway: Codec = {
  toJson: (value) => ((value as MeshGatewayConfig).mode ? { Mode: (value as MeshGatewayConfig).mode } : undefined),
  fromJson: (value) => ((value as MeshGatewayJson).Mode ? { mode: (value as MeshGatewayJson).Mode } : undefined),
};

const upstream = record([
  ["destinationName", "DestinationName"],
  ["destinationNamespace", "DestinationNamespace"],
  ["destinationPartition", "DestinationPartition"],
  ["datacenter", "Datacenter"],
  ["destinationPeer", "DestinationPeer"],
  ["localBindAddress", "LocalBindAddress"],
  ["localBindPort", "LocalBindPort"],
  ["meshGateway", "MeshGateway", meshGateway],
]);

const proxy = record([
  ["destinationServiceName", "DestinationServiceName"],
  ["destinationServiceId", "DestinationServiceID"],
  ["localServicePort", "LocalServicePort"],
  ["meshGateway", "MeshGateway", meshGateway],
  ["upstreams", "Upstreams", listOf(upstream)],
  ["config", "Config"],
]);

const sidecar = record([
  ["port", "Port"],
  ["proxy", "Proxy", proxy],
]);

/** `Connect`: the inline sidecar (read back as one even when its block is empty). */
const connect: Codec = {
  toJson: (value) => ({ SidecarService: sidecar.toJson((value as ConnectConfig).sidecarService) }),
  fromJson: (value) => ({ sidecarService: sidecar.fromJson((value as ConnectJson).SidecarService ?? {}) }),
};

/** The fields of a registration the model keeps, in Consul's order (`namespace`/`partition` apart). */
const service = record([
  ["name", "Name"],
  ["id", "ID"],
  ["kind", "Kind"],
  ["namespace", "Namespace"],
  ["partition", "Partition"],
  ["address", "Address"],
  ["port", "Port"],
  ["tags", "Tags", copy],
  ["meta", "Meta", copy],
  ["proxy", "Proxy", proxy],
  ["connect", "Connect", connect],
]);

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
  return service.toJson({
    ...def,
    namespace: nonDefault(def.namespace, DEFAULT_NAMESPACE),
    partition: nonDefault(def.partition, DEFAULT_PARTITION),
  }) as ServiceRegistrationJson;
}

/**
 * The inverse of {@link toServiceRegistration}: a registration body back to the model.
 * Fields the model does not know are ignored.
 * @param json - A registration body, e.g. parsed from a file or from a Consul double.
 */
export function fromServiceRegistration(json: ServiceRegistrationJson): RegistrableService {
  return service.fromJson(json) as RegistrableService;
}
