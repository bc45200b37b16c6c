/**
 * Command-line flags declared once, as tcpproxy's `tlsrouter` declares them: a table of
 * {@link Flag}s gives the `parseArgs` options, the environment fallback, the checks and the
 * `--help` lines, so no flag is written twice. Then the kinds of values the gateway's flags take.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { z } from "zod";
import { consulBaseUrl } from "../../consul/settings";
import { ConsulAddressError } from "../../consul/errors";
import { CliError } from "../errors";
import { NAME_PATTERN } from "../../mesh/model/names";
import { HostPort, parseHostPort } from "../net/host-port";

/** One option: its flag, environment variables, check, default and help. */
export interface Flag<T = unknown> {
  /** The flag, without `--` (e.g. `lan-address`). */
  flag: string;
  /** The value's placeholder in `--help` (e.g. `HOST:PORT`). Default: none, a switch (given as `"true"`). */
  value?: string;
  /** The variables read, first set one wins, when the flag is absent; `--help` lists them. Default: none. */
  env?: readonly string[];
  /** Checks the text given and converts it; its issue messages do not repeat the flag. */
  schema: z.ZodType<T, string>;
  /** The default as `--help` shows it; the value lives with the code that applies it. Default: none shown. */
  default?: string;
  /** What the option does, for `--help` (wrapped). */
  help: string;
  /** Repeatable: every occurrence counts, and a variable gives a comma-separated list. Default: `false`. */
  multiple?: boolean;
  /** The `--help` section that lists it. */
  section: string;
}

/** Flags by option name. */
export type FlagTable = Readonly<Record<string, Flag>>;

/** The checked value of one flag: its schema's output, a list for a repeatable flag. */
export type FlagValue<F> = F extends Flag<infer T> ? (F extends { multiple: true } ? T[] : T) : never;

/** The checked values of a table; options given neither by flag nor by variable are absent. */
export type FlagValues<Table extends FlagTable> = { -readonly [K in keyof Table]?: FlagValue<Table[K]> };

/** The text of each option given, by flag or variable, before checks. */
export type FlagTexts<Table extends FlagTable> = { -readonly [K in keyof Table]?: string | string[] };

/** Width of the description column of `--help`. */
const HELP_TEXT_WIDTH = 54;

/**
 * Reads the flags of `argv` (no positional arguments; `-h`/`--help` besides the table's).
 * @param table - The flags.
 * @param argv - The arguments after the program name.
 * @returns whether help was asked for, and the text of each flag given.
 * @throws CliError (field `arguments`) for an unknown flag, a missing value or a positional argument.
 */
export function readFlags<Table extends FlagTable>(
  table: Table,
  argv: string[],
): { help: boolean; given: FlagTexts<Table> } {
  const options: NonNullable<ParseArgsConfig["options"]> = { help: { type: "boolean", short: "h" } };
  for (const f of Object.values(table)) {
    options[f.flag] = { type: f.value ? "string" : "boolean", multiple: f.multiple === true };
  }
  let values: Record<string, string | boolean | Array<string | boolean> | undefined>;
  try {
    values = parseArgs({ args: argv, strict: true, allowPositionals: false, options }).values;
  } catch (error) {
    throw new CliError("arguments", (error as Error).message);
  }
  const given: FlagTexts<Table> = {};
  for (const [name, f] of entries(table)) {
    const value = values[f.flag];
    if (value !== undefined) given[name] = Array.isArray(value) ? value.map(String) : String(value);
  }
  return { help: values.help === true, given };
}

/**
 * The text of an option from the environment: its first variable that is set (empty counts as
 * unset), split at commas for a repeatable flag.
 * @param f - The flag.
 * @param variable - Reads one variable.
 */
export function textFromEnv(f: Flag, variable: (name: string) => string | undefined): string | string[] | undefined {
  for (const name of f.env ?? []) {
    const text = variable(name);
    if (text === undefined || text === "") continue;
    return f.multiple
      ? text
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean)
      : text;
  }
  return undefined;
}

/**
 * Checks and converts every text given, in table order.
 * @param table - The flags.
 * @param texts - The text of each option given.
 * @throws CliError naming the first flag whose text its schema refuses, with the schema's message.
 */
export function checkFlags<Table extends FlagTable>(table: Table, texts: FlagTexts<Table>): FlagValues<Table> {
  const values: Record<string, unknown> = {};
  for (const [name, f] of entries(table)) {
    const text = texts[name];
    if (text === undefined) continue;
    const check = (one: string) => {
      const parsed = f.schema.safeParse(one);
      if (!parsed.success) throw new CliError(`--${f.flag}`, parsed.error.issues[0].message);
      return parsed.data;
    };
    values[name] = Array.isArray(text) ? text.map(check) : check(text);
  }
  return values as FlagValues<Table>;
}

/**
 * The `--help` lines of one section: the flag and its value, the help (with the default) wrapped,
 * and the variables in a third column.
 * @param table - The flags; the flag column is as wide as the widest of them.
 * @param section - The section.
 */
