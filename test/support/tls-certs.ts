/**
 * Throwaway certificates for TLS tests, made at run time with the `openssl` command (Debian's
 * openssl package) in a temporary directory: a CA, leaf certificates it signs (server and
 * client use, SANs 127.0.0.1 and localhost), and self-signed ones from a stranger. Keys are
 * ECDSA P-256, valid two days. Nothing here is ever committed.
 */
import { execFileSync } from 'node:child_process'
import { X509Certificate } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/** A certificate and its key on disk. */
export interface CertFiles {
  readonly certFile: string
  readonly keyFile: string
}

/** A CA on disk that signs leaves. */
export interface TestCa extends CertFiles {
  readonly dir: string
  readonly name: string
}

function openssl(args: readonly string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 })
}

/** A new CA named `name` in `dir` (files `<name>-ca.pem`, `<name>-ca.key`). */
export function makeCa(dir: string, name: string): TestCa {
  const certFile = join(dir, `${name}-ca.pem`)
  const keyFile = join(dir, `${name}-ca.key`)
  openssl([
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2',
    '-keyout', keyFile, '-out', certFile, '-subj', `/CN=${name} test CA`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ])
  return { dir, name, certFile, keyFile }
}

/**
 * A leaf certificate for `commonName` signed by `ca`, valid for server and client use on
 * 127.0.0.1 and localhost (or `hosts`). Files `<stem>.pem` and `<stem>.key` in `ca.dir`.
 */
export function makeLeaf(ca: TestCa, stem: string, commonName: string, hosts: readonly string[] = ['IP:127.0.0.1', 'DNS:localhost']): CertFiles {
  const certFile = join(ca.dir, `${stem}.pem`)
  const keyFile = join(ca.dir, `${stem}.key`)
  const csr = join(ca.dir, `${stem}.csr`)
  const ext = join(ca.dir, `${stem}.ext`)
  writeFileSync(ext, `subjectAltName=${hosts.join(',')}\nextendedKeyUsage=serverAuth,clientAuth\nbasicConstraints=CA:FALSE\n`)
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyFile, '-out', csr, '-subj', `/CN=${commonName}`])
  openssl(['x509', '-req', '-in', csr, '-CA', ca.certFile, '-CAkey', ca.keyFile, '-CAcreateserial', '-days', '2', '-out', certFile, '-extfile', ext])
  return { certFile, keyFile }
}

/** The SHA-256 fingerprint of the certificate in `certFile` (as `X509Certificate` spells it). */
export function fingerprintOf(certFile: string): string {
  return new X509Certificate(readFileSync(certFile)).fingerprint256
}
