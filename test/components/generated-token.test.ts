import * as pulumi from "@pulumi/pulumi";
import { GeneratedToken, generatedTokenProvider } from "../../components/dynamic/generated-token";
import { setupMocks } from "../support/pulumi-mocks";

describe("generated token", () => {
  test("create draws a fresh UUID each time; the resource ID reveals nothing of it", async () => {
    const a = await generatedTokenProvider.create({});
    const b = await generatedTokenProvider.create({});
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    expect(a.outs.value).toMatch(uuid);
    expect(b.outs.value).toMatch(uuid);
    expect(a.outs.value).not.toBe(b.outs.value);
    expect(a.id).not.toContain(a.outs.value.slice(0, 8));
  });

  test("never changes once drawn", async () => {
    expect(await generatedTokenProvider.diff()).toEqual({ changes: false });
  });

  test("the serialized provider runs on its own, as Pulumi's dynamic provider host runs it", async () => {
    const mocks = await setupMocks();
    new GeneratedToken("t");
    await mocks.settle();
    const text = mocks.get("t").inputs.__provider as string;
    expect(typeof text).toBe("string");
    const module = { exports: {} as { handler?: () => typeof generatedTokenProvider } };
    new Function("exports", "require", "module", text)(module.exports, require, module);
    const provider = (module.exports.handler as () => typeof generatedTokenProvider)();
    const created = await provider.create({});
    expect(created.outs.value).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(created.id).not.toBe(created.outs.value);
  });

  test("its value is a secret output", async () => {
    const mocks = await setupMocks();
    const token = new GeneratedToken("t");
    await mocks.settle();
    expect(mocks.get("t").options.additionalSecretOutputs).toEqual(["value"]);
    expect(await pulumi.isSecret(token.value)).toBe(true);
  });
});
