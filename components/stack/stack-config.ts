/**
 * The configuration keys of the default stack and of every example (`pulumi config set KEY
 * VALUE`), read and checked in one place: a wrong value fails `pulumi preview` with every bad
 * key named, before any resource is declared.
 */
import * as pulumi from "@pulumi/pulumi";
import { clusterIdOf, EFFECTIVE_MODES, type EffectiveMode } from "../../mesh";
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
  /** `demoPort`: the host port of `demoUrl` (on 127.0.0.1). Default: `8080`. */
  demoPort: number;
  /**
   * `trustDomain`: the Connect trust domain to pin, `<uuid>.consul` in lower case. Default: none
   * (one drawn once per stack and kept in its state).
   */
  trustDomain?: string;
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
    demoPort: Number(port),
    trustDomain,
  };
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
