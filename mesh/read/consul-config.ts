/**
 * Consul configuration files as operators write them (agent configuration, service
 * definitions, config entries; HCL or JSON, parsed by the caller), read into a
 * {@link MeshFragment}: the agent configuration gives the datacenter, its primary and the
 * mesh gateway prerequisites; service definitions give services, sidecars, connect proxies
 * and mesh gateways; config entries give `proxy-defaults` and `service-defaults`.
 *
 * The files of one directory are one agent's configuration, as `consul agent -config-dir`
 * reads them: their services belong to that agent's datacenter.
 */
import { toApiForm, unknownKeys, snakeKey } from "../model/consul-config-keys";
import { isObject, listOf } from "../model/guards";
import { emptyMesh, emptyOrigins, type MeshFragment, type SourceProblem } from "../model/mesh-fragment";
import { fromServiceRegistration, type ServiceRegistrationJson } from "../render/registration";
import type { DatacenterSpec, MeshGatewaySpec, Mode, ServiceDefaultsEntry } from "../model/types";

/** One parsed configuration file. */
export interface ConsulConfigDocument {
  /** Where it came from, e.g. its path: problems and origins name it. */
  origin: string;
  /** The parsed HCL or JSON document. */
  content: unknown;
}

/** Options of {@link consulConfigFragment}. */
export interface ConsulConfigOptions {
  /**
   * Datacenter of the services when no file of the group sets `datacenter` (e.g. the primary of
   * a topology file). Default: Consul's `"dc1"`, which the fragment then declares itself.
   */
  datacenter?: string;
}

type Api = Record<string, unknown>;

/** Keys that make a document an agent configuration (rather than only service definitions). */
const AGENT_KEYS = [
  "Datacenter",
  "PrimaryDatacenter",
  "AclDatacenter",
  "Connect",
  "Peering",
  "Ports",
  "EnableCentralServiceConfig",
  "Acl",
];

function api(value: unknown): Api {
  return isObject(value) && !Array.isArray(value) ? (value as Api) : {};
}

/** A block as written: HCL 1 gives a one-element list for `name { … }`. */
function written(value: unknown): unknown {
  return Array.isArray(value) && value.length === 1 ? value[0] : value;
}

/** The value under `key` as written, whatever its case. */
function rawField(block: unknown, key: string): unknown {
  return Object.entries(api(written(block))).find(([k]) => snakeKey(k) === key)?.[1];
}

/** The written block under `key`. */
function writtenField(block: unknown, key: string): unknown {
  return written(rawField(block, key));
}

class FragmentBuilder {
  readonly fragment: MeshFragment = {
    mesh: emptyMesh(),
    origins: emptyOrigins(),
    problems: [],
  };

  problem(origin: string, field: string | undefined, message: string): void {
    this.fragment.problems!.push({ origin, ...(field ? { field } : {}), message } satisfies SourceProblem);
  }
}

/** The agent settings of a group of files, merged as Consul merges a config directory. */
function agentSettings(
  documents: ConsulConfigDocument[],
  out: FragmentBuilder,
): { spec?: DatacenterSpec; origin?: string; throughGateways?: boolean } {
  let spec: DatacenterSpec | undefined;
  let origin: string | undefined;
  let throughGateways: boolean | undefined;
  let tls = false;
  let grpc: number | undefined;
  let grpcTls: number | undefined;
  for (const doc of documents) {
    const config = api(toApiForm(doc.content));
    if ("Kind" in config) continue;
    tls ||= "Tls" in config || "CertFile" in config;
    if (!AGENT_KEYS.some((key) => key in config)) continue;
    const name = (config.Datacenter as string | undefined) ?? spec?.name;
    if (spec?.name && config.Datacenter !== undefined && config.Datacenter !== spec.name) {
      out.problem(
        doc.origin,
        "datacenter",
        `datacenter "${String(config.Datacenter)}" differs from ` +
          `"${spec.name}" in ${origin}: one directory is one agent`,
      );
      continue;
    }
    spec = { ...spec, name: name ?? "" };
    origin ??= doc.origin;
    const primary = config.PrimaryDatacenter ?? config.AclDatacenter;
    if (typeof primary === "string") spec.primaryDatacenter = primary;
    const connect = api(config.Connect);
    if (typeof connect.Enabled === "boolean") spec.connect = { enabled: connect.Enabled };
    const wanFederation = connect.EnableMeshGatewayWanFederation ?? connect.EnableMeshGatewayWANFederation;
    if (typeof wanFederation === "boolean") throughGateways = wanFederation;
    const peering = api(config.Peering);
    if (typeof peering.Enabled === "boolean") spec.peering = { enabled: peering.Enabled };
    const ports = api(config.Ports);
    if (typeof ports.Grpc === "number") grpc = ports.Grpc;
    if (typeof ports.GrpcTls === "number") grpcTls = ports.GrpcTls;
    if (typeof config.EnableCentralServiceConfig === "boolean")
      spec.enableCentralServiceConfig = config.EnableCentralServiceConfig;
    const acl = api(config.Acl);
    if (typeof acl.Enabled === "boolean" || typeof acl.DefaultPolicy === "string") {
      spec.acl = {
        enabled: acl.Enabled as boolean | undefined,
        defaultPolicy: acl.DefaultPolicy as "allow" | "deny" | undefined,
      };
    }
  }
  if (!spec) return {};
  // Consul 1.14+ serves no plaintext gRPC unless `ports.grpc` is set; its TLS gRPC (8503 by
  // default) serves only when the agent has TLS. Either one is what mesh gateways need.
  const tlsGrpc = tls && (grpcTls === undefined || grpcTls > 0);
  if (grpc !== undefined) spec.ports = { grpc };
  else if (!tlsGrpc) spec.ports = { grpc: -1 };
  if (!spec.name) spec.name = "dc1";
  return { spec, origin, throughGateways };
}

