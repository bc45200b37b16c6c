/**
 * The faults of a real mesh, as scenarios run against a {@link WebApiMesh} with our gateways in
 * `local` mode (every request crosses both): the local Consul server crashes for 30 s; a remote
 * gateway is killed and comes back on another port; a gateway gets SIGTERM with streams in
 * flight; the upstream dies mid-stream. Each returns what it observed, for
 * `test/real/mesh-faults.test.ts` to assert and for the soak to report; waits that cannot be
 * met throw.
 */
import { eventually } from "./processes";
import {
  connectIdentity,
  connectRequest,
  gatewayAddresses,
  gatewayMetric,
  httpRequest,
  startOurGateway,
  type RunningGateway,
} from "./real-mesh";
import type { WebApiMesh } from "./web-api-mesh";

/** One request's outcome, when it started and how long it took. */
export interface Outcome {
  /** It got the whole answer, status 200. */
  ok: boolean;
  /** The answer's body, or what went wrong. */
  body: string;
  /** When it started (ms since the epoch). */
  at: number;
  /** How long it took, in ms. */
  ms: number;
}

type Request = () => Promise<{ ok: boolean; body: string }>;

/** Through web's sidecar: the whole mesh path. */
const throughSidecar =
  (mesh: WebApiMesh): Request =>
  async () =>
    (await mesh.requests(1))[0];

/**
 * Waits until requests through web's sidecar succeed again, `count` in a row: after its agent
 * restarts, Consul sends the sidecar a configuration without the upstream's listener for a while
 * (requests to the bind port are refused, seen for ~1 s after the gateway was fresh again), so a
 * scenario after the crash starts only once the path is whole. Returns the time it took in ms.
 */
async function awaitWholePath(mesh: WebApiMesh, count = 3): Promise<number> {
  const started = Date.now();
  let last = "";
  await eventually(
    "requests through web's sidecar to succeed again",
    async () => {
      const results = await mesh.requests(count);
      last = results.find((r) => !r.ok)?.body ?? "";
      return results.every((r) => r.ok);
    },
    { timeoutMs: 60_000, intervalMs: 200, describe: () => `last failure: ${last}` },
  );
  return Date.now() - started;
}

/** Requests every `everyMs` until stopped (at most `max`), recording each outcome. */
function traffic(request: Request, everyMs = 200, max = 1000) {
  const outcomes: Outcome[] = [];
  let running = true;
  const done = (async () => {
    while (running && outcomes.length < max) {
      const started = Date.now();
      const result = await request();
      outcomes.push({ ok: result.ok, body: result.body, at: started, ms: Date.now() - started });
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, everyMs - (Date.now() - started))));
    }
  })();
  return {
    outcomes,
    async stop() {
      running = false;
      await done;
      return outcomes;
    },
  };
}

/** What {@link consulCrash} observed. */
export interface ConsulCrashObserved {
  /** The requests of the first second, before the crash. */
  beforeCrash: Outcome[];
  /** `/readyz` while the server was down. */
  readyzWhileDown: { status: number; body: unknown };
  /** `/readyz`'s status once fresh again. */
  readyzAfter: number;
  /** Every request. */
  outcomes: Outcome[];
  /** The failed ones, with their start relative to the restart. */
  failed: Array<Outcome & { sinceRestartMs: number }>;
  /** From the server's restart to the gateway being fresh again, in ms. */
  recoveredMs: number;
  /** From the gateway being fresh again to requests through web's sidecar succeeding again, in ms. */
  pathWholeMs: number;
  /** One line for the figures. */
  summary: string;
}

/**
 * dc1's Consul server crashes for 30 s while Connect mTLS requests flow straight to dc1's gateway
 * (as web's sidecar would send them: Envoy sidecars drop their listeners for a while when their
 * agent restarts, which is Consul's behaviour, not the gateway's).
 * @param mesh the started mesh, in `local` mode.
 */
