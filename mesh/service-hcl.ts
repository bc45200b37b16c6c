/**
 * Service definitions as HCL in the form of Consul's documentation:
 * `service { name = "web" … proxy { … upstreams = [ { … } ] } }`, snake_case keys,
 * two-space indentation, fields in the order the documentation writes them.
 */
import { attrs, renderHcl, type HclNode } from "./hcl";
import type { RegistrableService } from "./registration";
import type { MeshGatewayConfig, ProxyConfig, Upstream } from "./types";

function meshGatewayNodes(config: MeshGatewayConfig | undefined): HclNode[] {
  return config?.mode ? [{ block: "mesh_gateway", body: attrs([["mode", config.mode]]) }] : [];
}

function upstreamNodes(upstream: Upstream): HclNode[] {
  return [
    ...attrs([
      ["destination_name", upstream.destinationName],
      ["destination_namespace", upstream.destinationNamespace],
      ["destination_partition", upstream.destinationPartition],
      ["datacenter", upstream.datacenter],
      ["local_bind_address", upstream.localBindAddress],
      ["local_bind_port", upstream.localBindPort],
    ]),
    ...meshGatewayNodes(upstream.meshGateway),
  ];
}

function proxyNodes(proxy: ProxyConfig): HclNode[] {
  const nodes: HclNode[] = [
    ...attrs([
      ["destination_service_name", proxy.destinationServiceName],
      ["destination_service_id", proxy.destinationServiceId],
      ["local_service_port", proxy.localServicePort],
    ]),
    ...meshGatewayNodes(proxy.meshGateway),
  ];
  if (proxy.upstreams) nodes.push({ attr: "upstreams", objects: proxy.upstreams.map(upstreamNodes) });
  if (proxy.config) nodes.push({ attr: "config", value: proxy.config });
  return nodes;
}

/**
 * The HCL service definition for `def`, as Consul's agent reads it from a config file.
 * Unset fields are omitted, as is a `mesh_gateway` whose mode is `""`. A `MeshService`'s
 * `namespace`/`partition` are written only when not `"default"`. Deterministic; never throws on input of the declared type (check untyped input with `validateMesh` first).
 * @param def - The service definition (a `MeshService` is accepted).
 */
export function toServiceHcl(def: RegistrableService): string {
  const body: HclNode[] = attrs([
    ["name", def.name],
    ["id", def.id],
    ["kind", def.kind],
    ["namespace", def.namespace && def.namespace !== "default" ? def.namespace : undefined],
    ["partition", def.partition && def.partition !== "default" ? def.partition : undefined],
    ["address", def.address],
    ["port", def.port],
    ["tags", def.tags],
    ["meta", def.meta],
  ]);
  if (def.proxy) body.push({ block: "proxy", body: proxyNodes(def.proxy) });
  if (def.connect) {
    const sidecar = def.connect.sidecarService;
    const sidecarBody: HclNode[] = attrs([["port", sidecar.port]]);
    if (sidecar.proxy) sidecarBody.push({ block: "proxy", body: proxyNodes(sidecar.proxy) });
    body.push({ block: "connect", body: [{ block: "sidecar_service", body: sidecarBody }] });
  }
  return renderHcl([{ block: "service", body }]) + "\n";
}
