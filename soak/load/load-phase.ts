/**
 * The "Load" phase: one gateway (the `sni-gateway` command in a process of its own) with its
 * backends and clients in two other processes, all on loopback. As many connections held at once
 * as the gateway's open-file limit allows (two descriptors each), with the memory they cost; a
 * churn of connections opened and closed, after which descriptors, timers and the connection
 * gauge are back where they started; and connections over `--max-connections`, closed at once
 * and counted while the admin server keeps answering.
 */
import path from "node:path";
import { syntheticHello } from "../../test/gateway/helpers";
import { eventually } from "../../test/support/processes";
import { checkList, formatCount, type Check } from "../check";
import type { SoakChild } from "../child";
import type { SoakSettings } from "../settings";
import { Backends, startClients } from "./backends";
import type { GatewayProbe } from "./gateway-host";
import { ECHO_SNI as SNI, writeRoutes } from "./routes-file";
import { SoakGateway } from "./soak-gateway";

const HOST = "127.0.1.1";
/** Descriptors kept free for the admin server and the gateway's own files. */
const FD_HEADROOM = 100;

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
const timers = (p: GatewayProbe) => p.resources.Timeout ?? 0;
const sockets = (p: GatewayProbe) => p.resources.TCPSocketWrap ?? 0;

/**
 * Runs the phase.
 * @param settings the run's sizes.
 */
export async function loadPhase(settings: SoakSettings): Promise<Check[]> {
  const list = checkList("Load");
  const backends = Backends.start(settings.workDir);
  const stops: Array<() => Promise<unknown>> = [() => backends.stop()];
  try {
    const endpoints = await Promise.all(Array.from({ length: 8 }, (_, i) => backends.listen(`127.0.3.${i + 1}`)));
    const routesFile = path.join(settings.workDir, "load-routes.json");
    writeRoutes(routesFile, endpoints);
    const start = (name: string, maxConnections: number) =>
      SoakGateway.start({
        name,
        workDir: settings.workDir,
        host: HOST,
        routes: ["--routes", routesFile],
        maxConnections,
      });

    // Held at once: start with a limit above what the descriptors allow, so that they are the bound.
    let gateway = await start("load-gateway", 30_000);
    stops.unshift(() => gateway.stop());
    let clients: SoakChild = startClients(settings.workDir, HOST, gateway.port, SNI);
    stops.unshift(() => clients.stop());
    await clients.call({ type: "churn", count: 200, parallel: 20 }); // warm-up
    const base = await settled(gateway);
    const concurrent =
      settings.concurrent === "fd-limit"
        ? Math.floor((base.fdLimit - base.fds - FD_HEADROOM) / 2)
        : settings.concurrent;
    await gateway.stop();
    gateway = await start("load-gateway", concurrent + 1000);
    await clients.stop();
    clients = startClients(settings.workDir, HOST, gateway.port, SNI);
    await clients.call({ type: "churn", count: 200, parallel: 20 });
    const before = await settled(gateway);
    const held = await clients.call<{ established: number; failed: number; ms: number }>({
      type: "hold",
      count: concurrent,
      parallel: 200,
    });
    const ping = await clients.call<{ alive: number; dead: number; ms: number }>({ type: "ping" });
    const atPeak = await gateway.probe();
    const gauge = await gateway.metric("sni_gateway_active_connections");
    list.add(
      "concurrent established connections through one gateway",
      `${formatCount(held.established)} opened in ${(held.ms / 1000).toFixed(1)} s (${held.failed} failed), ${formatCount(ping.alive)} answered an echo (${ping.dead} did not); ` +
        `gateway at ${formatCount(atPeak.fds)} of its ${formatCount(atPeak.fdLimit)} open files, --max-connections ${formatCount(concurrent + 1000)}`,
      settings.concurrent === "fd-limit"
        ? `all that the open-file limit allows (${formatCount(concurrent)})`
        : `${formatCount(concurrent)}`,
      held.established === concurrent && ping.alive === concurrent && gauge === concurrent,
    );
    const perConnection = (atPeak.rssBytes - before.rssBytes) / concurrent;
    list.add(
      "resident memory per established connection",
      `${kib(perConnection)} (${(before.rssBytes / 2 ** 20).toFixed(0)} MiB idle, ${(atPeak.rssBytes / 2 ** 20).toFixed(0)} MiB at ${formatCount(concurrent)})`,
      "≤ 32 KiB",
      perConnection <= 32 * 1024,
    );
    await clients.call({ type: "release" });

    // Churn, then everything back where it was.
    const churn = await clients.call<{ ok: number; failed: number; ms: number }>({
      type: "churn",
      count: settings.churn,
      parallel: 100,
    });
    list.add(
      "connections opened, echoed and closed in churn",
      `${formatCount(churn.ok)} in ${(churn.ms / 1000).toFixed(1)} s (${formatCount(churn.ok / (churn.ms / 1000))}/s), ${churn.failed} failed`,
      `${formatCount(settings.churn)}, 0 failed`,
      churn.ok === settings.churn,
    );
    const after = await settled(gateway, before);
    const afterGauge = await gateway.metric("sni_gateway_active_connections");
    list.add(
      "after churn: open files, timers, sockets and the active-connection gauge",
      `files ${before.fds} → ${after.fds}, timers ${timers(before)} → ${timers(after)}, sockets ${sockets(before)} → ${sockets(after)}, gauge ${afterGauge}`,
      "back at their starting values",
      after.fds === before.fds &&
        timers(after) <= timers(before) &&
        sockets(after) === sockets(before) &&
        afterGauge === 0,
    );

    // Over the connection limit.
    await gateway.stop();
    const { limit, over } = settings.overflow;
    gateway = await start("overflow-gateway", limit);
    await clients.stop();
    clients = startClients(settings.workDir, HOST, gateway.port, SNI);
    await clients.call({ type: "hold", count: limit, parallel: 100 });
    const acceptedBefore = await backends.accepted();
    const admin = adminProbes(gateway);
    const refused = await clients.call<{ stillOpen: number; received: number; medianMs: number; maxMs: number }>({
      type: "refused",
      count: over,
      parallel: 200,
      bytes: syntheticHello(SNI).toString("base64"),
    });
    const probes = await admin.stop();
    const counted = await gateway.metric("sni_gateway_connections_total", { result: "over-limit" });
    const reachedBackends = (await backends.accepted()) - acceptedBefore;
    list.add(
      "connections over --max-connections closed at once and counted",
      `${formatCount(over - refused.stillOpen)} of ${formatCount(over)} closed (median ${refused.medianMs.toFixed(1)} ms, slowest ${refused.maxMs.toFixed(0)} ms), ` +
        `${refused.received} bytes back, ${formatCount(counted)} counted over-limit, ${reachedBackends} reached a backend`,
      `all closed within 1 s, 0 bytes, all counted, none reach a backend`,
      refused.stillOpen === 0 &&
        refused.maxMs < 1000 &&
        refused.received === 0 &&
        counted === over &&
        reachedBackends === 0,
    );
    list.add(
      "admin server during the overflow (/healthz every 50 ms)",
      `${probes.ok} of ${probes.sent} answered, slowest ${probes.slowestMs.toFixed(0)} ms`,
      "every probe answered, slowest < 500 ms",
      probes.ok === probes.sent && probes.sent > 0 && probes.slowestMs < 500,
    );
    await clients.call({ type: "release" });
  } finally {
    for (const stop of stops) await stop().catch(() => undefined);
  }
  return list.checks;
}

