/**
 * The `sni-gateway` command line: what is given, by flag or variable, turned into
 * {@link GatewayOptions}, and the `--help` text. Both come from one table, {@link FLAGS}
 * (`gateway-flags.ts`), which declares every option once; the flag parser and the environment
 * fallback are `flag-table.ts`. Pure: no I/O except reading the token and CA files the Consul
 * settings name.
 */
import { networkInterfaces } from "node:os";
import { readFileSync } from "node:fs";
import { consulBaseUrl, consulEnvironment, consulGrpcAddress, readConsulSettings } from "../../consul/settings";
import { GATEWAY_TOKEN_RIGHTS } from "../../mesh/render/gateway-acl-rules";
import { gatewayServiceId } from "../../mesh/render/gateway-registration";
import {
  checkFlags,
  type Flag,
  type FlagValues,
  helpLine,
  helpSection,
  readFlags,
  textFromEnv,
  usage,
} from "./flag-table";
import { FLAGS } from "./gateway-flags";
import type { ConsulClientOptions } from "../../consul/client";
import { CliError } from "../errors";
import { ConsulSettingError } from "../../consul/errors";
import { type ConsulRoutesOption, DEFAULT_DRAIN_GRACE_MS, type GatewayOptions } from "../gateway";
import { formatHostPort, HostPort } from "../net/host-port";

/** The drain grace `--drain-grace` defaults to; defined with the code that applies it (`gateway.ts`). */
export { DEFAULT_DRAIN_GRACE_MS };

const FLAG_WIDTH = Math.max(...Object.values(FLAGS).map((f) => usage(f).length));

/** The `--help` text. */
export const HELP = `Usage: sni-gateway ${usage(FLAGS.datacenter)} ${usage(FLAGS.listen)} [${usage(FLAGS.listen)} ...]
                   (${usage(FLAGS.routes)} | ${usage(FLAGS.consul)}) [OPTION ...]

A Consul mesh gateway: reads the SNI name of each TLS connection, never decrypts, and forwards
the bytes to the local service's connect endpoints or to the mesh gateways of the datacenter
the name belongs to. Anything else is closed.

Every option can also come from the environment variable shown; a flag wins over its variable.

Required
${helpSection(FLAGS, "required")}
${helpLine("", "Exactly one of --routes and --consul (CONSUL_HTTP_ADDR does not count against --routes).", "", FLAG_WIDTH)}

Optional
${helpSection(FLAGS, "optional")}
${helpLine("-h, --help", "Show this help.", "", FLAG_WIDTH)}

Consul mode (--consul)
  The ACL token comes from CONSUL_HTTP_TOKEN_FILE, else CONSUL_HTTP_TOKEN (never a flag), and is sent
  as X-Consul-Token:
  ${GATEWAY_TOKEN_RIGHTS}.
  CONSUL_CACERT (a PEM file) verifies an https agent; CONSUL_HTTP_SSL=true selects https for a
  host:port address.
${helpSection(FLAGS, "consul")}
  The gateway registers on start as \`consul connect envoy -gateway=mesh -register\` does and
  deregisters on shutdown. Routes then come from the agent's xDS server as Envoy's do (one gRPC
  stream for the registered service ID, the token sent as x-consul-token), or with
  --consul-routes catalog from blocking queries on the catalog.

Signals: SIGTERM/SIGINT stop accepting, drain, deregister and exit 0; SIGHUP re-reads --routes.
Durations: 500ms, 5s, 2m, 1h, or a number of milliseconds.
`;

/** The parsed command line. */
export type CliCommand =
  | { kind: "help" }
  | {
      kind: "run";
      /** Options for {@link startGateway}; `drainGraceMs` also for the drain on SIGTERM/SIGINT. */
      options: GatewayOptions;
    };

/**
 * Parses the command line and environment.
 * @param argv - Arguments after the program name.
 * @param env - The environment. Default: `process.env`.
 * @param interfaces - This host's network interfaces, for a wildcard `--listen`. Default: `os.networkInterfaces`.
 * @throws CliError naming the flag (or variable), for anything invalid or missing.
 */
export function parseCommandLine(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
  interfaces: () => ReturnType<typeof networkInterfaces> = networkInterfaces,
): CliCommand {
  const { help, given } = readFlags(FLAGS, argv);
  if (help) return { kind: "help" };
  const variable = variables(env);
  const texts = { ...given };
  for (const [name, f] of Object.entries(FLAGS) as Array<[keyof typeof FLAGS, Flag]>) {
    texts[name] ??= textFromEnv(f, variable);
  }
  // The route source is chosen as a whole: a flag for either hides the variables of both, and
  // SNI_GATEWAY_ROUTES wins over CONSUL_HTTP_ADDR (which other tools on the host may need), but
  // not over the gateway's own SNI_GATEWAY_CONSUL: both of those set is a contradiction.
  if (given.routes !== undefined || given.consul !== undefined) {
    Object.assign(texts, { routes: given.routes, consul: given.consul });
  } else if (texts.routes !== undefined) {
    const [routesVariable] = FLAGS.routes.env;
    const [consulVariable] = FLAGS.consul.env;
    if (variable(consulVariable)) {
      throw new CliError(routesVariable, `give ${routesVariable} or ${consulVariable}, not both`);
    }
    texts.consul = undefined;
  }

  if (texts.routes !== undefined && texts.consul !== undefined) {
    throw new CliError("--routes", "give --routes FILE or --consul URL, not both");
  }
  if (texts.datacenter === undefined) throw new CliError("--datacenter", `required (or ${FLAGS.datacenter.env[0]})`);
  if (texts.listen === undefined || texts.listen.length === 0) {
    throw new CliError("--listen", `at least one HOST:PORT is required (or ${FLAGS.listen.env[0]})`);
  }
  if (texts.routes === undefined && texts.consul === undefined) {
    const names = `${FLAGS.routes.env[0]} / ${FLAGS.consul.env[1]}`;
    throw new CliError("--routes", `give --routes FILE or --consul URL (or ${names})`);
  }
  const o = checkFlags(FLAGS, texts);
  if (o.routes !== undefined) {
    const isSet = (name: string) => o[name as keyof typeof o] !== undefined;
    const misplaced = Object.entries(FLAGS).find(([name, f]) => "registration" in f && isSet(name));
    if (misplaced) throw new CliError(`--${misplaced[1].flag}`, "only applies with --consul (self-registration)");
  }

  const options: GatewayOptions = {
    datacenter: o.datacenter as string,
    trustDomain: o.trustDomain,
    listen: o.listen as HostPort[],
    admin: o.admin,
    routes: o.routes !== undefined ? { file: o.routes } : consulRoutes(o, env),
    proxy: {
      helloTimeoutMs: o.helloTimeout,
      idleTimeoutMs: o.idleTimeout,
      connectTimeoutMs: o.connectTimeout,
      maxConnections: o.maxConnections,
      relay: o.relay,
    },
    maxRoutes: o.maxRoutes,
    drainGraceMs: o.drainGrace,
    logLevel: o.logLevel,
  };
  if (o.routes === undefined && !o.noRegister) options.register = registration(o, options.listen[0], interfaces);
  return { kind: "run", options };
}

