/**
 * Every example under the real engine with the real provider plugins: up, its trust domain (its
 * own, drawn once: what Consul reports, and another in each stack), a second preview with no
 * change, destroy; the two with config entries are destroyed after every container was removed
 * by hand, as a crashed host would leave them.
 */
import path from "node:path";
import { dockerOk } from "../support/docker";
import {
  consulTrustDomain,
  describeWhereStacksRun,
  DRAWN_TRUST_DOMAIN,
  prepareStacks,
  reportedFigures,
  StackCli,
} from "../support/stack-cli";

const ROOT = path.join(__dirname, "../..");
const describeReal = describeWhereStacksRun("real-engine example tests");
const figures = reportedFigures("example figures");

jest.setTimeout(600_000);

/** The examples, and whether they write config entries. */
const EXAMPLES: [string, boolean][] = [
  ["global-gateways", true],
  ["per-service", true],
  ["per-service-instance-connect-proxy", false],
  ["per-service-instance-sidecar", false],
  ["per-upstream", false],
];

describeReal("every example under the real engine", () => {
  let config: Record<string, string>;
  /** The trust domain of each example's stack, by example. */
  const trustDomains = new Map<string, string>();
  beforeAll(async () => {
    config = await prepareStacks();
  });

  test.each(EXAMPLES)("examples/%s: up, a clean second preview, destroy", async (name, entries) => {
    const cli = await StackCli.create(path.join(ROOT, "examples", name), config);
    try {
      const up = await cli.ok(["up", "--yes", "--skip-preview"]);
      const trustDomain = (await cli.outputs()).trustDomain as string;
      expect(trustDomain).toMatch(DRAWN_TRUST_DOMAIN);
      // Secure by default: the API over TLS, verified by the stack's own CA.
      expect(await consulTrustDomain("https://127.0.0.1:8500", await cli.consulCaPem())).toBe(trustDomain);
      trustDomains.set(name, trustDomain);
      const preview = await cli.run(["preview", "--expect-no-changes"]);
      expect(preview.code).toBe(0);
      expect((await cli.outputs()).trustDomain).toBe(trustDomain);
      if (entries) {
        const containers = (await dockerOk(["ps", "-aq", "--filter", "label=consul-mesh.datacenter"])).split("\n");
        await dockerOk(["rm", "-f", ...containers.filter(Boolean)]);
      }
      const destroy = await cli.run(["destroy", "--yes", "--skip-preview"], 90_000);
      expect(destroy.stdout + destroy.stderr).not.toMatch(/error:/);
      expect(destroy.code).toBe(0);
      expect((await cli.deployment()).resources ?? []).toHaveLength(0);
      figures.push(`${name}: up ${up.ms} ms, destroy${entries ? " after docker rm -f" : ""} ${destroy.ms} ms`);
    } finally {
      await cli.run(["destroy", "--yes", "--skip-preview"]);
      await cli.remove();
    }
  });

  test("each stack drew a trust domain of its own", () => {
    expect(trustDomains.size).toBe(EXAMPLES.length);
    expect(new Set(trustDomains.values()).size).toBe(EXAMPLES.length);
  });
});
