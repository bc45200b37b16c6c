/** `readConsulSettings`: the `CONSUL_*` settings as Consul's CLI reads them, for every caller. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ConsulSettingError } from "../../consul/errors";
import { readConsulSettings } from "../../consul/settings";

describe("readConsulSettings", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "consul-settings-"));
  const file = (name: string, content: string) => {
    writeFileSync(path.join(dir, name), content);
    return path.join(dir, name);
  };
  const envFile = file("env-token", "env-file-token\n");
  const flagFile = file("flag-token", "flag-file-token\n");
  const empty = file("empty-token", "  \n");
  const ca = file("ca.pem", "-----BEGIN CERTIFICATE-----\n");
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each<[string, NodeJS.ProcessEnv, Parameters<typeof readConsulSettings>[1], string | undefined]>([
    ["no token anywhere", {}, {}, undefined],
    ["CONSUL_HTTP_TOKEN", { CONSUL_HTTP_TOKEN: "env" }, {}, "env"],
    ["a given token over CONSUL_HTTP_TOKEN", { CONSUL_HTTP_TOKEN: "env" }, { token: "given" }, "given"],
    [
      "CONSUL_HTTP_TOKEN_FILE over CONSUL_HTTP_TOKEN",
      { CONSUL_HTTP_TOKEN: "env", CONSUL_HTTP_TOKEN_FILE: envFile },
      {},
      "env-file-token",
    ],
    [
      "CONSUL_HTTP_TOKEN_FILE over a given token (Consul's NewClient)",
      { CONSUL_HTTP_TOKEN_FILE: envFile },
      { token: "given" },
      "env-file-token",
    ],
    [
      "a given token file over CONSUL_HTTP_TOKEN_FILE",
      { CONSUL_HTTP_TOKEN_FILE: envFile },
      { tokenFile: flagFile },
      "flag-file-token",
    ],
    ["an empty token file leaves the token", { CONSUL_HTTP_TOKEN: "env", CONSUL_HTTP_TOKEN_FILE: empty }, {}, "env"],
  ])("token: %s", (_label, env, overrides, token) => {
    expect(readConsulSettings(env, overrides).token).toBe(token);
  });

  it("address and scheme: the override, else CONSUL_HTTP_ADDR, else 127.0.0.1:8500; https only when said", () => {
    expect(readConsulSettings({})).toEqual({ address: "127.0.0.1:8500", ssl: false, token: undefined, ca: undefined });
    expect(readConsulSettings({ CONSUL_HTTP_ADDR: "c:8501", CONSUL_HTTP_SSL: "true" })).toMatchObject({
      address: "c:8501",
      ssl: true,
    });
    expect(readConsulSettings({ CONSUL_HTTP_ADDR: "c:8501" }, { address: "d:8500", ssl: true })).toMatchObject({
      address: "d:8500",
      ssl: true,
    });
    // A CA file verifies an https agent; it does not make one (as in Consul's CLI).
    expect(readConsulSettings({ CONSUL_HTTP_ADDR: "c:8501", CONSUL_CACERT: ca })).toMatchObject({
      ssl: false,
      ca: "-----BEGIN CERTIFICATE-----\n",
    });
  });

  it("a file that cannot be read: ConsulSettingError naming the variable, the file and the system's code", () => {
    const missing = path.join(dir, "missing");
    expect(() => readConsulSettings({}, { tokenFile: missing })).toThrow(ConsulSettingError);
    expect(() => readConsulSettings({ CONSUL_CACERT: missing })).toThrow(
      expect.objectContaining({
        code: "E_CONSUL_SETTING",
        field: "CONSUL_CACERT",
        message: `CONSUL_CACERT: cannot read ${missing} (ENOENT)`,
      }),
    );
  });
});
