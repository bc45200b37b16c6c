/**
 * Mesh gateway mode precedence, exactly as Consul documents it (highest first):
 * 1. the upstream definition, 2. the service instance (`proxy.mesh_gateway`),
 * 3. the `service-defaults` entry of the service, 4. the `proxy-defaults` entry (`global`).
 * A level that is missing or `""` is "not set"; nothing set anywhere is `"none"`.
 *
 * The `service-defaults` level is the entry named after the downstream service (the one
 * whose proxy has the upstream), as the seed documents it ("enable gateways for all Connect
 * services with the name web") and as Consul resolves a proxy's own configuration
 * (hashicorp/consul `agent/configentry/resolve.go`, `ComputeResolvedServiceConfig`, called
 * with `Name = Proxy.DestinationServiceName`). Two Consul behaviours are not modelled:
 * `service-defaults` `UpstreamConfig` defaults and overrides (no such field here), and the
 * discovery-chain fallback: when none of the four levels sets a mode, Consul's chain compiler
 * uses the destination service's `service-defaults` `MeshGateway`, then `proxy-defaults`
 * (`agent/consul/discoverychain/compile.go`, `getResolverNode`); this model answers `"none"`.
 */
import type { EffectiveMode, Mode } from "./types";

/** The mode written at each configuration level; missing or `""` means "not set here". */
export interface ModeLevels {
  /** `upstreams[].mesh_gateway.mode`: the highest precedence. */
  upstream?: Mode;
  /** The service instance's `proxy.mesh_gateway.mode`. */
  instance?: Mode;
  /**
   * `MeshGateway.Mode` of the `service-defaults` entry named after the downstream service
   * (the sidecar's own service, or a connect-proxy's `destinationServiceName`), not the
   * upstream's destination.
   */
  serviceDefaults?: Mode;
  /** `MeshGateway.Mode` of the `proxy-defaults` entry (`global`): the lowest precedence. */
  proxyDefaults?: Mode;
}

/** Which level decided an effective mode; `"default"` when no level set one. */
export type ModeLevel = "upstream" | "instance" | "service-defaults" | "proxy-defaults" | "default";

/** An effective mode and the level it came from. */
export interface ModeDecision {
  /** The mode in force. */
  mode: EffectiveMode;
  /** The level that set it, or `"default"` when nothing was set (then `mode` is `"none"`). */
  decidedBy: ModeLevel;
}

/** Whether `value` is one of Consul's mode values, `""` (not set) included. */
export function isMode(value: unknown): value is Mode {
  return value === "local" || value === "remote" || value === "none" || value === "";
}

/** Whether `value` sets a mode: `local`, `remote` or `none` (not `""`, not missing, not invalid). */
function isSet(value: unknown): value is EffectiveMode {
  return value === "local" || value === "remote" || value === "none";
}

/**
 * The effective mode and the level that decided it: the first level that sets one, in the
 * order upstream, instance, service-defaults (of the downstream service), proxy-defaults;
 * `{ mode: "none", decidedBy: "default" }` when none does (see the module note for the
 * destination `service-defaults` fallback that Consul adds and this model does not).
 * Values other than `local`/`remote`/`none` (including invalid strings from untyped input)
 * count as "not set"; {@link validateMesh} reports invalid ones. Never throws.
 * @param levels - The mode at each level.
 */
export function decideMeshGatewayMode(levels: ModeLevels): ModeDecision {
  if (isSet(levels.upstream)) return { mode: levels.upstream, decidedBy: "upstream" };
  if (isSet(levels.instance)) return { mode: levels.instance, decidedBy: "instance" };
  if (isSet(levels.serviceDefaults)) return { mode: levels.serviceDefaults, decidedBy: "service-defaults" };
  if (isSet(levels.proxyDefaults)) return { mode: levels.proxyDefaults, decidedBy: "proxy-defaults" };
  return { mode: "none", decidedBy: "default" };
}

/**
 * The effective mesh gateway mode: upstream > instance > service-defaults > proxy-defaults;
 * `""` or missing means not set at that level; nothing set is `"none"`.
 * @param levels - The mode at each level.
 */
export function resolveMeshGatewayMode(levels: ModeLevels): EffectiveMode {
  return decideMeshGatewayMode(levels).mode;
}
