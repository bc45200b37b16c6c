/**
 * The command line of `consul-mesh plan`: one table of flags, from which the `parseArgs`
 * options and the help text are both made.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { PlanUsageError } from "./errors";

/** The output formats. */
export const FORMATS = ["table", "json", "dot", "svg"] as const;

/** An output format. */
export type PlanFormat = (typeof FORMATS)[number];

/** What `consul-mesh plan` was asked to do. */
export interface PlanOptions {
  /** Topology files (the mesh model, JSON or YAML). Default: none. */
  topology: string[];
  /** Consul configuration files or directories (HCL or JSON). Default: none. */
  config: string[];
  /** Consul HTTP address; `""` means `CONSUL_HTTP_ADDR` (else `http://127.0.0.1:8500`). Default: no live Consul. */
  consul?: string;
  /** Output format. Default: `"table"`. */
  format: PlanFormat;
  /** File to write the output to. Default: standard output. */
  output?: string;
  /** Only routes from or to these services. Default: every route. */
  service: string[];
  /** Only routes from or to these datacenters. Default: every route. */
  datacenter: string[];
}

interface Flag {
  name: keyof PlanOptions | "help";
  value?: string;
  multiple?: boolean;
  help: string;
}

const FLAGS: Flag[] = [
  {
    name: "topology",
    value: "FILE",
    multiple: true,
    help: "a topology file (JSON or YAML, schema: mesh/mesh.schema.json)",
  },
  {
    name: "config",
    value: "PATH",
    multiple: true,
    help:
      "Consul agent config, service definitions or config entries (HCL or " +
      "JSON):\na file, or a directory read as one agent's -config-dir; may repeat",
  },
  {
    name: "consul",
    value: "URL",
    help:
      "a live Consul; without URL: CONSUL_HTTP_ADDR, else http://127.0.0.1:8500\n(CONSUL_HTTP_TOKEN, " +
      "CONSUL_HTTP_TOKEN_FILE and CONSUL_CACERT are honoured)",
  },
  { name: "format", value: "FORMAT", help: `${FORMATS.join(" | ")} (default: table)` },
  { name: "output", value: "FILE", help: "write the output to FILE instead of standard output" },
  { name: "service", value: "NAME", multiple: true, help: "only routes from or to this service; may repeat" },
  { name: "datacenter", value: "NAME", multiple: true, help: "only routes from or to this datacenter; may repeat" },
  { name: "help", help: "show this help" },
];

const flagColumn = (flag: Flag) => `--${flag.name}${flag.value ? ` ${flag.value}` : ""}`;
const width = Math.max(...FLAGS.map((flag) => flagColumn(flag).length));

/** The help text of `consul-mesh plan`. */
export const PLAN_HELP = `Usage: consul-mesh plan [--topology FILE] [--config PATH]... [--consul URL] [--format table|json|dot|svg] [--output FILE]

Shows, for every upstream of every connect proxy, the mesh gateway mode in force, the level
that decided it, and the path its traffic takes, hop by hop with addresses and SNI names.
The sources add up: files complete the topology, a live Consul shows what is deployed.

Options:
${FLAGS.map(
  (flag) => `  ${flagColumn(flag).padEnd(width)}  ` + `${flag.help.replace(/\n/g, `\n  ${" ".repeat(width)}  `)}`,
).join("\n")}

Exit status: 0 when the mesh is valid, 1 when it is not (every problem is listed, naming its
file, field or Consul object), 2 on a usage error or a source that cannot be read.

Examples:
  consul-mesh plan --topology mesh.yaml
  consul-mesh plan --topology datacenters.yaml --config /etc/consul.d
  consul-mesh plan --consul http://127.0.0.1:8500 --format json
  consul-mesh plan --consul --format svg --output mesh.svg --datacenter dc2
`;

/** `--consul` given without a value (last, or before another flag) means the environment's address. */
function withConsulDefault(argv: string[]): string[] {
  return argv.flatMap((arg, i) =>
    arg === "--consul" && (i === argv.length - 1 || argv[i + 1].startsWith("-")) ? [arg, ""] : [arg],
  );
}

/**
 * Parses the arguments after `plan`.
 * @param argv - The arguments.
 * @returns The options, or `"help"`.
 * @throws {@link PlanUsageError} naming the flag when the command line is wrong.
 */
export function parsePlanOptions(argv: string[]): PlanOptions | "help" {
  let values: Record<string, string | string[] | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: withConsulDefault(argv),
      options: Object.fromEntries(
        FLAGS.map((flag) => [flag.name, { type: flag.value ? "string" : "boolean", multiple: flag.multiple ?? false }]),
      ) as ParseArgsConfig["options"],
      allowPositionals: false,
      strict: true,
    }));
  } catch (error) {
    throw new PlanUsageError((error as Error).message);
  }
  if (values.help) return "help";
  const format = (values.format as string | undefined) ?? "table";
  if (!(FORMATS as readonly string[]).includes(format)) {
    throw new PlanUsageError(`--format ${JSON.stringify(format)}: use one of ${FORMATS.join(", ")}`);
  }
  const options: PlanOptions = {
    topology: (values.topology as string[] | undefined) ?? [],
    config: (values.config as string[] | undefined) ?? [],
    format: format as PlanFormat,
    service: (values.service as string[] | undefined) ?? [],
    datacenter: (values.datacenter as string[] | undefined) ?? [],
    ...(values.consul !== undefined ? { consul: values.consul as string } : {}),
    ...(values.output !== undefined ? { output: values.output as string } : {}),
  };
  if (!options.topology.length && !options.config.length && options.consul === undefined) {
    throw new PlanUsageError(
      "nothing to plan: give a topology file (--topology FILE), Consul " +
        "configuration (--config PATH) or a live Consul (--consul URL)",
    );
  }
  return options;
}
