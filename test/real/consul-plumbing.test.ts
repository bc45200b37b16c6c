/**
 * Our Consul plumbing against the real agent: every config entry and registration `mesh/`
 * renders is accepted and reads back as the model says, the default checks of a sidecar can pass,
 * and the dynamic provider behind `ConnectService` creates, updates and deletes for real, also
 * when the agent is gone.
 */
import net from "node:net";
import { agentServiceProvider, type AgentServiceRegistrationState } from "../../consul/agent";
import { configEntryJson } from "../../components/plans/config-entry-json";
import {
  toConfigEntry,
  toGatewayRegistration,
  toServiceRegistration,
  toStoredConfigEntry,
  type ConfigEntry,
  type Mode,
  type RegistrableService,
} from "../../mesh";
import { SEED_CONFIG_ENTRIES, SEED_SERVICES } from "../mesh/fixtures/seed-models";
import { eventually, freePorts } from "../support/processes";
import { RealConsul, type RealDatacenter } from "../support/real-consul";

jest.setTimeout(120_000);

/**
 * What Consul's Go API client keeps when it encodes an entry it read: no indexes, and no field
 * whose value is empty (`null`, `""`), all of which are `omitempty` there.
 */
function asDecoded(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(asDecoded);
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (v === null || v === "" || key === "CreateIndex" || key === "ModifyIndex") continue;
    out[key] = asDecoded(v);
  }
  return out;
}

const MODES: Mode[] = ["", "local", "remote", "none"];
const CONFIG_ENTRIES: ConfigEntry[] = [
  ...SEED_CONFIG_ENTRIES.map((e) => e.model),
  ...MODES.map((mode): ConfigEntry => ({ kind: "proxy-defaults", name: "global", meshGateway: { mode } })),
  ...MODES.map((mode): ConfigEntry => ({ kind: "service-defaults", name: "web", meshGateway: { mode } })),
  {
    kind: "proxy-defaults",
    name: "global",
    meshGateway: { mode: "local" },
    config: { protocol: "tcp", local_connect_timeout_ms: 1000 },
  },
  { kind: "service-defaults", name: "api", protocol: "http", meshGateway: { mode: "remote" } },
  { kind: "service-defaults", name: "db" },
];

