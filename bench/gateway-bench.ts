/**
 * Throughput and connection rate through the SNI gateway against a direct connection (and
 * HAProxy `req.ssl_sni` when installed), side by side in the same run, TLS 1.3 end to end with
 * certificates verified by the client. Bounded in count and time.
 *
 *   npm run bench -- [--reps 3] [--bulk-mib 1024] [--bulk-secs 20] [--rate-secs 8]
 *                    [--rate-workers 16] [--latency 5000] [--idle 2000] [--install] [--quick] [--no-haproxy]
 *
 * `--install` runs `apt-get install -y haproxy` first when HAProxy is missing. Results: a table
 * on stdout and `bench/results/latest.json`.
 */
import { ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { createTestPki } from "../demo/pki";

const ROOT = path.resolve(__dirname, "../../..");
const DIST = path.join(ROOT, "dist");
const TD = "11111111-2222-3333-4444-555555555555.consul";
const NAME = `api.default.dc1.internal.${TD}`;

const { values: flags } = parseArgs({
  options: {
    reps: { type: "string", default: "3" },
    "bulk-mib": { type: "string", default: "1024" },
    "bulk-secs": { type: "string", default: "20" },
    "rate-secs": { type: "string", default: "8" },
    "rate-workers": { type: "string", default: "16" },
    latency: { type: "string", default: "5000" },
    idle: { type: "string", default: "2000" },
    install: { type: "boolean", default: false },
    quick: { type: "boolean", default: false },
    "no-haproxy": { type: "boolean", default: false },
  },
});
const quick = flags.quick === true;
const REPS = quick ? 1 : Math.min(10, Number(flags.reps));
const BULK_BYTES = (quick ? 128 : Math.min(8192, Number(flags["bulk-mib"]))) * 1024 * 1024;
const BULK_SECS = Math.min(60, Number(flags["bulk-secs"]));
const RATE_SECS = quick ? 3 : Math.min(30, Number(flags["rate-secs"]));
const RATE_WORKERS = Math.min(64, Number(flags["rate-workers"]));
const LATENCY = quick ? 1000 : Math.min(50_000, Number(flags.latency));
const IDLE = quick ? 300 : Math.min(5000, Number(flags.idle));
/** A sample starts once the machine uses less than this many cores (others' work), or after QUIET_WAIT_MS. */
const QUIET_CORES = 0.3;
const QUIET_WAIT_MS = quick ? 2000 : 30_000;
const TICK = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;

interface System {
  name: string;
  host: string;
  port: number;
  pid?: number;
}

function freePort(host: string): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, host, () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** utime + stime of a process, in seconds. */
function cpuSeconds(pid: number | undefined): number {
  if (!pid) return NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / TICK;
  } catch {
    return NaN;
  }
}

