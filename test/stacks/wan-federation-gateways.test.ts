/**
 * The default stack federated through the mesh gateways (`wanFederation mesh-gateways`) under the
 * real engine with the real provider plugins: preview, up, each datacenter's servers on its LAN
 * alone (only the gateways are on the WAN; the primary's also join the secondaries' LANs, where
 * their servers first reach the primary), both datacenters federated, the gateways carrying the servers' traffic,
 * every upstream served through `demoUrl`, a clean second preview, and destroy.
 */
import path from "node:path";
import { dockerOk } from "../support/docker";
import { forwardedByService } from "../support/docker-exec";
import { callApi } from "../support/real-consul";
import { describeWhereStacksRun, prepareStacks, reportedFigures, StackCli } from "../support/stack-cli";

const ROOT = path.join(__dirname, "../..");
const describeReal = describeWhereStacksRun("real-engine WAN federation through the gateways");
const figures = reportedFigures("WAN federation through the gateways, default stack");

jest.setTimeout(600_000);

/** The Docker networks a container is attached to, sorted. */
async function networksOf(container: string): Promise<string[]> {
  const out = await dockerOk([
    "inspect",
    "--format",
    "{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}",
    container,
  ]);
  return out.trim().split(/\s+/).sort();
}

describeReal("the default stack federated through the mesh gateways", () => {
  let cli: StackCli;

  beforeAll(async () => {
    cli = await StackCli.create(ROOT, { ...(await prepareStacks()), wanFederation: "mesh-gateways" });
  });
  afterAll(async () => {
    if (!cli) return;
    await cli.run(["destroy", "--yes", "--skip-preview"]);
    await cli.remove();
  });

  test("up: the servers stay off the WAN, federate through the gateways, and every upstream is served", async () => {
    const preview = await cli.ok(["preview"]);
    figures.push(`preview: ${preview.ms} ms`);
    const up = await cli.ok(["up", "--yes", "--skip-preview"]);
    figures.push(`up: ${up.ms} ms`);
    const outputs = await cli.outputs();
    const caPem = outputs.consulCaPem as string;
    const state = await cli.deployment(true);
    const management = state.resources?.find((r) => r.urn.endsWith("GeneratedToken::mesh-management-token"))?.outputs
      ?.value as { plaintext?: string } | string;
    const token = typeof management === "string" ? management : JSON.parse(management.plaintext ?? '""');

    expect(await networksOf("consul-mesh-dc1-server-0")).toEqual(["consul-mesh-dc1-lan"]);
    expect(await networksOf("consul-mesh-dc2-server-0")).toEqual(["consul-mesh-dc2-lan"]);
    expect(await networksOf("consul-mesh-dc2-mesh-gateway-0")).toEqual(["consul-mesh-dc2-lan", "consul-mesh-wan"]);
    // The primary's gateway also joins the secondary's LAN: where dc2's servers first reach dc1.
    expect(await networksOf("consul-mesh-dc1-mesh-gateway-0")).toEqual([
      "consul-mesh-dc1-lan",
      "consul-mesh-dc2-lan",
      "consul-mesh-wan",
    ]);

    const started = Date.now();
    for (const port of [8500, 8501]) {
      const seen = await callApi(
        `https://127.0.0.1:${port}`,
        "GET",
        "/v1/catalog/datacenters",
        undefined,
        token,
        caPem,
      );
      expect([...(seen.json as string[])].sort()).toEqual(["dc1", "dc2"]);
    }
    const self = await callApi("https://127.0.0.1:8501", "GET", "/v1/agent/self", undefined, token, caPem);
    const config = (self.json as { DebugConfig: Record<string, unknown> }).DebugConfig;
    expect(config.ConnectMeshGatewayWANFederationEnabled).toBe(true);
    expect(config.PrimaryGateways).toEqual(["mesh-gateway-dc1:8443"]);
    expect(config.RetryJoinWAN).toEqual([]);

    const demoUrl = outputs.demoUrl as string;
    let answers: Array<{ status?: number }> = [];
    const deadline = Date.now() + 180_000;
    while (Date.now() < deadline) {
      answers = await fetch(demoUrl, { signal: AbortSignal.timeout(20_000) })
        .then(async (r) => ((await r.json()) as { upstreams: Array<{ status?: number }> }).upstreams)
        .catch(() => []);
      if (answers.length > 0 && answers.every((a) => a.status === 200)) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    figures.push(`every upstream served ${Date.now() - started} ms after up returned`);

    for (const dc of ["dc1", "dc2"]) {
      const forwarded = await forwardedByService(`consul-mesh-${dc}-mesh-gateway-0`);
      expect(forwarded._server).toBeGreaterThan(0);
      figures.push(`${dc}'s gateway forwarded ${forwarded._server} server connections`);
    }
  });

  test("a second preview is clean", async () => {
    const preview = await cli.ok(["preview", "--expect-no-changes"]);
    expect(preview.stdout).not.toMatch(/to (create|update|replace|delete)/);
  });
});
