import fc from "fast-check";
import { decideMeshGatewayMode, isMode, resolveMeshGatewayMode, type ModeLevels } from "../../mesh";
import type { Mode } from "../../mesh";

const MODES: Mode[] = ["local", "remote", "none", ""];
const ORDER = ["upstream", "instance", "serviceDefaults", "proxyDefaults"] as const;
const LEVEL_NAME = {
  upstream: "upstream",
  instance: "instance",
  serviceDefaults: "service-defaults",
  proxyDefaults: "proxy-defaults",
};

/** An independent reading of the documented list: walk it top-down, first non-empty wins. */
function oracle(levels: ModeLevels): { mode: string; decidedBy: string } {
  const list: [string, Mode | undefined][] = [
    ["upstream", levels.upstream],
    ["instance", levels.instance],
    ["service-defaults", levels.serviceDefaults],
    ["proxy-defaults", levels.proxyDefaults],
  ];
  const hit = list.find(([, mode]) => mode !== undefined && mode.length > 0);
  return hit ? { mode: hit[1] as string, decidedBy: hit[0] } : { mode: "none", decidedBy: "default" };
}

describe("resolveMeshGatewayMode", () => {
  it("follows upstream > instance > service-defaults > proxy-defaults for all 4^4 combinations", () => {
    let count = 0;
    for (const upstream of MODES)
      for (const instance of MODES)
        for (const serviceDefaults of MODES)
          for (const proxyDefaults of MODES) {
            const levels = { upstream, instance, serviceDefaults, proxyDefaults };
            const expected = oracle(levels);
            expect(resolveMeshGatewayMode(levels)).toBe(expected.mode);
            expect(decideMeshGatewayMode(levels)).toEqual(expected);
            count++;
          }
    expect(count).toBe(256);
  });

  it("treats missing levels like empty ones (property)", () => {
    const level = fc.option(fc.constantFrom<Mode>(...MODES), { nil: undefined });
    fc.assert(
      fc.property(level, level, level, level, (upstream, instance, serviceDefaults, proxyDefaults) => {
        const sparse: ModeLevels = {};
        if (upstream !== undefined) sparse.upstream = upstream;
        if (instance !== undefined) sparse.instance = instance;
        if (serviceDefaults !== undefined) sparse.serviceDefaults = serviceDefaults;
        if (proxyDefaults !== undefined) sparse.proxyDefaults = proxyDefaults;
        const filled = {
          upstream: upstream ?? "",
          instance: instance ?? "",
          serviceDefaults: serviceDefaults ?? "",
          proxyDefaults: proxyDefaults ?? "",
        } as ModeLevels;
        expect(decideMeshGatewayMode(sparse)).toEqual(decideMeshGatewayMode(filled));
        expect(decideMeshGatewayMode(sparse)).toEqual(oracle(sparse));
      }),
    );
  });

  it("is none when nothing is set (the surprise of consul#7859: local needs writing down)", () => {
    expect(resolveMeshGatewayMode({})).toBe("none");
    expect(decideMeshGatewayMode({})).toEqual({ mode: "none", decidedBy: "default" });
  });

  it.each(ORDER.map((level, i) => [level, i] as const))("a mode set at %s beats every level below it", (level, i) => {
    const levels: ModeLevels = {};
    for (const lower of ORDER.slice(i + 1)) levels[lower] = "local";
    levels[level] = "remote";
    expect(decideMeshGatewayMode(levels)).toEqual({ mode: "remote", decidedBy: LEVEL_NAME[level] });
  });

  it("an explicit none at a higher level overrides a lower local", () => {
    expect(decideMeshGatewayMode({ upstream: "none", proxyDefaults: "local" })).toEqual({
      mode: "none",
      decidedBy: "upstream",
    });
  });

  it("ignores invalid values from untyped input instead of throwing", () => {
    const levels = { upstream: "LOCAL", instance: "bogus", serviceDefaults: "remote" } as unknown as ModeLevels;
    expect(decideMeshGatewayMode(levels)).toEqual({ mode: "remote", decidedBy: "service-defaults" });
  });
});

describe("isMode", () => {
  it("accepts the four values and nothing else", () => {
    for (const m of MODES) expect(isMode(m)).toBe(true);
    for (const m of ["LOCAL", " local", "gateway", undefined, null, 0]) expect(isMode(m)).toBe(false);
  });
});
