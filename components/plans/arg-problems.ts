/**
 * Validation of one component's arguments with the mesh model's own rules: each argument is
 * placed in a minimal mesh, `validateMesh` checks it, and only the problems of that argument
 * are kept, renamed to the argument's field path (`services[0].port` becomes
 * `service.port`). No rule is written twice; the whole topology (cross references) is
 * checked by `ConsulMesh` with `assertValidMesh`.
 */
import {
  MeshValidationError,
  validateMesh,
  type ConfigEntry,
  type DatacenterSpec,
  type Mesh,
  type MeshGatewaySpec,
  type MeshProblem,
  type MeshService,
  type Upstream,
} from "../../mesh";

/** Problems under `from` (the field itself or anything below it), renamed to start with `to`. */
function rebase(problems: MeshProblem[], from: string, to: string): MeshProblem[] {
  return problems
    .filter((p) => p.path === from || p.path.startsWith(`${from}.`) || p.path.startsWith(`${from}[`))
    .map((p) => ({ path: to + p.path.slice(from.length), message: p.message }));
}

/**
 * Problems of a datacenter argument.
 * @param spec - The datacenter.
 * @param primaryDatacenter - The mesh's primary datacenter. Default: the spec's, else its own name.
 * @param field - Field name of the argument. Default: `"datacenter"`.
 */
export function datacenterProblems(
  spec: DatacenterSpec,
  primaryDatacenter?: string,
  field = "datacenter",
): MeshProblem[] {
  const mesh: Mesh = {
    primaryDatacenter: primaryDatacenter ?? spec.primaryDatacenter ?? spec.name,
    datacenters: [spec],
  };
  return rebase(validateMesh(mesh), "datacenters[0]", field);
}

/**
 * Problems of a mesh gateway argument.
 * @param spec - The gateway.
 * @param field - Field name of the argument. Default: `"gateway"`.
 */
export function gatewayProblems(spec: MeshGatewaySpec, field = "gateway"): MeshProblem[] {
  const mesh: Mesh = { datacenters: [{ name: spec.datacenter }], gateways: [spec] };
  return rebase(validateMesh(mesh), "gateways[0]", field);
}

/**
 * Problems of a `proxy-defaults` or `service-defaults` argument.
 * @param entry - The config entry.
 * @param field - Field name of the argument. Default: `"entry"`.
 */
export function configEntryProblems(entry: ConfigEntry, field = "entry"): MeshProblem[] {
  const base: Mesh = { datacenters: [{ name: "dc" }] };
  if (entry.kind === "service-defaults") {
    return rebase(validateMesh({ ...base, serviceDefaults: [entry] }), "serviceDefaults[0]", field);
  }
  return rebase(validateMesh({ ...base, proxyDefaults: entry }), "proxyDefaults", field);
}

/**
 * Problems of a connect service argument on its own: every upstream's destination is
 * assumed to exist (with a gateway in every datacenter involved), so that only the
 * service's own fields are judged.
 * @param service - The service.
 * @param field - Field name of the argument. Default: `"service"`.
 */
export function serviceProblems(service: MeshService, field = "service"): MeshProblem[] {
  const upstreams: Upstream[] = [
    ...(Array.isArray(service.proxy?.upstreams) ? service.proxy.upstreams : []),
    ...(Array.isArray(service.connect?.sidecarService?.proxy?.upstreams)
      ? service.connect.sidecarService.proxy.upstreams
      : []),
  ];
  const dcs = new Set<string>([service.datacenter]);
  const stubs: MeshService[] = upstreams
    .filter((up) => up?.destinationPeer === undefined)
    .map((up) => {
      const datacenter = up.datacenter || service.datacenter;
      dcs.add(datacenter);
      return {
        name: up.destinationName,
        datacenter,
        namespace: up.destinationNamespace || service.namespace,
        partition: up.destinationPartition || service.partition,
        port: 1,
        connect: { sidecarService: {} },
      };
    });
  const names = [...dcs];
  const peers = [...new Set(upstreams.map((up) => up?.destinationPeer).filter((p) => typeof p === "string"))];
  const mesh: Mesh = {
    primaryDatacenter: names[0],
    datacenters: names.map((name) => ({ name })),
    gateways: names.map((datacenter) => ({ datacenter })),
    services: [service, ...stubs],
    // A peer's service is judged by its fields alone: the peer is assumed declared.
    ...(peers.length ? { peers: peers.map((name) => ({ name: name as string })) } : {}),
  };
  return rebase(validateMesh(mesh), "services[0]", field);
}

/**
 * Throws a {@link MeshValidationError} listing every problem, if there is any.
 * @param problems - The problems found.
 * @param subject - What was checked, e.g. `Datacenter "dc1" arguments`.
 */
export function throwIfProblems(problems: MeshProblem[], subject: string): void {
  if (problems.length > 0) throw new MeshValidationError(problems, subject);
}
