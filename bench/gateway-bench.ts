/**
 * The SNI gateway against a direct connection and the anchors (HAProxy without and with
 * splice-auto, Envoy configured as Consul's mesh gateway at concurrency 1 and 2), side by side
 * in the same run, TLS 1.3 end to end with certificates verified by the client. Bounded in count
 * and time.
 *
 *   npm run bench -- [--reps 3] [--bulk-mib 1024] [--bulk-secs 20] [--rate-secs 8] [--rate-workers 16]
 *                    [--latency 5000] [--idle 2000,5000] [--floor-conns 20000] [--systems a,b] [--install]
 *                    [--quick] [--no-haproxy]
 *
 * Last, the per-connection floor: without TLS (a captured ClientHello in, one byte back, close)
 * through each proxy and two plain Node.js programs that mark what Node.js's `net` costs before
 * any gateway logic (`floor-servers.ts`).
 *
 * `--install` runs `apt-get install -y haproxy` first when HAProxy is missing. Results: a table
 * and the targets on stdout, `bench/results/latest.json`.
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { createTestPki } from "../demo/pki";
import { cpuTimes, rssKiB, startProcess, stopChildren, stopProcess } from "./processes";
import { routeLookupFigures } from "./route-lookup";
import {
  type Backend,
  envoyAvailable,
  haproxyAvailable,
  startEnvoy,
  startGateway,
  startHaproxy,
  startNodeFloor,
  type System,
  type SystemSpec,
} from "./systems";
import { checkTargets, type Row } from "./targets";

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
    idle: { type: "string" },
    "floor-conns": { type: "string", default: "20000" },
    systems: { type: "string" },
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
const FLOOR_CONNS = quick ? 2000 : Math.min(100_000, Number(flags["floor-conns"]));
const IDLE_COUNTS = (flags.idle ?? (quick ? "300" : "2000,5000")).split(",").map((n) => Math.min(5000, Number(n)));
/** A sample starts once the machine uses less than this many cores (others' work), or after QUIET_WAIT_MS. */
const QUIET_CORES = 0.3;
const QUIET_WAIT_MS = quick ? 2000 : 30_000;

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

/** CPU time a process used since `before`, in seconds: user, system and their sum. */
function since(before: { user: number; system: number }, pid: number | undefined) {
  const now = cpuTimes(pid);
  const user = now.user - before.user;
  const system = now.system - before.system;
  return { user, system, total: user + system };
}

function median(values: number[]): number {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
}

/**
 * Opens `count` connections through a freshly started proxy, each a full handshake and one 64 B
 * echo, holds them idle, and returns the proxy's RSS growth per connection, in KiB.
 */
async function idleMemory(spec: SystemSpec, caFile: string, count: number): Promise<number> {
  const system = await spec.start();
  try {
    // A short warm-up, so the growth measured is per connection, not the code paths' first use.
    await runClient(["connrate", system.host, String(system.port), NAME, caFile, "4", "1"], 20_000);
    await new Promise((r) => setTimeout(r, 1000));
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
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("idle connections not ready in 180 s")), 180_000);
        const poll = setInterval(() => {
          if (!output.includes('"ready":true')) return;
          clearInterval(poll);
          clearTimeout(timer);
          resolve();
        }, 100);
        void exited.then(() => {
          clearInterval(poll);
          clearTimeout(timer);
          reject(new Error(`hold client exited: ${output.trim()}`));
        });
      });
      await new Promise((r) => setTimeout(r, 3000));
      const grown = (rssKiB(system.pid) - before) / count;
      child.kill("SIGTERM");
      await exited;
      const lost = Number(JSON.parse(output.trim().split("\n").pop() ?? "{}").lost);
      // A connection the proxy closed while held would make the figure look better than it is.
      if (lost !== 0) throw new Error(`${lost} of ${count} held connections were closed by the proxy`);
      return grown;
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    }
  } finally {
    await system.stop();
  }
}

/** One system's figures in the per-connection floor test. */
interface FloorRow {
  system: string;
  /** CPU ms per connection, median over the repetitions. */
  msPerConn: number;
  /** Of which user time. */
  userMsPerConn: number;
  /** Connections that got no answer, over all repetitions. */
  errors: number;
}

/**
 * The per-connection floor: every proxy (started afresh against a plain backend) and the two
 * plain Node.js programs, `FLOOR_CONNS` connections each per repetition, order rotated.
 * @param work - The folder for the configuration files.
 * @param caFile - The client's CA (the captured hello comes from a real TLS client).
 * @param log - Progress lines.
 */
