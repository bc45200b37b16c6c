/**
 * One blocking-query loop against a scripted client: what a failure of the handler (the
 * gateway's own code) is reported as, and that it is not treated as a failure of Consul.
 */
import type { BlockingParams, ConsulClient } from "../../consul/client";
import { ConsulError } from "../../consul/errors";
import { BlockingWatch, type BlockingWatchTiming } from "../../gateway/sources/blocking-watch";
import { GatewayInternalError } from "../../gateway/errors";
import { waitFor } from "./helpers";

/**
 * Runs a watch on a client that answers read `n` (from 1) with `answer(n)` at index `base + n`
 * (or throws what it returns, if an Error), until `requests` reads were made.
 */
async function runWatch<T>(
  answer: (n: number) => T | Error,
  onValue: (value: T) => void,
  timing: BlockingWatchTiming,
  requests: number,
  base = 9,
): Promise<{ watch: BlockingWatch<T>; errors: Error[]; indexes: number[] }> {
  const indexes: number[] = [];
  const client = {
    async get(_path: string, _query?: unknown, blocking?: BlockingParams) {
      indexes.push(blocking?.index ?? 0);
      const body = answer(indexes.length);
      if (body instanceof Error) throw body;
      return { body, index: base + indexes.length, filteredByAcls: false };
    },
  } as unknown as ConsulClient;
  const errors: Error[] = [];
  const watch = new BlockingWatch<T>(
    client,
    "/v1/catalog/services",
    {},
    { onValue, onError: (error) => errors.push(error) },
    { minIntervalMs: 5, ...timing },
  );
  watch.start();
  try {
    await waitFor(() => indexes.length >= requests, 2000, `${requests} requests`);
  } finally {
    watch.stop();
  }
  return { watch, errors, indexes: indexes.slice(0, requests) };
}

describe("a handler that throws", () => {
  test("is reported as an internal error of the gateway (E_GATEWAY_INTERNAL), not as a Consul failure, and Consul is not retried as failed", async () => {
    const { watch, errors, indexes } = await runWatch(
      (n) => ({ a: n }),
      (value) => {
        if (value.a === 1) throw new TypeError("bug in the handler");
      },
      // A retry as after a Consul failure would wait 5 s: longer than the test waits.
      { retryMinMs: 5_000, retryMaxMs: 5_000 },
      3,
    );
    expect(errors).toHaveLength(1);
    const [error] = errors;
    expect(error).toBeInstanceOf(GatewayInternalError);
    expect(error).not.toBeInstanceOf(ConsulError);
    expect(error).toMatchObject({ code: "E_GATEWAY_INTERNAL", where: "GET /v1/catalog/services" });
    expect(error.message).toContain("bug in the handler");
    expect((error as GatewayInternalError).cause).toBeInstanceOf(TypeError);
    // Consul answered: the watch stays healthy and keeps blocking on the answered index.
    expect(watch.healthy).toBe(true);
    expect(indexes).toEqual([0, 10, 11]);
  });

  test("a failing request is still a Consul error, retried with back-off from a plain read", async () => {
    const failure = new ConsulError("E_CONSUL_HTTP_STATUS", "GET /v1/catalog/services: HTTP 500", 500);
    const { errors, indexes } = await runWatch(
      (n) => (n === 2 ? failure : { n }),
      () => undefined,
      { retryMinMs: 5, retryMaxMs: 5 },
      3,
      20,
    );
    expect(errors).toEqual([failure]);
    expect(indexes).toEqual([0, 21, 0]);
  });
});

describe("pollOnly", () => {
  test("reads afresh every pollIntervalMs, never blocking on the index the answers carry", async () => {
    const values: number[] = [];
    const { indexes } = await runWatch(
      (n) => n,
      (value) => values.push(value),
      { pollOnly: true, pollIntervalMs: 5 },
      3,
    );
    expect(indexes).toEqual([0, 0, 0]);
    expect(values.slice(0, 3)).toEqual([1, 2, 3]);
  });
});
