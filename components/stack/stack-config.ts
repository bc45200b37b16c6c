/**
 * The configuration keys of the default stack and of every example (`pulumi config set KEY
 * VALUE`), read and checked in one place: a wrong value fails `pulumi preview` with every bad
 * key named, before any resource is declared.
 */
import * as pulumi from "@pulumi/pulumi";
import {
  clusterIdOf,
  EFFECTIVE_MODES,
  isPort,
  WAN_FEDERATION_MODES,
  type EffectiveMode,
  type WanFederationMode,
} from "../../mesh";
import { NAME_PATTERN } from "../../mesh/model/names";
import { ConsulAddressError } from "../../consul/errors";
import { consulBaseUrl } from "../../consul/settings";
import { DEFAULT_DEMO_HOST_PORT } from "../consul-mesh";
import { CONSUL_IMAGE } from "../datacenter";
import { isImageReference } from "../images/image-reference";
import { DEFAULT_ENVOY_IMAGE } from "../images/sidecar-image";

/** The stack configuration, checked, with defaults applied. */
export interface StackConfig {
  /** `consulImage`: the Consul servers' image. Default: `CONSUL_IMAGE` (`hashicorp/consul:1.16.3`). */
  consulImage: string;
  /** `gatewayImage`: a published gateway image to run. Default: none (the stack builds it). */
  gatewayImage?: string;
  /** `gatewayImageContext`: the gateway image's build context. Default: `dist/gateway-image`. */
  gatewayImageContext?: string;
  /** `gatewayBaseImage`: the base of the gateway image's build. Default: `node:20-bookworm-slim`. */
  gatewayBaseImage?: string;
  /** `sidecarImage`: a published image with `consul` and `envoy` to run sidecars. Default: none (built). */
  sidecarImage?: string;
  /** `envoyImage`: the base of the sidecar image's build. Default: {@link DEFAULT_ENVOY_IMAGE}. */
  envoyImage: string;
  /** `appImage`: an image with Node.js for the demo services. Default: none (the gateway image, which has it). */
  appImage?: string;
  /** `routeSource`: where gateways learn routes, `consul` or `file`. Default: `consul`. */
  routeSource: "consul" | "file";
  /** `meshGatewayMode`: the mode of `proxy-defaults` (`global`). Default: `local`. */
  meshGatewayMode: EffectiveMode;
  /** `acl`: ACLs on (`default_policy = deny`, intentions for the declared upstreams). Default: `true`. */
  acl: boolean;
  /** `tls`: TLS on Consul's HTTPS, gRPC and server RPC, verified by a CA the stack draws. Default: `true`. */
  tls: boolean;
  /** `gossipEncryption`: gossip (LAN and WAN) encrypted with a key the stack draws. Default: `true`. */
  gossipEncryption: boolean;
  /**
   * `wanFederation`: how the datacenters' servers reach each other, `gossip` (WAN joins between the
   * servers) or `mesh-gateways` (only through the mesh gateways; needs `tls`). Default: `gossip`.
   */
  wanFederation: WanFederationMode;
  /** `demoPort`: the host port of `demoUrl` (on 127.0.0.1). Default: `8080`. */
  demoPort: number;
  /**
   * `datacenters` (`examples/existing-consul`): the datacenters that run already, a JSON list (set it with
   * `--secret` when it holds tokens); the first is the primary. Default: none.
   */
  datacenters?: ExistingDatacenterConfig[];
  /**
   * `trustDomain`: the Connect trust domain to pin, `<uuid>.consul` in lower case. Default: none
   * (one drawn once per stack and kept in its state).
   */
  trustDomain?: string;
  /**
   * `dockerHosts` (`examples/datacenter-per-host`): the Docker daemon of each datacenter, a JSON object from
   * datacenter name to a `DOCKER_HOST` value (`unix://…`, `tcp://host:port`, `ssh://user@host`). Default: none.
   */
  dockerHosts?: Record<string, string>;
  /**
   * `hostAddresses` (`examples/datacenter-per-host`): the address other Docker hosts reach each datacenter's
   * host at, a JSON object from datacenter name to a host name or IP address. Default: each `dockerHosts`
   * entry's host ({@link dockerHostAddress}).
   */
  hostAddresses?: Record<string, string>;
}

/**
 * The host a `DOCKER_HOST` value names, which other machines may reach it at: `tcp://10.0.0.5:2376` gives
 * `10.0.0.5`, `ssh://me@box:22` gives `box`; a `unix://` or `npipe://` socket names none.
 * @param dockerHost - A `DOCKER_HOST` value.
 */
export function dockerHostAddress(dockerHost: string): string | undefined {
  const m = /^(?:tcp|ssh|https?):\/\/(?:[^@/]*@)?(\[[^\]]+\]|[^:/]+)/.exec(dockerHost);
  return m?.[1].replace(/^\[(.*)\]$/, "$1");
}

