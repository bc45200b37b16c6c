/**
 * Where a Consul agent is and how to reach it, read as Consul's own CLI reads it: one parser of
 * agent addresses and one reader of the `CONSUL_HTTP_*` environment, for every layer that calls
 * an agent (the gateway, the components' dynamic provider, `consul-mesh plan`).
 */
import { ConsulAddressError } from "./errors";

/** The agent settings of a process's environment; files are named here, read by the caller. */
export interface ConsulEnvironment {
  /** `CONSUL_HTTP_ADDR`. Default: none (the caller's default, usually `http://127.0.0.1:8500`). */
  address?: string;
  /** `CONSUL_HTTP_SSL` spelled true (Go's `strconv.ParseBool`): `https` for a `host:port` address. Default: `false`. */
  ssl: boolean;
  /** `CONSUL_HTTP_TOKEN`. Default: none. */
  token?: string;
  /** `CONSUL_HTTP_TOKEN_FILE`, whose content is the token. Default: none. */
  tokenFile?: string;
  /** `CONSUL_CACERT`, a PEM file that verifies an https agent. Default: none. */
  caFile?: string;
}

/**
 * The Consul settings of `env`; empty variables count as unset.
 * @param env - The environment, e.g. `process.env`.
 */
export function consulEnvironment(env: NodeJS.ProcessEnv): ConsulEnvironment {
  const set = (name: string) => env[name] || undefined;
  return {
    address: set("CONSUL_HTTP_ADDR"),
    ssl: /^(1|t|true)$/i.test(env.CONSUL_HTTP_SSL ?? ""),
    token: set("CONSUL_HTTP_TOKEN"),
    tokenFile: set("CONSUL_HTTP_TOKEN_FILE"),
    caFile: set("CONSUL_CACERT"),
  };
}

/**
 * The base URL of an agent: `http://host:port`, `https://host:port`, or `host:port` (then
 * `https` when `ssl`, else `http`). A path after the host is kept, as a reverse-proxy prefix.
 * @param address - The address.
 * @param ssl - Whether a `host:port` address means https. Default: `false`.
 * @throws {@link ConsulAddressError} when it is neither form.
 */
export function consulBaseUrl(address: string, ssl = false): URL {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(address) ? address : `${ssl ? "https" : "http"}://${address}`;
  const url = URL.canParse(withScheme) ? new URL(withScheme) : undefined;
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) throw new ConsulAddressError(address);
  return url;
}
