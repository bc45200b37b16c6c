/**
 * The Node.js flags `sni-gateway` runs with, written in `main.ts`'s first line
 * (`#!/usr/bin/env -S node …`, checked by a test) and used by whatever starts `main.js` with
 * `node` itself (the benchmark).
 *
 * `--max-semi-space-size=4` caps V8's young generation at 4 MiB per semi-space (default: 16 MiB
 * on 64-bit): a gateway's garbage is short-lived (the sockets and streams of each handshake), and
 * a young generation grown to its default maximum stays resident. Measured at 5,000 idle
 * connections through the splice relay: 7.3 KiB of RSS growth per connection with the default,
 * 2.5 KiB with this cap; CPU per new connection was unchanged within the run's noise.
 */
export const GATEWAY_NODE_FLAGS = ["--max-semi-space-size=4"] as const;
