import * as pulumi from "@pulumi/pulumi";
import { GeneratedToken, GeneratedTrustDomain, generatedUuidProvider } from "../../components/dynamic/generated-token";
import { clusterIdOf } from "../../mesh";
import { setupMocks, valueOf } from "../support/pulumi-mocks";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("generated UUIDs (token, trust domain)", () => {
  test("create draws a fresh UUID each time; the resource ID reveals nothing of it", async () => {
    const a = await generatedUuidProvider.create({});
    const b = await generatedUuidProvider.create({});
    expect(a.outs.value).toMatch(UUID);
    expect(b.outs.value).toMatch(UUID);
    expect(a.outs.value).not.toBe(b.outs.value);
    expect(a.id).not.toContain(a.outs.value.slice(0, 8));
  });

  test("never changes once drawn", async () => {
    expect(await generatedUuidProvider.diff()).toEqual({ changes: false });
  });

  test.each([
    ["token", (name: string) => new GeneratedToken(name)],
    ["trust domain", (name: string) => new GeneratedTrustDomain(name)],
  ])(
    "the serialized provider of the %s runs on its own, as Pulumi's dynamic provider host runs it",
    async (_, make) => {
      const mocks = await setupMocks();
      make("t");
      await mocks.settle();
      const text = mocks.get("t").inputs.__provider as string;
      expect(typeof text).toBe("string");
      const module = { exports: {} as { handler?: () => typeof generatedUuidProvider } };
      new Function("exports", "require", "module", text)(module.exports, require, module);
      const provider = (module.exports.handler as () => typeof generatedUuidProvider)();
      const created = await provider.create({});
      expect(created.outs.value).toMatch(UUID);
      expect(created.id).not.toBe(created.outs.value);
    },
  );

  test("the token is a secret output", async () => {
    const mocks = await setupMocks();
    const token = new GeneratedToken("t");
    await mocks.settle();
    expect(mocks.get("t").type).toBe("pulumi-nodejs:dynamic:GeneratedToken");
    expect(mocks.get("t").options.additionalSecretOutputs).toEqual(["value"]);
    expect(await pulumi.isSecret(token.value)).toBe(true);
  });

  test("the trust domain is <uuid>.consul of the UUID drawn, and no secret", async () => {
    const mocks = await setupMocks();
    const drawn = new GeneratedTrustDomain("td");
    await mocks.settle();
    expect(mocks.get("td").type).toBe("pulumi-nodejs:dynamic:GeneratedTrustDomain");
    expect(mocks.get("td").options.additionalSecretOutputs).toEqual([]);
    const trustDomain = await valueOf(drawn.trustDomain);
    expect(trustDomain).toBe(`${await valueOf(drawn.value)}.consul`);
    expect(clusterIdOf(trustDomain)).toBe(await valueOf(drawn.value));
    expect(await pulumi.isSecret(drawn.trustDomain)).toBe(false);
    expect(await pulumi.isSecret(drawn.value)).toBe(false);
  });
});
