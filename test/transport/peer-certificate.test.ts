// Goal: the peer listener's identity check (`--peer-cert-allowed-cn`,
// `--peer-cert-allowed-hostname`) accepts exactly the certificates that name the allowed peer.
// Method: a table of certificate shapes as Node's getPeerCertificate() reports them.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { PeerCertificate } from 'node:tls'
import { peerCertificateProblem } from '../../src/transport/index.js'

function certificate(cn: string, subjectaltname?: string): PeerCertificate {
  return { subject: { CN: cn }, subjectaltname } as unknown as PeerCertificate
}

const cases = [
  { name: 'no check passes any certificate', cert: certificate('x'), allowed: { commonName: '', hostname: '' }, ok: true },
  { name: 'the allowed CN passes', cert: certificate('member'), allowed: { commonName: 'member', hostname: '' }, ok: true },
  { name: 'another CN is refused', cert: certificate('rogue'), allowed: { commonName: 'member', hostname: '' }, ok: false },
  { name: 'no certificate is refused by a CN check', cert: {} as PeerCertificate, allowed: { commonName: 'member', hostname: '' }, ok: false },
  { name: 'a certificate valid for the allowed hostname passes', cert: certificate('x', 'DNS:m1.example'), allowed: { commonName: '', hostname: 'm1.example' }, ok: true },
  { name: 'a certificate for another hostname is refused', cert: certificate('x', 'DNS:m2.example'), allowed: { commonName: '', hostname: 'm1.example' }, ok: false },
  { name: 'no certificate is refused by a hostname check', cert: undefined, allowed: { commonName: '', hostname: 'm1.example' }, ok: false },
]
for (const c of cases) {
  test(c.name, () => assert.equal(peerCertificateProblem(c.cert, c.allowed) === undefined, c.ok))
}