/** Problems for the keys of a service's routing blocks that Consul would refuse. */
function checkRoutingKeys(written: unknown, field: string, origin: string, out: FragmentBuilder): void {
  const sidecar = writtenField(writtenField(written, "connect"), "sidecar_service");
  const [proxy, proxyField] = sidecar
    ? [writtenField(sidecar, "proxy"), `${field}.connect.sidecar_service.proxy`]
    : [writtenField(written, "proxy"), `${field}.proxy`];
  if (proxy === undefined) return;
  const report = (keys: string[], at: string, what: string) => {
    for (const key of keys)
      out.problem(origin, `${at}.${key}`, `unknown key "${key}" in ${what}: Consul refuses it ("invalid config key")`);
  };
  report(unknownKeys(proxy, "proxy"), proxyField, "a proxy block");
  report(unknownKeys(writtenField(proxy, "mesh_gateway"), "meshGateway"), `${proxyField}.mesh_gateway`, "mesh_gateway");
  listOf<unknown>(rawField(proxy, "upstreams")).forEach((upstream, k) => {
    const at = `${proxyField}.upstreams[${k}]`;
    report(unknownKeys(upstream, "upstream"), at, "an upstream");
    report(unknownKeys(writtenField(upstream, "mesh_gateway"), "meshGateway"), `${at}.mesh_gateway`, "mesh_gateway");
  });
}

function gatewayOf(service: Api, datacenter: string): MeshGatewaySpec {
  const tagged = api(service.TaggedAddresses);
  const side = (value: unknown) => {
    const block = api(value);
    return typeof block.Address === "string" && typeof block.Port === "number"
      ? { address: block.Address, port: block.Port }
      : undefined;
  };
  const lan = side(tagged.Lan);
  const wan = side(tagged.Wan);
  return {
    datacenter,
    ...(typeof service.Name === "string" ? { name: service.Name } : {}),
    ...(typeof service.Port === "number" ? { port: service.Port } : {}),
    ...(typeof service.Address === "string" ? { address: service.Address } : {}),
    ...(lan || wan ? { taggedAddresses: { ...(lan ? { lan } : {}), ...(wan ? { wan } : {}) } } : {}),
  };
}

/** Where a group's services are registered: its agent's datacenter and node (`node_name`, when set). */
interface Placement {
  datacenter: string;
  node?: string;
}

/** The agent's `node_name`, from the first file of the group that sets it. */
function nodeName(documents: ConsulConfigDocument[]): string | undefined {
  for (const doc of documents) {
    const name = api(toApiForm(doc.content)).NodeName;
    if (typeof name === "string") return name;
  }
  return undefined;
}

function addService(raw: unknown, field: string, origin: string, placement: Placement, out: FragmentBuilder): void {
  const service = api(toApiForm(raw));
  const { mesh, origins } = out.fragment;
  if (service.Kind === "mesh-gateway") {
    mesh.gateways!.push({
      ...gatewayOf(service, placement.datacenter),
      ...(placement.node ? { node: placement.node } : {}),
    });
    origins.gateways.push(`${origin}: mesh-gateway ${String(service.ID ?? service.Name)}`);
    return;
  }
  checkRoutingKeys(raw, field, origin, out);
  const proxy = api(service.Proxy ?? api(api(service.Connect).SidecarService).Proxy);
  const upstreams = listOf<Api>(proxy.Upstreams);
  upstreams.forEach((upstream, k) => {
    if (upstream.DestinationType === "prepared_query") {
      out.problem(
        origin,
        `${field}.proxy.upstreams[${k}]`,
        `upstream "${String(upstream.DestinationName)}" is a prepared query: its ` +
          `datacenter is chosen at query time, so no path can be planned; it is left out`,
      );
    }
  });
  if (upstreams.length) proxy.Upstreams = upstreams.filter((upstream) => upstream.DestinationType !== "prepared_query");
  mesh.services!.push({ ...fromServiceRegistration(service as unknown as ServiceRegistrationJson), ...placement });
  origins.services.push(`${origin}: service ${String(service.ID ?? service.Name)}`);
}

