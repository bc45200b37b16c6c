/**
 * What every fuzz case must satisfy. For bytes a client sends: the reader never throws, keeps
 * every byte it was given, agrees with the model reader, gives the same answer however the bytes
 * are cut into pushes, and only ever yields a host name. For every name it yields, and every
 * name given to the router directly: the router never throws, and never routes a name that
 * `parseSni` refuses, nor routes it anywhere but where the parsed name says.
 */
import {
  ClientHelloReader,
  DEFAULT_MAX_HELLO_LENGTH,
  HELLO_FAILURE_REASONS,
  type HelloResult,
} from "../../gateway/net/client-hello";
import { route, ROUTE_REJECT_REASONS, type RouteDecision } from "../../gateway/routing/router";
import { gatewayKey, serviceKey } from "../../gateway/routing/route-table";
import { parseSni } from "../../mesh/model/sni";
import type { FuzzCase } from "./cases";
import { FUZZ_DATACENTER, FUZZ_TABLE, FUZZ_TRUST_DOMAIN } from "./fuzz-table";
import { modelAnswer } from "./reference-reader";

/** The kinds of failure, stable: they name the crasher files. */
export const VIOLATIONS = [
  /** The reader or the router threw. */
  "crash",
  /** An answer outside the reader's or the router's declared values. */
  "bad-answer",
  /** The reader's bytes are not exactly what it was given. */
  "bytes-not-kept",
  /** The reader and the model reader disagree. */
  "model-disagrees",
  /** Cutting the same bytes differently changed the answer. */
  "chunking-changes-answer",
  /** The router routed a name that `parseSni` refuses, or elsewhere than the name says. */
  "accepted-name-parse-sni-rejects",
  /** The router routed a name with characters no host name has (a ClientHello cannot carry them). */
  "routed-non-host-name",
  /** The same name in other letter case routed differently. */
  "case-changes-route",
] as const;

/** One of {@link VIOLATIONS}. */
export type ViolationKind = (typeof VIOLATIONS)[number];

/** A failed case: what broke, and the details. */
export interface Violation {
  /** What broke. */
  kind: ViolationKind;
  /** What was seen, for the report. */
  detail: string;
}

const HOST_NAME = /^[a-z0-9._-]{1,255}$/;
/** The reader's default cap on bytes held without a complete hello. */
const MAX_BUFFERED = DEFAULT_MAX_HELLO_LENGTH + 1024;
const ASCII = /^[\x20-\x7e]*$/;

/**
 * Checks one case; `undefined` when it holds.
 * @param fuzzCase the case.
 */
export function checkCase(fuzzCase: FuzzCase): Violation | undefined {
  try {
    return fuzzCase.strategy === "router-name" ? checkName(fuzzCase.name) : checkBytes(fuzzCase.input, fuzzCase.chunks);
  } catch (error) {
    return { kind: "crash", detail: (error as Error).stack ?? String(error) };
  }
}

function checkBytes(input: Buffer, chunks: readonly number[]): Violation | undefined {
  const reader = new ClientHelloReader();
  const answer = input.length > 0 ? reader.push(input) : reader.state;
  const bad = badAnswer(answer);
  if (bad) return bad;
  if (!reader.bytes.equals(input))
    return { kind: "bytes-not-kept", detail: `kept ${reader.bytes.length} of ${input.length} bytes` };
  const model = modelAnswer(input);
  const agrees =
    answer.status === "error" ? model.status === "refused" : JSON.stringify(answer) === JSON.stringify(model);
  if (!agrees)
    return { kind: "model-disagrees", detail: `reader ${JSON.stringify(answer)}, model ${JSON.stringify(model)}` };
  const cuts = chunks.length > 0 ? [chunks] : Array.from({ length: input.length - 1 }, (_, i) => [i + 1, input.length]);
  for (const sizes of cuts) {
    const violation = checkCut(input, sizes, answer);
    if (violation) return violation;
  }
  return answer.status === "done" ? checkName(answer.sni) : undefined;
}

