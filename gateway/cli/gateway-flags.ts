/**
 * The table of every `sni-gateway` option, {@link FLAGS}: each declared once (flag, environment
 * variable, check, default as `--help` shows it, help line). `options.ts` turns what is given into
 * `GatewayOptions` and makes the `--help` text from it; `flag-table.ts` is the machinery.
 */
import { z } from "zod";
import { DEFAULT_GATEWAY_NAME } from "../../mesh/model/defaults";
import { DOMAIN_PATTERN } from "../../mesh/model/names";
import { DEFAULT_CONSUL_DOMAIN } from "../../mesh/model/sni";
import {
  agentAddress,
  durationMs,
  type Flag,
  formatDuration,
  hostPort,
  jsonObject,
  nameLabel,
  positiveCount,
  serviceId,
  switchOn,
} from "./flag-table";
import { CONSUL_ROUTE_VIAS, DEFAULT_DRAIN_GRACE_MS, DEFAULT_MAX_ROUTES } from "../gateway";
import { DEFAULT_LOG_LEVEL, LOG_LEVELS } from "../admin/logger";
import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_HELLO_TIMEOUT_MS,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_RELAY_MODE,
  RELAY_MODES,
} from "../net/proxy";

/** A flag of the gateway; `registration` ones describe the self-registration, so need `--consul`. */
export interface GatewayFlag<T = unknown> extends Flag<T> {
  /** Refused with `--routes`: it only applies to the registration of Consul mode. Default: `false`. */
  registration?: boolean;
}

