/**
 * openapi.yaml against the code. Goal: the API description stays valid and true to what
 * src/http serves. Method: lint it with redocly's recommended rules (as configured in
 * redocly.yaml), then read it with `yaml` and compare it with the source text of the
 * dispatcher (src/http/app.ts), of each route's 405 `Allow` list (src/http/keys.ts,
 * src/http/cluster-routes.ts, src/http/members-route.ts), with every v2 error code the
 * http, server and store modules can throw, and with the named limits of src/config.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'
import { ErrorCode, errorMessages, httpStatusOf } from '../src/v2error/index.js'
import { limitDefaults } from '../src/config/index.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const source = (path: string): string => readFileSync(join(root, path), 'utf8')

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }
type JsonObject = { [key: string]: Json }

const spec = parse(source('openapi.yaml')) as JsonObject
const appSource = source('src/http/app.ts')
const membersSource = source('src/http/members-route.ts')

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** `node` with a local `$ref` (`#/components/...`) followed, as many times as it takes. */
function deref(node: Json | undefined): Json | undefined {
  let current = node
  for (let hops = 0; isObject(current) && typeof current['$ref'] === 'string'; hops++) {
    assert.ok(hops < 10, 'a $ref chain ends')
    const pointer = current['$ref']
    assert.ok(pointer.startsWith('#/'), `only local refs: ${pointer}`)
    let target: Json | undefined = spec
    for (const raw of pointer.slice(2).split('/')) {
      const key = raw.replaceAll('~1', '/').replaceAll('~0', '~')
      target = isObject(target) ? target[key] : undefined
    }
    assert.notEqual(target, undefined, `${pointer} resolves`)
    current = target
  }
  return current
}

/** The field `key` of `node` (both dereferenced), or undefined. */
function field(node: Json | undefined, key: string): Json | undefined {
  const resolved = deref(node)
  return isObject(resolved) ? deref(resolved[key]) : undefined
}

function keysOf(node: Json | undefined): string[] {
  const resolved = deref(node)
  return isObject(resolved) ? Object.keys(resolved) : []
}

const httpMethods = ['get', 'head', 'put', 'post', 'delete', 'options', 'patch', 'trace'] as const

/**
 * What the dispatcher in src/http/app.ts serves, as OpenAPI paths: the path literal of
 * app.ts each one stands for, and who decides its methods (`keys` is handleKeys in keys.ts,
 * `metrics` is any method of app.ts's `allMethods`, `membersRoute` is members-route.ts,
 * the others are handlers of cluster-routes.ts). Kept in sync with app.ts by hand; the
 * tests below check it against that file's text, so a route added there without a line
 * here fails.
 */
const servedRoutes = [
  { path: '/v2/keys', literal: '/v2/keys', handler: 'keys' },
  { path: '/v2/keys/{key}', literal: '/v2/keys/', handler: 'keys' },
  { path: '/v2/members', literal: '/v2/members', handler: 'membersRoute' },
  { path: '/v2/members/leader', literal: '/v2/members/', handler: 'membersRoute' },
  { path: '/v2/members/{memberId}', literal: '/v2/members/', handler: 'membersRoute' },
  { path: '/v2/machines', literal: '/v2/machines', handler: 'machinesRoute' },
  { path: '/v2/stats/self', literal: '/v2/stats/self', handler: 'statsSelfRoute' },
  { path: '/v2/stats/leader', literal: '/v2/stats/leader', handler: 'statsLeaderRoute' },
  { path: '/v2/stats/store', literal: '/v2/stats/store', handler: 'statsStoreRoute' },
  { path: '/version', literal: '/version', handler: 'versionRoute' },
  { path: '/health', literal: '/health', handler: 'healthRoute' },
  { path: '/metrics', literal: '/metrics', handler: 'metrics' },
  { path: '/arbor/v1/snapshot', literal: '/arbor/v1/snapshot', handler: 'snapshot' },
  // The auth paths are matched in auth-routes.ts (`isAuthPath`), not in app.ts.
  { path: '/v2/auth/enable', literal: '/v2/auth/enable', handler: 'authEnable' },
  { path: '/v2/auth/users', literal: '/v2/auth/users', handler: 'authCollection' },
  { path: '/v2/auth/roles', literal: '/v2/auth/roles', handler: 'authCollection' },
  { path: '/v2/auth/users/{name}', literal: '/v2/auth/users/', handler: 'authItem' },
  { path: '/v2/auth/roles/{name}', literal: '/v2/auth/roles/', handler: 'authItem' },
] as const

/**
 * Operations of a method the code serves that have no success answer in the code, each
 * with the status it documents instead (why operation-2xx-response is off in redocly.yaml).
 * The members entries are checked against members-route.ts's text below.
 */
