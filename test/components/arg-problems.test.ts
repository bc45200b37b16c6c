import {
  configEntryProblems,
  datacenterProblems,
  gatewayProblems,
  serviceProblems,
  throwIfProblems,
} from "../../components/plans/arg-problems";
import { MeshValidationError } from "../../mesh";

describe("component argument validation with the mesh model's rules", () => {
  test("a valid argument has no problem", () => {
    expect(datacenterProblems({ name: "dc2", primaryDatacenter: "dc1" }, "dc1")).toEqual([]);
    expect(gatewayProblems({ datacenter: "dc1", port: 8443 })).toEqual([]);
    expect(configEntryProblems({ kind: "proxy-defaults", name: "global", meshGateway: { mode: "local" } })).toEqual([]);
    expect(
      serviceProblems({
        name: "web",
        datacenter: "dc1",
        port: 8080,
        connect: {
          sidecarService: {
            proxy: {
              upstreams: [
                { destinationName: "api", datacenter: "dc2", localBindPort: 10000, meshGateway: { mode: "remote" } },
              ],
            },
          },
        },
      }),
    ).toEqual([]);
  });

  test("problems are renamed to the argument's own field path", () => {
    const open = { tls: { enabled: false } };
    expect(datacenterProblems({ name: "dc1", ports: { grpc: -1 }, ...open }, undefined, "args.datacenter")).toEqual([
      { path: "args.datacenter.ports.grpc", message: expect.stringMatching(/gRPC must be enabled/) },
    ]);
    expect(gatewayProblems({ datacenter: "dc1", port: 0 }).map((p) => p.path)).toEqual(["gateway.port"]);
    expect(
      configEntryProblems({ kind: "service-defaults", name: "web", meshGateway: { mode: "x" as "local" } }).map(
        (p) => p.path,
      ),
    ).toEqual(["entry.meshGateway.mode"]);
  });

  test("a service is judged on its own fields: its upstreams' destinations are assumed to exist", () => {
    const problems = serviceProblems({
      name: "web",
      datacenter: "dc1",
      kind: "connect-proxy",
      port: 8181,
      proxy: {
        destinationServiceName: "web",
        upstreams: [
          { destinationName: "api", datacenter: "far-away", localBindPort: 10000, meshGateway: { mode: "remote" } },
          { destinationName: "db", datacenter: "far-away", localBindPort: 10000 },
        ],
      },
    });
    expect(problems.map((p) => p.path)).toEqual(["service.proxy.upstreams[1].localBindPort"]);
  });

  test("throwIfProblems throws one MeshValidationError listing them all, or nothing", () => {
    expect(() => throwIfProblems([], "x")).not.toThrow();
    expect(() =>
      throwIfProblems(
        [
          { path: "a", message: "m1" },
          { path: "b.c", message: "m2" },
        ],
        'Thing "t" arguments',
      ),
    ).toThrow(
      new MeshValidationError(
        [
          { path: "a", message: "m1" },
          { path: "b.c", message: "m2" },
        ],
        'Thing "t" arguments',
      ),
    );
  });
});
