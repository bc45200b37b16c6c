/**
 * The `sni-gateway` CLI: option parsing in-process, and the real program (compiled once into a
 * temp directory) run as a child process: help, errors, serving, and drain on SIGTERM.
 */
import { ChildProcess, spawn } from "node:child_process";
import { promises as fs } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import type { Flag } from "../../gateway/cli/flag-table";
import { FLAGS } from "../../gateway/cli/gateway-flags";
import { HELP, parseCommandLine } from "../../gateway/cli/options";
import { describeOptions } from "../../gateway/main";
import { CliError } from "../../gateway/errors";
import { serviceSni } from "../../mesh/model/sni";
import { GATEWAY_NODE_FLAGS } from "../../gateway/cli/node-flags";
import { compileGatewayProgram, type GatewayProgram } from "../support/gateway-program";
import { httpGet, waitFor } from "./helpers";

const ROOT = path.join(__dirname, "../..");
const TD = "5fcd4b81-a2ca-405a-ac62-0fac602c1949.consul";

describe("parseCommandLine", () => {
  const base = ["--datacenter", "dc1", "--listen", "127.0.0.1:8443"];

  test("file mode with every tuning flag", () => {
    const cmd = parseCommandLine(
      [
        ...base,
        "--listen",
        "[::1]:9443",
        "--admin",
        "127.0.0.1:19000",
        "--routes",
        "/etc/routes.json",
        "--trust-domain",
        TD,
        "--hello-timeout",
        "3s",
        "--idle-timeout",
        "2m",
        "--connect-timeout",
        "750ms",
        "--max-connections",
        "500",
        "--max-routes",
        "2000",
        "--relay",
        "pump",
        "--drain-grace",
        "1500",
        "--log-level",
        "warn",
      ],
      {},
    );
    expect(cmd).toEqual({
      kind: "run",
      options: {
        datacenter: "dc1",
        trustDomain: TD,
        listen: [
          { host: "127.0.0.1", port: 8443 },
          { host: "::1", port: 9443 },
        ],
        admin: { host: "127.0.0.1", port: 19000 },
        routes: { file: "/etc/routes.json" },
        proxy: {
          helloTimeoutMs: 3000,
          idleTimeoutMs: 120_000,
          connectTimeoutMs: 750,
          maxConnections: 500,
          relay: "pump",
        },
        maxRoutes: 2000,
        drainGraceMs: 1500,
        logLevel: "warn",
      },
    });
  });

  test("every option from the environment", () => {
    const cmd = parseCommandLine([], {
      SNI_GATEWAY_DATACENTER: "dc2",
      SNI_GATEWAY_LISTEN: "0.0.0.0:8443, 127.0.0.1:8444",
      SNI_GATEWAY_ADMIN: "127.0.0.1:19000",
      SNI_GATEWAY_ROUTES: "/r.json",
      SNI_GATEWAY_HELLO_TIMEOUT: "1s",
      SNI_GATEWAY_MAX_CONNECTIONS: "7",
      SNI_GATEWAY_MAX_ROUTES: "50",
    });
    expect(cmd).toMatchObject({
      kind: "run",
      options: {
        datacenter: "dc2",
        listen: [
          { host: "0.0.0.0", port: 8443 },
          { host: "127.0.0.1", port: 8444 },
        ],
        routes: { file: "/r.json" },
        proxy: { helloTimeoutMs: 1000, maxConnections: 7 },
        maxRoutes: 50,
      },
    });
  });

  test("Consul mode: address, token and registration from flags and CONSUL_* variables", () => {
    const cmd = parseCommandLine(
      [
        ...base,
        "--consul",
        "http://127.0.0.1:8500",
        "--service-name",
        "gw-a",
        "--lan-address",
        "10.0.0.5:8443",
        "--wan-address",
        "198.51.100.7:443",
      ],
      { CONSUL_HTTP_TOKEN: "secret-token" },
    );
    expect(cmd).toMatchObject({
      kind: "run",
      options: {
        routes: { consul: { address: "http://127.0.0.1:8500", token: "secret-token", ssl: false } },
        register: {
          name: "gw-a",
          address: "10.0.0.5",
          port: 8443,
          lanAddress: { address: "10.0.0.5", port: 8443 },
          wanAddress: { address: "198.51.100.7", port: 443 },
        },
      },
    });
    const fromEnv = parseCommandLine(base, { CONSUL_HTTP_ADDR: "consul:8501", CONSUL_HTTP_SSL: "true" });
    expect(fromEnv).toMatchObject({
      options: { routes: { consul: { address: "consul:8501", ssl: true } }, register: { address: "127.0.0.1" } },
    });
    expect(parseCommandLine([...base, "--consul", "c:8500", "--no-register"], {})).not.toHaveProperty(
      "options.register",
    );
  });

  test("Consul mode: the token from CONSUL_HTTP_TOKEN_FILE, else CONSUL_HTTP_TOKEN (as Consul's CLI); an unreadable file is named", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "cli-token-"));
    try {
      const file = path.join(dir, "token");
      await fs.writeFile(file, "file-token\n");
      const consul = ["--consul", "c:8500", "--no-register"];
      const token = (env: NodeJS.ProcessEnv) => parseCommandLine([...base, ...consul], env);
      expect(token({ CONSUL_HTTP_TOKEN_FILE: file })).toMatchObject({
        options: { routes: { consul: { token: "file-token" } } },
      });
      expect(token({ CONSUL_HTTP_TOKEN_FILE: file, CONSUL_HTTP_TOKEN: "env-token" })).toMatchObject({
        options: { routes: { consul: { token: "file-token" } } },
      });
      expect(token({ CONSUL_HTTP_TOKEN: "env-token" })).toMatchObject({
        options: { routes: { consul: { token: "env-token" } } },
      });
      const missing = path.join(dir, "missing");
      expect(() => token({ CONSUL_HTTP_TOKEN_FILE: missing })).toThrow(
        expect.objectContaining({
          code: "E_CLI_USAGE",
          field: "CONSUL_HTTP_TOKEN_FILE",
          reason: `cannot read ${missing} (ENOENT)`,
        }),
      );
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  test("the logged summary of the options carries no secret: neither the token nor credentials in the address", () => {
    const cmd = parseCommandLine([...base, "--consul", "https://gw:hunter2@consul.example:8501"], {
      CONSUL_HTTP_TOKEN: "secret-token",
    });
    if (cmd.kind !== "run") throw new Error("expected run");
    const text = JSON.stringify(describeOptions(cmd.options));
    expect(text).not.toContain("secret-token");
    expect(text).not.toContain("hunter2");
    expect(text).toContain("consul.example:8501");
    expect(text).toContain('"aclToken":true');
  });

  test("Consul mode: a wildcard listener registers this host's first non-internal address, never 0.0.0.0", () => {
    const nic = (address: string, family: "IPv4" | "IPv6", internal = false) =>
      ({
        address,
        family,
        internal,
        netmask: "",
        mac: "",
        cidr: null,
      }) as unknown as import("node:os").NetworkInterfaceInfo;
    const interfaces = () => ({
      lo: [nic("127.0.0.1", "IPv4", true)],
      eth0: [nic("fe80::1", "IPv6"), nic("172.18.0.5", "IPv4")],
    });
    const cmd = parseCommandLine(
      ["--datacenter", "dc1", "--listen", "0.0.0.0:8443", "--consul", "c:8500"],
      {},
      interfaces,
    );
    expect(cmd).toMatchObject({ options: { register: { address: "172.18.0.5" } } });
    const explicit = parseCommandLine(
      ["--datacenter", "dc1", "--listen", "0.0.0.0:8443", "--consul", "c:8500", "--lan-address", "10.0.0.5:8443"],
      {},
      interfaces,
    );
    expect(explicit).toMatchObject({ options: { register: { address: "10.0.0.5" } } });
    expect(() =>
      parseCommandLine(["--datacenter", "dc1", "--listen", "0.0.0.0:8443", "--consul", "c:8500"], {}, () => ({
        lo: interfaces().lo,
      })),
    ).toThrow(/^--lan-address: required/);
  });

  test("Consul mode: a service ID of its own and an opaque Proxy.Config for the registration", () => {
    const cmd = parseCommandLine(
      [
        ...base,
        "--consul",
        "c:8500",
        "--service-id",
        "mesh-gateway-1",
        "--proxy-config",
        '{"connect_timeout_ms":5000}',
      ],
      {},
    );
    expect(cmd).toMatchObject({
      options: { register: { id: "mesh-gateway-1", proxyConfig: { connect_timeout_ms: 5000 } } },
    });
    const fromEnv = parseCommandLine([...base, "--consul", "c:8500"], {
      SNI_GATEWAY_SERVICE_ID: "gw-b",
      SNI_GATEWAY_PROXY_CONFIG: "{}",
    });
    expect(fromEnv).toMatchObject({ options: { register: { id: "gw-b", proxyConfig: {} } } });
    expect(parseCommandLine([...base, "--consul", "c:8500"], {})).not.toHaveProperty("options.register.id");
  });

  test("Consul mode: routes from the agent's xDS server by default, its gRPC port beside the HTTP one", () => {
    // Unset, startGateway's default (xds) and address rule (the --consul host on 8502) apply.
    const plain = parseCommandLine([...base, "--consul", "c:8500"], {});
    expect(plain).not.toHaveProperty("options.routes.via");
    expect(plain).not.toHaveProperty("options.routes.grpc");
    const ca = __filename;
    const tls = parseCommandLine([...base, "--consul", "c:8500", "--consul-grpc", "https://g:9503"], {
      CONSUL_GRPC_CACERT: ca,
    });
    expect(tls).toMatchObject({ options: { routes: { grpc: { address: "g:9503", tls: true } } } });
    expect(tls).toHaveProperty("options.routes.grpc.ca", expect.stringContaining("Consul mode: routes from"));
    expect(parseCommandLine([...base, "--consul", "c:8500", "--consul-routes", "catalog"], {})).toMatchObject({
      options: { routes: { via: "catalog" } },
    });
    // Without the registration the stream is for the gateway someone else registered.
    const unregistered = (more: string[]) =>
      parseCommandLine([...base, "--consul", "c:8500", "--no-register", ...more], {});
    expect(unregistered([])).toMatchObject({ options: { routes: { proxyId: "mesh-gateway" } } });
    expect(unregistered(["--service-id", "gw-2"])).toMatchObject({ options: { routes: { proxyId: "gw-2" } } });
  });

  test("--routes wins over CONSUL_HTTP_ADDR in the environment", () => {
    expect(parseCommandLine([...base, "--routes", "/r.json"], { CONSUL_HTTP_ADDR: "c:8500" })).toMatchObject({
      options: { routes: { file: "/r.json" } },
    });
  });

  test("SNI_GATEWAY_ROUTES with SNI_GATEWAY_CONSUL is a usage error naming both (CONSUL_HTTP_ADDR beside it is not)", () => {
    const both = () => parseCommandLine(base, { SNI_GATEWAY_ROUTES: "/r.json", SNI_GATEWAY_CONSUL: "http://c:8500" });
    expect(both).toThrow(CliError);
    expect(both).toThrow(/SNI_GATEWAY_ROUTES.*SNI_GATEWAY_CONSUL/);
    let error: unknown;
    try {
      both();
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: "E_CLI_USAGE", field: "SNI_GATEWAY_ROUTES" });
    // Other tools on the host need CONSUL_HTTP_ADDR: it does not conflict with a routes file.
    expect(parseCommandLine(base, { SNI_GATEWAY_ROUTES: "/r.json", CONSUL_HTTP_ADDR: "c:8500" })).toMatchObject({
      options: { routes: { file: "/r.json" } },
    });
  });

  test.each([
    [[], "--datacenter"],
    [["--datacenter", "dc1"], "--listen"],
    [["--datacenter", "dc1", "--listen", "127.0.0.1:1"], "--routes"],
    [[...base, "--routes", "a", "--consul", "b"], "--routes"],
    [["--datacenter", "dc1", "--listen", "localhost", "--routes", "r"], "--listen"],
    [["--datacenter", "dc1", "--listen", "127.0.0.1:70000", "--routes", "r"], "--listen"],
    [[...base, "--routes", "r", "--hello-timeout", "soon"], "--hello-timeout"],
    [[...base, "--routes", "r", "--max-connections", "0"], "--max-connections"],
    [[...base, "--routes", "r", "--max-routes", "many"], "--max-routes"],
    [[...base, "--routes", "r", "--log-level", "loud"], "--log-level"],
    [[...base, "--routes", "r", "--wan-address", "1.2.3.4:1"], "--wan-address"],
    [[...base, "--routes", "r", "--bogus"], "arguments"],
    [["--datacenter", "dc 1", "--listen", "127.0.0.1:1", "--routes", "r"], "--datacenter"],
    [[...base, "--consul", "c:8500", "--consul-cacert", "/nonexistent/ca.pem"], "--consul-cacert"],
    [[...base, "--consul", "c:8500", "--proxy-config", "[1]"], "--proxy-config"],
    [[...base, "--consul", "c:8500", "--proxy-config", "{nope"], "--proxy-config"],
    [[...base, "--consul", "c:8500", "--service-id", "bad id"], "--service-id"],
    [[...base, "--routes", "r", "--service-id", "gw-1"], "--service-id"],
    [[...base, "--consul", "ftp://c:8500"], "--consul"],
    [[...base, "--consul", "c:8500", "--consul-routes", "dns"], "--consul-routes"],
    [[...base, "--consul", "c:8500", "--consul-grpc", "ftp://c:8502"], "--consul-grpc"],
    [[...base, "--consul", "c:8500", "--consul-grpc-cacert", "/nonexistent/ca.pem"], "--consul-grpc-cacert"],
  ])("%j is refused, naming %s", (argv, field) => {
    let error: unknown;
    try {
      parseCommandLine(argv, {});
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).code).toBe("E_CLI_USAGE");
    expect((error as CliError).field).toBe(field);
    expect((error as CliError).message.startsWith(`${field}: `)).toBe(true);
    expect((error as CliError).message).toBe(`${field}: ${(error as CliError).reason}`);
  });
});