const noSuccessInCode = new Map<string, string>([
  ['PUT /v2/keys', '400'], // the root is read only (107)
  ['DELETE /v2/keys', '400'], // 107, or 102 for a compare-and-delete
  ['GET /v2/members/{memberId}', '404'], // no per-member read: `Not found`
  ['POST /v2/members/{memberId}', '404'], // no POST below /v2/members/: `Not found`
  ['POST /v2/members/leader', '404'], // the same
  ['PUT /v2/members/leader', '404'], // `leader` taken as a member ID: `No such member: leader`
  ['DELETE /v2/members/leader', '404'], // the same
])

/** The text of the first match group of `pattern` in `text`. */
function captured(text: string, pattern: RegExp, what: string): string {
  const match = pattern.exec(text)
  assert.ok(match?.[1] !== undefined, `found ${what}`)
  return match[1]
}

/**
 * The methods the code serves on a route (OPTIONS included: a pre-flight on every path),
 * the `Allow` list of its 405 to the others, and the methods it refuses although that list
 * names them, each with the `Allow` of that refusal (undefined: the 405 has none).
 */
function acceptedMethods(route: (typeof servedRoutes)[number]): {
  methods: Set<string>
  allow: string | undefined
  refused: Map<string, string | undefined>
} {
  const { handler } = route
  const refused = new Map<string, string | undefined>()
  assert.match(appSource, /if \(request\.method === 'OPTIONS'\)/, 'OPTIONS is answered before routing')
  if (handler === 'metrics') {
    const list = captured(appSource, /const allMethods = \[([^\]]+)\]/, 'allMethods in app.ts')
    const methods = list.split(',').map((m) => m.trim().replaceAll("'", ''))
    return { methods: new Set([...methods, 'OPTIONS']), allow: undefined, refused }
  }
  const allowPattern = /sendMethodNotAllowed\(reply, '([A-Z,]+)'\)/
  let text = source('src/http/keys.ts')
  if (handler === 'snapshot') {
    text = source('src/http/snapshot-route.ts')
  } else if (handler === 'membersRoute') {
    text = membersSource.slice(membersSource.indexOf('default:'))
  } else if (handler.startsWith('auth')) {
    const auth = source('src/http/auth-routes.ts')
    const starts: Record<string, string> = { authEnable: 'async function enableRoute', authCollection: 'async function collectionRoute', authItem: 'export async function handleAuth' }
    const start = starts[handler] ?? 'no such handler'
    assert.ok(auth.includes(start), `${start} is in auth-routes.ts`)
    text = auth.slice(auth.indexOf(start))
  } else if (handler !== 'keys') {
    const routes = source('src/http/cluster-routes.ts')
    const start = routes.indexOf(`export const ${handler}: RouteHandler`)
    assert.ok(start >= 0, `${handler} is in cluster-routes.ts`)
    text = routes.slice(start)
  }
  const allow = captured(text, allowPattern, `the 405 Allow list of ${handler}`)
  const methods = new Set([...allow.split(','), 'OPTIONS'])
  if (route.path === '/v2/members') {
    // PUT and DELETE share a case with POST; without a member ID they are refused.
    assert.match(membersSource, /case 'POST':\s*case 'PUT':\s*case 'DELETE':/, 'POST, PUT and DELETE share a case')
    const line = captured(membersSource, /if \(request\.method !== 'POST' && rest === ''\) return (.+)/, 'the refusal of an id-less change')
    const refusalAllow = allowPattern.exec(line)?.[1]
    assert.ok(refusalAllow !== undefined || /\b405\b/.test(line), `an id-less PUT or DELETE is a 405: ${line}`)
    for (const method of ['PUT', 'DELETE']) {
      methods.delete(method)
      refused.set(method, refusalAllow)
    }
  }
  return { methods, allow, refused }
}

describe('openapi.yaml is valid', () => {
  test('redocly lint (recommended rules, redocly.yaml) reports no error and no warning', () => {
    const result = spawnSync(join(root, 'node_modules/.bin/redocly'), ['lint', 'openapi.yaml', '--format=json'], {
      cwd: root,
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
    })
    assert.equal(result.status, 0, result.stderr)
    const report = JSON.parse(result.stdout) as {
      totals: { errors: number; warnings: number }
      problems: { ruleId: string; message: string; location: { pointer: string }[] }[]
    }
    const problems = report.problems.map((p) => `${p.ruleId} at ${p.location[0]?.pointer}: ${p.message}`)
    assert.deepEqual(problems, [])
    assert.equal(report.totals.errors, 0)
    assert.equal(report.totals.warnings, 0)
  })
})