// Registrations come first: once config entries exist, the agent shows a proxy with the modes
// they set merged in.
describe("real Consul: our renderings", () => {
  let consul: RealConsul;
  let dc: RealDatacenter;
  beforeAll(async () => {
    consul = await RealConsul.start({ datacenters: ["dc1"] });
    dc = consul.dc("dc1");
  });
  afterAll(() => consul?.stop());

  /** The model's fields of an agent service as `GET /v1/agent/service/<id>` returns them. */
  function agentView(service: Record<string, unknown>): Record<string, unknown> {
    const proxy = service.Proxy as Record<string, unknown> | undefined;
    const upstreams = (proxy?.Upstreams as Array<Record<string, unknown>> | undefined)?.map((u) => ({
      DestinationName: u.DestinationName,
      Datacenter: u.Datacenter || undefined,
      LocalBindPort: u.LocalBindPort,
      MeshGateway: (u.MeshGateway as { Mode?: string })?.Mode || undefined,
    }));
    return {
      ID: service.ID,
      Name: service.Service,
      Kind: service.Kind || undefined,
      Port: service.Port,
      DestinationServiceName: proxy?.DestinationServiceName,
      MeshGateway: (proxy?.MeshGateway as { Mode?: string })?.Mode || undefined,
      Upstreams: upstreams,
    };
  }

  /** The same fields as the model states them, for a proxy (or a sidecar's proxy block). */
  function modelView(
    id: string,
    name: string,
    kind: string | undefined,
    port: number | undefined,
    proxy: RegistrableService["proxy"],
    destination?: string,
  ) {
    return {
      ID: id,
      Name: name,
      Kind: kind,
      Port: port,
      DestinationServiceName: proxy ? (destination ?? proxy.destinationServiceName) : undefined,
      MeshGateway: proxy?.meshGateway?.mode || undefined,
      // The agent shows each upstream with the mode in force from the registration: its own, else the instance's.
      Upstreams: proxy?.upstreams?.map((u) => ({
        DestinationName: u.destinationName,
        Datacenter: u.datacenter,
        LocalBindPort: u.localBindPort,
        MeshGateway: u.meshGateway?.mode || proxy.meshGateway?.mode || undefined,
      })),
    };
  }

  test.each(SEED_SERVICES.map((s) => [s.seed, s.model]))(
    "seed registration %s is accepted and reads back as the model",
    async (seed, model) => {
      const registration = toServiceRegistration(model);
      const answer = await dc.api("PUT", "/v1/agent/service/register", registration);
      expect([answer.status, answer.text]).toEqual([200, ""]);
      const id = model.id ?? model.name;
      const stored = (await dc.api("GET", `/v1/agent/service/${id}`)).json as Record<string, unknown>;
      if (model.kind === "connect-proxy" || !model.proxy) {
        expect(agentView(stored)).toEqual(modelView(id, model.name, model.kind, model.port, model.proxy));
      } else {
        // The 1.6-era seeds (004-*) register a proxy block without kind "connect-proxy": Consul
        // accepts the registration and silently drops the block, as validateMesh warns.
        expect(seed).toMatch(/^004-/);
        expect(stored.Proxy).toBeUndefined();
      }
      const sidecar = model.connect?.sidecarService;
      if (sidecar) {
        const sidecarStored = (await dc.api("GET", `/v1/agent/service/${id}-sidecar-proxy`)).json as Record<
          string,
          unknown
        >;
        const view = agentView(sidecarStored);
        expect(view).toEqual(
          modelView(
            `${id}-sidecar-proxy`,
            `${model.name}-sidecar-proxy`,
            "connect-proxy",
            view.Port as number,
            sidecar.proxy ?? {},
            model.name,
          ),
        );
        expect(sidecarStored.Port).toBeGreaterThanOrEqual(21000);
      }
      expect((await dc.api("PUT", `/v1/agent/service/deregister/${id}`)).status).toBe(200);
    },
  );

  test.each(CONFIG_ENTRIES.map((entry) => [JSON.stringify(toConfigEntry(entry)), entry]))(
    "config entry %s is stored as toStoredConfigEntry says, so configJson shows no diff",
    async (_label, entry) => {
      const path = `/v1/config/${entry.kind}/${entry.name}`;
      expect((await dc.api("PUT", "/v1/config", toConfigEntry(entry))).json).toBe(true);
      const stored = (await dc.api("GET", path)).json;
      expect(asDecoded(stored)).toEqual(toStoredConfigEntry(entry));
      // The Consul provider reads the entry back into `config_json` without Kind and Name and
      // compares decoded entries: ours must decode to the same entry.
      const { Kind: _kind, Name: _name, ...readBack } = asDecoded(stored) as Record<string, unknown>;
      expect(JSON.parse(configEntryJson(entry))).toEqual(readBack);
      // Writing configJson as the provider does (Kind and Name added) stores the same entry.
      expect(
        (
          await dc.api("PUT", "/v1/config", {
            Kind: entry.kind,
            Name: entry.name,
            ...JSON.parse(configEntryJson(entry)),
          })
        ).json,
      ).toBe(true);
      expect(asDecoded((await dc.api("GET", path)).json)).toEqual(toStoredConfigEntry(entry));
      expect((await dc.api("DELETE", path)).status).toBe(200);
    },
  );

  test("the checks a sidecar and a gateway get by default pass once they listen, and fail when they stop", async () => {
    const [sidecarPort, gatewayPort, appPort] = await freePorts("127.0.0.1", 3);
    const registration = toServiceRegistration({
      name: "web",
      port: appPort,
      connect: { sidecarService: { port: sidecarPort } },
    });
    expect((await dc.api("PUT", "/v1/agent/service/register", registration)).status).toBe(200);
    const gateway = toGatewayRegistration({ id: "gw-check", address: "127.0.0.1", port: gatewayPort });
    expect((await dc.api("PUT", "/v1/agent/service/register", gateway)).status).toBe(200);
    const checks = async () =>
      (await dc.api("GET", "/v1/agent/checks")).json as Record<
        string,
        { ServiceID: string; Name: string; Status: string; Type: string }
      >;
    const byService = async (id: string) => Object.values(await checks()).filter((c) => c.ServiceID === id);
    expect((await byService("web-sidecar-proxy")).map((c) => `${c.Name} (${c.Type})`).sort()).toEqual([
      "Connect Sidecar Aliasing web (alias)",
      "Connect Sidecar Listening (tcp)",
    ]);
    expect((await byService("gw-check")).map((c) => `${c.Name} (${c.Type})`)).toEqual(["mesh-gateway listening (tcp)"]);

    const servers = await Promise.all(
      [sidecarPort, gatewayPort].map(async (port) => {
        const server = net.createServer((s) => s.destroy());
        await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
        return server;
      }),
    );
    const started = Date.now();
    await eventually(
      "the sidecar's and the gateway's checks to pass",
      async () => {
        const all = [...(await byService("web-sidecar-proxy")), ...(await byService("gw-check"))];
        return all.length === 3 && all.every((c) => c.Status === "passing");
      },
      { timeoutMs: 30_000 },
    );
    const passedAfterMs = Date.now() - started;
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
    await eventually(
      "the TCP checks to fail once nothing listens",
      async () => {
        const tcp = [...(await byService("web-sidecar-proxy")), ...(await byService("gw-check"))].filter(
          (c) => c.Type === "tcp",
        );
        return tcp.every((c) => c.Status === "critical");
      },
      { timeoutMs: 30_000 },
    );
    process.stdout.write(`default checks passing ${passedAfterMs} ms after the listeners opened\n`);
    for (const id of ["web", "gw-check"])
      expect((await dc.api("PUT", `/v1/agent/service/deregister/${id}`)).status).toBe(200);
  });
});

