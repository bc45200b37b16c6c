/**
 * TLS material for the main job's demo services, the tests and the benchmarks, made with the
 * `openssl` CLI: a private CA and leaf certificates valid only for the names given (e.g.
 * Consul SNI names), written to a temporary directory.
 *
 * ```ts
 * const pki = await createTestPki();                       // CA in a new temp dir
 * const web = await pki.issue(["web.default.dc1.internal.<td>"]);
 * tls.createServer({ key: web.key, cert: web.cert }, …);
 * tls.connect({ servername: "web.default.dc1.internal.<td>", ca: pki.caCert, … });
 * await pki.cleanup();
 * ```
 * ECDSA P-256 keys; each certificate has only the given DNS names as subjectAltName (no
 * wildcard unless you pass one), so a client that verifies proves it reached the right backend.
 */
import { execFile } from "node:child_process";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** A key and certificate, as PEM text and as files. */
export interface IssuedCertificate {
  /** PEM private key. */
  key: string;
  /** PEM certificate (leaf only). */
  cert: string;
  /** Path of the key file. */
  keyFile: string;
  /** Path of the certificate file. */
  certFile: string;
  /** The DNS names the certificate is valid for. */
  names: string[];
}

/** A private CA in a temp directory. */
export interface TestPki {
  /** The directory holding every file; removed by {@link TestPki.cleanup}. */
  dir: string;
  /** PEM CA certificate: pass as `ca` to verify. */
  caCert: string;
  /** Path of the CA certificate file (for `CONSUL_CACERT`, `openssl s_client -CAfile`…). */
  caFile: string;
  /**
   * Issues a server certificate valid for exactly `names` (DNS subjectAltNames; an IP address
   * such as `127.0.0.1` becomes an IP SAN), signed by the CA, valid for 2 days.
   * @param names at least one name; the first is also the subject CN.
   */
  issue(names: string[]): Promise<IssuedCertificate>;
  /** Removes the directory. */
  cleanup(): Promise<void>;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await run("openssl", args, { cwd });
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`openssl ${args[0]} failed: ${e.stderr?.trim() || e.message}`);
  }
}

/**
 * Creates a CA (ECDSA P-256, CN "Test Mesh CA") in a new temp directory.
 * @param prefix temp directory name prefix. Default: `"mesh-pki-"`.
 */
export async function createTestPki(prefix = "mesh-pki-"): Promise<TestPki> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  await openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "ca.key"], dir);
  await openssl(
    [
      "req",
      "-x509",
      "-new",
      "-key",
      "ca.key",
      "-sha256",
      "-days",
      "2",
      "-subj",
      "/CN=Test Mesh CA",
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
      "-out",
      "ca.crt",
    ],
    dir,
  );
  const caFile = path.join(dir, "ca.crt");
  const caCert = await fs.readFile(caFile, "utf8");
  let serial = 0;
  return {
    dir,
    caCert,
    caFile,
    async issue(names: string[]): Promise<IssuedCertificate> {
      if (names.length === 0) throw new Error("issue: names must not be empty");
      serial++;
      const base = `leaf-${serial}`;
      const san = names.map((n) => (/^[\d.]+$/.test(n) || n.includes(":") ? `IP:${n}` : `DNS:${n}`)).join(",");
      const cn = names[0].length <= 64 ? names[0] : names[0].slice(0, 64);
      await fs.writeFile(
        path.join(dir, `${base}.ext`),
        `basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=${san}\n`,
      );
      await openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", `${base}.key`], dir);
      await openssl(["req", "-new", "-key", `${base}.key`, "-subj", `/CN=${cn}`, "-out", `${base}.csr`], dir);
      await openssl(
        [
          "x509",
          "-req",
          "-in",
          `${base}.csr`,
          "-CA",
          "ca.crt",
          "-CAkey",
          "ca.key",
          "-set_serial",
          String(1000 + serial),
          "-days",
          "2",
          "-sha256",
          "-extfile",
          `${base}.ext`,
          "-out",
          `${base}.crt`,
        ],
        dir,
      );
      const keyFile = path.join(dir, `${base}.key`);
      const certFile = path.join(dir, `${base}.crt`);
      return {
        key: await fs.readFile(keyFile, "utf8"),
        cert: await fs.readFile(certFile, "utf8"),
        keyFile,
        certFile,
        names: [...names],
      };
    },
    async cleanup(): Promise<void> {
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}