describe('openapi.yaml documents every route', () => {
  test('the route list above names every path literal of src/http/app.ts, and only those', () => {
    const literals = [...appSource.matchAll(/'(\/[A-Za-z0-9][A-Za-z0-9/_-]*)'/g)].map((m) => m[1])
    // The snapshot route's path is a constant of its own file, which app.ts compares with.
    assert.match(appSource, /target\.path === snapshotRoutePath/)
    literals.push(captured(source('src/http/snapshot-route.ts'), /snapshotRoutePath = '([^']+)'/, 'the snapshot path'))
    const inApp = servedRoutes.filter((r) => !r.handler.startsWith('auth'))
    assert.deepEqual([...new Set(literals)].sort(), [...new Set(inApp.map((r) => r.literal))].sort())
    const authSource = source('src/http/auth-routes.ts')
    for (const r of servedRoutes) if (r.handler.startsWith('auth')) assert.ok(authSource.includes(`'${r.literal}'`), r.literal)
  })

  test('each exact route of app.ts has the handler the route list names', () => {
    const pairs = [...appSource.matchAll(/\['(\/[^']+)', routes\.(\w+)\]/g)]
    assert.ok(pairs.length > 0, 'exactRoutes found in app.ts')
    for (const [, path, handler] of pairs) {
      const route = servedRoutes.find((r) => r.path === path)
      assert.equal(route?.handler, handler, `${path} is served by ${handler}`)
    }
    assert.match(appSource, /target\.path === '\/metrics'/)
    assert.match(appSource, /import \{ membersRoute \} from '\.\/members-route\.js'/)
    assert.match(appSource, /path === '\/v2\/members\/'\) return \{ kind: 'route', handler: membersRoute, rest: '' \}/)
    assert.match(appSource, /path\.startsWith\('\/v2\/members\/'\)\) return \{ kind: 'route', handler: membersRoute, rest: path\.slice\(12\) \}/)
  })

  test('members-route.ts answers as the 404 entries of the members paths above say', () => {
    assert.match(membersSource, /if \(rest === 'leader'\)/, 'GET /v2/members/leader names the leader')
    assert.match(membersSource, /return sendMessage\(reply, 404, 'Not found'\)\s*case 'POST':/, 'any other GET below /v2/members/ is 404')
    assert.match(membersSource, /request\.method === 'POST' && rest !== ''\) return sendMessage\(reply, 404, 'Not found'/, 'POST below /v2/members/ is 404')
    assert.match(membersSource, /await member\.removeMember\(id\)/, 'DELETE takes the rest as an ID (leader: 404)')
    assert.match(membersSource, /await member\.updateMember\(id, peerUrls\)/, 'PUT takes the rest as an ID (leader: 404)')
  })

  test('the paths of openapi.yaml are exactly the served routes', () => {
    assert.deepEqual(keysOf(spec['paths']).sort(), servedRoutes.map((r) => r.path).sort())
  })

  for (const route of servedRoutes) {
    test(`${route.path}: every method the code serves is documented with its answer`, () => {
      const { methods } = acceptedMethods(route)
      const pathItem = field(spec['paths'], route.path)
      for (const method of methods) {
        const statuses = keysOf(field(field(pathItem, method.toLowerCase()), 'responses'))
        const name = `${method} ${route.path}`
        assert.ok(statuses.length > 0, `${name} is documented`)
        assert.ok(!statuses.includes('405'), `${name} is served, not refused`)
        const expected = noSuccessInCode.get(name)
        if (method === 'OPTIONS') assert.deepEqual(statuses, ['200'], `${name} is a pre-flight`)
        else if (expected !== undefined) assert.ok(statuses.includes(expected), `${name} documents ${expected}`)
        else assert.ok(statuses.some((s) => s.startsWith('2')), `${name} documents a success`)
      }
    })

    test(`${route.path}: every documented method the code refuses answers 405 with the code's Allow list`, () => {
      const { methods, allow, refused } = acceptedMethods(route)
      const pathItem = field(spec['paths'], route.path)
      for (const method of refused.keys()) {
        assert.notEqual(field(pathItem, method.toLowerCase()), undefined, `${method} ${route.path} (refused) is documented`)
      }
      for (const method of httpMethods) {
        const operation = field(pathItem, method)
        if (operation === undefined || methods.has(method.toUpperCase())) continue
        const name = `${method.toUpperCase()} ${route.path}`
        const responses = field(operation, 'responses')
        assert.deepEqual(keysOf(responses), ['405'], `${name} only answers 405`)
        const expected = refused.has(method.toUpperCase()) ? refused.get(method.toUpperCase()) : allow
        const allowHeader = field(field(field(responses, '405'), 'headers'), 'Allow')
        if (expected === undefined) assert.equal(allowHeader, undefined, `${name}: a 405 without Allow`)
        else assert.equal(field(field(allowHeader, 'schema'), 'const'), expected, `Allow of ${name}`)
      }
    })
  }
})