describe("real Consul: the dynamic provider behind ConnectService", () => {
  let consul: RealConsul;
  let dc: RealDatacenter;
  beforeAll(async () => {
    consul = await RealConsul.start({ datacenters: ["dc1"], acl: true });
    dc = consul.dc("dc1");
  });
  afterAll(() => consul?.stop());

  function state(upstreamMode: Mode): AgentServiceRegistrationState {
    const registration = toServiceRegistration({
      name: "web",
      port: 8080,
      connect: {
        sidecarService: {
          proxy: {
            upstreams: [
              { destinationName: "api", datacenter: "dc2", localBindPort: 10000, meshGateway: { mode: upstreamMode } },
            ],
          },
        },
      },
    }) as unknown as Record<string, unknown>;
    return { address: dc.httpAddress, token: consul.managementToken, serviceId: "web", registration, retryForMs: 5000 };
  }

  async function upstreamMode(): Promise<string | undefined> {
    const sidecar = (await dc.api("GET", "/v1/agent/service/web-sidecar-proxy")).json as {
      Proxy?: { Upstreams?: Array<{ MeshGateway?: { Mode?: string } }> };
    };
    return sidecar?.Proxy?.Upstreams?.[0]?.MeshGateway?.Mode;
  }

  test("create, update and delete change the real agent; a second delete is a no-op", async () => {
    const created = await agentServiceProvider.create(state("remote"));
    expect(created.id).toBe("web");
    expect(await upstreamMode()).toBe("remote");
    const diff = await agentServiceProvider.diff("web", state("remote"), state("local"));
    expect(diff).toMatchObject({ changes: true, replaces: [] });
    await agentServiceProvider.update("web", state("remote"), state("local"));
    expect(await upstreamMode()).toBe("local");
    await agentServiceProvider.delete("web", state("local"));
    expect((await dc.api("GET", "/v1/agent/service/web")).status).toBe(404);
    expect((await dc.api("GET", "/v1/agent/service/web-sidecar-proxy")).status).toBe(404);
    await agentServiceProvider.delete("web", state("local"));
  });

  test("a token without service:write fails create with Consul's message, at once", async () => {
    const started = Date.now();
    await expect(agentServiceProvider.create({ ...state("remote"), token: "" })).rejects.toThrow(
      /HTTP 403: Permission denied/,
    );
    expect(Date.now() - started).toBeLessThan(5000);
  });

  test("delete when the agent is gone finishes promptly instead of retrying for a minute", async () => {
    const [deadPort] = await freePorts("127.0.0.1", 1);
    const gone = { ...state("remote"), address: `http://127.0.0.1:${deadPort}`, retryForMs: undefined };
    const started = Date.now();
    await agentServiceProvider.delete("web", gone);
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});
