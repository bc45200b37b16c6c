/**
 * The "Faults of a real mesh" phase: the scenarios of `test/real/mesh-faults.test.ts` (shared in
 * `test/support/mesh-fault-scenarios.ts`), run on real Consul and Envoy with our gateways in
 * both datacenters, each held to the same bar as the test.
 */
import {
  consulCrash,
  remoteGatewayKilled,
  sigtermWithStreams,
  upstreamDiesMidStream,
} from "../../test/support/mesh-fault-scenarios";
import { WebApiMesh } from "../../test/support/web-api-mesh";
import { DEFAULT_DRAIN_GRACE_MS } from "../../gateway/cli/options";
import { DEFAULT_CONNECT_TIMEOUT_MS } from "../../gateway/net/proxy";
import { checkList, type Check, type CheckList } from "../check";

/** Starts the two-datacenter mesh, `web`'s upstream in `local` mode (every request crosses both gateways). */
export async function startRealMesh(): Promise<WebApiMesh> {
  const mesh = new WebApiMesh({ gateways: { dc1: "ours", dc2: "ours" } });
  try {
    await mesh.start();
    await mesh.setMode("upstream", "local");
    await mesh.awaitEndpoint("local");
    return mesh;
  } catch (error) {
    await mesh.stop().catch(() => undefined);
    throw error;
  }
}

/** Runs one scenario; one that throws fails its figure with the reason. */
async function scenario(
  list: CheckList,
  name: string,
  target: string,
  run: () => Promise<{ measured: string; pass: boolean }>,
): Promise<void> {
  try {
    const { measured, pass } = await run();
    list.add(name, measured, target, pass);
  } catch (error) {
    list.add(name, `did not complete: ${(error as Error).message.split("\n")[0]}`, target, false);
  }
}

/**
 * Runs the phase.
 * @param mesh the started mesh; its gateways and sidecar are replaced or killed along the way.
 */
export async function meshFaultsPhase(mesh: WebApiMesh): Promise<Check[]> {
  const list = checkList("Faults of a real mesh");
  await scenario(
    list,
    "dc1's Consul server killed for 30 s under traffic",
    "0 failed, /readyz 503 and stale while down, 200 again after",
    async () => {
      const seen = await consulCrash(mesh);
      const stale = (seen.readyzWhileDown.body as { stale?: boolean }).stale === true;
      return {
        measured: `${seen.summary}; while down /readyz ${seen.readyzWhileDown.status} stale ${stale} and sni_gateway_route_source_stale 1; after, /readyz ${seen.readyzAfter}`,
        pass:
          seen.failed.length === 0 &&
          seen.beforeCrash.length > 0 &&
          seen.outcomes.length > 100 &&
          seen.readyzWhileDown.status === 503 &&
          stale &&
          seen.readyzAfter === 200,
      };
    },
  );
  await scenario(
    list,
    "the remote gateway killed, replaced on another port",
    `0 failed after the kill, each within the connect timeout (${DEFAULT_CONNECT_TIMEOUT_MS} ms)`,
    async () => {
      const seen = await remoteGatewayKilled(mesh);
      const after = seen.outcomes.filter((o) => o.at >= seen.killedAt);
      const slowest = Math.max(0, ...after.map((o) => o.ms));
      const failedAfter = after.filter((o) => !o.ok).length;
      return {
        measured: `${seen.summary}; after the kill ${failedAfter} of ${after.length} failed, slowest ${slowest} ms; the replacement then in use`,
        pass:
          failedAfter === 0 && seen.outcomes.filter((o) => !o.ok).length <= 1 && slowest < DEFAULT_CONNECT_TIMEOUT_MS,
      };
    },
  );
  await scenario(
    list,
    "SIGTERM with streams in flight",
    `every stream finished, exit 0 within the drain grace (${DEFAULT_DRAIN_GRACE_MS} ms), nothing accepted after`,
    async () => {
      const seen = await sigtermWithStreams(mesh);
      const finished = seen.streams.filter((s) => s.ok && s.body.endsWith("api done\n")).length;
      return {
        measured: `${seen.summary}; a request after the exit ${seen.acceptedAfterExit ? "got through" : "was refused"}`,
        pass:
          finished === seen.streams.length &&
          seen.exitCode === 0 &&
          seen.exitedMs < DEFAULT_DRAIN_GRACE_MS &&
          !seen.acceptedAfterExit,
      };
    },
  );
  await scenario(
    list,
    "the upstream (api's sidecar) killed mid-stream",
    "the client's stream closed within 5 s, both gateways back to 0 connections",
    async () => {
      const seen = await upstreamDiesMidStream(mesh);
      return {
        measured: seen.summary,
        pass: !seen.result.ok && seen.result.body.includes("tick") && seen.closedMs < 5000,
      };
    },
  );
  return list.checks;
}
