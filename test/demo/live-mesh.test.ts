import { defaultMesh, type Mesh } from "../../mesh";
import { runLiveMesh } from "../../demo/live-mesh";
import { toLoopbackMesh } from "../../demo/loopback-mesh";

describe("toLoopbackMesh", () => {
  it("gives every gateway and service its own loopback address and keeps the model's ports", () => {
    const { mesh, adminAddress } = toLoopbackMesh(defaultMesh());
    const addresses = [
      ...(mesh.gateways ?? []).flatMap((g) => [g.taggedAddresses?.lan?.address, g.taggedAddresses?.wan?.address]),
      ...(mesh.services ?? []).map((s) => s.address),
    ];
    expect(addresses.every((a) => a?.startsWith("127.5"))).toBe(true);
    expect(new Set(addresses).size).toBe(addresses.length);
    expect(mesh.gateways?.map((g) => g.taggedAddresses?.wan?.port)).toEqual([8443, 8443]);
    expect([...adminAddress.keys()]).toEqual(["dc1", "dc2"]);
    expect(defaultMesh().services?.[0].address).toBe("web-dc1"); // the input is not changed
  });
});

describe("runLiveMesh (the main job)", () => {
  it("proves the remote, local and none paths of the default mesh with verified TLS, and refuses an unknown name", async () => {
    const report = await runLiveMesh(defaultMesh());
    expect(report.paths.map((p) => [p.route.destination.name, p.route.mode, p.ok, p.error])).toEqual([
      ["api", "remote", true, undefined],
      ["db", "local", true, undefined],
      ["logging", "none", true, undefined],
    ]);
    expect(report.paths.map((p) => p.dialled)).toEqual(["127.52.2.1:8443", "127.51.1.1:8443", "127.51.2.12:21000"]);
    expect(report.unknownName.refused).toBe(true);
  });

  it("reports a path that cannot work instead of hiding it", async () => {
    const mesh: Mesh = defaultMesh();
    // dc2's gateway loses its route to api: the remote path must fail, the others still work.
    mesh.services = mesh.services?.map((s) => (s.name === "api" ? { ...s, connect: undefined } : s));
    const report = await runLiveMesh(mesh);
    const api = report.paths.find((p) => p.route.destination.name === "api");
    expect(api?.ok).toBe(false);
    expect(api?.error).toBeDefined();
    expect(report.paths.filter((p) => p.ok).map((p) => p.route.destination.name)).toEqual(["db", "logging"]);
  });
});