export async function consulCrash(mesh: WebApiMesh): Promise<ConsulCrashObserved> {
  const identity = await connectIdentity(mesh.dc1, "web");
  const gateway = mesh.gateways.dc1;
  const lan = gateway.addresses.lan;
  const load = traffic(() =>
    connectRequest(
      lan.host,
      lan.port,
      mesh.upstreamCluster,
      `spiffe://${mesh.trustDomain}/ns/default/dc/dc2/svc/api`,
      identity,
    ),
  );
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const beforeCrash = [...load.outcomes];
  const crash = mesh.consul.crashAndRestart("dc1", 30_000);
  await eventually(
    "dc1's gateway to report its source stale",
    async () => (await gatewayMetric(gateway, "sni_gateway_route_source_stale")) === 1,
    { timeoutMs: 20_000 },
  );
  const readyz = await fetch(`${gateway.adminUrl}/readyz`);
  const readyzWhileDown = { status: readyz.status, body: await readyz.json() };
  await crash;
  const restarted = Date.now();
  let lastReadyz = "";
  await eventually(
    "dc1's gateway to be fresh again",
    async () => {
      lastReadyz = await (await fetch(`${gateway.adminUrl}/readyz`)).text();
      return (await gatewayMetric(gateway, "sni_gateway_route_source_stale")) === 0;
    },
    { timeoutMs: 60_000, describe: () => `readyz: ${lastReadyz}\n${gateway.process.tail(3)}` },
  );
  const recoveredMs = Date.now() - restarted;
  const readyzAfter = (await fetch(`${gateway.adminUrl}/readyz`)).status;
  const outcomes = await load.stop();
  const failed = outcomes.filter((o) => !o.ok).map((o) => ({ ...o, sinceRestartMs: o.at - restarted }));
  const seconds = outcomes.length > 0 ? Math.round((outcomes[outcomes.length - 1].at - outcomes[0].at) / 1000) : 0;
  const pathWholeMs = await awaitWholePath(mesh);
  const summary = `${outcomes.length} requests over ${seconds} s, ${failed.length} failed; fresh again ${recoveredMs} ms after the server restarted; web's sidecar path whole ${pathWholeMs} ms after that`;
  return { beforeCrash, readyzWhileDown, readyzAfter, outcomes, failed, recoveredMs, pathWholeMs, summary };
}

/** `what ×n` for each distinct value, most frequent first: for failure lines. */
function tally(values: string[]): string {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts]
    .sort((a, b) => b[1] - a[1])
    .map(([v, n]) => `${v} ×${n}`)
    .join(", ");
}

/**
 * The warnings and errors one of our gateways logged from `since` on, tallied by event, reason and
 * upstream: why requests failed, for the figures' line.
 */
function gatewayWarnings(gateway: RunningGateway, since: number): string {
  const seen: string[] = [];
  for (const line of gateway.process.log().split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      const entry = JSON.parse(line) as {
        level: number;
        time: number;
        event?: string;
        reason?: string;
        upstream?: string;
      };
      if (entry.level < 40 || entry.time < since) continue;
      seen.push([entry.event, entry.reason, entry.upstream].filter(Boolean).join(" "));
    } catch {
      // not a log line of ours
    }
  }
  return seen.length ? tally(seen) : "none";
}

/** What {@link remoteGatewayKilled} observed. */
export interface RemoteGatewayKilledObserved {
  /** Every request. */
  outcomes: Outcome[];
  /** When the gateway was killed (ms since the epoch). */
  killedAt: number;
  /** From the kill to the killed gateway leaving dc1's table, in ms. */
  droppedMs: number;
  /** Connect attempts dc1's gateway failed over (`sni_gateway_upstream_connect_failures_total`). */
  failovers: number;
  /** One line for the figures. */
  summary: string;
}

/**
 * With a second dc2 gateway up, the first is killed (SIGKILL) under traffic, then replaced by one
 * on a new port; resolves once dc1's gateway uses the replacement.
 * @param mesh the started mesh, in `local` mode; its dc2 gateway is replaced.
 */
