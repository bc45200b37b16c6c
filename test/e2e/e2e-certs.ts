/**
 * Certificates for the end-to-end test, made with the `openssl` CLI: one CA and one leaf
 * certificate per DNS name (ECDSA P-256, SAN = the name), written as world-readable PEM
 * files so that containers running as a non-root user can read them.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

/** Files of one leaf certificate. */
export interface LeafFiles {
  /** Certificate PEM path. */
  cert: string;
  /** Private key PEM path. */
  key: string;
}

/** The CA and the leaves, by DNS name. */
export interface CertificateFiles {
  /** CA certificate PEM path. */
  ca: string;
  /** Leaf files by DNS name. */
  leaves: Map<string, LeafFiles>;
}

function openssl(args: string[], cwd: string): void {
  execFileSync("openssl", args, { cwd, stdio: "pipe", timeout: 30_000 });
}

/**
 * Writes a CA and one leaf per name into `dir` (created if missing).
 * @param dir - Output directory.
 * @param names - DNS names; each gets its own certificate and key.
 */
export function makeCertificates(dir: string, names: string[]): CertificateFiles {
  fs.mkdirSync(dir, { recursive: true });
  openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "ca.key"], dir);
  openssl(
    ["req", "-x509", "-new", "-key", "ca.key", "-sha256", "-days", "2", "-subj", "/CN=consul-mesh e2e CA", "-out", "ca.pem",
      "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
    dir,
  );
  const leaves = new Map<string, LeafFiles>();
  names.forEach((name, i) => {
    const base = `leaf-${i}`;
    fs.writeFileSync(
      path.join(dir, `${base}.ext`),
      `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:${name}\n`,
    );
    openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", `${base}.key`], dir);
    openssl(["req", "-new", "-key", `${base}.key`, "-subj", `/CN=${name.split(".")[0]} (e2e)`, "-out", `${base}.csr`], dir);
    openssl(
      ["x509", "-req", "-in", `${base}.csr`, "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2", "-sha256",
        "-extfile", `${base}.ext`, "-out", `${base}.pem`],
      dir,
    );
    leaves.set(name, { cert: path.join(dir, `${base}.pem`), key: path.join(dir, `${base}.key`) });
  });
  for (const file of fs.readdirSync(dir)) fs.chmodSync(path.join(dir, file), 0o644);
  fs.chmodSync(dir, 0o755);
  return { ca: path.join(dir, "ca.pem"), leaves };
}