async function connectionFloor(work: string, caFile: string, log: (s: string) => void): Promise<FloorRow[]> {
  const backendProcess = await startProcess(
    process.execPath,
    [path.join(DIST, "bench/bench/floor-servers.js"), "backend", "127.0.0.1"],
    /"port"/,
  );
  const backend: Backend = { name: NAME, port: JSON.parse(backendProcess.line).port as number, work };
  const routesFile = path.join(work, "floor-routes.json");
  writeRoutesFile(routesFile, backend.port);
  const dist = path.join(DIST, "bench");
  const specs: SystemSpec[] = [
    { name: "node-accept", start: () => startNodeFloor("node-accept", "127.0.0.8", dist, "accept", backend.port) },
    {
      name: "node-two-sockets",
      start: () => startNodeFloor("node-two-sockets", "127.0.0.9", dist, "two-sockets", backend.port),
    },
    ...systemSpecs(backend, routesFile),
  ];
  const systems: System[] = [];
  for (const spec of specs) systems.push(await spec.start());
  const client = (system: System, count: number) =>
    runClient(["hellos", system.host, String(system.port), NAME, caFile, String(count), "16"], 120_000);
  for (const system of systems) await client(system, Math.min(2000, FLOOR_CONNS));
  const samples = new Map<string, Array<{ total: number; user: number; errors: number }>>();
  for (let rep = 0; rep < REPS; rep++) {
    for (const system of systems.map((_, i) => systems[(i + rep) % systems.length])) {
      await quietGate();
      const cpu0 = cpuTimes(system.pid);
      const result = await client(system, FLOOR_CONNS);
      const cpu = since(cpu0, system.pid);
      const conns = Number(result.conns);
      const sample = {
        total: (cpu.total * 1000) / conns,
        user: (cpu.user * 1000) / conns,
        errors: Number(result.errors),
      };
      samples.set(system.name, [...(samples.get(system.name) ?? []), sample]);
      log(
        `rep ${rep + 1} ${system.name} floor: ${sample.total.toFixed(3)} CPU-ms/conn (user ${sample.user.toFixed(3)})`,
      );
    }
  }
  for (const system of systems) await system.stop();
  await stopProcess(backendProcess.child);
  return [...samples].map(([system, s]) => ({
    system,
    msPerConn: median(s.map((x) => x.total)),
    userMsPerConn: median(s.map((x) => x.user)),
    errors: s.reduce((n, x) => n + x.errors, 0),
  }));
}

/** The routes file every gateway of the benchmark runs with: the one name to the backend on 127.0.0.1. */
function writeRoutesFile(file: string, backendPort: number): void {
  writeFileSync(
    file,
    JSON.stringify({
      datacenter: "dc1",
      trustDomain: TD,
      services: [{ name: "api", endpoints: [{ address: "127.0.0.1", port: backendPort }] }],
      gateways: [],
    }),
  );
}

