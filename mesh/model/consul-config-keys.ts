/**
 * Consul configuration as operators write it (HCL or JSON, `snake_case` or `PascalCase`),
 * brought to the one form `fromServiceRegistration` and the config entry reader take: the
 * PascalCase of Consul's HTTP API, with HCL 1's block lists (`proxy { … }` parses as
 * `proxy: [{ … }]`) unwrapped wherever Consul expects a single object.
 */
import { isObject } from "./guards";

/** Fields Consul reads as lists, whatever their length (everything else is a single block). */
const LIST_FIELDS = new Set(["services", "upstreams", "tags", "checks", "bootstrap", "paths"]);

/** Fields whose content is opaque to Consul's schema: their keys are kept as written. */
const OPAQUE_FIELDS = new Set(["config", "meta", "node_meta"]);

/**
 * The keys Consul accepts in the blocks that decide a route (from its documentation of service
 * definitions and upstreams), in snake_case; a key outside these is a typo Consul would refuse
 * ("invalid config key") and the plan would silently miss.
 */
export const ROUTING_BLOCK_KEYS: Readonly<Record<"proxy" | "upstream" | "meshGateway", ReadonlySet<string>>> = {
  proxy: new Set([
    "destination_service_name",
    "destination_service_id",
    "local_service_address",
    "local_service_port",
    "local_service_socket_path",
    "mode",
    "transparent_proxy",
    "config",
    "upstreams",
    "mesh_gateway",
    "expose",
    "access_logs",
    "envoy_extensions",
  ]),
  upstream: new Set([
    "destination_type",
    "destination_namespace",
    "destination_partition",
    "destination_peer",
    "destination_name",
    "datacenter",
    "local_bind_address",
    "local_bind_port",
    "local_bind_socket_path",
    "local_bind_socket_mode",
    "config",
    "mesh_gateway",
    "centrally_configured",
  ]),
  meshGateway: new Set(["mode"]),
};

/** `destination_service_id` → `DestinationServiceID`; PascalCase keys are kept. */
export function pascalKey(key: string): string {
  if (/^[A-Z]/.test(key)) return key;
  return key
    .split("_")
    .map((word) => (word === "id" ? "ID" : word.charAt(0).toUpperCase() + word.slice(1)))
    .join("");
}

/** `DestinationServiceID` → `destination_service_id`; snake_case keys are kept. */
export function snakeKey(key: string): string {
  return key
    .replace(/ID$/, "Id")
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .toLowerCase();
}

/**
 * `value` in the API's PascalCase form: keys converted (except inside opaque fields), HCL 1
 * block lists of one object unwrapped except for list fields.
 * @param value - A parsed HCL or JSON document, or a part of one.
 */
export function toApiForm(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toApiForm);
  if (!isObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    const snake = snakeKey(key);
    const single = Array.isArray(field) && field.length === 1 && isObject(field[0]) && !LIST_FIELDS.has(snake);
    const content = single ? (field as unknown[])[0] : field;
    out[pascalKey(key)] = OPAQUE_FIELDS.has(snake) ? unwrapBlocks(content) : toApiForm(content);
  }
  return out;
}

/** HCL 1 block lists of one object unwrapped, keys kept: for opaque content such as `meta { … }`. */
function unwrapBlocks(value: unknown): unknown {
  if (Array.isArray(value)) return value.length === 1 && isObject(value[0]) ? unwrapBlocks(value[0]) : value;
  if (!isObject(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([key, field]) => [key, unwrapBlocks(field)]));
}

/**
 * The keys of `block` (as written) that Consul does not accept in a block of that kind.
 * @param block - The block as written (any case).
 * @param kind - Which routing block it is.
 */
export function unknownKeys(block: unknown, kind: keyof typeof ROUTING_BLOCK_KEYS): string[] {
  if (!isObject(block) || Array.isArray(block)) return [];
  return Object.keys(block).filter((key) => !ROUTING_BLOCK_KEYS[kind].has(snakeKey(key)));
}
