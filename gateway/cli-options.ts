/**
 * The `sni-gateway` command line: flags (node:util parseArgs), each with an environment
 * variable fallback, validated with zod into {@link GatewayOptions}. Pure: no I/O except
 * reading the token file named by `CONSUL_HTTP_TOKEN_FILE` and the CA file.
 */
import { networkInterfaces } from "node:os";
import { parseArgs } from "node:util";
import { z } from "zod";
import { consulClientOptionsFromEnv } from "./consul-client";
import { CliError, GatewayConfigError } from "./errors";
import type { GatewayOptions } from "./gateway";
import { formatHostPort, HostPort, parseHostPort } from "./host-port";
import { LOG_LEVELS } from "./logger";
import { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_HELLO_TIMEOUT_MS, DEFAULT_IDLE_TIMEOUT_MS, DEFAULT_MAX_CONNECTIONS } from "./proxy";

/** Default of `--drain-grace`, in ms. */
export const DEFAULT_DRAIN_GRACE_MS = 10_000;

/** The `--help` text. */
export const HELP = `Usage: sni-gateway --datacenter NAME --trust-domain TD --listen HOST:PORT [--listen HOST:PORT ...]
                   --admin HOST:PORT (--routes FILE | --consul URL)
                   [--service-name NAME --lan-address HOST:PORT --wan-address HOST:PORT]

A Consul mesh gateway: reads the SNI name of each TLS connection, never decrypts, and forwards
the bytes to the local service's connect endpoints or to the mesh gateways of the datacenter
the name belongs to. Anything else is closed.

Every option can also come from the environment variable shown; a flag wins over its variable.

Required
  --datacenter NAME        The gateway's Consul datacenter.                   SNI_GATEWAY_DATACENTER
  --listen HOST:PORT       Address for mesh traffic; repeat for several       SNI_GATEWAY_LISTEN
                           (the variable takes a comma-separated list).
  --routes FILE            Routes from a JSON file (gateway/routes.schema.json), SNI_GATEWAY_ROUTES
                           re-read when it changes (and on SIGHUP).
  --consul URL             Routes from this Consul agent's catalog            SNI_GATEWAY_CONSUL,
                           (http://host:8500, https://host:8501 or host:port). CONSUL_HTTP_ADDR
                           Exactly one of --routes and --consul.

Optional
  --trust-domain TD        Connect trust domain, <cluster-id>.consul.         SNI_GATEWAY_TRUST_DOMAIN
                           Default: the routes file's (a file for another trust domain
                           is refused); in Consul mode the agent's CA roots, which win
                           over this flag once read.
  --admin HOST:PORT        Admin HTTP: /healthz /readyz /metrics /routes.     SNI_GATEWAY_ADMIN
                           Default: none.
  --hello-timeout DUR      Time allowed for a complete ClientHello.           SNI_GATEWAY_HELLO_TIMEOUT
                           Default: ${DEFAULT_HELLO_TIMEOUT_MS}ms.
  --idle-timeout DUR       Close connections idle this long; 0 disables.      SNI_GATEWAY_IDLE_TIMEOUT
                           Default: ${DEFAULT_IDLE_TIMEOUT_MS / 1000}s.
  --connect-timeout DUR    Time allowed per upstream connect attempt,         SNI_GATEWAY_CONNECT_TIMEOUT
                           then the next endpoint is tried. Default: ${DEFAULT_CONNECT_TIMEOUT_MS}ms.
  --max-connections N      Most open client connections; more are closed.     SNI_GATEWAY_MAX_CONNECTIONS
                           Default: ${DEFAULT_MAX_CONNECTIONS}.
  --drain-grace DUR        On SIGTERM/SIGINT, time open connections get to    SNI_GATEWAY_DRAIN_GRACE
                           finish before they are closed. Default: ${DEFAULT_DRAIN_GRACE_MS / 1000}s.
  --log-level LEVEL        ${LOG_LEVELS.join(", ")}. Default: info.        SNI_GATEWAY_LOG_LEVEL
  -h, --help               Show this help.

Consul mode (--consul)
  The ACL token comes from CONSUL_HTTP_TOKEN or CONSUL_HTTP_TOKEN_FILE (never a flag) and is sent
  as X-Consul-Token; it needs service:write on the gateway's name, service:read on all services
  and node:read on all nodes. CONSUL_CACERT (a PEM file) verifies an https agent;
  CONSUL_HTTP_SSL=true selects https for a host:port address.
  --consul-cacert FILE     Same as CONSUL_CACERT.                             CONSUL_CACERT
  --service-name NAME      Registered service name. Default: mesh-gateway.    SNI_GATEWAY_SERVICE_NAME
  --service-id ID          Registered service ID, unique on the agent (several SNI_GATEWAY_SERVICE_ID
                           gateways on one agent need their own). Default: the service name.
  --proxy-config JSON      Opaque Proxy.Config of the registration, a JSON    SNI_GATEWAY_PROXY_CONFIG
                           object. Default: {}.
  --lan-address HOST:PORT  Registered address and LAN tagged address.         SNI_GATEWAY_LAN_ADDRESS
                           Default: the first --listen address; for 0.0.0.0,
                           this host's first non-internal address.
  --wan-address HOST:PORT  WAN tagged address, what other datacenters dial.   SNI_GATEWAY_WAN_ADDRESS
                           Default: none (Consul then uses the LAN address).
  --no-register            Do not register with the agent.                    SNI_GATEWAY_NO_REGISTER=true
  The gateway registers on start as \`consul connect envoy -gateway=mesh -register\` does and
  deregisters on shutdown.

Signals: SIGTERM/SIGINT stop accepting, drain, deregister and exit 0; SIGHUP re-reads --routes.
Durations: 500ms, 5s, 2m, or a number of milliseconds.
`;