const children: ChildProcess[] = [];
function startProcess(command: string, args: string[], ready: RegExp): Promise<{ child: ChildProcess; line: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    children.push(child);
    let buffer = "";
    const timer = setTimeout(() => reject(new Error(`${command} did not start: ${buffer}`)), 15_000);
    const onData = (d: Buffer) => {
      buffer += d.toString();
      const line = buffer.split("\n").find((l) => ready.test(l));
      if (line !== undefined) {
        clearTimeout(timer);
        resolve({ child, line });
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${command} exited with ${code}: ${buffer}`));
    });
  });
}

function runClient(args: string[], timeoutMs: number): Promise<Record<string, number | boolean | string>> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(DIST, "bench/bench/bench-client.js"), ...args], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("exit", () => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(output.trim().split("\n").pop() ?? "{}"));
      } catch {
        resolve({ ok: false, error: `bad output: ${output.slice(0, 200)}` });
      }
    });
  });
}

/** CPU cores busy machine-wide over `ms` (from /proc/stat). */
async function busyCores(ms = 500): Promise<number> {
  const read = () => {
    const fields = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
    const idle = fields[3] + (fields[4] ?? 0);
    const total = fields.reduce((a, b) => a + b, 0);
    return { idle, total };
  };
  const a = read();
  await new Promise((r) => setTimeout(r, ms));
  const b = read();
  const cores = os.cpus().length;
  return b.total === a.total ? 0 : (cores * (b.total - a.total - (b.idle - a.idle))) / (b.total - a.total);
}

/** Waits (at most `maxMs`) until the machine is quiet; returns the last busy reading, in cores. */
async function quietGate(maxMs = QUIET_WAIT_MS): Promise<number> {
  const deadline = Date.now() + maxMs;
  let busy = await busyCores();
  while (busy > QUIET_CORES && Date.now() < deadline) busy = await busyCores();
  return busy;
}

function median(values: number[]): number {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
}

/** Resident memory of a process, in KiB. */
function rssKiB(pid: number | undefined): number {
  if (!pid) return NaN;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}

/** Opens `count` idle connections through a system and returns the proxy's RSS growth per connection, in KiB. */
async function idleMemory(system: System, caFile: string, count: number): Promise<number> {
  const before = rssKiB(system.pid);
  const child = spawn(
    process.execPath,
    [
      path.join(DIST, "bench/bench/bench-client.js"),
      "hold",
      system.host,
      String(system.port),
      NAME,
      caFile,
      String(count),
    ],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("idle connections not ready in 120 s")), 120_000);
      child.stdout.on("data", (d) => {
        if (String(d).includes('"ready":true')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.on("exit", () => reject(new Error("hold client exited")));
    });
    await new Promise((r) => setTimeout(r, 3000));
    return (rssKiB(system.pid) - before) / count;
  } finally {
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));
  }
}

function haproxyAvailable(): boolean {
  try {
    execFileSync("haproxy", ["-v"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

async function main(): Promise<void> {
  if (flags["no-haproxy"] !== true && flags.install === true && !haproxyAvailable()) {
    process.stderr.write("installing haproxy (apt-get install -y haproxy)…\n");
    execFileSync("apt-get", ["install", "-y", "-q", "haproxy"], {
      stdio: "inherit",
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    });
  }
  const useHaproxy = flags["no-haproxy"] !== true && haproxyAvailable();
  const work = path.join(os.tmpdir(), `sni-bench-${process.pid}`);
  mkdirSync(work, { recursive: true });
  const pki = await createTestPki("sni-bench-pki-");
  const cert = await pki.issue([NAME]);

  // Backend (the "sidecar" of api), gateway, HAProxy: each its own process.
  const backend = await startProcess(
    process.execPath,
    [path.join(DIST, "bench/bench/bench-backend.js"), "127.0.0.1", cert.keyFile, cert.certFile],
    /"port"/,
  );
  const backendPort = JSON.parse(backend.line).port as number;
  const routesFile = path.join(work, "routes.json");
  writeFileSync(
    routesFile,
    JSON.stringify({
      datacenter: "dc1",
      trustDomain: TD,
      services: [{ name: "api", endpoints: [{ address: "127.0.0.1", port: backendPort }] }],
      gateways: [],
    }),
  );
  const gateway = await startProcess(
    process.execPath,
    [
      path.join(DIST, "bench/gateway/main.js"),
      "--datacenter",
      "dc1",
      "--listen",
      "127.0.0.2:0",
      "--admin",
      "127.0.0.1:0",
      "--routes",
      routesFile,
      "--log-level",
      "info",
    ],
    /"event":"started"/,
  );
  const gatewayPort = Number(JSON.parse(gateway.line).listen[0].split(":")[1]);
  const systems: System[] = [
    { name: "direct", host: "127.0.0.1", port: backendPort },
    { name: "sni-gateway", host: "127.0.0.2", port: gatewayPort, pid: gateway.child.pid },
  ];
  if (useHaproxy) {
    const port = await freePort("127.0.0.3");
    const cfg = path.join(work, "haproxy.cfg");
    writeFileSync(
      cfg,
      [
        "global",
        "    nbthread 1",
        "    maxconn 8000",
        "defaults",
        "    mode tcp",
        "    timeout connect 5s",
        "    timeout client 1h",
        "    timeout server 1h",
        "frontend fe_sni",
        `    bind 127.0.0.3:${port} backlog 4096`,
        "    tcp-request inspect-delay 5s",
        "    tcp-request content accept if { req.ssl_hello_type 1 }",
        `    use_backend be_api if { req.ssl_sni -i ${NAME} }`,
        "    default_backend be_reject",
        "backend be_api",
        `    server api 127.0.0.1:${backendPort}`,
        "backend be_reject",
        "    tcp-request content reject",
        "",
      ].join("\n"),
    );
    const child = spawn("haproxy", ["-f", cfg, "-db"], { stdio: ["ignore", "ignore", "inherit"] });
    children.push(child);
    await new Promise((r) => setTimeout(r, 500));
    systems.push({ name: "haproxy-t1", host: "127.0.0.3", port, pid: child.pid });
  }

  const caFile = pki.caFile;
  type Sample = {
    rep: number;
    system: string;
    test: string;
    value: number;
    proxyCpu: number;
    load1: number;
    preBusy: number;
    extra?: Record<string, unknown>;
  };
  const samples: Sample[] = [];
  const log = (s: string) => process.stderr.write(`${s}\n`);
  log(
    `bench: ${REPS} rep(s); bulk ${BULK_BYTES / 1048576} MiB ≤${BULK_SECS}s; conn rate ${RATE_SECS}s × 2 processes × ${RATE_WORKERS} workers; latency ${LATENCY} × 64 B; systems: ${systems.map((s) => s.name).join(", ")}`,
  );

  // Warm-up, not measured: lets each proxy's JIT (and caches) settle before the first sample.
  for (const system of systems) {
    const args = [system.host, String(system.port), NAME, caFile];
    await runClient(["bulk", ...args, String(256 * 1024 * 1024), "10"], 40_000);
    await runClient(["connrate", ...args, "8", "2"], 40_000);
  }

  for (let rep = 0; rep < REPS; rep++) {
    const order = systems.map((_, i) => systems[(i + rep) % systems.length]);
    for (const system of order) {
      const args = [system.host, String(system.port), NAME, caFile];
      // 1. bulk, one connection, client → server.
      let preBusy = await quietGate();
      let cpu0 = cpuSeconds(system.pid);
      const load1 = os.loadavg()[0];
      const bulk = await runClient(["bulk", ...args, String(BULK_BYTES), String(BULK_SECS)], (BULK_SECS + 30) * 1000);
      let cpu = cpuSeconds(system.pid) - cpu0;
      samples.push({
        rep,
        system: system.name,
        test: "bulk1",
        value: Number(bulk.gbps),
        proxyCpu: cpu / (Number(bulk.bytes) / 2 ** 30),
        load1,
        preBusy,
        extra: bulk,
      });
      log(
        `rep ${rep + 1} ${system.name} bulk: ${Number(bulk.gbps).toFixed(2)} Gbit/s, proxy ${(cpu / (Number(bulk.bytes) / 2 ** 30)).toFixed(2)} CPU-s/GiB`,
      );
      // 2. new connections per second, 2 client processes.
      preBusy = await quietGate();
      cpu0 = cpuSeconds(system.pid);
      const rate = await Promise.all(
        [0, 1].map(() =>
          runClient(["connrate", ...args, String(RATE_WORKERS), String(RATE_SECS)], (RATE_SECS + 30) * 1000),
        ),
      );
      cpu = cpuSeconds(system.pid) - cpu0;
      const conns = rate.reduce((n, r) => n + Number(r.conns), 0);
      const errors = rate.reduce((n, r) => n + Number(r.errors), 0);
      const perSecond = rate.reduce((n, r) => n + Number(r.rate), 0);
      samples.push({
        rep,
        system: system.name,
        test: "connrate",
        value: perSecond,
        proxyCpu: (cpu * 1000) / conns,
        load1: os.loadavg()[0],
        preBusy,
        extra: { conns, errors },
      });
      log(
        `rep ${rep + 1} ${system.name} conn rate: ${perSecond.toFixed(0)}/s (${errors} errors), proxy ${((cpu * 1000) / conns).toFixed(3)} CPU-ms/conn`,
      );
      // 3. latency.
      preBusy = await quietGate();
      const lat = await runClient(["latency", ...args, String(LATENCY)], 60_000);
      samples.push({
        rep,
        system: system.name,
        test: "latency",
        value: Number(lat.p50us),
        proxyCpu: NaN,
        load1: os.loadavg()[0],
        preBusy,
        extra: lat,
      });
      log(
        `rep ${rep + 1} ${system.name} latency: p50 ${Number(lat.p50us).toFixed(0)} µs, p99 ${Number(lat.p99us).toFixed(0)} µs`,
      );
    }
  }

  // Memory held per idle connection (once, after the other tests; RSS includes what the proxy keeps for reuse).
  const idleKiB = new Map<string, number>();
  for (const system of systems.filter((s) => s.pid)) {
    await quietGate();
    const kib = await idleMemory(system, caFile, IDLE).catch((e: Error) => {
      log(`${system.name} idle connections: ${e.message}`);
      return NaN;
    });
    idleKiB.set(system.name, kib);
    log(`${system.name}: ${kib.toFixed(1)} KiB per idle connection (${IDLE} connections)`);
    await new Promise((r) => setTimeout(r, 1000));
  }

  // Medians and per-repetition ratios to direct.
  const rows = systems.map((system) => {
    const of = (test: string) => samples.filter((s) => s.system === system.name && s.test === test);
    const ratio = (test: string) =>
      median(
        of(test).map((s) => {
          const direct = samples.find((d) => d.system === "direct" && d.test === test && d.rep === s.rep);
          return direct ? s.value / direct.value : NaN;
        }),
      );
    const spread = (test: string) => {
      const ratios = of(test)
        .map((s) => {
          const direct = samples.find((d) => d.system === "direct" && d.test === test && d.rep === s.rep);
          return direct ? s.value / direct.value : NaN;
        })
        .filter(Number.isFinite);
      return ratios.length ? `${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}` : "n/a";
    };
    return {
      system: system.name,
      bulkSpread: spread("bulk1"),
      connSpread: spread("connrate"),
      bulkGbps: median(of("bulk1").map((s) => s.value)),
      bulkRatio: ratio("bulk1"),
      connRate: median(of("connrate").map((s) => s.value)),
      connRatio: ratio("connrate"),
      p50us: median(of("latency").map((s) => Number(s.extra?.p50us))),
      p99us: median(of("latency").map((s) => Number(s.extra?.p99us))),
      cpuPerGiB: median(of("bulk1").map((s) => s.proxyCpu)),
      cpuMsPerConn: median(of("connrate").map((s) => s.proxyCpu)),
      connErrors: of("connrate").reduce((n, s) => n + Number(s.extra?.errors ?? 0), 0),
      idleKiB: idleKiB.get(system.name) ?? NaN,
    };
  });
  const f = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : "n/a");
  const table = [
    "| system | c→s 1 conn Gbit/s (× direct; range) | new TLS conn/s (× direct; range) | p50 / p99 µs (64 B RR) | proxy CPU s/GiB | proxy CPU ms/conn | proxy KiB/idle conn | conn errors |",
    "|---|---|---|---|---|---|---|---|",
    ...rows.map(
      (r) =>
        `| ${r.system} | ${f(r.bulkGbps)} (${f(r.bulkRatio)}; ${r.bulkSpread}) | ${f(r.connRate, 0)} (${f(r.connRatio)}; ${r.connSpread}) | ${f(r.p50us, 0)} / ${f(r.p99us, 0)} | ${r.system === "direct" ? "n/a" : f(r.cpuPerGiB)} | ${r.system === "direct" ? "n/a" : f(r.cpuMsPerConn, 3)} | ${r.system === "direct" ? "n/a" : f(r.idleKiB, 1)} | ${r.connErrors} |`,
    ),
  ].join("\n");
  const quiet = samples.filter((s) => s.preBusy <= QUIET_CORES).length;
  const quietLine = `Quiet gate: ${quiet}/${samples.length} samples started with other work below ${QUIET_CORES} cores (median before a sample: ${median(samples.map((s) => s.preBusy)).toFixed(2)} cores).`;
  const facts = {
    date: new Date().toISOString(),
    node: process.version,
    nproc: os.cpus().length,
    cpu: os.cpus()[0]?.model,
    loadavgAtEnd: os.loadavg(),
    reps: REPS,
    bulkBytes: BULK_BYTES,
    rateSecs: RATE_SECS,
    rateWorkers: RATE_WORKERS * 2,
    latencyCount: LATENCY,
    idleConnections: IDLE,
  };
  mkdirSync(path.join(ROOT, "bench/results"), { recursive: true });
  writeFileSync(path.join(ROOT, "bench/results/latest.json"), `${JSON.stringify({ facts, rows, samples }, null, 2)}\n`);
  process.stdout.write(`\n${JSON.stringify(facts)}\n\n${table}\n\n${quietLine}\n`);
  await pki.cleanup();
}

const stopChildren = () => {
  for (const c of children) if (c.exitCode === null && c.pid) c.kill("SIGTERM");
};
main().then(
  () => {
    stopChildren();
    process.exit(0);
  },
  (error: Error) => {
    stopChildren();
    process.stderr.write(`bench failed: ${error.stack ?? error.message}\n`);
    process.exit(1);
  },
);
