/**
 * Where a Consul agent is and how to reach it, read as Consul's own CLI reads it: one parser of
 * agent addresses and one reader of the `CONSUL_*` settings, for every process that calls an
 * agent (the gateway, `consul-mesh plan`). (The components take address, token and CA as
 * arguments; their dynamic provider's copy of the parser is held to this one by a test.)
 */
import { readFileSync } from "node:fs";
import { CONSUL_PORTS } from "../mesh/model/defaults";
import { ConsulAddressError, ConsulSettingError } from "./errors";

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
  return { address: `${httpBase.hostname}:${tls ? CONSUL_PORTS.grpcTls : CONSUL_PORTS.grpc}`, tls };
}

/** The agent address when neither the caller nor `CONSUL_HTTP_ADDR` names one, as in Consul's CLI. */
export const DEFAULT_CONSUL_ADDRESS = `127.0.0.1:${CONSUL_PORTS.http}`;

/** How to reach an agent's HTTP API, with the files its settings name already read. */
export interface ConsulConnection {
  /** `http(s)://host:port` or `host:port` (then {@link ConsulConnection.ssl} decides the scheme). */
  address: string;
  /** Use `https` for an address without a scheme. */
  ssl: boolean;
  /** ACL token, sent as `X-Consul-Token`. Default: none. */
  token?: string;
  /** PEM CA certificate(s) that verify an `https` agent. Default: none (the system's roots). */
  ca?: string;
}

/** Settings given by flags or by code, which win over the environment. */
export interface ConsulSettingOverrides {
  /** Instead of `CONSUL_HTTP_ADDR`. Default: the variable, else {@link DEFAULT_CONSUL_ADDRESS}. */
  address?: string;
  /** Instead of `CONSUL_HTTP_TOKEN`. Default: the variable, else none. */
  token?: string;
  /** Instead of `CONSUL_HTTP_TOKEN_FILE`. Default: the variable, else none. */
  tokenFile?: string;
  /** A PEM file, instead of `CONSUL_CACERT`. Default: the variable, else the system's roots. */
  caFile?: string;
  /** Instead of `CONSUL_HTTP_SSL`. Default: the variable, else `false`. */
  ssl?: boolean;
}

/**
 * The connection to an agent as Consul's CLI makes it (`api.DefaultConfig`, then `NewClient`):
 * each setting from its override, else its variable ({@link consulEnvironment}); a token file
 * whose content is not empty wins over a token, wherever each came from; the scheme is the
 * address's, else `https` when `ssl` (a CA file alone does not change it).
 * @param env - The environment, e.g. `process.env`.
 * @param overrides - Settings that win over the environment. Default: none.
 * @throws {@link ConsulSettingError} naming the variable (`CONSUL_CACERT`, `CONSUL_HTTP_TOKEN_FILE`),
 * or the override that stands for it, whose file cannot be read.
 */
export function readConsulSettings(env: NodeJS.ProcessEnv, overrides: ConsulSettingOverrides = {}): ConsulConnection {
  const consul = consulEnvironment(env);
  const tokenFile = overrides.tokenFile || consul.tokenFile;
  const caFile = overrides.caFile || consul.caFile;
  const fromFile = tokenFile ? readSetting("CONSUL_HTTP_TOKEN_FILE", tokenFile).trim() : "";
  return {
    address: overrides.address || consul.address || DEFAULT_CONSUL_ADDRESS,
    ssl: overrides.ssl ?? consul.ssl,
    token: fromFile || overrides.token || consul.token || undefined,
    ca: caFile ? readSetting("CONSUL_CACERT", caFile) : undefined,
  };
}

/** The content of a file a setting names, or a {@link ConsulSettingError} naming the setting. */
function readSetting(field: string, file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    throw new ConsulSettingError(field, file, (error as NodeJS.ErrnoException).code ?? "error");
  }
}