function addConfigEntry(raw: Api, origin: string, out: FragmentBuilder): void {
  const { mesh, origins } = out.fragment;
  const mode = api(raw.MeshGateway).Mode as Mode | undefined;
  const meshGateway = mode !== undefined ? { meshGateway: { mode } } : {};
  if (raw.Kind === "proxy-defaults") {
    const entry = { kind: "proxy-defaults" as const, name: String(raw.Name), ...meshGateway };
    if (mesh.proxyDefaults) {
      if (JSON.stringify(mesh.proxyDefaults) !== JSON.stringify(entry)) {
        out.problem(
          origin,
          "Kind",
          `a second, different proxy-defaults entry (the first is ${origins.proxyDefaults}): Consul keeps one`,
        );
      }
      return;
    }
    mesh.proxyDefaults = entry;
    origins.proxyDefaults = `${origin}: proxy-defaults ${String(raw.Name)}`;
  } else if (raw.Kind === "service-defaults") {
    const entry: ServiceDefaultsEntry = { kind: "service-defaults", name: String(raw.Name), ...meshGateway };
    if (typeof raw.Protocol === "string") entry.protocol = raw.Protocol;
    mesh.serviceDefaults!.push(entry);
    origins.serviceDefaults.push(`${origin}: service-defaults ${String(raw.Name)}`);
  }
  // Other kinds (intentions, routers, resolvers…) do not choose a gateway mode.
}

/**
 * The mesh fragment of one agent's configuration files: one {@link DatacenterSpec} when any
 * file is agent configuration (merged over the files as Consul merges a config directory;
 * without `ports.grpc`, gRPC counts as off unless the agent has TLS, as in Consul 1.14+), the
 * services and mesh gateways of every `service` / `services` block (and of files that hold
 * only service definitions), and the `proxy-defaults` / `service-defaults` entries of config
 * entry files (`Kind = …`) and of `config_entries { bootstrap = [...] }`. Upstreams that are
 * prepared queries and keys Consul would refuse in the routing blocks are reported as problems.
 * Pure; never throws.
 * @param documents - The group's parsed files, in the order Consul reads them.
 * @param options - Defaults.
 */
export function consulConfigFragment(
  documents: ConsulConfigDocument[],
  options: ConsulConfigOptions = {},
): MeshFragment {
  const out = new FragmentBuilder();
  const { spec, origin, throughGateways } = agentSettings(documents, out);
  if (spec) {
    out.fragment.mesh.datacenters.push(spec);
    out.fragment.origins.datacenters.push(`${origin}: agent configuration`);
  }
  if (throughGateways) {
    out.fragment.mesh.wanFederation = { mode: "mesh-gateways" };
    out.fragment.origins.mesh = `${origin}: agent configuration`;
  }
  const datacenter = spec?.name ?? options.datacenter ?? "dc1";
  const node = nodeName(documents);
  const placement: Placement = node ? { datacenter, node } : { datacenter };
  if (!spec && options.datacenter === undefined && documents.length) {
    out.fragment.mesh.datacenters.push({ name: datacenter });
    out.fragment.origins.datacenters.push(
      `${documents[0].origin}: no agent configuration, so Consul's default datacenter`,
    );
  }
  for (const doc of documents) {
    const config = api(toApiForm(doc.content));
    if ("Kind" in config) {
      addConfigEntry(config, doc.origin, out);
      continue;
    }
    const one = rawField(doc.content, "service");
    (Array.isArray(one) ? one : one === undefined ? [] : [one]).forEach((raw, i, all) =>
      addService(raw, all.length > 1 ? `service[${i}]` : "service", doc.origin, placement, out),
    );
    listOf<unknown>(rawField(doc.content, "services")).forEach((raw, i) =>
      addService(raw, `services[${i}]`, doc.origin, placement, out),
    );
    for (const entry of listOf<unknown>(api(config.ConfigEntries).Bootstrap))
      addConfigEntry(api(entry), `${doc.origin}: config_entries`, out);
  }
  return out.fragment;
}
