// Runs inside a container of the end-to-end test (plain Node, no dependencies): a TLS
// service standing in for a connect sidecar. It holds a certificate for its Consul SNI name
// and answers every line with one JSON line: who it is, the SNI name it received, the line.
// Env: SERVICE (name), DATACENTER, PORT (default 21000), TLS_CERT, TLS_KEY (PEM file paths).
"use strict";
const fs = require("node:fs");
const tls = require("node:tls");

const service = process.env.SERVICE || "unknown";
const datacenter = process.env.DATACENTER || "unknown";
const port = Number(process.env.PORT || 21000);

const server = tls.createServer(
  { cert: fs.readFileSync(process.env.TLS_CERT), key: fs.readFileSync(process.env.TLS_KEY) },
  (socket) => {
    let buffered = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk) => {
      buffered += chunk;
      let newline;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        socket.write(JSON.stringify({ service, datacenter, servername: socket.servername || null, line }) + "\n");
      }
    });
    socket.on("end", () => socket.end());
    socket.on("error", () => socket.destroy());
  },
);
server.listen(port, "0.0.0.0", () => console.log(`${service} (${datacenter}) listening on ${port}`));
const stop = () => server.close(() => process.exit(0)) && setTimeout(() => process.exit(0), 1000).unref();
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
