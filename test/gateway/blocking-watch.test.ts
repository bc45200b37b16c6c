/**
 * One blocking-query loop against a scripted client: what a failure of the handler (the
 * gateway's own code) is reported as, and that it is not treated as a failure of Consul.
 */
import type { BlockingParams, ConsulClient, ConsulResponse } from "../../consul/client";
import { ConsulError } from "../../consul/errors";
import { BlockingWatch } from "../../gateway/sources/blocking-watch";
import { GatewayInternalError } from "../../gateway/errors";
import { waitFor } from "./helpers";

/** A client that answers each read with the next body of a script, at index 10, 11, … */
function scriptedClient(bodies: unknown[]): { client: ConsulClient; requests: Array<BlockingParams | undefined> } {
  const requests: Array<BlockingParams | undefined> = [];
  let n = 0;
  const client = {
    async get<T>(_path: string, _query?: unknown, blocking?: BlockingParams): Promise<ConsulResponse<T>> {
      requests.push(blocking);
      const body = bodies[Math.min(n, bodies.length - 1)] as T;
      n++;
      return { body, index: 9 + n, filteredByAcls: false };
    },
  };
  return { client: client as unknown as ConsulClient, requests };
}

describe("a handler that throws", () => {
  test("is reported as an internal error of the gateway (E_GATEWAY_INTERNAL), not as a Consul failure, and Consul is not retried as failed", async () => {
    const { client, requests } = scriptedClient([{ a: 1 }, { a: 2 }, { a: 3 }]);
    const errors: Error[] = [];
    const values: unknown[] = [];
    const watch = new BlockingWatch<{ a: number }>(
      client,
      "/v1/catalog/services",
      {},
      {
        onValue(value) {
          values.push(value);
          if (value.a === 1) throw new TypeError("bug in the handler");
        },
        onError: (error) => errors.push(error),
      },
      { minIntervalMs: 5, retryMinMs: 5_000, retryMaxMs: 5_000 },
    );
    watch.start();
    try {
      await waitFor(() => values.length >= 3, 2000, "three values");
    } finally {
      watch.stop();
    }
    expect(errors).toHaveLength(1);
    const [error] = errors;
    expect(error).toBeInstanceOf(GatewayInternalError);
    expect(error).not.toBeInstanceOf(ConsulError);
    expect((error as GatewayInternalError).code).toBe("E_GATEWAY_INTERNAL");
    expect((error as GatewayInternalError).where).toBe("GET /v1/catalog/services");
    expect(error.message).toContain("bug in the handler");
    expect((error as GatewayInternalError).cause).toBeInstanceOf(TypeError);
    // Consul answered: the watch stays healthy and keeps blocking on the answered index (no reset
    // to a plain read, no back-off of 5 s, which would have stopped the loop within the 2 s).
    expect(watch.healthy).toBe(true);
    expect(requests.slice(0, 3).map((r) => r?.index ?? 0)).toEqual([0, 10, 11]);
  });

  test("a failing request is still a Consul error, retried with back-off from a plain read", async () => {
    const requests: Array<BlockingParams | undefined> = [];
    let n = 0;
    const client = {
      async get(_path: string, _query?: unknown, blocking?: BlockingParams) {
        requests.push(blocking);
        n++;
        if (n === 2) throw new ConsulError("E_CONSUL_HTTP_STATUS", "GET /v1/x: HTTP 500", 500);
        return { body: { n }, index: 20 + n, filteredByAcls: false };
      },
    } as unknown as ConsulClient;
    const errors: Error[] = [];
    const watch = new BlockingWatch<{ n: number }>(
      client,
      "/v1/x",
      {},
      { onValue: () => undefined, onError: (error) => errors.push(error) },
      { minIntervalMs: 5, retryMinMs: 5, retryMaxMs: 5 },
    );
    watch.start();
    try {
      await waitFor(() => requests.length >= 3, 2000, "three requests");
    } finally {
      watch.stop();
    }
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(ConsulError);
    expect((errors[0] as ConsulError).code).toBe("E_CONSUL_HTTP_STATUS");
    expect(requests.slice(0, 3).map((r) => r?.index ?? 0)).toEqual([0, 21, 0]);
  });
});
