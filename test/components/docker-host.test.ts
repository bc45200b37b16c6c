import net from "node:net";
import { DockerHost, pingDockerHost } from "../../components/docker-host";
import { DockerHostError } from "../../components/errors";
import { assertDocker, describeWithDocker, dockerStatus } from "../support/docker";
import { freePorts } from "../support/processes";
import { setupMocks, valueOf } from "../support/pulumi-mocks";

const status = dockerStatus();

describe("DockerHost (Pulumi mocks)", () => {
  test("a provider for the DOCKER_HOST given, and the address it names", async () => {
    const mocks = await setupMocks();
    const host = new DockerHost("docker-dc2", { datacenter: "dc2", host: "ssh://ops@10.0.2.5" });
    await mocks.settle();
    expect(mocks.get("docker-dc2-provider").inputs.host).toBe("ssh://ops@10.0.2.5");
    expect(host.address).toBe("10.0.2.5");
    // An ssh:// daemon is left to the provider: nothing pinged.
    expect(host.checked).toBeUndefined();
  });
});

/** The failure of a ping, and how long it took. */
async function pingFailure(host: string, timeoutMs?: number): Promise<{ error: DockerHostError; ms: number }> {
  const started = Date.now();
  const error = await pingDockerHost("dc2", host, timeoutMs).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DockerHostError);
  return { error: error as DockerHostError, ms: Date.now() - started };
}

describeWithDocker(status)("pingDockerHost (a real daemon, and daemons that do not answer)", () => {
  beforeAll(() => assertDocker(status));

  test("the local daemon answers with its API version, and DockerHost's check says so", async () => {
    expect(await pingDockerHost("dc1", "unix:///var/run/docker.sock")).toMatch(/^\d+\.\d+$/);
    await setupMocks();
    const host = new DockerHost("docker-dc1", { datacenter: "dc1", host: "unix:///var/run/docker.sock" });
    expect(await valueOf(host.checked!)).toMatch(/^\d+\.\d+$/);
  });

  test("a socket nobody serves: the datacenter and the host named, at once", async () => {
    const { error, ms } = await pingFailure("unix:///tmp/no-docker-here.sock");
    expect(error.message).toBe(
      'datacenter "dc2": the Docker daemon at unix:///tmp/no-docker-here.sock does not answer: ENOENT: is a Docker daemon listening there?',
    );
    expect(ms).toBeLessThan(2_000);
  });

  test("a port that accepts and never answers: a time-out, never a hang", async () => {
    const sockets: net.Socket[] = [];
    const server = net.createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const port = (server.address() as net.AddressInfo).port;
      const { error, ms } = await pingFailure(`tcp://127.0.0.1:${port}`, 1_000);
      expect(error.message).toMatch(/^datacenter "dc2": .* does not answer: no answer within 1000 ms$/);
      expect(ms).toBeLessThan(3_000);
    } finally {
      for (const socket of sockets) socket.destroy();
      server.close();
    }
  });

  test("a closed port: refused, named", async () => {
    const [port] = await freePorts("127.0.0.1", 1);
    const { error } = await pingFailure(`tcp://127.0.0.1:${port}`);
    expect(error.message).toContain("ECONNREFUSED");
  });
});
