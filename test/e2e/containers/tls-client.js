// Runs inside a container of the end-to-end test (plain Node, no dependencies): dials
// HOST:PORT with TLS, sending SERVERNAME as SNI and verifying the server's certificate
// against the CA and that name, writes each message as a line and reads one reply line per
// message, waiting HOLD_MS between messages. Writes `reply N` to stderr as replies arrive, and
// prints one JSON line:
//   {"ok":true,"replies":[...]} or {"ok":false,"stage":"connect|tls|reply","error":"..."}
// Usage: node tls-client.js HOST PORT SERVERNAME CA_FILE [HOLD_MS] [MESSAGE...]
"use strict";
const dns = require("node:dns");
const fs = require("node:fs");
const tls = require("node:tls");

const [host, port, servername, caFile, holdMs = "0", ...rest] = process.argv.slice(2);
const messages = rest.length > 0 ? rest : ["ping"];
const TIMEOUT_MS = 5000;
let stage = "connect";
let done = false;

function finish(result) {
  if (done) return;
  done = true;
  console.log(JSON.stringify(result));
  process.exit(0);
}

const timer = setTimeout(
  () => finish({ ok: false, stage, error: `timeout after ${TIMEOUT_MS + Number(holdMs) * messages.length} ms` }),
  TIMEOUT_MS + Number(holdMs) * messages.length,
);
timer.unref();

// Names are resolved with c-ares (bounded: one try, 2 s) rather than getaddrinfo, whose
// lookups of unknown names on an internal network hang and would delay the exit.
const resolver = new dns.Resolver({ timeout: 2000, tries: 1 });
function lookup(hostname, options, callback) {
  resolver.resolve4(hostname, (error, addresses) => {
    if (error) return callback(error);
    if (options && options.all)
      return callback(
        null,
        addresses.map((address) => ({ address, family: 4 })),
      );
    callback(null, addresses[0], 4);
  });
}

const socket = tls.connect({
  host,
  port: Number(port),
  servername,
  ca: fs.readFileSync(caFile),
  minVersion: "TLSv1.2",
  lookup,
});
socket.once("connect", () => (stage = "tls"));
socket.setEncoding("utf8");
const replies = [];
let buffered = "";
let next = 0;
function send() {
  socket.write(messages[next++] + "\n");
}
socket.once("secureConnect", () => {
  stage = "reply";
  send();
});
socket.on("data", (chunk) => {
  buffered += chunk;
  let newline;
  while ((newline = buffered.indexOf("\n")) >= 0) {
    replies.push(JSON.parse(buffered.slice(0, newline)));
    buffered = buffered.slice(newline + 1);
    process.stderr.write(`reply ${replies.length}\n`); // progress, for callers that stream stderr
    if (replies.length === messages.length) {
      socket.end();
      finish({ ok: true, replies, protocol: socket.getProtocol(), peer: socket.getPeerCertificate().subjectaltname });
    } else {
      setTimeout(send, Number(holdMs));
    }
  }
});
socket.on("error", (error) => finish({ ok: false, stage, error: `${error.code || ""} ${error.message}`.trim() }));
socket.on("close", () => finish({ ok: false, stage, error: "closed before all replies" }));
