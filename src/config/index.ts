/**
 * @module config
 * A member's configuration: etcd 3.4.23's member flags, their `ETCD_*` environment
 * variables and etcd's YAML config-file keys, plus arbor's named limits (`ARBOR_*`),
 * combined with etcd's precedence and validated with zod into one typed `MemberConfig`.
 * Pure: it never touches `process`, the file system or the clock — argv, the environment
 * and a file reader are arguments — and every mistake is a one-line `ConfigError`.
 * Imports: lib (and the libraries commander, yaml, zod).
 */
export { loadConfig, type LoadOutcome } from './load.js'
export { ConfigError } from './errors.js'
export {
  memberConfigSchema,
  memberConfigWith,
  memberDefaults,
  limitDefaults,
  logLevels,
  type MemberConfig,
  type ConfigField,
  type LogLevel,
} from './schema.js'
export { bindAddressOf, parseInitialCluster, splitUrlList, renderInitialCluster, type BindAddress, type InitialClusterMember } from './urls.js'
export { etcdFlagsIgnored, etcdFlagsUnsupported } from './flags.js'
export { helpText, versionText, type VersionFacts } from './help.js'
export { cipherSuiteOpenSslNames, isHttpsUrl, nodeTlsVersionOf, openSslCiphersOf, tlsVersions, type TlsVersion } from './tls.js'
