/**
 * Validating and planning grow linearly with the mesh. Speed is measured by `npm run bench:plan`,
 * never here: these tests count the work instead, as the number of property reads of the mesh
 * (and of the plan), which is the same on every machine. A scan of a list per proxy or per route
 * (a quadratic part) makes the reads per route grow with the mesh.
 */
import { formatRoutePlan, planRoutes, validateMesh, type RoutePlan } from "../../mesh";
import { largeMesh, type LargeMeshSize } from "../support/large-mesh";

/** `value` behind proxies that count every property read of it and of everything reached from it. */
function counted<T extends object>(value: T): { value: T; reads: () => number } {
  let reads = 0;
  const proxies = new WeakMap<object, object>();
  const wrap = (target: unknown): unknown => {
    if (typeof target !== "object" || target === null) return target;
    let proxy = proxies.get(target);
    if (proxy === undefined) {
      proxy = new Proxy(target, {
        get(object, key, receiver) {
          reads++;
          return wrap(Reflect.get(object, key, receiver));
        },
      });
      proxies.set(target, proxy);
    }
    return proxy;
  };
  return { value: wrap(value) as T, reads: () => reads };
}

/** The reads of one `validateMesh`, `planRoutes` and `formatRoutePlan` of a {@link largeMesh}. */
function work(size: LargeMeshSize) {
  const mesh = largeMesh(size);
  const gateways = counted(mesh.gateways ?? []);
  const serviceDefaults = counted(mesh.serviceDefaults ?? []);
  const whole = counted({ ...mesh, gateways: gateways.value, serviceDefaults: serviceDefaults.value });
  expect(validateMesh(whole.value)).toEqual([]);
  const plan = planRoutes(whole.value);
  const routes = size.services * size.upstreamsPerService;
  expect(plan.routes).toHaveLength(routes);
  const planned = counted(plan);
  formatRoutePlan(planned.value);
  return {
    meshPerRoute: whole.reads() / routes,
    planPerRoute: planned.reads() / routes,
    gateways: gateways.reads(),
    serviceDefaultsPerEntry: serviceDefaults.reads() / (mesh.serviceDefaults ?? []).length,
  };
}

describe("scale: the work per route does not grow with the mesh", () => {
  let small: ReturnType<typeof work>;
  let large: ReturnType<typeof work>;
  beforeAll(() => {
    small = work({ datacenters: 10, services: 200, upstreamsPerService: 5 });
    large = work({ datacenters: 10, services: 2000, upstreamsPerService: 5 });
  });

  it("reads the gateways as often for 2,000 services as for 200: never searched per proxy or route", () => {
    expect(large.gateways).toBe(small.gateways);
  });

  it("reads each service-defaults entry as often for 2,000 services as for 200: never searched per proxy", () => {
    expect(large.serviceDefaultsPerEntry).toBeLessThanOrEqual(small.serviceDefaultsPerEntry);
  });

  it("reads the mesh, and the plan to format it, as often per route for 2,000 services as for 200", () => {
    // Within 5%: the two meshes mix modes (so hops per route) a little differently.
    expect(large.meshPerRoute / small.meshPerRoute).toBeLessThan(1.05);
    expect(large.planPerRoute / small.planPerRoute).toBeLessThan(1.05);
  });

  it("formats more routes than a function call takes arguments", () => {
    const [route] = planRoutes(largeMesh({ datacenters: 2, services: 2, upstreamsPerService: 1 })).routes;
    const plan: RoutePlan = { trustDomain: "abc.consul", routes: new Array(200_000).fill(route) };
    expect(formatRoutePlan(plan).split("\n")).toHaveLength(200_002);
  });
});