describe("the flag table", () => {
  const flags: Array<Flag & { env: readonly string[] }> = Object.values(FLAGS);

  test("flags and their variables are a contract: exactly these, in this order", () => {
    expect(Object.values(FLAGS).map((f) => [f.flag, f.env])).toEqual([
      ["datacenter", ["SNI_GATEWAY_DATACENTER"]],
      ["listen", ["SNI_GATEWAY_LISTEN"]],
      ["routes", ["SNI_GATEWAY_ROUTES"]],
      ["consul", ["SNI_GATEWAY_CONSUL", "CONSUL_HTTP_ADDR"]],
      ["trust-domain", ["SNI_GATEWAY_TRUST_DOMAIN"]],
      ["admin", ["SNI_GATEWAY_ADMIN"]],
      ["hello-timeout", ["SNI_GATEWAY_HELLO_TIMEOUT"]],
      ["idle-timeout", ["SNI_GATEWAY_IDLE_TIMEOUT"]],
      ["connect-timeout", ["SNI_GATEWAY_CONNECT_TIMEOUT"]],
      ["max-connections", ["SNI_GATEWAY_MAX_CONNECTIONS"]],
      ["max-routes", ["SNI_GATEWAY_MAX_ROUTES"]],
      ["relay", ["SNI_GATEWAY_RELAY"]],
      ["drain-grace", ["SNI_GATEWAY_DRAIN_GRACE"]],
      ["log-level", ["SNI_GATEWAY_LOG_LEVEL"]],
      ["consul-cacert", ["CONSUL_CACERT"]],
      ["consul-routes", ["SNI_GATEWAY_CONSUL_ROUTES"]],
      ["consul-grpc", ["CONSUL_GRPC_ADDR"]],
      ["consul-grpc-cacert", ["CONSUL_GRPC_CACERT"]],
      ["service-name", ["SNI_GATEWAY_SERVICE_NAME"]],
      ["service-id", ["SNI_GATEWAY_SERVICE_ID"]],
      ["proxy-config", ["SNI_GATEWAY_PROXY_CONFIG"]],
      ["lan-address", ["SNI_GATEWAY_LAN_ADDRESS"]],
      ["wan-address", ["SNI_GATEWAY_WAN_ADDRESS"]],
      ["expose-servers", ["SNI_GATEWAY_EXPOSE_SERVERS"]],
      ["consul-domain", ["SNI_GATEWAY_CONSUL_DOMAIN"]],
      ["no-register", ["SNI_GATEWAY_NO_REGISTER"]],
    ]);
  });

  test("--help lists each flag on the line of its first variable, with the defaults the code applies", () => {
    const lines = HELP.split("\n");
    for (const f of flags) {
      const line = lines.find((l) => l.startsWith(`  --${f.flag} `) || l === `  --${f.flag}`) ?? "";
      expect(line).toContain(f.value ? f.env[0] : `${f.env[0]}=true`);
    }
    for (const shown of ["5s", "1h", "10000", "100000", "10s", "info", "mesh-gateway"])
      expect(HELP).toContain(`Default: ${shown}.`);
    expect(HELP.split("\n").filter((l) => l.length > 120)).toEqual([]);
  });

  const samples: Record<string, string> = {
    datacenter: "dc1",
    listen: "127.0.0.1:8443",
    routes: "/r.json",
    consul: "c:8500",
    "trust-domain": TD,
    admin: "127.0.0.1:19000",
    "hello-timeout": "2s",
    "idle-timeout": "3m",
    "connect-timeout": "400ms",
    "max-connections": "9",
    "max-routes": "9",
    relay: "splice",
    "drain-grace": "4s",
    "log-level": "debug",
    "consul-cacert": __filename,
    "consul-routes": "catalog",
    "consul-grpc": "https://c:8503",
    "consul-grpc-cacert": __filename,
    "service-name": "gw",
    "service-id": "gw-1",
    "proxy-config": '{"a":1}',
    "lan-address": "10.0.0.5:8443",
    "wan-address": "198.51.100.7:443",
    "expose-servers": "true",
    "consul-domain": "consul.example",
    "no-register": "true",
  };
  test.each(flags.map((f) => [f.flag, f] as const))("--%s and its variable give the same options", (_flag, f) => {
    const required: Record<string, string> = { datacenter: "dc1", listen: "127.0.0.1:8443", consul: "c:8500" };
    const others = Object.entries(required)
      .filter(([flag]) => flag !== f.flag && !(f.flag === "routes" && flag === "consul"))
      .flatMap(([flag, text]) => [`--${flag}`, text]);
    const flag = [`--${f.flag}`, ...(f.value ? [samples[f.flag]] : [])];
    const fromFlag = parseCommandLine([...others, ...flag], {});
    expect(fromFlag).toHaveProperty("kind", "run");
    expect(parseCommandLine(others, { [f.env[0]]: samples[f.flag] })).toEqual(fromFlag);
  });
});