/** Consul mode's route source: the agent, how routes are learned, and where xDS comes from. */
function consulRoutes(o: FlagValues<typeof FLAGS>, env: NodeJS.ProcessEnv): ConsulRoutesOption {
  const consul = consulOptions(env, o.consul, o.consulCacert);
  const routes: ConsulRoutesOption = {
    consul,
    ...(o.consulRoutes ? { via: o.consulRoutes } : {}),
    ...(o.exposeServers ? { exposeServers: true } : {}),
    ...(o.consulDomain ? { consulDomain: o.consulDomain } : {}),
  };
  if (o.consulGrpc !== undefined || o.consulGrpcCacert !== undefined) {
    const base = consulBaseUrl(consul.address, consul.ssl);
    let server: { address: string; tls: boolean };
    try {
      server = consulGrpcAddress(base, o.consulGrpc);
    } catch {
      throw new CliError("--consul-grpc", "must be host:port or https://host:port");
    }
    const ca = o.consulGrpcCacert ? readCliFile("--consul-grpc-cacert", o.consulGrpcCacert) : consul.ca;
    routes.grpc = { ...server, ...(ca ? { ca } : {}) };
  }
  // Without the registration, the stream is for a gateway registered by someone else.
  if (o.noRegister) routes.proxyId = gatewayServiceId({ id: o.serviceId, name: o.serviceName });
  return routes;
}

/** The content of a file a flag names, or a {@link CliError} naming the flag. */
function readCliFile(flag: string, file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    throw new CliError(flag, `cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? "error"})`);
  }
}

/** The agent's client options, flags over variables; a file they name that cannot be read is a usage error. */
function consulOptions(
  env: NodeJS.ProcessEnv,
  address: string | undefined,
  caFile: string | undefined,
): ConsulClientOptions {
  try {
    return readConsulSettings(env, { address, caFile });
  } catch (error) {
    if (!(error instanceof ConsulSettingError)) throw error;
    throw new CliError(flagOfVariable(error.field) ?? error.field, error.reason);
  }
}

/** The self-registration of Consul mode, from the registration flags. */
function registration(
  o: FlagValues<typeof FLAGS>,
  listen: HostPort,
  interfaces: () => ReturnType<typeof networkInterfaces>,
): GatewayOptions["register"] {
  const lan = o.lanAddress ?? advertisable(listen, interfaces);
  return {
    name: o.serviceName,
    ...(o.serviceId ? { id: o.serviceId } : {}),
    ...(o.proxyConfig ? { proxyConfig: o.proxyConfig } : {}),
    address: lan.host,
    ...(o.lanAddress ? { port: lan.port, lanAddress: { address: lan.host, port: lan.port } } : {}),
    ...(o.wanAddress ? { wanAddress: { address: o.wanAddress.host, port: o.wanAddress.port } } : {}),
    ...(o.exposeServers ? { exposeServers: true } : {}),
  };
}

/** Reads one variable: the `CONSUL_*` ones as `consulEnvironment` reads them, the others as they are. */
function variables(env: NodeJS.ProcessEnv): (name: string) => string | undefined {
  const consul = consulEnvironment(env);
  const read: Record<string, string | undefined> = {
    CONSUL_HTTP_ADDR: consul.address,
    CONSUL_CACERT: consul.caFile,
    CONSUL_GRPC_ADDR: consul.grpcAddress,
    CONSUL_GRPC_CACERT: consul.grpcCaFile,
  };
  return (name) => (name in read ? read[name] : env[name]);
}

/** The flag a variable stands for (`CONSUL_CACERT` → `--consul-cacert`), if one does. */
function flagOfVariable(name: string): string | undefined {
  const f = Object.values(FLAGS).find((candidate) => (candidate.env as readonly string[]).includes(name));
  return f && `--${f.flag}`;
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
  const chosen =
    addresses.find((a) => a?.family === "IPv4") ??
    addresses.find((a) => a?.family === "IPv6" && !a.address.startsWith("fe80"));
  if (!chosen) {
    const wildcard = `--listen ${formatHostPort(listen)} is a wildcard`;
    throw new CliError("--lan-address", `required: ${wildcard} and this host has no other address to register`);
  }
  return { host: chosen.address, port: listen.port };
}