export function helpSection(table: FlagTable, section: string): string {
  const width = Math.max(...Object.values(table).map((f) => usage(f).length));
  const lines: string[] = [];
  for (const f of Object.values(table)) {
    if (f.section !== section) continue;
    const text = wrap(f.help, HELP_TEXT_WIDTH);
    if (f.default !== undefined) {
      const shown = `Default: ${f.default}.`;
      // The default on the help's line when both fit, else on lines of its own.
      if (text.length === 1 && text[0].length + 1 + shown.length <= HELP_TEXT_WIDTH) text[0] += ` ${shown}`;
      else text.push(...wrap(shown, HELP_TEXT_WIDTH));
    }
    const env = (f.env ?? []).map((name) => (f.value ? name : `${name}=true`));
    for (let i = 0; i < env.length - 1; i++) env[i] += ",";
    for (let i = 0; i < Math.max(text.length, env.length); i++) {
      lines.push(helpLine(i === 0 ? usage(f) : "", text[i] ?? "", env[i] ?? "", width));
    }
  }
  return lines.join("\n");
}

/**
 * One line of `--help`: flag, description and variable columns.
 * @param flag - The flag column.
 * @param text - The description column.
 * @param env - The variable column.
 * @param width - Width of the flag column.
 */
export function helpLine(flag: string, text: string, env: string, width: number): string {
  return `  ${flag.padEnd(width)}  ${text.padEnd(HELP_TEXT_WIDTH)}  ${env}`.trimEnd();
}

/**
 * A flag as `--help` shows it: `--listen HOST:PORT`, `--no-register`.
 * @param f - The flag.
 */
export function usage(f: Flag): string {
  return f.value ? `--${f.flag} ${f.value}` : `--${f.flag}`;
}

/** Greedy word wrap. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return line ? [...lines, line] : lines;
}

function entries<Table extends FlagTable>(table: Table): Array<[keyof Table & string, Flag]> {
  return Object.entries(table) as Array<[keyof Table & string, Flag]>;
}

const DURATION_UNITS_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/** A duration: `500ms`, `5s`, `2m`, `1h`, or a number of milliseconds; the value in ms. */
export const durationMs = z.string().transform((text, ctx) => {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) {
    ctx.addIssue({ code: "custom", message: `"${text}" is not a duration (500ms, 5s, 2m or milliseconds)` });
    return z.NEVER;
  }
  return Math.round(Number(m[1]) * DURATION_UNITS_MS[(m[2] ?? "ms") as keyof typeof DURATION_UNITS_MS]);
});

/**
 * A duration as `--help` shows it, in the largest unit that divides it: `1h`, `10s`, `750ms`.
 * @param ms - The duration, in ms.
 */
export function formatDuration(ms: number): string {
  const unit = (["h", "m", "s"] as const).find((u) => ms > 0 && ms % DURATION_UNITS_MS[u] === 0);
  return unit ? `${ms / DURATION_UNITS_MS[unit]}${unit}` : `${ms}ms`;
}

/** `HOST:PORT` or `[IPv6]:PORT` (see `parseHostPort`). */
export const hostPort = z.string().transform((text, ctx): HostPort => {
  const parsed = parseHostPort(text);
  if ("error" in parsed) {
    ctx.addIssue({ code: "custom", message: parsed.error });
    return z.NEVER;
  }
  return parsed;
});

/** A whole number, at least 1. */
export const positiveCount = z
  .string()
  .regex(/^\d+$/, "must be a whole number")
  .transform(Number)
  .refine((n) => n >= 1, "must be at least 1");

/** A switch's text, given by flag (`"true"`) or variable: `1`, `true` or `yes` (any case) mean on. */
export const switchOn = z.string().transform((text) => /^(1|true|yes)$/i.test(text));

/** A name of letters, digits, `-` and `_` (a DNS label, as Consul names datacenters and services). */
export const nameLabel = z.string().regex(NAME_PATTERN, "must be a name of letters, digits, '-' and '_'");

/** A Consul agent address: `http(s)://host:port` or `host:port`, checked by the parser the client uses. */
export const agentAddress = z.string().superRefine((text, ctx) => {
  try {
    consulBaseUrl(text);
  } catch (error) {
    if (!(error instanceof ConsulAddressError)) throw error;
    ctx.addIssue({ code: "custom", message: error.message });
  }
});

/** A Consul service ID: letters, digits, `-`, `_`, `.` and `:`, at most 128. */
export const serviceId = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/, "must be letters, digits, '-', '_', '.' and ':' (at most 128)");

/** A JSON object (e.g. a `Proxy.Config`). */
export const jsonObject = z.string().transform((text, ctx) => {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  if (!value || typeof value !== "object" || Array.isArray(value)) {
    const message = 'must be a JSON object, e.g. {"envoy_mesh_gateway_no_default_bind":true}';
    ctx.addIssue({ code: "custom", message });
    return z.NEVER;
  }
  return value as Record<string, unknown>;
});
