/**
 * Validation of the mesh's infrastructure: the datacenters and the prerequisites the Consul
 * documentation lists for mesh gateways, the config entries, and the gateways themselves.
 * Internal: `validateMesh` (validate.ts) runs these with the checks of services and proxies.
 */
import type { Collector } from "./problem-collector";
import { federationProblems } from "./federation";
import { primaryDatacenterOf } from "../model/mesh-proxies";
import { WAN_FEDERATION_MODES, type Mesh } from "../model/types";
import { TRUST_DOMAIN_PATTERN } from "../model/names";
import { DEFAULT_GATEWAY_NAME } from "../model/defaults";
import { securityOf } from "../model/security";

/** Adds the problems of the mesh's datacenters. */
export function checkDatacenters(mesh: Mesh, c: Collector): void {
  const dcs = mesh.datacenters ?? [];
  if (!Array.isArray(mesh.datacenters) || dcs.length === 0) {
    c.add("datacenters", "declare at least one datacenter");
    return;
  }
  const primary = primaryDatacenterOf(mesh);
  const names = new Set(dcs.map((dc) => dc.name));
  if (primary !== undefined && !names.has(primary)) {
    // The mesh's primary, else the first datacenter's own (see primaryDatacenterOf).
    const field = mesh.primaryDatacenter ? "primaryDatacenter" : "datacenters[0].primaryDatacenter";
    c.add(
      field,
      `primary datacenter ${JSON.stringify(primary)} is not one of the declared ` +
        `datacenters: name one of ${[...names].map((n) => JSON.stringify(n)).join(", ")}`,
    );
  }
  if (mesh.trustDomain !== undefined) {
    if (typeof mesh.trustDomain !== "string" || !TRUST_DOMAIN_PATTERN.test(mesh.trustDomain)) {
      c.add(
        "trustDomain",
        `invalid trust domain ${JSON.stringify(mesh.trustDomain)}: expected "<cluster-id>.consul" in lower case`,
      );
    }
  }
  // Problems in declaration order: each datacenter's federation problems before its own checks.
  const federation = federationProblems(dcs, primary, "the mesh's");
  const defaultsSetMode =
    !!mesh.proxyDefaults?.meshGateway?.mode || (mesh.serviceDefaults ?? []).some((entry) => !!entry.meshGateway?.mode);
  dcs.forEach((dc, i) => {
    const at = `datacenters[${i}]`;
    c.label(`${at}.name`, dc.name, "datacenter name");
    for (const p of federation.filter((p) => p.path.startsWith(`${at}.`))) c.add(p.path, p.message);
    if (dc.connect?.enabled === false)
      c.add(
        `${at}.connect.enabled`,
        "Connect must be enabled for mesh gateways: set connect.enabled to true or leave it unset",
      );
    const grpc = dc.ports?.grpc;
    if (grpc !== undefined) {
      if (grpc === -1 || grpc === 0) {
        // With TLS, gateways and sidecars use grpc_tls (8503) and plaintext gRPC may stay off.
        if (!securityOf(dc).tls)
          c.add(
            `${at}.ports.grpc`,
            `gRPC must be enabled for mesh gateways: with tls off they use plaintext gRPC, and ports.grpc ` +
              `is ${grpc}, which disables it: set it to 8502, Consul's conventional port, or leave it unset`,
          );
      } else c.port(`${at}.ports.grpc`, grpc, "gRPC port");
    }
    for (const [field, value] of [
      ["tls.enabled", dc.tls?.enabled],
      ["tls.httpsVerifyIncoming", dc.tls?.httpsVerifyIncoming],
      ["gossipEncryption.enabled", dc.gossipEncryption?.enabled],
      ["acl.enabled", dc.acl?.enabled],
    ] as const)
      if (value !== undefined && typeof value !== "boolean")
        c.add(`${at}.${field}`, `${JSON.stringify(value)} is not true or false`);
    if (dc.tls?.enabled === false && dc.tls.httpsVerifyIncoming === true)
      c.add(
        `${at}.tls.httpsVerifyIncoming`,
        "client certificates need TLS: set tls.enabled to true, or leave this unset",
      );
    if (defaultsSetMode && dc.enableCentralServiceConfig === false) {
      c.add(
        `${at}.enableCentralServiceConfig`,
        "proxy-defaults or service-defaults set a mesh gateway mode, which Consul applies only with " +
          "enable_central_service_config: set enableCentralServiceConfig to true or leave it unset",
      );
    }
    if (dcs.length > 1 && dc.wanJoin === false) {
      c.add(`${at}.wanJoin`, "datacenters of one mesh must be WAN joined: set wanJoin to true or leave it unset");
    }
    if (dc.servers !== undefined && !(Number.isInteger(dc.servers) && dc.servers >= 1)) {
      c.add(`${at}.servers`, `server count ${JSON.stringify(dc.servers)} must be an integer of at least 1`);
    }
    const policy = dc.acl?.defaultPolicy;
    if (policy !== undefined && policy !== "allow" && policy !== "deny") {
      c.add(`${at}.acl.defaultPolicy`, `invalid ACL default policy ${JSON.stringify(policy)}: use "allow" or "deny"`);
    }
  });
}

