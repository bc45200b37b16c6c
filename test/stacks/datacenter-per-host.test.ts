/**
 * `examples/datacenter-per-host` under the real engine, on two machines: two extra Docker daemons
 * in network namespaces of their own (`../support/docker-hosts`), dc1 on one, dc2 on the other, no
 * Docker network shared. The WAN runs through ports published on each machine's address: the
 * servers federate, and `web` in dc1 reaches `api` in dc2 through both gateways (`local`), each
 * counting the connections it forwarded. Then a clean second preview and destroy, and the machines
 * stopped with nothing left. And the same program with both datacenters on one daemon, at two
 * addresses of its machine. The Pulumi program reaches each daemon by its socket and each
 * datacenter's Consul API at its machine's address, as from a third machine.
 */
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import {
  assertDockerHosts,
  describeWithDockerHosts,
  dockerHostsStatus,
  DockerHosts,
  type DockerHost,
} from "../support/docker-hosts";
import { prepareStacks, realStackSupport, reportedFigures, StackCli } from "../support/stack-cli";
import { callApi } from "../support/real-consul";

const execFileAsync = promisify(execFile);
const EXAMPLE = path.join(__dirname, "../../examples/datacenter-per-host");
const PREFIX = "cmhp";
const LAN = "10.213.7";
const figures = reportedFigures("datacenter-per-host figures");
const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

const stacks = realStackSupport();
const machines = dockerHostsStatus();
const status = stacks.ok ? machines : { ...machines, available: false, reason: stacks.reason };

jest.setTimeout(900_000);

/** What each upstream of the demo service answered. */
async function demo(
  url: string,
): Promise<{ name: string; mode: string; status?: number; answer?: { datacenter: string } }[]> {
  const res = await fetch(url, { signal: AbortSignal.timeout(20_000) });
  return ((await res.json()) as { upstreams: never[] }).upstreams;
}

/** The connections a gateway forwarded, by service (its `/metrics`, read inside its container). */
async function forwarded(host: DockerHost, container: string): Promise<Record<string, number>> {
  const script =
    "require('http').get('http://127.0.0.1:19000/metrics',r=>{let b='';r.on('data',d=>b+=d);r.on('end',()=>process.stdout.write(b))})";
  const text = await host.dockerOk(["exec", container, "node", "-e", script], { timeoutMs: 20_000 });
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^sni_gateway_connections_total\{result="forwarded",[^}]*service="([^"]*)"\} (\d+)/gm))
    out[m[1]] = (out[m[1]] ?? 0) + Number(m[2]);
  return out;
}

/** The time of the first log line of `container` matching `pattern` (Consul's own timestamps). */
async function loggedAt(host: DockerHost, container: string, pattern: RegExp): Promise<number | undefined> {
  const logs = await host.docker(["logs", container], { timeoutMs: 20_000 });
  const line = `${logs.stdout}\n${logs.stderr}`.split("\n").find((l) => pattern.test(l));
  const stamp = line && /^\s*(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z)/.exec(line)?.[1];
  return stamp ? Date.parse(stamp) : undefined;
}