/** Every option of `sni-gateway`, in the order `--help` lists them and the checks run. */
export const FLAGS = {
  datacenter: {
    section: "required",
    flag: "datacenter",
    value: "NAME",
    env: ["SNI_GATEWAY_DATACENTER"],
    schema: nameLabel,
    help: "The gateway's Consul datacenter.",
  },
  listen: {
    section: "required",
    flag: "listen",
    value: "HOST:PORT",
    env: ["SNI_GATEWAY_LISTEN"],
    multiple: true,
    schema: hostPort,
    help: "Address for mesh traffic; repeat for several (the variable takes a comma-separated list).",
  },
  routes: {
    section: "required",
    flag: "routes",
    value: "FILE",
    env: ["SNI_GATEWAY_ROUTES"],
    schema: z.string().min(1),
    help: "Routes from a JSON file (gateway/routing/routes.schema.json), re-read when it changes (and on SIGHUP).",
  },
  consul: {
    section: "required",
    flag: "consul",
    value: "URL",
    env: ["SNI_GATEWAY_CONSUL", "CONSUL_HTTP_ADDR"],
    schema: agentAddress,
    help: "Routes from this Consul agent (http://host:8500, https://host:8501 or host:port).",
  },
  trustDomain: {
    section: "optional",
    flag: "trust-domain",
    value: "TD",
    env: ["SNI_GATEWAY_TRUST_DOMAIN"],
    schema: z.string().regex(DOMAIN_PATTERN, "must be a domain such as <cluster-id>.consul"),
    help: "Connect trust domain, <cluster-id>.consul.",
    default:
      "the routes file's (a file for another trust domain is refused); " +
      "in Consul mode the agent's CA roots, which win over this flag once read",
  },
  admin: {
    section: "optional",
    flag: "admin",
    value: "HOST:PORT",
    env: ["SNI_GATEWAY_ADMIN"],
    schema: hostPort,
    help: "Admin HTTP: /healthz /readyz /metrics /routes.",
    default: "none",
  },
  helloTimeout: {
    section: "optional",
    flag: "hello-timeout",
    value: "DUR",
    env: ["SNI_GATEWAY_HELLO_TIMEOUT"],
    schema: durationMs,
    help: "Time allowed for a complete ClientHello.",
    default: formatDuration(DEFAULT_HELLO_TIMEOUT_MS),
  },
  idleTimeout: {
    section: "optional",
    flag: "idle-timeout",
    value: "DUR",
    env: ["SNI_GATEWAY_IDLE_TIMEOUT"],
    schema: durationMs,
    help: "Close connections idle this long; 0 disables.",
    default: formatDuration(DEFAULT_IDLE_TIMEOUT_MS),
  },
  connectTimeout: {
    section: "optional",
    flag: "connect-timeout",
    value: "DUR",
    env: ["SNI_GATEWAY_CONNECT_TIMEOUT"],
    schema: durationMs,
    help: "Time allowed per upstream connect attempt, then the next endpoint is tried.",
    default: formatDuration(DEFAULT_CONNECT_TIMEOUT_MS),
  },
  maxConnections: {
    section: "optional",
    flag: "max-connections",
    value: "N",
    env: ["SNI_GATEWAY_MAX_CONNECTIONS"],
    schema: positiveCount,
    help: "Most open client connections; more are closed.",
    default: String(DEFAULT_MAX_CONNECTIONS),
  },
  maxRoutes: {
    section: "optional",
    flag: "max-routes",
    value: "N",
    env: ["SNI_GATEWAY_MAX_ROUTES"],
    schema: positiveCount,
    help: "Most routes in the table; a bigger table from the source is refused, the last good one kept.",
    default: String(DEFAULT_MAX_ROUTES),
  },
  relay: {
    section: "optional",
    flag: "relay",
    value: "MODE",
    env: ["SNI_GATEWAY_RELAY"],
    schema: z.enum(RELAY_MODES, { message: `must be one of ${RELAY_MODES.join(", ")}` }),
    help: "What carries connections: splice (the native addon accepts, dials and relays them, zero copy; JavaScript routes), pump (Node.js sockets, TypeScript), auto.",
    default: DEFAULT_RELAY_MODE,
  },
  drainGrace: {
    section: "optional",
    flag: "drain-grace",
    value: "DUR",
    env: ["SNI_GATEWAY_DRAIN_GRACE"],
    schema: durationMs,
    help: "On SIGTERM/SIGINT, time open connections get to finish before they are closed.",
    default: formatDuration(DEFAULT_DRAIN_GRACE_MS),
  },
  logLevel: {
    section: "optional",
    flag: "log-level",
    value: "LEVEL",
    env: ["SNI_GATEWAY_LOG_LEVEL"],
    schema: z.enum(LOG_LEVELS, { message: `must be one of ${LOG_LEVELS.join(", ")}` }),
    help: `${LOG_LEVELS.join(", ")}.`,
    default: DEFAULT_LOG_LEVEL,
  },
  consulCacert: {
    section: "consul",
    flag: "consul-cacert",
    value: "FILE",
    env: ["CONSUL_CACERT"],
    schema: z.string().min(1),
    help: "A PEM file that verifies an https agent.",
  },
  consulRoutes: {
    section: "consul",
    flag: "consul-routes",
    value: "VIA",
    env: ["SNI_GATEWAY_CONSUL_ROUTES"],
    schema: z.enum(CONSUL_ROUTE_VIAS, { message: `must be one of ${CONSUL_ROUTE_VIAS.join(", ")}` }),
    help:
      "xds: from the agent's xDS server, as Consul's Envoy gateway (any catalog size); " +
      "catalog: a blocking query per service, for agents without gRPC (fewer services than http_max_conns_per_client).",
    default: "xds",
  },
  consulGrpc: {
    section: "consul",
    flag: "consul-grpc",
    value: "ADDR",
    env: ["CONSUL_GRPC_ADDR"],
    schema: agentAddress,
    help: "The agent's gRPC (xDS) server: host:port (plaintext) or https://host:port (TLS).",
    default: "the --consul host on 8502, or 8503 (TLS) for an https agent",
  },
  consulGrpcCacert: {
    section: "consul",
    flag: "consul-grpc-cacert",
    value: "FILE",
    env: ["CONSUL_GRPC_CACERT"],
    schema: z.string().min(1),
    help: "A PEM file that verifies a TLS gRPC server.",
    default: "--consul-cacert",
  },
  serviceName: {
    section: "consul",
    flag: "service-name",
    value: "NAME",
    env: ["SNI_GATEWAY_SERVICE_NAME"],
    registration: true,
    schema: nameLabel,
    help: "Registered service name.",
    default: DEFAULT_GATEWAY_NAME,
  },
  serviceId: {
    section: "consul",
    flag: "service-id",
    value: "ID",
    env: ["SNI_GATEWAY_SERVICE_ID"],
    registration: true,
    schema: serviceId,
    help: "Registered service ID, unique on the agent (several gateways on one agent need their own).",
    default: "the service name",
  },
  proxyConfig: {
    section: "consul",
    flag: "proxy-config",
    value: "JSON",
    env: ["SNI_GATEWAY_PROXY_CONFIG"],
    registration: true,
    schema: jsonObject,
    help: "Opaque Proxy.Config of the registration, a JSON object.",
    default: "{}",
  },
  lanAddress: {
    section: "consul",
    flag: "lan-address",
    value: "HOST:PORT",
    env: ["SNI_GATEWAY_LAN_ADDRESS"],
    registration: true,
    schema: hostPort,
    help: "Registered address and LAN tagged address.",
    default: "the first --listen address; for 0.0.0.0, this host's first non-internal address",
  },
  wanAddress: {
    section: "consul",
    flag: "wan-address",
    value: "HOST:PORT",
    env: ["SNI_GATEWAY_WAN_ADDRESS"],
    registration: true,
    schema: hostPort,
    help: "WAN tagged address, what other datacenters dial.",
    default: "none (Consul then uses the LAN address)",
  },
  exposeServers: {
    section: "consul",
    flag: "expose-servers",
    env: ["SNI_GATEWAY_EXPOSE_SERVERS"],
    registration: true,
    schema: switchOn,
    help:
      "Carry the Consul servers' own traffic (WAN federation through the gateways), as consul connect envoy " +
      "-expose-servers: registers with meta consul-wan-federation=1 and routes [<node>.]server.<dc>.<domain>.",
    default: "off (server names are refused)",
  },
  consulDomain: {
    section: "consul",
    flag: "consul-domain",
    value: "DOMAIN",
    env: ["SNI_GATEWAY_CONSUL_DOMAIN"],
    registration: true,
    schema: z.string().regex(DOMAIN_PATTERN, "must be a domain such as consul"),
    help: "Consul's domain, which server SNI names end with (with --expose-servers).",
    default: DEFAULT_CONSUL_DOMAIN,
  },
  noRegister: {
    section: "consul",
    flag: "no-register",
    env: ["SNI_GATEWAY_NO_REGISTER"],
    schema: switchOn,
    help: "Do not register with the agent; xDS routes are then those of the gateway registered as --service-id.",
  },
} as const satisfies Record<string, GatewayFlag>;
