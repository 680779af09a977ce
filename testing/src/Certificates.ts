/**
 * A throwaway PKI for mutual-TLS tests (RFC 8705), made at test time with Debian's `openssl` in a temporary
 * directory that is removed before the promise resolves: a CA, a server certificate for 127.0.0.1 / localhost, two
 * client certificates issued by the CA, and one self-signed client certificate. Every key is an unencrypted PKCS#8
 * P-256 key, valid for two days.
 */
import { execFile } from "node:child_process"
import * as crypto from "node:crypto"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { promisify } from "node:util"

const run = promisify(execFile)

export interface KeyPair {
  /** PEM certificate */
  readonly cert: string
  /** PEM PKCS#8 private key */
  readonly key: string
}

export interface ClientCertificate extends KeyPair {
  /** The subject DN as RFC 4514 text, e.g. `CN=mtls-client,O=effect-oauth2 tests` */
  readonly subject: string
  /** `x5t#S256`: base64url SHA-256 of the DER certificate (RFC 8705 §3.1) */
  readonly thumbprint: string
}

export interface TestPki {
  /** The CA certificate and key: the trust anchor for the server certificate and the CA-issued client certificates. */
  readonly ca: KeyPair
  /** For `127.0.0.1` and `localhost` (subjectAltName), extendedKeyUsage serverAuth. */
  readonly server: KeyPair
  /** Issued by the CA: the `tls_client_auth` client's certificate. */
  readonly client: ClientCertificate
  /** Issued by the CA to another subject: a valid certificate that is not the client's. */
  readonly other: ClientCertificate
  /** Self-signed: the `self_signed_tls_client_auth` client's certificate. */
  readonly selfSigned: ClientCertificate
}

/** The base64url SHA-256 of a PEM certificate's DER bytes (`x5t#S256`, RFC 8705 §3.1). */
export const certificateThumbprint = (pem: string): string =>
  crypto.createHash("sha256").update(new crypto.X509Certificate(pem).raw).digest("base64url")

const openssl = (cwd: string, ...args: Array<string>) => run("openssl", args, { cwd })

const newKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]

const read = async (dir: string, name: string): Promise<KeyPair> => ({
  cert: await fs.readFile(path.join(dir, `${name}.crt`), "utf8"),
  key: await fs.readFile(path.join(dir, `${name}.key`), "utf8")
})

/** A new key and a self-signed certificate for it (the CA, or a self-signed client). */
const selfSign = async (dir: string, name: string, subject: string, extensions: ReadonlyArray<string>) => {
  await openssl(
    dir,
    "req",
    "-x509",
    ...newKey,
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.crt`,
    "-days",
    "2",
    "-subj",
    subject,
    ...extensions.flatMap((extension) => ["-addext", extension])
  )
  return read(dir, name)
}

const issue = async (
  dir: string,
  name: string,
  subject: string,
  extensions: string
): Promise<KeyPair> => {
  await openssl(dir, "req", ...newKey, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", subject)
  await fs.writeFile(path.join(dir, `${name}.ext`), extensions)
  await openssl(
    dir,
    "x509",
    "-req",
    "-in",
    `${name}.csr`,
    "-CA",
    "ca.crt",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-days",
    "2",
    "-sha256",
    "-extfile",
    `${name}.ext`,
    "-out",
    `${name}.crt`
  )
  return read(dir, name)
}

const client = (pair: KeyPair): ClientCertificate => {
  const x509 = new crypto.X509Certificate(pair.cert)
  return {
    ...pair,
    subject: x509.subject.split("\n").reverse().join(","),
    thumbprint: certificateThumbprint(pair.cert)
  }
}

/** Makes a fresh PKI with `openssl`; fails when `openssl` is missing (`.ci/run` installs it). */
export const makeTestPki = async (): Promise<TestPki> => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "effect-oauth2-pki-"))
  try {
    const ca = await selfSign(dir, "ca", "/O=effect-oauth2 tests/CN=effect-oauth2 test CA", [
      "basicConstraints=critical,CA:TRUE",
      "keyUsage=critical,keyCertSign,cRLSign"
    ])
    const server = await issue(
      dir,
      "server",
      "/O=effect-oauth2 tests/CN=127.0.0.1",
      "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n"
    )
    const clientExtensions = "extendedKeyUsage=clientAuth\n"
    const issued = await issue(dir, "client", "/O=effect-oauth2 tests/CN=mtls-client", clientExtensions)
    const other = await issue(dir, "other", "/O=effect-oauth2 tests/CN=other-client", clientExtensions)
    const selfSigned = await selfSign(dir, "self", "/O=effect-oauth2 tests/CN=self-signed-client", [
      "extendedKeyUsage=clientAuth"
    ])
    return { ca, server, client: client(issued), other: client(other), selfSigned: client(selfSigned) }
  } finally {
    await fs.rm(dir, { recursive: true, force: true })
  }
}