/** Reads `input` in pushes of `sizes` (cycled) and compares with the one-push answer. */
function checkCut(input: Buffer, sizes: readonly number[], whole: HelloResult): Violation | undefined {
  const reader = new ClientHelloReader();
  let answer: HelloResult = reader.state;
  let pushed = 0;
  for (let i = 0; pushed < input.length && answer.status === "need-more"; i++) {
    const size = sizes[i % sizes.length];
    answer = reader.push(input.subarray(pushed, pushed + size));
    pushed = Math.min(input.length, pushed + size);
  }
  const bad = badAnswer(answer);
  if (bad) return bad;
  if (!reader.bytes.equals(input.subarray(0, pushed)))
    return {
      kind: "bytes-not-kept",
      detail: `pushes of ${sizes.join(",")}: kept ${reader.bytes.length} of ${pushed} bytes`,
    };
  // Pushed in pieces, a hello over the buffer cap may be refused before a single push of it would be read.
  const comparable = input.length <= MAX_BUFFERED || answer.status === "done";
  if (comparable && JSON.stringify(answer) !== JSON.stringify(whole)) {
    return {
      kind: "chunking-changes-answer",
      detail: `one push: ${JSON.stringify(whole)}; pushes of ${sizes.slice(0, 12).join(",")}: ${JSON.stringify(answer)}`,
    };
  }
  return undefined;
}

function badAnswer(answer: HelloResult): Violation | undefined {
  const ok =
    answer.status === "need-more" ||
    (answer.status === "error" && (HELLO_FAILURE_REASONS as readonly string[]).includes(answer.reason)) ||
    (answer.status === "done" && HOST_NAME.test(answer.sni));
  return ok ? undefined : { kind: "bad-answer", detail: JSON.stringify(answer) };
}

function checkName(name: string): Violation | undefined {
  const decision = route(name, FUZZ_TABLE, FUZZ_DATACENTER, FUZZ_TRUST_DOMAIN);
  if (decision.kind === "reject") {
    return (ROUTE_REJECT_REASONS as readonly string[]).includes(decision.reason)
      ? undefined
      : { kind: "bad-answer", detail: JSON.stringify(decision) };
  }
  if (!/^[A-Za-z0-9._-]+$/.test(name)) return { kind: "routed-non-host-name", detail: JSON.stringify(name) };
  const wrong = misrouted(name, decision);
  if (wrong) return { kind: "accepted-name-parse-sni-rejects", detail: `${JSON.stringify(name)}: ${wrong}` };
  if (ASCII.test(name)) {
    const upper = route(name.toUpperCase(), FUZZ_TABLE, FUZZ_DATACENTER, FUZZ_TRUST_DOMAIN);
    if (JSON.stringify(upper) !== JSON.stringify(decision))
      return { kind: "case-changes-route", detail: JSON.stringify(name) };
  }
  return undefined;
}

/** Why a routed decision is not what the name says, or `undefined` when it is. */
function misrouted(name: string, decision: Exclude<RouteDecision, { kind: "reject" }>): string | undefined {
  const parsed = parseSni(name, FUZZ_TRUST_DOMAIN);
  if (parsed === undefined) return "routed, but parseSni refuses it";
  if (parsed.datacenter !== decision.datacenter) return `routed to ${decision.datacenter}, named ${parsed.datacenter}`;
  if (decision.kind === "local") {
    if (parsed.kind !== "service" || parsed.datacenter !== FUZZ_DATACENTER)
      return "routed locally, not a local service name";
    if (!FUZZ_TABLE.services.has(serviceKey(parsed.partition, parsed.namespace, parsed.service, parsed.subset)))
      return "routed to a service the table lacks";
    return undefined;
  }
  if (parsed.datacenter === FUZZ_DATACENTER) return "routed to a remote gateway, named the local datacenter";
  return FUZZ_TABLE.gateways.has(gatewayKey(parsed.datacenter, parsed.partition))
    ? undefined
    : "routed to a datacenter the table lacks";
}
