/**
 * Configuration entries as the JSON body of `PUT /v1/config`, and as HCL in the form of
 * Consul's documentation (`Kind = "proxy-defaults"` … `MeshGateway { Mode = "local" }`).
 */
import { attrs, renderHcl, type HclNode } from "./hcl";
import type { ConfigEntry } from "../model/types";

/** `proxy-defaults` as `PUT /v1/config` takes it. */
export interface ProxyDefaultsJson {
  /** Always `proxy-defaults`. */
  Kind: "proxy-defaults";
  /** `global` in a valid mesh. */
  Name: string;
  /** Always present; `Mode` is `""` when unset. */
  MeshGateway: { Mode: string };
  /** Present only when the entry sets `config`. */
  Config?: Record<string, unknown>;
}

/** `service-defaults` as `PUT /v1/config` takes it. */
export interface ServiceDefaultsJson {
  /** Always `service-defaults`. */
  Kind: "service-defaults";
  /** The service these defaults apply to. */
  Name: string;
  /** Present only when the entry sets `protocol`. */
  Protocol?: string;
  /** Always present; `Mode` is `""` when unset. */
  MeshGateway: { Mode: string };
}

/** A config entry body. */
export type ConfigEntryJson = ProxyDefaultsJson | ServiceDefaultsJson;

/**
 * The JSON body of `PUT /v1/config` for `entry`. Deterministic and complete, so that a
 * Pulumi `configJson` never shows a spurious diff: keys always in the order
 * `Kind, Name, [Protocol], MeshGateway, [Config]`; `MeshGateway` is always present, with
 * `Mode: ""` when the entry sets no mode (`""` is Consul's own value for "not set"; Consul
 * reads the entry back as `MeshGateway: {}`, its `Mode` being `omitempty`, and the Consul
 * provider's `config_json` diff compares decoded entries, so the two are equal). `Config`
 * keys are sorted recursively. Never throws on input of the declared type.
 * @param entry - A `proxy-defaults` or `service-defaults` entry.
 */
export function toConfigEntry(entry: ConfigEntry): ConfigEntryJson {
  const meshGateway = { Mode: entry.meshGateway?.mode ?? "" };
  if (entry.kind === "service-defaults") {
    const json: ServiceDefaultsJson = { Kind: "service-defaults", Name: entry.name } as ServiceDefaultsJson;
    if (entry.protocol) json.Protocol = entry.protocol;
    json.MeshGateway = meshGateway;
    return json;
  }
  const json: ProxyDefaultsJson = { Kind: "proxy-defaults", Name: entry.name, MeshGateway: meshGateway };
  if (entry.config) json.Config = sortKeys(entry.config) as Record<string, unknown>;
  return json;
}

/**
 * A config entry as Consul stores it and returns it from `GET /v1/config/<kind>/<name>`, less
 * `CreateIndex`/`ModifyIndex` and less the fields it returns empty (`null`, `""`), which its
 * Go API client leaves out when it encodes the entry again.
 */
export type StoredConfigEntryJson = Record<string, unknown> & { Kind: string; Name: string };

/**
 * The entry as Consul 1.16 reads it back after {@link toConfigEntry}'s body was written: the same
 * fields plus the blocks Consul fills in empty (`TransparentProxy`, `Expose`, and for
 * `proxy-defaults` `AccessLogs`), `MeshGateway` as `{}` when no mode is set, in Consul's key order.
 * The Consul provider reads the entry back into `config_json` and compares the two sides decoded
 * into the Go API's structs, where a missing `TransparentProxy` block (a pointer) is not an empty
 * one: a `configJson` in this form decodes to what Consul returns, so the next `pulumi preview`
 * has nothing to show. The stored form is proven against the real agent in
 * `test/real/consul-plumbing.test.ts`; the provider itself cannot be built on our machines, so its
 * comparison is read from its source, not run. Never throws on input of the declared type.
 * @param entry - A `proxy-defaults` or `service-defaults` entry.
 */
export function toStoredConfigEntry(entry: ConfigEntry): StoredConfigEntryJson {
  const meshGateway = entry.meshGateway?.mode ? { Mode: entry.meshGateway.mode } : {};
  const stored: StoredConfigEntryJson = { Kind: entry.kind, Name: entry.name };
  if (entry.kind === "service-defaults") {
    if (entry.protocol) stored.Protocol = entry.protocol;
    return Object.assign(stored, { TransparentProxy: {}, MeshGateway: meshGateway, Expose: {} });
  }
  if (entry.config) stored.Config = sortKeys(entry.config);
  return Object.assign(stored, { TransparentProxy: {}, MeshGateway: meshGateway, Expose: {}, AccessLogs: {} });
}

/** A copy of `value` with object keys sorted at every depth (arrays keep their order). */
export function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) out[key] = sortKeys((value as Record<string, unknown>)[key]);
    return out;
  }
  return value;
}

/**
 * The HCL form of `entry`, as the Consul documentation writes it:
 * `Kind = "proxy-defaults"`, `Name = "global"`, `MeshGateway { Mode = "local" }`.
 * Unlike the JSON, an unset mode omits the `MeshGateway` block. Never throws on input of the declared type.
 * @param entry - A `proxy-defaults` or `service-defaults` entry.
 */
export function toConfigEntryHcl(entry: ConfigEntry): string {
  const nodes: HclNode[] = attrs([
    ["Kind", entry.kind],
    ["Name", entry.name],
    ["Protocol", entry.kind === "service-defaults" ? entry.protocol || undefined : undefined],
  ]);
  if (entry.meshGateway?.mode) nodes.push({ block: "MeshGateway", body: attrs([["Mode", entry.meshGateway.mode]]) });
  if (entry.kind === "proxy-defaults" && entry.config) nodes.push({ attr: "Config", value: sortKeys(entry.config) });
  return renderHcl(nodes) + "\n";
}