/** A JSON object from datacenter name to a non-empty string, or a problem naming the key and entry. */
function datacenterMap(
  key: string,
  raw: string,
  check: (value: string) => string | undefined,
  problems: StackConfigProblem[],
): Record<string, string> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    problems.push({ key, message: "is not JSON: give an object from datacenter name to a string" });
    return undefined;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    problems.push({ key, message: "must be a JSON object from datacenter name to a string" });
    return undefined;
  }
  for (const [name, entry] of Object.entries(value)) {
    if (!NAME_PATTERN.test(name)) problems.push({ key, message: `${JSON.stringify(name)} is not a datacenter name` });
    const wrong = typeof entry === "string" && entry !== "" ? check(entry) : "must be a non-empty string";
    if (wrong) problems.push({ key: `${key}.${name}`, message: wrong });
  }
  return value as Record<string, string>;
}

/** One entry of the `datacenters` key: a datacenter that runs already, and where its gateway runs. */
export interface ExistingDatacenterConfig {
  /** The datacenter's name. */
  name: string;
  /** Its HTTP API, as `CONSUL_HTTP_ADDR` takes it. */
  address: string;
  /** An ACL token with the rights the components need. Default: none (ACLs off). */
  token?: string;
  /** PEM CA certificate(s) of an `https` API. Default: none (the system's roots). */
  caPem?: string;
  /** Its agent's gRPC (xDS) server as the gateway reaches it, as `CONSUL_GRPC_ADDR` takes it. Default: `address`'s host on 8502 (8503 with https). */
  grpcAddress?: string;
  /** Its gateway, on the Docker host's network. Default: `{}`. */
  gateway?: {
    /** The LAN address it registers. Default: `address`'s host. */
    address?: string;
    /** The WAN address it registers. Default: the LAN address. */
    wanAddress?: string;
    /** Its port. Default: `8443`. */
    port?: number;
    /** Its admin port (on the host's loopback). Default: `19000`. */
    adminPort?: number;
  };
}

/** The problems of the `datacenters` key's value, each naming the entry and field. */
function existingDatacenters(raw: string, problems: StackConfigProblem[]): ExistingDatacenterConfig[] | undefined {
  const key = "datacenters";
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    problems.push({ key, message: "is not JSON: give a list of { name, address, token?, caPem? }" });
    return undefined;
  }
  if (!Array.isArray(value) || value.length === 0) {
    problems.push({ key, message: "must be a non-empty JSON list of { name, address, token?, caPem? }" });
    return undefined;
  }
  const bad = (field: string, message: string) => problems.push({ key: `${key}${field}`, message });
  const text = (v: unknown) => typeof v === "string" && v !== "";
  value.forEach((dc: Record<string, unknown>, i) => {
    const at = `[${i}]`;
    if (typeof dc !== "object" || dc === null) return bad(at, "must be an object { name, address, token?, caPem? }");
    if (!text(dc.name) || !NAME_PATTERN.test(dc.name as string))
      bad(`${at}.name`, `${JSON.stringify(dc.name)} is not a datacenter name`);
    if (!text(dc.address)) bad(`${at}.address`, "required: the HTTP API, as CONSUL_HTTP_ADDR takes it");
    else {
      try {
        consulBaseUrl(dc.address as string);
      } catch (e) {
        if (!(e instanceof ConsulAddressError)) throw e;
        bad(`${at}.address`, e.message);
      }
    }
    for (const field of ["token", "caPem", "grpcAddress"])
      if (dc[field] !== undefined && !text(dc[field])) bad(`${at}.${field}`, "must be a non-empty string");
    if (dc.caPem !== undefined && !String(dc.caPem).includes("-----BEGIN CERTIFICATE-----"))
      bad(`${at}.caPem`, "is not a PEM certificate");
    const gateway = (dc.gateway ?? {}) as Record<string, unknown>;
    for (const field of ["address", "wanAddress"])
      if (gateway[field] !== undefined && !text(gateway[field]))
        bad(`${at}.gateway.${field}`, "must be a host name or IP address");
    for (const field of ["port", "adminPort"])
      if (gateway[field] !== undefined && !isPort(gateway[field]))
        bad(`${at}.gateway.${field}`, `${JSON.stringify(gateway[field])} is not a port from 1 to 65535`);
  });
  return value as ExistingDatacenterConfig[];
}

/** One bad configuration key: which, and why. */
export interface StackConfigProblem {
  /** The key, e.g. `meshGatewayMode`. */
  key: string;
  /** What is wrong and what is accepted. */
  message: string;
}

