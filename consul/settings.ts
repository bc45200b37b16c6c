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
  /** `CONSUL_GRPC_ADDR`, the agent's gRPC (xDS) server. Default: none (see {@link consulGrpcAddress}). */
  grpcAddress?: string;
  /** `CONSUL_GRPC_CACERT`, a PEM file that verifies a TLS gRPC server. Default: none (`CONSUL_CACERT`). */
  grpcCaFile?: string;
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
    grpcAddress: set("CONSUL_GRPC_ADDR"),
    grpcCaFile: set("CONSUL_GRPC_CACERT"),
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

/** Consul's default gRPC ports: `ports.grpc` (plaintext) and `ports.grpc_tls`. */
export const CONSUL_GRPC_PORTS = { plaintext: 8502, tls: 8503 } as const;

/**
 * The agent's gRPC (xDS) server, as `consul connect envoy` reaches it: `explicit` when given
 * (`CONSUL_GRPC_ADDR`: `host:port` is plaintext, `https://host:port` TLS), else the HTTP
 * agent's host on Consul's default gRPC port, TLS (8503) when the HTTP API is https, plaintext
 * (8502) when it is not.
 * @param httpBase - The agent's HTTP base URL ({@link consulBaseUrl}).
 * @param explicit - `CONSUL_GRPC_ADDR` or a flag. Default: none.
 * @returns `host:port` and whether to speak TLS.
 * @throws {@link ConsulAddressError} when `explicit` is neither form.
 */
export function consulGrpcAddress(httpBase: URL, explicit?: string): { address: string; tls: boolean } {
  if (explicit) {
    const tls = /^https:\/\//i.test(explicit);
    const url = consulBaseUrl(explicit, false);
    if (!url.port) throw new ConsulAddressError(explicit);
    return { address: url.host, tls };
  }
  const tls = httpBase.protocol === "https:";
  // URL keeps an IPv6 host in brackets.
  return { address: `${httpBase.hostname}:${tls ? CONSUL_GRPC_PORTS.tls : CONSUL_GRPC_PORTS.plaintext}`, tls };
}