/** The parsed command line. */
export type CliCommand =
  | { kind: "help" }
  | {
      kind: "run";
      /** Options for {@link startGateway}. */
      options: GatewayOptions & { drainGraceMs: number };
    };

const durationMs = (flag: string) =>
  z.string().transform((text, ctx) => {
    const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
    if (!m) {
      ctx.addIssue({ code: "custom", message: `${flag}: "${text}" is not a duration (500ms, 5s, 2m or milliseconds)` });
      return z.NEVER;
    }
    const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? "ms") as "ms" | "s" | "m" | "h"];
    return Math.round(Number(m[1]) * factor);
  });

const hostPort = (flag: string) =>
  z.string().transform((text, ctx): HostPort => {
    const parsed = parseHostPort(text);
    if ("error" in parsed) {
      ctx.addIssue({ code: "custom", message: `${flag}: ${parsed.error}` });
      return z.NEVER;
    }
    return parsed;
  });

const dnsLabel = (flag: string) =>
  z.string().regex(/^[A-Za-z0-9]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?$/, `${flag}: must be a name of letters, digits, '-' and '_'`);

const schema = z.object({
  datacenter: dnsLabel("--datacenter"),
  trustDomain: z
    .string()
    .regex(/^[A-Za-z0-9.-]+$/, "--trust-domain: must be a domain such as <cluster-id>.consul")
    .optional(),
  listen: z.array(hostPort("--listen")).min(1, "--listen: at least one HOST:PORT is required"),
  admin: hostPort("--admin").optional(),
  routes: z.string().min(1).optional(),
  consul: z.string().min(1).optional(),
  consulCacert: z.string().min(1).optional(),
  serviceName: dnsLabel("--service-name").optional(),
  serviceId: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/, "--service-id: must be letters, digits, '-', '_', '.' and ':' (at most 128)")
    .optional(),
  proxyConfig: z
    .string()
    .transform((text, ctx) => {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        value = undefined;
      }
      if (!value || typeof value !== "object" || Array.isArray(value)) {
        ctx.addIssue({ code: "custom", message: "--proxy-config: must be a JSON object, e.g. {\"envoy_mesh_gateway_no_default_bind\":true}" });
        return z.NEVER;
      }
      return value as Record<string, unknown>;
    })
    .optional(),
  lanAddress: hostPort("--lan-address").optional(),
  wanAddress: hostPort("--wan-address").optional(),
  noRegister: z.boolean(),
  helloTimeout: durationMs("--hello-timeout").optional(),
  idleTimeout: durationMs("--idle-timeout").optional(),
  connectTimeout: durationMs("--connect-timeout").optional(),
  maxConnections: z
    .string()
    .regex(/^\d+$/, "--max-connections: must be a whole number")
    .transform(Number)
    .refine((n) => n >= 1, "--max-connections: must be at least 1")
    .optional(),
  drainGrace: durationMs("--drain-grace").optional(),
  logLevel: z.enum(LOG_LEVELS, { message: `--log-level: must be one of ${LOG_LEVELS.join(", ")}` }).optional(),
});