/** A stack configuration with bad values; `problems` names every key. A `RunError`: no stack trace. */
export class StackConfigError extends pulumi.RunError {
  /** Stable error code. */
  readonly code = "E_STACK_CONFIG";

  /** @param problems - Every bad key, at least one. */
  constructor(readonly problems: StackConfigProblem[]) {
    super(
      `invalid stack configuration: ${problems.length} problem${problems.length === 1 ? "" : "s"}\n` +
        problems.map((p) => `  - config ${p.key}: ${p.message}`).join("\n"),
    );
    this.name = "StackConfigError";
  }
}

/** Reads configuration values by key (a `pulumi.Config`, or a plain map in tests). */
export interface ConfigSource {
  /** The value of `key`, or `undefined` when it is not set. */
  get(key: string): string | undefined;
}

/**
 * The stack configuration of the current project, checked.
 * @param config - Where the values come from. Default: `new pulumi.Config()` (the project's namespace).
 * @throws StackConfigError naming every bad key.
 */
export function readStackConfig(config: ConfigSource = new pulumi.Config()): StackConfig {
  const problems: StackConfigProblem[] = [];
  const image = (key: string): string | undefined => {
    const value = config.get(key);
    if (value !== undefined && !isImageReference(value))
      problems.push({ key, message: `${JSON.stringify(value)} is not an image reference such as repository[:tag]` });
    return value;
  };
  const oneOf = <T extends string>(key: string, allowed: readonly T[], fallback: T): T => {
    const value = config.get(key) ?? fallback;
    if ((allowed as readonly string[]).includes(value)) return value as T;
    problems.push({ key, message: `${JSON.stringify(value)} is not one of ${allowed.join(", ")}` });
    return fallback;
  };
  const context = config.get("gatewayImageContext");
  if (context !== undefined && context.trim() === "")
    problems.push({ key: "gatewayImageContext", message: "an empty path: leave it unset for the default" });
  const port = config.get("demoPort") ?? String(DEFAULT_DEMO_HOST_PORT);
  if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535)
    problems.push({ key: "demoPort", message: `${JSON.stringify(port)} is not a port from 1 to 65535` });
  const trustDomain = config.get("trustDomain");
  if (trustDomain !== undefined && clusterIdOf(trustDomain) === undefined)
    problems.push({
      key: "trustDomain",
      message: `${JSON.stringify(trustDomain)} is not "<uuid>.consul" in lower case`,
    });

  const result: StackConfig = {
    consulImage: image("consulImage") ?? CONSUL_IMAGE,
    gatewayImage: image("gatewayImage"),
    gatewayImageContext: context,
    gatewayBaseImage: image("gatewayBaseImage"),
    sidecarImage: image("sidecarImage"),
    envoyImage: image("envoyImage") ?? DEFAULT_ENVOY_IMAGE,
    appImage: image("appImage"),
    routeSource: oneOf("routeSource", ["consul", "file"] as const, "consul"),
    meshGatewayMode: oneOf("meshGatewayMode", EFFECTIVE_MODES, "local"),
    acl: oneOf("acl", ["true", "false"] as const, "true") === "true",
    tls: oneOf("tls", ["true", "false"] as const, "true") === "true",
    gossipEncryption: oneOf("gossipEncryption", ["true", "false"] as const, "true") === "true",
    wanFederation: oneOf("wanFederation", WAN_FEDERATION_MODES, "gossip"),
    demoPort: Number(port),
    trustDomain,
  };
  const datacenters = config.get("datacenters");
  if (datacenters !== undefined) result.datacenters = existingDatacenters(datacenters, problems);
  const dockerHosts = config.get("dockerHosts");
  if (dockerHosts !== undefined)
    result.dockerHosts = datacenterMap(
      "dockerHosts",
      dockerHosts,
      (v) =>
        /^(unix|tcp|ssh|npipe|https?):\/\/\S+$/.test(v)
          ? undefined
          : `${JSON.stringify(v)} is not a DOCKER_HOST value (unix://, tcp://, ssh://)`,
      problems,
    );
  const hostAddresses = config.get("hostAddresses");
  if (hostAddresses !== undefined)
    result.hostAddresses = datacenterMap(
      "hostAddresses",
      hostAddresses,
      (v) => (/[\s/]/.test(v) ? `${JSON.stringify(v)} is not a host name or IP address` : undefined),
      problems,
    );
  for (const [key, build] of [
    ["gatewayImage", ["gatewayImageContext", "gatewayBaseImage"]],
    ["sidecarImage", ["envoyImage"]],
  ] as const) {
    for (const other of build) {
      if (config.get(key) !== undefined && config.get(other) !== undefined)
        problems.push({ key: other, message: `builds an image, but ${key} names a published one: unset one of them` });
    }
  }
  if (problems.length > 0) throw new StackConfigError(problems);
  return result;
}