/** Adds the problems of the mesh's configentries. */
export function checkConfigEntries(mesh: Mesh, c: Collector): void {
  const pd = mesh.proxyDefaults;
  if (pd) {
    if (pd.kind !== "proxy-defaults")
      c.add("proxyDefaults.kind", `kind must be "proxy-defaults", not ${JSON.stringify(pd.kind)}`);
    if (pd.name !== "global")
      c.add("proxyDefaults.name", `proxy-defaults must be named "global", not ${JSON.stringify(pd.name)}`);
    c.meshGateway("proxyDefaults.meshGateway", pd.meshGateway);
  }
  const seen = new Map<string, number>();
  (mesh.serviceDefaults ?? []).forEach((entry, i) => {
    const at = `serviceDefaults[${i}]`;
    if (entry.kind !== "service-defaults")
      c.add(`${at}.kind`, `kind must be "service-defaults", not ${JSON.stringify(entry.kind)}`);
    c.label(`${at}.name`, entry.name, "service name");
    const first = seen.get(entry.name);
    if (first !== undefined)
      c.add(
        `${at}.name`,
        `service-defaults for ${JSON.stringify(entry.name)} already declared at serviceDefaults[${first}]`,
      );
    else seen.set(entry.name, i);
    c.meshGateway(`${at}.meshGateway`, entry.meshGateway);
  });
}

/** Adds the problems of the mesh's gateways. */
export function checkGateways(mesh: Mesh, dcNames: Set<string>, c: Collector): void {
  const seen = new Map<string, number>();
  (mesh.gateways ?? []).forEach((gw, i) => {
    const at = `gateways[${i}]`;
    if (!dcNames.has(gw.datacenter)) c.add(`${at}.datacenter`, `unknown datacenter ${JSON.stringify(gw.datacenter)}`);
    const name = gw.name ?? DEFAULT_GATEWAY_NAME;
    c.label(`${at}.name`, name, "gateway name");
    if (gw.port !== undefined) c.port(`${at}.port`, gw.port, "gateway port");
    for (const tag of ["lan", "wan"] as const) {
      const tagged = gw.taggedAddresses?.[tag];
      if (!tagged) continue;
      if (typeof tagged.address !== "string" || tagged.address === "")
        c.add(`${at}.taggedAddresses.${tag}.address`, "address must be a non-empty string");
      c.port(`${at}.taggedAddresses.${tag}.port`, tagged.port, "port");
    }
    if (gw.address !== undefined && (typeof gw.address !== "string" || gw.address === "")) {
      c.add(`${at}.address`, "address must be a non-empty string when set");
    }
    const key = `${gw.datacenter}\u0000${gw.node ?? ""}\u0000${gw.id ?? name}`;
    const first = seen.get(key);
    if (first !== undefined)
      c.add(
        `${at}.name`,
        `gateway ${JSON.stringify(name)} in ${JSON.stringify(gw.datacenter)} already declared at gateways[${first}]`,
      );
    else seen.set(key, i);
  });
}

/**
 * Adds the problems of the federation mode: an unknown mode; with `"mesh-gateways"`, a datacenter
 * without TLS (Consul tunnels server RPC and gossip as TLS and refuses to start without it) or
 * without a mesh gateway (its servers would be unreachable).
 */
export function checkWanFederation(mesh: Mesh, c: Collector): void {
  const mode = mesh.wanFederation?.mode ?? "gossip";
  if (!(WAN_FEDERATION_MODES as readonly string[]).includes(mode)) {
    c.add("wanFederation.mode", `unknown mode ${JSON.stringify(mode)}: use ${WAN_FEDERATION_MODES.join(" or ")}`);
    return;
  }
  if (mode !== "mesh-gateways") return;
  (mesh.datacenters ?? []).forEach((dc, i) => {
    if (!securityOf(dc).tls)
      c.add(
        `datacenters[${i}].tls.enabled`,
        `WAN federation through mesh gateways needs TLS on server RPC: ${JSON.stringify(dc.name)} turns TLS off`,
      );
    if (!(mesh.gateways ?? []).some((gw) => gw.datacenter === dc.name))
      c.add(
        "gateways",
        `WAN federation through mesh gateways needs a mesh gateway in every datacenter: ${JSON.stringify(dc.name)} has none`,
      );
  });
}