export async function remoteGatewayKilled(mesh: WebApiMesh): Promise<RemoteGatewayKilledObserved> {
  const second = await startOurGateway(mesh.consul, mesh.program, mesh.dc2, await gatewayAddresses(mesh.dc2), {
    serviceId: "mesh-gateway-ours-dc2-b",
  });
  try {
    const wanOf = (g: RunningGateway) => `${g.addresses.wan.host}:${g.addresses.wan.port}`;
    const dc2Gateways = async () => {
      const routes = (await (await fetch(`${mesh.gateways.dc1.adminUrl}/routes`)).json()) as {
        gateways: Array<{ datacenter: string; endpoints: Array<{ address: string; port: number }> }>;
      };
      return (routes.gateways.find((g) => g.datacenter === "dc2")?.endpoints ?? [])
        .map((e) => `${e.address}:${e.port}`)
        .sort();
    };
    await eventually("dc1's gateway to know both dc2 gateways", async () => (await dc2Gateways()).length === 2, {
      timeoutMs: 30_000,
    });
    await awaitWholePath(mesh);
    const load = traffic(throughSidecar(mesh), 100);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const killed = mesh.gateways.dc2;
    await killed.process.stop("SIGKILL");
    const killedAt = Date.now();
    await eventually(
      "dc1's gateway to drop the killed gateway once its check fails",
      async () => !(await dc2Gateways()).includes(wanOf(killed)),
      { timeoutMs: 30_000 },
    );
    const droppedMs = Date.now() - killedAt;
    mesh.gateways.dc2 = await mesh.startGateway(mesh.dc2);
    await eventually(
      "dc1's gateway to use the replacement",
      async () => (await dc2Gateways()).includes(wanOf(mesh.gateways.dc2)),
      { timeoutMs: 30_000 },
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    const outcomes = await load.stop();
    const failovers = await gatewayMetric(mesh.gateways.dc1, "sni_gateway_upstream_connect_failures_total");
    const failed = outcomes.filter((o) => !o.ok);
    let summary = `${outcomes.length} requests, ${failed.length} failed (${failed.filter((o) => o.at < killedAt).length} started before the kill), ${failovers} connects failed over to the other gateway; the killed one out of the table ${droppedMs} ms after the kill`;
    if (failed.some((o) => o.at >= killedAt)) {
      // Why, from each side: the client's errors and what both remaining gateways logged.
      const since = killedAt - 1000;
      summary += `; failed after the kill: ${tally(failed.filter((o) => o.at >= killedAt).map((o) => o.body.split("\n")[0].slice(0, 120)))}`;
      summary += `; dc1's gateway warned: ${gatewayWarnings(mesh.gateways.dc1, since)}; the other dc2 gateway warned: ${gatewayWarnings(second, since)}`;
    }
    return { outcomes, killedAt, droppedMs, failovers, summary };
  } finally {
    await second.stop();
  }
}

/** What {@link sigtermWithStreams} observed. */
export interface SigtermObserved {
  /** The gateway's exit code. */
  exitCode: number | string;
  /** From SIGTERM to exit, in ms. */
  exitedMs: number;
  /** The streams in flight at the signal: finished whole, and their bodies. */
  streams: Array<{ ok: boolean; body: string }>;
  /** A request once the gateway was gone: whether it got through (it must not). */
  acceptedAfterExit: boolean;
  /** One line for the figures. */
  summary: string;
}

/**
 * dc1's gateway gets SIGTERM with `count` 3-second streams in flight; then a replacement is
 * started and requests flow again.
 * @param mesh the started mesh, in `local` mode; its dc1 gateway is replaced.
 * @param count streams in flight. Default: `3`.
 */
export async function sigtermWithStreams(mesh: WebApiMesh, count = 3): Promise<SigtermObserved> {
  const inFlight = Array.from({ length: count }, () =>
    httpRequest(mesh.bindHost, mesh.bindPort, 30_000, "/stream?ms=3000"),
  );
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const gateway = mesh.gateways.dc1;
  const signalled = Date.now();
  await gateway.process.stop("SIGTERM", 20_000);
  const exitedMs = Date.now() - signalled;
  const exitCode = await gateway.process.exited;
  const streams = (await Promise.all(inFlight)).map((r) => ({ ok: r.ok, body: r.body }));
  const [after] = await mesh.requests(1);
  mesh.gateways.dc1 = await mesh.startGateway(mesh.dc1);
  await mesh.awaitEndpoint("local");
  await eventually("requests through the new dc1 gateway", async () => (await mesh.requests(1))[0].ok, {
    timeoutMs: 30_000,
  });
  const finished = streams.filter((s) => s.ok && s.body.endsWith("api done\n")).length;
  const summary = `${finished}/${count} in-flight streams finished, exit ${exitCode} after ${exitedMs} ms`;
  return { exitCode, exitedMs, streams, acceptedAfterExit: after.ok, summary };
}

/** What {@link upstreamDiesMidStream} observed. */
export interface UpstreamDiesObserved {
  /** The client's stream. */
  result: { ok: boolean; body: string };
  /** From the kill to the client seeing the close, in ms. */
  closedMs: number;
  /** One line for the figures. */
  summary: string;
}

/**
 * api's sidecar is killed (SIGKILL) while it streams to web; resolves once both gateways hold
 * no connection.
 * @param mesh the started mesh, in `local` mode; its api sidecar stays dead.
 */
export async function upstreamDiesMidStream(mesh: WebApiMesh): Promise<UpstreamDiesObserved> {
  const stream = httpRequest(mesh.bindHost, mesh.bindPort, 30_000, "/stream?ms=20000");
  await new Promise((resolve) => setTimeout(resolve, 1500));
  await mesh.apiSidecar.process.stop("SIGKILL");
  const killedAt = Date.now();
  const result = await stream;
  const closedMs = Date.now() - killedAt;
  for (const gateway of [mesh.gateways.dc1, mesh.gateways.dc2]) {
    await eventually(
      `${gateway.name} to hold no connection`,
      async () => (await gatewayMetric(gateway, "sni_gateway_active_connections")) === 0,
      { timeoutMs: 10_000 },
    );
  }
  return {
    result: { ok: result.ok, body: result.body },
    closedMs,
    summary: `the client saw the close ${closedMs} ms later; both gateways then held no connection`,
  };
}