/**
 * Parses the command line and environment.
 * @param argv arguments after the program name.
 * @param env the environment. Default: `process.env`.
 * @throws CliError naming the flag, for anything invalid or missing.
 */
export function parseCommandLine(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
  interfaces: () => ReturnType<typeof networkInterfaces> = networkInterfaces,
): CliCommand {
  let values: Record<string, string | string[] | boolean | undefined>;
  try {
    values = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        datacenter: { type: "string" },
        "trust-domain": { type: "string" },
        listen: { type: "string", multiple: true },
        admin: { type: "string" },
        routes: { type: "string" },
        consul: { type: "string" },
        "consul-cacert": { type: "string" },
        "service-name": { type: "string" },
        "service-id": { type: "string" },
        "proxy-config": { type: "string" },
        "lan-address": { type: "string" },
        "wan-address": { type: "string" },
        "no-register": { type: "boolean" },
        "hello-timeout": { type: "string" },
        "idle-timeout": { type: "string" },
        "connect-timeout": { type: "string" },
        "max-connections": { type: "string" },
        "drain-grace": { type: "string" },
        "log-level": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }).values;
  } catch (error) {
    throw new CliError("arguments", (error as Error).message);
  }
  if (values.help) return { kind: "help" };

  const str = (flag: string, variable: string): string | undefined => {
    const v = values[flag];
    if (typeof v === "string") return v;
    const e = env[variable];
    return e !== undefined && e !== "" ? e : undefined;
  };
  const listenFlag = values.listen as string[] | undefined;
  const listenEnv = env.SNI_GATEWAY_LISTEN?.split(",").map((s) => s.trim()).filter(Boolean);
  let routes = typeof values.routes === "string" ? values.routes : undefined;
  let consul = typeof values.consul === "string" ? values.consul : undefined;
  if (routes !== undefined && consul !== undefined) throw new CliError("--routes", "give --routes FILE or --consul URL, not both");
  if (routes === undefined && consul === undefined) {
    routes = str("routes", "SNI_GATEWAY_ROUTES");
    if (routes === undefined) consul = str("consul", "SNI_GATEWAY_CONSUL") ?? str("consul", "CONSUL_HTTP_ADDR");
  }
  const input = {
    datacenter: str("datacenter", "SNI_GATEWAY_DATACENTER"),
    trustDomain: str("trust-domain", "SNI_GATEWAY_TRUST_DOMAIN"),
    listen: listenFlag ?? listenEnv ?? [],
    admin: str("admin", "SNI_GATEWAY_ADMIN"),
    routes,
    consul,
    consulCacert: str("consul-cacert", "CONSUL_CACERT"),
    serviceName: str("service-name", "SNI_GATEWAY_SERVICE_NAME"),
    serviceId: str("service-id", "SNI_GATEWAY_SERVICE_ID"),
    proxyConfig: str("proxy-config", "SNI_GATEWAY_PROXY_CONFIG"),
    lanAddress: str("lan-address", "SNI_GATEWAY_LAN_ADDRESS"),
    wanAddress: str("wan-address", "SNI_GATEWAY_WAN_ADDRESS"),
    noRegister: values["no-register"] === true || /^(1|true|yes)$/i.test(env.SNI_GATEWAY_NO_REGISTER ?? ""),
    helloTimeout: str("hello-timeout", "SNI_GATEWAY_HELLO_TIMEOUT"),
    idleTimeout: str("idle-timeout", "SNI_GATEWAY_IDLE_TIMEOUT"),
    connectTimeout: str("connect-timeout", "SNI_GATEWAY_CONNECT_TIMEOUT"),
    maxConnections: str("max-connections", "SNI_GATEWAY_MAX_CONNECTIONS"),
    drainGrace: str("drain-grace", "SNI_GATEWAY_DRAIN_GRACE"),
    logLevel: str("log-level", "SNI_GATEWAY_LOG_LEVEL"),
  };
  if (input.datacenter === undefined) throw new CliError("--datacenter", "required (or SNI_GATEWAY_DATACENTER)");
  if (input.listen.length === 0) throw new CliError("--listen", "at least one HOST:PORT is required (or SNI_GATEWAY_LISTEN)");
  if (routes === undefined && consul === undefined) {
    throw new CliError("--routes", "give --routes FILE or --consul URL (or SNI_GATEWAY_ROUTES / CONSUL_HTTP_ADDR)");
  }
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = `--${String(issue.path[0] ?? "arguments").replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    const message = issue.message.startsWith("--") ? issue.message.replace(/^--[a-z-]+: /, "") : issue.message;
    throw new CliError(field, message);
  }
  const o = parsed.data;
  if (o.routes !== undefined) {
    for (const [flag, given] of [
      ["--service-name", o.serviceName],
      ["--service-id", o.serviceId],
      ["--proxy-config", o.proxyConfig],
      ["--lan-address", o.lanAddress],
      ["--wan-address", o.wanAddress],
    ] as const) {
      if (given !== undefined) throw new CliError(flag, "only applies with --consul (self-registration)");
    }
  }

  const options: GatewayOptions & { drainGraceMs: number } = {
    datacenter: o.datacenter,
    trustDomain: o.trustDomain,
    listen: o.listen,
    admin: o.admin,
    routes: { file: "" },
    proxy: {
      helloTimeoutMs: o.helloTimeout,
      idleTimeoutMs: o.idleTimeout,
      connectTimeoutMs: o.connectTimeout,
      maxConnections: o.maxConnections,
    },
    drainGraceMs: o.drainGrace ?? DEFAULT_DRAIN_GRACE_MS,
    logLevel: o.logLevel,
  };
  if (o.routes !== undefined) {
    options.routes = { file: o.routes };
  } else {
    let consulOptions;
    try {
      consulOptions = consulClientOptionsFromEnv(env, { address: o.consul, caFile: o.consulCacert });
    } catch (error) {
      if (!(error instanceof GatewayConfigError)) throw error;
      throw new CliError(error.field === "CONSUL_CACERT" ? "--consul-cacert" : error.field, error.reason);
    }
    options.routes = { consul: consulOptions };
    if (!o.noRegister) {
      const lan = o.lanAddress ?? advertisable(o.listen[0], interfaces);
      options.register = {
        name: o.serviceName,
        ...(o.serviceId ? { id: o.serviceId } : {}),
        ...(o.proxyConfig ? { proxyConfig: o.proxyConfig } : {}),
        address: lan.host,
        ...(o.lanAddress ? { port: lan.port } : {}),
        ...(o.lanAddress ? { lanAddress: { address: lan.host, port: lan.port } } : {}),
        ...(o.wanAddress ? { wanAddress: { address: o.wanAddress.host, port: o.wanAddress.port } } : {}),
      };
    }
  }
  return { kind: "run", options };
}

/**
 * The address to register for a listener: itself, or for a wildcard listener (`0.0.0.0`, `::`)
 * this host's first non-internal address, as Consul picks a private address to advertise. A
 * registered `0.0.0.0` would send other services' traffic nowhere.
 */
function advertisable(listen: HostPort, interfaces: () => ReturnType<typeof networkInterfaces>): HostPort {
  if (listen.host !== "0.0.0.0" && listen.host !== "::") return listen;
  const addresses = Object.values(interfaces())
    .flat()
    .filter((a) => a !== undefined && !a.internal);
  const chosen = addresses.find((a) => a?.family === "IPv4") ?? addresses.find((a) => a?.family === "IPv6" && !a.address.startsWith("fe80"));
  if (!chosen) {
    throw new CliError("--lan-address", `required: --listen ${formatHostPort(listen)} is a wildcard and this host has no other address to register`);
  }
  return { host: chosen.address, port: listen.port };
}

/**
 * A summary of options safe to log (no token).
 * @param options the parsed options.
 */
export function describeOptions(options: GatewayOptions): Record<string, unknown> {
  const routes = options.routes;
  return {
    datacenter: options.datacenter,
    trustDomain: options.trustDomain,
    listen: options.listen.map(formatHostPort),
    admin: options.admin ? formatHostPort(options.admin) : undefined,
    routes: "file" in routes ? { file: routes.file } : "consul" in routes ? { consul: withoutCredentials(routes.consul.address), aclToken: Boolean(routes.consul.token) } : "static",
  };
}

/** An agent address with any `user:password@` part masked, for logs. */
function withoutCredentials(address: string): string {
  return address.replace(/^([a-z][a-z0-9+.-]*:\/\/)?[^@/]*@/i, (_match, scheme: string | undefined) => `${scheme ?? ""}[redacted]@`);
}
