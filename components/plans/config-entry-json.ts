/**
 * The `configJson` of a `consul.ConfigEntry`: the entry as Consul stores it (`mesh/`'s
 * `toStoredConfigEntry`), without `Kind` and `Name` (the resource carries those as arguments of
 * their own). The Consul provider reads the entry back into `config_json` and compares decoded
 * entries, so this form is what keeps the next preview free of a diff.
 */
import { toStoredConfigEntry, type ConfigEntry } from "../../mesh";

/**
 * The `configJson` for `entry`, e.g.
 * `{"TransparentProxy":{},"MeshGateway":{"Mode":"local"},"Expose":{},"AccessLogs":{}}` for
 * `proxy-defaults` in mode `local`.
 * @param entry - A `proxy-defaults` or `service-defaults` entry.
 */
export function configEntryJson(entry: ConfigEntry): string {
  const { Kind: _kind, Name: _name, ...rest } = toStoredConfigEntry(entry);
  return JSON.stringify(rest);
}
