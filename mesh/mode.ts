/**
 * Mesh gateway mode precedence, exactly as Consul documents it (highest first):
 * 1. the upstream definition, 2. the service instance (`proxy.mesh_gateway`),
 * 3. the `service-defaults` entry of the service, 4. the `proxy-defaults` entry (`global`).
 * A level that is missing or `""` is "not set"; nothing set anywhere is `"none"`.
 */
import type { EffectiveMode, Mode } from "./types";

/** The mode written at each configuration level; missing or `""` means "not set here". */
export interface ModeLevels {
  /** `upstreams[].mesh_gateway.mode`: the highest precedence. */
  upstream?: Mode;
  /** The service instance's `proxy.mesh_gateway.mode`. */
  instance?: Mode;
  /** `MeshGateway.Mode` of the `service-defaults` entry named after the downstream service. */
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
 * The effective mode and the level that decided it.
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