/** Every `ErrorCode.<Name>` the modules whose errors reach HTTP refer to, as numbers. */
function emittedErrorCodes(): Set<number> {
  const codes = new Set<number>()
  for (const folder of ['src/http', 'src/server', 'src/store']) {
    for (const file of readdirSync(join(root, folder)).filter((f) => f.endsWith('.ts'))) {
      for (const match of source(join(folder, file)).matchAll(/ErrorCode\.(\w+)/g)) {
        const name = match[1] as keyof typeof ErrorCode
        assert.ok(name in ErrorCode, `ErrorCode.${name} exists (${folder}/${file})`)
        codes.add(ErrorCode[name])
      }
    }
  }
  return codes
}

/** Every v2 error example under a /v2/keys operation: its status and its body. */
function keySpaceErrorExamples(): { where: string; status: string; body: JsonObject }[] {
  const found: { where: string; status: string; body: JsonObject }[] = []
  for (const path of ['/v2/keys', '/v2/keys/{key}']) {
    const pathItem = field(spec['paths'], path)
    for (const method of keysOf(pathItem).filter((k) => (httpMethods as readonly string[]).includes(k))) {
      const responses = field(field(pathItem, method), 'responses')
      for (const status of keysOf(responses)) {
        const examples = field(field(field(field(responses, status), 'content'), 'application/json'), 'examples')
        for (const name of keysOf(examples)) {
          const body = field(field(examples, name), 'value')
          if (isObject(body) && 'errorCode' in body) found.push({ where: `${method} ${path} ${status} ${name}`, status, body })
        }
      }
    }
  }
  return found
}

describe('openapi.yaml documents every v2 error code arbor can send', () => {
  const emitted = emittedErrorCodes()
  const examples = keySpaceErrorExamples()

  test('the V2Error schema lists exactly the codes the http, server and store modules throw', () => {
    const documented = field(field(field(field(spec['components'], 'schemas'), 'V2Error'), 'properties'), 'errorCode')
    const codes = field(documented, 'enum')
    assert.ok(Array.isArray(codes))
    assert.deepEqual([...codes].sort(), [...emitted].sort())
  })

  for (const code of [...emitted].sort((a, b) => a - b)) {
    test(`${code} (${errorMessages[code as ErrorCode]}) has an example under HTTP ${httpStatusOf(code as ErrorCode)}`, () => {
      const status = String(httpStatusOf(code as ErrorCode))
      const matching = examples.filter((e) => e.body['errorCode'] === code)
      assert.ok(matching.some((e) => e.status === status), `an example of ${code} under ${status}`)
    })
  }

  test('every error example carries its code\'s exact message, under the code\'s HTTP status', () => {
    assert.ok(examples.length > 0)
    for (const { where, status, body } of examples) {
      const code = body['errorCode'] as ErrorCode
      assert.equal(body['message'], errorMessages[code], where)
      assert.equal(status, String(httpStatusOf(code)), where)
    }
  })
})

describe('openapi.yaml documents the named limits', () => {
  /** The limits a client of the HTTP API can run into, from src/config's defaults. */
  const limits = [
    'requestBodyBytesMax',
    'valueBytesMax',
    'keyBytesMax',
    'keyDepthMax',
    'watchersMax',
    'watcherEventsMax',
    'pendingProposalsMax',
    'historyEventsMax',
    'headerBytesMax',
    'headersTimeoutMs',
    'requestReceiveTimeoutMs',
    'keepAliveTimeoutMs',
  ] as const
  const description = String(field(spec['info'], 'description'))
  const flagsSource = source('src/config/flags.ts')

  for (const limit of limits) {
    test(`${limit}: its flag, variable, config key and default are in the limits table`, () => {
      const flag = limit.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)
      assert.ok(flagsSource.includes(`['${flag}', '${limit}'`), `--${flag} is the flag of ${limit}`)
      const variable = `ARBOR_${flag.toUpperCase().replaceAll('-', '_')}`
      const row = description.split('\n').find((line) => line.startsWith(`| \`--${flag}\``))
      assert.ok(row !== undefined, `a row for --${flag}`)
      assert.ok(row.includes(`\`${variable}\``), `${variable} in its row`)
      assert.ok(row.includes(`\`${flag}\``), `config key ${flag} in its row`)
      assert.ok(row.includes(String(limitDefaults[limit])), `default ${limitDefaults[limit]} in its row`)
    })
  }
})