describe("the sni-gateway program", () => {
  let program: GatewayProgram;
  let main: string;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    program = await compileGatewayProgram();
    main = program.main;
  }, 60_000);

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
    await program?.remove();
  });

  function start(
    args: string[],
    env: NodeJS.ProcessEnv = {},
  ): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
    const child = spawn(process.execPath, [main, ...args], {
      env: { ...program.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(child);
    let output = "";
    child.stdout?.on("data", (d) => (output += d));
    child.stderr?.on("data", (d) => (output += d));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    return { child, output: () => output, exited };
  }

  test("its first line runs node with the gateway's Node.js flags; run as an executable it starts on the splice relay", async () => {
    const shebang = `#!/usr/bin/env -S node ${GATEWAY_NODE_FLAGS.join(" ")}\n`;
    expect((await fs.readFile(path.join(ROOT, "gateway/main.ts"), "utf8")).startsWith(shebang)).toBe(true);
    await fs.chmod(main, 0o755);
    const routes = path.join(program.dir, "routes-empty.json");
    await fs.writeFile(routes, JSON.stringify({ datacenter: "dc1", trustDomain: TD, services: [], gateways: [] }));
    const child = spawn(main, ["--datacenter", "dc1", "--listen", "127.0.0.1:0", "--routes", routes], {
      env: program.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(child);
    const started = await new Promise<Record<string, unknown>>((resolve, reject) => {
      let output = "";
      child.stdout?.on("data", (d) => {
        output += d;
        const line = output.split("\n").find((l) => l.includes('"event":"started"'));
        if (line) resolve(JSON.parse(line));
      });
      child.on("exit", (code) => reject(new Error(`exited with ${code}: ${output}`)));
    });
    expect(started.relay).toBe("splice");
    const flags = (await fs.readFile(`/proc/${child.pid}/cmdline`, "utf8")).split("\0");
    for (const flag of GATEWAY_NODE_FLAGS) expect(flags).toContain(flag);
    child.kill("SIGTERM");
  });

  test("--help documents every flag and its variable, exit 0", async () => {
    const p = start(["--help"]);
    expect(await p.exited).toBe(0);
    for (const word of [
      "--datacenter",
      "--trust-domain",
      "--listen",
      "--admin",
      "--routes",
      "--consul",
      "--service-name",
      "--lan-address",
      "--wan-address",
      "--hello-timeout",
      "--idle-timeout",
      "--connect-timeout",
      "--max-connections",
      "--drain-grace",
      "--log-level",
      "SNI_GATEWAY_DATACENTER",
      "CONSUL_HTTP_ADDR",
      "CONSUL_HTTP_TOKEN",
      "CONSUL_CACERT",
      "CONSUL_HTTP_SSL",
    ]) {
      expect(p.output()).toContain(word);
    }
  });

  test("a bad flag: exit 2 and a message naming it", async () => {
    const p = start(["--datacenter", "dc1", "--listen", "nowhere", "--routes", "r.json"]);
    expect(await p.exited).toBe(2);
    expect(p.output()).toContain("sni-gateway: --listen:");
    expect(p.output()).toContain("--help");
  });

  test("a listen address already in use: exit 1 with a fatal log line", async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    const routes = path.join(program.dir, "routes-busy.json");
    await fs.writeFile(routes, JSON.stringify({ datacenter: "dc1", trustDomain: TD, services: [], gateways: [] }));
    try {
      const p = start(["--datacenter", "dc1", "--listen", `127.0.0.1:${port}`, "--routes", routes]);
      expect(await p.exited).toBe(1);
      expect(p.output()).toMatch(/"level":60.*EADDRINUSE/);
    } finally {
      blocker.close();
    }
  });

  test("SIGTERM: stops accepting, /readyz turns 503, the stream in flight finishes, exit 0", async () => {
    // Upstream: echoes, and answers the client's FIN with "done" and its own FIN.
    const upstream = net.createServer({ allowHalfOpen: true }, (s) => {
      s.on("error", () => undefined);
      s.on("data", (d) => s.write(d));
      s.on("end", () => s.end("done"));
    });
    await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.31", resolve));
    const upPort = (upstream.address() as net.AddressInfo).port;
    const routes = path.join(program.dir, "routes.json");
    await fs.writeFile(
      routes,
      JSON.stringify({
        datacenter: "dc1",
        trustDomain: TD,
        services: [{ name: "web", endpoints: [{ address: "127.0.0.31", port: upPort }] }],
        gateways: [],
      }),
    );
    const p = start([
      "--datacenter",
      "dc1",
      "--listen",
      "127.0.0.32:0",
      "--admin",
      "127.0.0.1:0",
      "--routes",
      routes,
      "--drain-grace",
      "10s",
    ]);
    try {
      await waitFor(() => /"event":"started"/.test(p.output()), 10_000, "gateway start");
      const started = JSON.parse(
        p
          .output()
          .split("\n")
          .find((l) => l.includes('"event":"started"')) as string,
      );
      const [listenHost, listenPort] = [started.listen[0].split(":")[0], Number(started.listen[0].split(":")[1])];
      const adminUrl = `http://${started.admin}`;
      expect((await httpGet(`${adminUrl}/readyz`)).status).toBe(200);

      const client = net.connect({ host: listenHost, port: listenPort, allowHalfOpen: true });
      let received = "";
      client.setEncoding("latin1");
      client.on("data", (d: string) => (received += d));
      const clientClosed = new Promise<void>((resolve) => client.on("close", () => resolve()));
      // A minimal ClientHello for web's SNI, then a first message.
      const name = Buffer.from(serviceSni({ service: "web", datacenter: "dc1", trustDomain: TD }));
      const ext = Buffer.concat([Buffer.from([0, 0, 0, name.length + 5, 0, name.length + 3, 0, 0, name.length]), name]);
      const body = Buffer.concat([
        Buffer.from([3, 3]),
        Buffer.alloc(32),
        Buffer.from([0, 0, 2, 0x13, 1, 1, 0, 0, ext.length]),
        ext,
      ]);
      const hs = Buffer.concat([Buffer.from([1, 0, 0, body.length]), body]);
      const helloRecord = Buffer.concat([Buffer.from([0x16, 3, 1, 0, hs.length]), hs]);
      client.write(Buffer.concat([helloRecord, Buffer.from("one;")]));
      await waitFor(() => received.endsWith("one;"), 5000, "first echo");

      p.child.kill("SIGTERM");
      await waitFor(
        async () => (await httpGet(`${adminUrl}/readyz`).catch(() => ({ status: 0 }))).status === 503,
        5000,
        "readyz 503",
      );
      // New connections are refused while the old one keeps flowing.
      const refused = await new Promise<string>((resolve) => {
        const s = net.connect({ host: listenHost, port: listenPort }, () => resolve("connected"));
        s.on("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? "error"));
      });
      expect(refused).toBe("ECONNREFUSED");
      client.write("two;");
      await waitFor(() => received.endsWith("two;"), 5000, "echo during drain");
      expect(p.child.exitCode).toBeNull();
      client.end();
      await clientClosed;
      // The upstream echoed exactly the bytes sent (hello included), then its farewell.
      expect(received).toBe(`${helloRecord.toString("latin1")}one;two;done`);
      expect(await p.exited).toBe(0);
      expect(p.output()).toMatch(/"event":"draining"/);
      expect(p.output()).toMatch(/"event":"stopped"/);
    } finally {
      upstream.close();
    }
  }, 30_000);
});