/**
 * Probes the gateway until nothing is in flight: no active connection and, when `like` is
 * given, as many descriptors as then (at most 10 s; the last probe is returned either way).
 */
async function settled(gateway: SoakGateway, like?: GatewayProbe): Promise<GatewayProbe> {
  let last: GatewayProbe | undefined;
  await eventually(
    "the gateway to settle",
    async () => {
      last = await gateway.probe();
      const idle = (await gateway.metric("sni_gateway_active_connections")) === 0;
      return idle && (!like || (last.fds === like.fds && timers(last) <= timers(like)));
    },
    { timeoutMs: 10_000, intervalMs: 200 },
  ).catch(() => undefined);
  return last ?? gateway.probe();
}

/** `/healthz` every 50 ms until stopped: how many were sent, answered, and the slowest. */
function adminProbes(gateway: SoakGateway) {
  let running = true;
  const result = { sent: 0, ok: 0, slowestMs: 0 };
  const done = (async () => {
    while (running) {
      const started = performance.now();
      result.sent++;
      const ok = await fetch(`${gateway.adminUrl}/healthz`, { signal: AbortSignal.timeout(5000) }).then(
        (res) => res.status === 200,
        () => false,
      );
      if (ok) result.ok++;
      result.slowestMs = Math.max(result.slowestMs, performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  return {
    async stop() {
      running = false;
      await done;
      return result;
    },
  };
}
