/** The flag machinery behind `sni-gateway`'s table: parsing, environment fallback, checks, help layout, value kinds. */
import { z } from "zod";
import {
  checkFlags,
  durationMs,
  type Flag,
  formatDuration,
  helpSection,
  hostPort,
  readFlags,
  switchOn,
  textFromEnv,
} from "../../gateway/cli/flag-table";
import { CliError } from "../../gateway/errors";

const TABLE = {
  name: {
    section: "a",
    flag: "name",
    value: "NAME",
    env: ["APP_NAME"],
    schema: z.string().min(2, "too short"),
    help: "Name.",
  },
  peer: {
    section: "a",
    flag: "peer",
    value: "HOST:PORT",
    env: ["APP_PEER"],
    multiple: true,
    schema: hostPort,
    help: "A peer.",
    default: "none",
  },
  quiet: { section: "b", flag: "quiet", env: ["APP_QUIET", "QUIET"], schema: switchOn, help: "Say less." },
} as const satisfies Record<string, Flag>;

describe("readFlags", () => {
  test('values by option name, repeatable flags as lists, switches as "true", and -h', () => {
    expect(readFlags(TABLE, ["--name", "x", "--peer", "a:1", "--peer", "b:2", "--quiet"])).toEqual({
      help: false,
      given: { name: "x", peer: ["a:1", "b:2"], quiet: "true" },
    });
    expect(readFlags(TABLE, ["-h"])).toEqual({ help: true, given: {} });
  });

  test.each([[["--nope"]], [["--name"]], [["stray"]]])("%j: a CliError about the arguments", (argv) => {
    expect(() => readFlags(TABLE, argv)).toThrow(expect.objectContaining({ code: "E_CLI_USAGE", field: "arguments" }));
  });
});

describe("textFromEnv", () => {
  const variable = (env: Record<string, string>) => (name: string) => env[name];

  test("the first variable set wins; empty counts as unset; lists split at commas", () => {
    expect(textFromEnv(TABLE.quiet, variable({ APP_QUIET: "", QUIET: "yes" }))).toBe("yes");
    expect(textFromEnv(TABLE.quiet, variable({ APP_QUIET: "1", QUIET: "no" }))).toBe("1");
    expect(textFromEnv(TABLE.peer, variable({ APP_PEER: " a:1, ,b:2 " }))).toEqual(["a:1", "b:2"]);
    expect(textFromEnv(TABLE.name, variable({}))).toBeUndefined();
  });
});

describe("checkFlags", () => {
  test("converts each text by its schema; absent options stay absent", () => {
    expect(checkFlags(TABLE, { name: "xy", peer: ["a:1", "[::1]:2"], quiet: "TRUE" })).toEqual({
      name: "xy",
      peer: [
        { host: "a", port: 1 },
        { host: "::1", port: 2 },
      ],
      quiet: true,
    });
    expect(checkFlags(TABLE, {})).toEqual({});
  });

  test("the first refused text, in table order, names its flag with the schema's message", () => {
    let error: unknown;
    try {
      checkFlags(TABLE, { peer: ["nowhere"], name: "x" });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CliError);
    expect(error).toMatchObject({ field: "--name", reason: "too short", message: "--name: too short" });
    expect(() => checkFlags(TABLE, { peer: ["a:1", "nowhere"] })).toThrow(/^--peer: "nowhere" is not HOST:PORT/);
  });
});

describe("helpSection", () => {
  test("flag, wrapped help with its default, and the variables in columns", () => {
    // The flag column is as wide as the table's widest flag, whatever the section.
    expect(helpSection(TABLE, "a").split("\n")).toEqual([
      "  --name NAME       Name.                                                   APP_NAME",
      "  --peer HOST:PORT  A peer. Default: none.                                  APP_PEER",
    ]);
    expect(helpSection(TABLE, "b").split("\n")).toEqual([
      "  --quiet           Say less.                                               APP_QUIET=true,",
      "                                                                            QUIET=true",
    ]);
  });

  test("long help wraps at 54 columns, and a default that does not fit goes on lines of its own", () => {
    const long = {
      wait: {
        section: "c",
        flag: "wait",
        value: "DUR",
        env: ["APP_WAIT"],
        schema: durationMs,
        default: "5s",
        help: "How long to wait for the other side before giving up and trying the next one.",
      },
    } as const satisfies Record<string, Flag>;
    expect(helpSection(long, "c").split("\n")).toEqual([
      "  --wait DUR  How long to wait for the other side before giving up    APP_WAIT",
      "              and trying the next one.",
      "              Default: 5s.",
    ]);
  });
});

describe("value kinds", () => {
  test.each([
    ["500ms", 500],
    ["5s", 5000],
    ["2m", 120_000],
    ["1h", 3_600_000],
    ["1.5s", 1500],
    ["250", 250],
  ])("duration %s is %d ms", (text, ms) => {
    expect(durationMs.parse(text)).toBe(ms);
  });

  test("a duration that is none", () => {
    const message = durationMs.safeParse("soon").error?.issues[0].message;
    expect(message).toBe('"soon" is not a duration (500ms, 5s, 2m or milliseconds)');
  });

  test.each([
    [3_600_000, "1h"],
    [120_000, "2m"],
    [10_000, "10s"],
    [750, "750ms"],
    [0, "0ms"],
  ])("%d ms is shown as %s, and reads back", (ms, shown) => {
    expect(formatDuration(ms)).toBe(shown);
    expect(durationMs.parse(shown)).toBe(ms);
  });

  test("switches: 1, true, yes in any case", () => {
    expect(["1", "true", "YES", "Yes"].map((t) => switchOn.parse(t))).toEqual([true, true, true, true]);
    expect(["0", "false", "no", ""].map((t) => switchOn.parse(t))).toEqual([false, false, false, false]);
  });
});
