/**
 * Runs one example program (examples/<name>/index.ts) under Pulumi's mock runtime, the way
 * `pulumi preview` would run it, and returns what it declared and exported. Load one
 * example per test file: a program runs once per module registry.
 */
import * as pulumi from "@pulumi/pulumi";
import { mockUuidOf, setupMocks, type MockHarness } from "../support/pulumi-mocks";

/** What an example run produced. */
export interface ExampleRun {
  /** Every resource the program declared. */
  mocks: MockHarness;
  /** The program's exports (its stack outputs). */
  outputs: Record<string, unknown>;
}

/**
 * Runs `examples/<name>` under mocks, with the project named as in its `Pulumi.yaml`.
 * @param name - The example's directory name.
 * @param config - Stack configuration (`pulumi config set key value`). Default: none.
 */
export async function runExample(name: string, config: Record<string, string> = {}): Promise<ExampleRun> {
  const project = `consul-mesh-${name}`;
  const mocks = await setupMocks({ project, stack: "dev", preview: true });
  for (const [key, value] of Object.entries(config)) pulumi.runtime.setConfig(`${project}:${key}`, value);
  const outputs = (await import(`../../examples/${name}/index`)) as Record<string, unknown>;
  await mocks.settle();
  return { mocks, outputs };
}

/** The value of a stack output, as the engine records it: Outputs resolved, also inside objects and lists. */
export function outputValue<T>(value: unknown): Promise<T> {
  return new Promise((resolve) => pulumi.output(value as pulumi.Input<T>).apply((v) => resolve(v as T)));
}

/** How many resources of each type were declared. */
export function countByType(mocks: MockHarness): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of mocks.resources) out[r.type] = (out[r.type] ?? 0) + 1;
  return out;
}

/**
 * Checks that the example deploys a trust domain of its own: one `GeneratedTrustDomain`, exported
 * as the `trustDomain` stack output, every Consul server pinned to its UUID and every gateway given
 * it. Resolves with it.
 */
export async function expectDrawnTrustDomain(run: ExampleRun): Promise<string> {
  const [drawn, ...others] = run.mocks.byType("pulumi-nodejs:dynamic:GeneratedTrustDomain");
  expect(others).toEqual([]);
  const clusterId = mockUuidOf(drawn.name);
  const trustDomain = `${clusterId}.consul`;
  expect(await outputValue<string>(run.outputs.trustDomain)).toBe(trustDomain);
  const containers = run.mocks.byType("docker:index/container:Container");
  const servers = containers.filter((c) => c.inputs.command?.[0] === "agent");
  const gateways = containers.filter((c) => c.inputs.command?.includes("--drain-grace"));
  expect(servers.length).toBeGreaterThan(0);
  expect(gateways.length).toBeGreaterThan(0);
  for (const server of servers)
    expect(JSON.parse(server.inputs.uploads[0].content).connect.ca_config).toEqual({ cluster_id: clusterId });
  for (const gateway of gateways) {
    const command = gateway.inputs.command as string[];
    expect(command[command.indexOf("--trust-domain") + 1]).toBe(trustDomain);
  }
  return trustDomain;
}
