/**
 * The Consul double's contract (test/support/consul-contract.ts) run against the real agent: a
 * test that passes on the double and fails here is a defect of the double.
 */
import { describeConsulContract } from "../support/consul-contract";
import { RealConsul } from "../support/real-consul";

jest.setTimeout(120_000);

describe("the Consul contract, on real Consul", () => {
  describeConsulContract(async ({ acl }) => {
    const consul = await RealConsul.start({ acl });
    return { url: consul.dc("dc1").httpAddress, token: consul.managementToken, close: () => consul.stop() };
  });
});