describeWithDockerHosts("real-engine datacenter-per-host tests (two Docker machines)", status)(
  "examples/datacenter-per-host: dc1 and dc2 on two Docker daemons",
  () => {
    let hosts: DockerHosts | undefined;
    let one: DockerHost;
    let two: DockerHost;
    let cli: StackCli | undefined;
    let single: StackCli | undefined;
    let stackConfig: Record<string, string> = {};
    let token = "";
    let trustDomain = "";
    let destroyed = false;

    beforeAll(async () => {
      assertDockerHosts(status);
      stackConfig = await prepareStacks();
      const config = stackConfig;
      let since = Date.now();
      hosts = await DockerHosts.start({ names: ["dc1", "dc2"], prefix: PREFIX, lan: LAN });
      [one, two] = hosts.hosts;
      figures.push(`start of two machines: ${seconds(Date.now() - since)}`);
      since = Date.now();
      await hosts.loadImages([config.consulImage, config.envoyImage, config.gatewayBaseImage]);
      figures.push(`load of the Consul, Envoy and Node.js base images into both: ${seconds(Date.now() - since)}`);
      cli = await StackCli.create(EXAMPLE, {
        ...config,
        dockerHosts: JSON.stringify({ dc1: one.dockerHost, dc2: two.dockerHost }),
        hostAddresses: JSON.stringify({ dc1: one.ip, dc2: two.ip }),
      });
    }, 600_000);

    afterAll(async () => {
      if (single) {
        await single.run(["destroy", "--yes", "--skip-preview"], 300_000);
        await single.remove();
      }
      if (cli && !destroyed) await cli.run(["destroy", "--yes", "--skip-preview"], 300_000);
      await cli?.remove();
      const left = await hosts?.stop();
      if (left?.length) throw new Error(`the machines' teardown left:\n${left.join("\n")}`);
    }, 600_000);

    test("meshGatewayMode none is refused at preview, naming the key, before any resource", async () => {
      await cli!.config("meshGatewayMode", "none");
      const preview = await cli!.run(["preview"], 120_000);
      expect(preview.code).not.toBe(0);
      expect(preview.stdout + preview.stderr).toContain('config meshGatewayMode: "none" dials the service');
      await cli!.ok(["config", "rm", "meshGatewayMode"]);
      expect((await cli!.deployment()).resources ?? []).toHaveLength(0);
    });

    test("up builds the images on each machine and runs each datacenter on its own", async () => {
      const up = await cli!.ok(["up", "--yes", "--skip-preview"], 600_000);
      figures.push(`up (images built on both machines, servers federated): ${seconds(up.ms)}`);
      for (const [host, dc] of [
        [one, "dc1"],
        [two, "dc2"],
      ] as const) {
        const names = (await host.dockerOk(["ps", "--format", "{{.Names}}"])).split("\n").sort();
        expect(names).toEqual(
          [
            `consul-mesh-${dc}-server-0`,
            `consul-mesh-${dc}-mesh-gateway-0`,
            `consul-mesh-${dc}-${dc === "dc1" ? "web" : "api"}`,
            `consul-mesh-${dc}-${dc === "dc1" ? "web" : "api"}-sidecar`,
          ].sort(),
        );
      }
      const state = await cli!.deployment(true);
      const management = state.resources?.find((r) => r.urn.endsWith("GeneratedToken::dc1-management-token"))?.outputs
        ?.value;
      token =
        typeof management === "string"
          ? management
          : String((management as { plaintext?: string })?.plaintext ?? "").replace(/"/g, "");
      expect(token).toMatch(/^[0-9a-f-]{36}$/);
      trustDomain = (await cli!.outputs()).trustDomain as string;
      expect(trustDomain).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.consul$/);
    });

    test("the datacenters are WAN federated through the machines' addresses", async () => {
      // Over TLS, verified by the stack's CA.
      const caPem = await cli!.consulCaPem();
      const get = async (host: DockerHost, port: number, p: string) =>
        (await callApi(`https://${host.ip}:${port}`, "GET", p, undefined, token, caPem)).json;
      expect(await get(one, 8500, "/v1/catalog/datacenters")).toEqual(["dc1", "dc2"]);
      // Sorted by round-trip time from the asking datacenter: its own first.
      expect(((await get(two, 8501, "/v1/catalog/datacenters")) as string[]).sort()).toEqual(["dc1", "dc2"]);
      const members = (await get(one, 8500, "/v1/agent/members?wan=1")) as {
        Name: string;
        Addr: string;
        Status: number;
      }[];
      expect(members.map((m) => [m.Name, m.Addr, m.Status]).sort()).toEqual([
        ["dc1-server-0.dc1", one.ip, 1],
        ["dc2-server-0.dc2", two.ip, 1],
      ]);
      const started = Date.parse(
        await two.dockerOk(["inspect", "--format", "{{.State.StartedAt}}", "consul-mesh-dc2-server-0"]),
      );
      const joined = await loggedAt(one, "consul-mesh-dc1-server-0", /EventMemberJoin: dc2-server-0\.dc2/);
      expect(joined).toBeDefined();
      figures.push(`dc2 in dc1's WAN members: ${seconds((joined as number) - started)} after dc2's server started`);
      const gateways = (await get(one, 8500, "/v1/catalog/service/mesh-gateway?dc=dc2")) as {
        ServiceTaggedAddresses: { wan: { Address: string; Port: number } };
      }[];
      expect(gateways.map((g) => g.ServiceTaggedAddresses.wan)).toEqual([{ Address: two.ip, Port: 8443 }]);
      // One trust domain, drawn once for the stack, in both datacenters' CAs.
      for (const [host, port] of [
        [one, 8500],
        [two, 8501],
      ] as const)
        expect(((await get(host, port, "/v1/connect/ca/roots")) as { TrustDomain: string }).TrustDomain).toBe(
          trustDomain,
        );
    });

    /** Waits until `web` gets 200 from `api` in `mode`, then sends 20 requests: what each gateway forwarded. */
    async function traffic(mode: string, stack = cli!, [gwHost1, gwHost2] = [one, two]): Promise<number[]> {
      const url = (await stack.outputs()).demoUrl as string;
      expect(url).toBe(`http://${one.ip}:8080/`);
      const started = Date.now();
      let last = "";
      for (;;) {
        try {
          const answers = await demo(url);
          if (answers.length === 1 && answers[0].status === 200 && answers[0].mode === mode) break;
          last = JSON.stringify(answers);
        } catch (error) {
          last = (error as Error).message;
        }
        if (Date.now() - started > 180_000)
          throw new Error(`demoUrl did not serve api (${mode}) within 180 s: ${last}`);
        await new Promise((r) => setTimeout(r, 1000));
      }
      figures.push(`${mode}: first answer from api in dc2 ${seconds(Date.now() - started)} after up returned`);
      const gw1 = "consul-mesh-dc1-mesh-gateway-0";
      const gw2 = "consul-mesh-dc2-mesh-gateway-0";
      const before = [(await forwarded(gwHost1, gw1)).api ?? 0, (await forwarded(gwHost2, gw2)).api ?? 0];
      for (let i = 0; i < REQUESTS; i++) {
        const answers = await demo(url);
        expect(answers.map((a) => [a.name, a.mode, a.status, a.answer?.datacenter])).toEqual([
          ["api", mode, 200, "dc2"],
        ]);
      }
      const after = [(await forwarded(gwHost1, gw1)).api ?? 0, (await forwarded(gwHost2, gw2)).api ?? 0];
      return [after[0] - before[0], after[1] - before[1]];
    }
    const REQUESTS = 20;

    test("local (the default): web in dc1 reaches api in dc2 through both gateways, across the machines", async () => {
      expect(await traffic("local")).toEqual([REQUESTS, REQUESTS]);
      figures.push(
        `local: ${REQUESTS} requests web (dc1) -> api (dc2), all 200 from dc2, through dc1's and dc2's gateways`,
      );
    });

    test("remote: web's sidecar dials dc2's gateway at dc2's machine directly", async () => {
      await cli!.config("meshGatewayMode", "remote");
      const up = await cli!.ok(["up", "--yes", "--skip-preview"], 600_000);
      figures.push(`up to remote: ${seconds(up.ms)}`);
      expect(await traffic("remote")).toEqual([0, REQUESTS]);
      figures.push(`remote: ${REQUESTS} requests, all 200 from dc2, through dc2's gateway only`);
    });

    test("a second preview shows no change; destroy removes everything from both machines", async () => {
      const preview = await cli!.run(["preview", "--expect-no-changes"], 300_000);
      expect(preview.code).toBe(0);
      const destroy = await cli!.run(["destroy", "--yes", "--skip-preview"], 300_000);
      expect(destroy.stdout + destroy.stderr).not.toMatch(/error:/);
      expect(destroy.code).toBe(0);
      destroyed = true;
      figures.push(`destroy: ${seconds(destroy.ms)}`);
      expect((await cli!.deployment()).resources ?? []).toHaveLength(0);
      for (const host of [one, two]) {
        expect(await host.dockerOk(["ps", "-a", "--format", "{{.Names}}"])).toBe("");
        const networks = (await host.dockerOk(["network", "ls", "--format", "{{.Name}}"])).split("\n");
        expect(networks.filter((n) => n.startsWith("consul-mesh-"))).toEqual([]);
      }
    });

    test("the same program on ONE daemon: both datacenters on machine dc1, at two of its addresses", async () => {
      // The WAN ports (8300, 8302, 8443) are published as they are: two datacenters on one host need
      // an address each. The second is added to machine dc1's interface (gone with its namespace).
      const second = `${LAN}.20`;
      await execFileAsync(
        "ip",
        ["netns", "exec", `${PREFIX}-dc1`, "ip", "addr", "add", `${second}/24`, "dev", "eth0"],
        {
          timeout: 10_000,
        },
      );
      single = await StackCli.create(EXAMPLE, {
        ...stackConfig,
        dockerHosts: JSON.stringify({ dc1: one.dockerHost, dc2: one.dockerHost }),
        hostAddresses: JSON.stringify({ dc1: one.ip, dc2: second }),
      });
      const up = await single.ok(["up", "--yes", "--skip-preview"], 600_000);
      figures.push(`one daemon: up ${seconds(up.ms)}`);
      expect(await two.dockerOk(["ps", "-aq"])).toBe("");
      expect((await one.dockerOk(["ps", "--format", "{{.Names}}"])).split("\n")).toHaveLength(8);
      expect(await traffic("local", single, [one, one])).toEqual([REQUESTS, REQUESTS]);
      figures.push(`one daemon: ${REQUESTS} requests, all 200 from dc2, through both gateways`);
      expect((await single.run(["preview", "--expect-no-changes"], 300_000)).code).toBe(0);
      const destroy = await single.run(["destroy", "--yes", "--skip-preview"], 300_000);
      expect(destroy.code).toBe(0);
      expect(await one.dockerOk(["ps", "-a", "--format", "{{.Names}}"])).toBe("");
    });
  },
);