function installHaproxy(): void {
  process.stderr.write("installing haproxy (apt-get install -y haproxy)…\n");
  execFileSync("apt-get", ["install", "-y", "-q", "haproxy"], {
    stdio: "inherit",
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
}

/** Every system this machine can run, minus those `--no-haproxy` and `--systems` leave out. */
function systemSpecs(backend: Backend, routesFile: string): SystemSpec[] {
  const gateway = (name: string, host: string, args: string[] = []): SystemSpec => ({
    name,
    start: () => startGateway(name, host, path.join(DIST, "bench"), routesFile, args),
  });
  const specs: SystemSpec[] = [
    gateway("sni-gateway", "127.0.0.2"),
    gateway("sni-gateway-pump", "127.0.0.7", ["--relay", "pump"]),
  ];
  if (flags["no-haproxy"] !== true && haproxyAvailable()) {
    specs.push({ name: "haproxy-t1", start: () => startHaproxy("haproxy-t1", "127.0.0.3", backend, false) });
    specs.push({
      name: "haproxy-t1-splice",
      start: () => startHaproxy("haproxy-t1-splice", "127.0.0.5", backend, true),
    });
  }
  if (envoyAvailable()) {
    specs.push({ name: "envoy-c1", start: () => startEnvoy("envoy-c1", "127.0.0.4", backend, 1) });
    specs.push({ name: "envoy-c2", start: () => startEnvoy("envoy-c2", "127.0.0.6", backend, 2) });
  } else process.stderr.write("bench: Envoy is not built (run `npm run tools`): no Envoy column\n");
  const wanted = flags.systems?.split(",");
  return wanted ? specs.filter((s) => wanted.includes(s.name)) : specs;
}

async function main(): Promise<void> {
  if (flags["no-haproxy"] !== true && flags.install === true && !haproxyAvailable()) installHaproxy();
  const work = path.join(os.tmpdir(), `sni-bench-${process.pid}`);
  mkdirSync(work, { recursive: true });
  const pki = await createTestPki("sni-bench-pki-");
  const cert = await pki.issue([NAME]);

  // Backend (the "sidecar" of api), then each proxy: each its own process.
  const backendProcess = await startProcess(
    process.execPath,
    [path.join(DIST, "bench/bench/bench-backend.js"), "127.0.0.1", cert.keyFile, cert.certFile],
    /"port"/,
  );
  const backend: Backend = { name: NAME, port: JSON.parse(backendProcess.line).port as number, work };
  const routesFile = path.join(work, "routes.json");
  writeRoutesFile(routesFile, backend.port);
  const specs = systemSpecs(backend, routesFile);
  const systems: System[] = [{ name: "direct", host: "127.0.0.1", port: backend.port, stop: async () => undefined }];
  for (const spec of specs) systems.push(await spec.start());

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
    `bench: ${REPS} rep(s); bulk ${BULK_BYTES / 1048576} MiB ≤${BULK_SECS}s; conn rate ${RATE_SECS}s × 2 processes × ${RATE_WORKERS} workers; latency ${LATENCY} × 64 B; idle ${IDLE_COUNTS.join(", ")}; systems: ${systems.map((s) => s.name).join(", ")}`,
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
      let cpu0 = cpuTimes(system.pid);
      const load1 = os.loadavg()[0];
      const bulk = await runClient(["bulk", ...args, String(BULK_BYTES), String(BULK_SECS)], (BULK_SECS + 30) * 1000);
      let cpu = since(cpu0, system.pid);
      const gib = Number(bulk.bytes) / 2 ** 30;
      const perGiB = cpu.total / gib;
      bulk.userPerGiB = cpu.user / gib;
      samples.push({
        rep,
        system: system.name,
        test: "bulk1",
        value: Number(bulk.gbps),
        proxyCpu: perGiB,
        load1,
        preBusy,
        extra: bulk,
      });
      log(
        `rep ${rep + 1} ${system.name} bulk: ${Number(bulk.gbps).toFixed(2)} Gbit/s, proxy ${perGiB.toFixed(2)} CPU-s/GiB`,
      );
      // 2. new connections per second, 2 client processes.
      preBusy = await quietGate();
      cpu0 = cpuTimes(system.pid);
      const rate = await Promise.all(
        [0, 1].map(() =>
          runClient(["connrate", ...args, String(RATE_WORKERS), String(RATE_SECS)], (RATE_SECS + 30) * 1000),
        ),
      );
      cpu = since(cpu0, system.pid);
      const conns = rate.reduce((n, r) => n + Number(r.conns), 0);
      const errors = rate.reduce((n, r) => n + Number(r.errors), 0);
      const perSecond = rate.reduce((n, r) => n + Number(r.rate), 0);
      const msPerConn = (cpu.total * 1000) / conns;
      const userMsPerConn = (cpu.user * 1000) / conns;
      samples.push({
        rep,
        system: system.name,
        test: "connrate",
        value: perSecond,
        proxyCpu: msPerConn,
        load1: os.loadavg()[0],
        preBusy,
        extra: { conns, errors, userMsPerConn },
      });
      log(
        `rep ${rep + 1} ${system.name} conn rate: ${perSecond.toFixed(0)}/s (${errors} errors), proxy ${msPerConn.toFixed(3)} CPU-ms/conn`,
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
  for (const system of systems) await system.stop();

  // Memory held per idle connection: each proxy started afresh per count (no high-water marks of earlier tests).
  const idleKiB = new Map<string, Record<string, number>>();
  for (const count of IDLE_COUNTS) {
    for (const spec of specs) {
      await quietGate();
      const kib = await idleMemory(spec, caFile, count).catch((e: Error) => {
        log(`${spec.name} idle connections: ${e.message}`);
        return NaN;
      });
      idleKiB.set(spec.name, { ...idleKiB.get(spec.name), [count]: kib });
      log(`${spec.name}: ${kib.toFixed(1)} KiB per idle connection (${count} connections)`);
    }
  }

  // The per-connection floor, without TLS.
  const floor = await connectionFloor(work, caFile, log);
  await stopProcess(backendProcess.child);

  // Route lookup, 10 against 100,000 routes.
  const lookups = routeLookupFigures(TD);
  const lookupRatio = lookups[lookups.length - 1].nsPerLookup / lookups[0].nsPerLookup;

  // Medians and per-repetition ratios to direct.
  const ratiosOf = (system: string, test: string) =>
    samples
      .filter((s) => s.system === system && s.test === test)
      .map((s) => {
        const direct = samples.find((d) => d.system === "direct" && d.test === test && d.rep === s.rep);
        return direct ? s.value / direct.value : NaN;
      });
  const rows = systems.map((system) => {
    const of = (test: string) => samples.filter((s) => s.system === system.name && s.test === test);
    const spread = (test: string) => {
      const ratios = ratiosOf(system.name, test).filter(Number.isFinite);
      return ratios.length ? `${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}` : "n/a";
    };
    const addedP50 = of("latency").map((s) => {
      const direct = samples.find((d) => d.system === "direct" && d.test === "latency" && d.rep === s.rep);
      return direct ? s.value - direct.value : NaN;
    });
    return {
      system: system.name,
      bulkSpread: spread("bulk1"),
      connSpread: spread("connrate"),
      bulkGbps: median(of("bulk1").map((s) => s.value)),
      bulkRatio: median(ratiosOf(system.name, "bulk1")),
      connRate: median(of("connrate").map((s) => s.value)),
      connRatio: median(ratiosOf(system.name, "connrate")),
      p50us: median(of("latency").map((s) => Number(s.extra?.p50us))),
      p99us: median(of("latency").map((s) => Number(s.extra?.p99us))),
      addedP50us: median(addedP50),
      cpuPerGiB: median(of("bulk1").map((s) => s.proxyCpu)),
      cpuMsPerConn: median(of("connrate").map((s) => s.proxyCpu)),
      userShareGiB: median(of("bulk1").map((s) => Number(s.extra?.userPerGiB) / s.proxyCpu)),
      userShareConn: median(of("connrate").map((s) => Number(s.extra?.userMsPerConn) / s.proxyCpu)),
      connErrors: of("connrate").reduce((n, s) => n + Number(s.extra?.errors ?? 0), 0),
      idleKiB: idleKiB.get(system.name) ?? {},
    };
  });
  const f = (x: number | undefined, d = 2) => (x !== undefined && Number.isFinite(x) ? x.toFixed(d) : "n/a");
  const idleHeads = IDLE_COUNTS.map((n) => `KiB/idle conn (${n})`).join(" | ");
  const table = [
    `| system | c→s 1 conn Gbit/s (× direct; range) | new TLS conn/s (× direct; range) | p50 / p99 µs (64 B RR) | added p50 µs | proxy CPU s/GiB (user %) | proxy CPU ms/conn (user %) | ${idleHeads} | conn errors |`,
    `|---|---|---|---|---|---|---|${IDLE_COUNTS.map(() => "---|").join("")}---|`,
    ...rows.map((r) => {
      const proxy = r.system !== "direct";
      const idle = IDLE_COUNTS.map((n) => (proxy ? f(r.idleKiB[n], 1) : "n/a")).join(" | ");
      return `| ${r.system} | ${f(r.bulkGbps)} (${f(r.bulkRatio)}; ${r.bulkSpread}) | ${f(r.connRate, 0)} (${f(r.connRatio)}; ${r.connSpread}) | ${f(r.p50us, 0)} / ${f(r.p99us, 0)} | ${proxy ? f(r.addedP50us, 0) : "n/a"} | ${proxy ? `${f(r.cpuPerGiB)} (${f(100 * r.userShareGiB, 0)})` : "n/a"} | ${proxy ? `${f(r.cpuMsPerConn, 3)} (${f(100 * r.userShareConn, 0)})` : "n/a"} | ${idle} | ${r.connErrors} |`;
    }),
  ].join("\n");
  const targetRows: Row[] = rows.map((r) => ({ ...r }));
  const targets = checkTargets(targetRows, lookupRatio, Math.max(...IDLE_COUNTS));
  const targetTable = [
    "| target | ours | limit (same run) | met |",
    "|---|---|---|---|",
    ...targets.map(
      (t) => `| ${t.target} | ${f(t.ours, 3)} ${t.unit} | ${f(t.limit, 3)} ${t.unit} | ${t.met ? "yes" : "**no**"} |`,
    ),
  ].join("\n");
  const haproxyFloor = floor.find((r) => r.system === "haproxy-t1")?.msPerConn ?? NaN;
  const floorTable = [
    `Per connection without TLS (a captured ClientHello in, one byte back, close; ${FLOOR_CONNS.toLocaleString("en")} connections per repetition, 16 at a time):`,
    "",
    "| system | proxy CPU ms/conn (× haproxy-t1) | of which user ms | no answer |",
    "|---|---|---|---|",
    ...floor.map(
      (r) =>
        `| ${r.system} | ${f(r.msPerConn, 3)} (${f(r.msPerConn / haproxyFloor)}) | ${f(r.userMsPerConn, 3)} | ${r.errors} |`,
    ),
  ].join("\n");
  const lookupLine = `Route lookup: ${lookups.map((l) => `${l.routes.toLocaleString("en")} routes ${l.nsPerLookup.toFixed(0)} ns`).join(", ")} per lookup (×${lookupRatio.toFixed(2)}).`;
  const quiet = samples.filter((s) => s.preBusy <= QUIET_CORES).length;
  const quietLine = `Quiet gate: ${quiet}/${samples.length} samples started with other work below ${QUIET_CORES} cores (median before a sample: ${median(samples.map((s) => s.preBusy)).toFixed(2)} cores).`;
  const facts = {
    date: new Date().toISOString(),
    node: process.version,
    nproc: os.cpus().length,
    cpu: os.cpus()[0]?.model,
    kernel: os.release(),
    loadavgAtEnd: os.loadavg(),
    reps: REPS,
    bulkBytes: BULK_BYTES,
    rateSecs: RATE_SECS,
    rateWorkers: RATE_WORKERS * 2,
    latencyCount: LATENCY,
    idleConnections: IDLE_COUNTS,
    versions: versions(),
  };
  mkdirSync(path.join(ROOT, "bench/results"), { recursive: true });
  writeFileSync(
    path.join(ROOT, "bench/results/latest.json"),
    `${JSON.stringify({ facts, rows, targets, floor, lookups, samples }, null, 2)}\n`,
  );
  const machine = `Run of ${facts.date.slice(0, 16).replace("T", " ")} UTC: ${facts.nproc} vCPU ${facts.cpu}, Linux ${facts.kernel}, Node ${facts.node}, ${facts.versions.haproxy.replace(/ - .*$/, "")}, Envoy ${facts.versions.envoy.split("/")[1] ?? facts.versions.envoy}; ${REPS} repetitions, load average at the end ${facts.loadavgAtEnd.map((l) => l.toFixed(2)).join(" / ")}.`;
  const report = `${machine}\n\n${table}\n\n${floorTable}\n\n${lookupLine}\n\n${targetTable}\n\n${quietLine}`;
  if (!quick) writeResultsIntoReadme(report);
  process.stdout.write(`\n${JSON.stringify(facts)}\n\n${report}\n`);
  await pki.cleanup();
}

/** Replaces the figures between bench/README.md's result markers with this run's (full runs only). */
function writeResultsIntoReadme(report: string): void {
  const file = path.join(ROOT, "bench/README.md");
  const text = readFileSync(file, "utf8");
  const begin = "<!-- results of the last full `npm run bench` -->";
  const end = "<!-- end of results -->";
  const from = text.indexOf(begin);
  const to = text.indexOf(end);
  if (from < 0 || to < from) return;
  writeFileSync(file, `${text.slice(0, from + begin.length)}\n${report}\n${text.slice(to)}`);
}

/** The anchors' versions, as they report them. */
function versions(): Record<string, string> {
  const first = (command: string, args: string[]) => {
    try {
      const lines = execFileSync(command, args, { stdio: ["ignore", "pipe", "pipe"] })
        .toString()
        .split("\n");
      return (lines.find((l) => /version/i.test(l)) ?? lines[0]).trim();
    } catch {
      return "not available";
    }
  };
  return {
    haproxy: first("haproxy", ["-v"]),
    envoy: first(path.join(ROOT, ".tools/bin/envoy"), ["--version"]).replace(/^.*version: /, ""),
  };
}

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
