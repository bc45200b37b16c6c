/**
 * The `configJson` of a `consul.ConfigEntry`: the `PUT /v1/config` body that `mesh/` renders,
 * without `Kind` and `Name` (the resource carries those as their own arguments). Complete
 * and deterministic, so previews show no spurious diff.
 */
import { toConfigEntry, type ConfigEntry } from "../mesh";

/**
 * The `configJson` for `entry`, e.g. `{"MeshGateway":{"Mode":"local"}}` for
 * `proxy-defaults` in mode `local`.
 * @param entry - A `proxy-defaults` or `service-defaults` entry.
 */
export function configEntryJson(entry: ConfigEntry): string {
  const { Kind: _kind, Name: _name, ...rest } = toConfigEntry(entry);
  return JSON.stringify(rest);
}
