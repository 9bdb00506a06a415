/**
 * `/v2/auth` (spec/v2-auth-and-security.md §2; etcd v2http client_auth.go): the enabled
 * flag, users and roles. Reads come from this member's applied auth state; changes are
 * proposed through the Raft log (`member.authChange`) and answered once applied here.
 * Passwords are hashed here, before the change is proposed, so that no log entry, snapshot
 * or database row ever holds one. Every route but `GET /v2/auth/enable` needs the root role
 * while auth is on. Errors are `{"message":...}` without a trailing newline.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import { goJsonString } from '../lib/index.js'
import { AuthError, hashPassword, type AuthCommand, type AuthResult, type GuestAccess, type KvPermissions, type Role } from '../auth/index.js'
import type { MemberApi } from '../server/index.js'
import type { AuthGate } from './auth-gate.js'
import { sendJson, sendMessage, sendMethodNotAllowed } from './render.js'

/** What the auth routes need. */
export interface AuthContext {
  readonly member: MemberApi
  readonly gate: AuthGate
  /** Permissions of the guest role created when auth is enabled (`--auth-guest-access`). */
  readonly guestAccess: GuestAccess
}

const authPrefix = '/v2/auth'

/** Whether `path` (decoded) is served by the auth handler (Go ServeMux patterns). */
export function isAuthPath(path: string): boolean {
  return (
    path === '/v2/auth/enable' ||
    path === '/v2/auth/users' ||
    path === '/v2/auth/roles' ||
    path.startsWith('/v2/auth/users/') ||
    path.startsWith('/v2/auth/roles/')
  )
}

/** The Allow list of the auth handler for `path`. */
export function authAllowOf(path: string): string {
  return path === '/v2/auth/users' || path === '/v2/auth/roles' ? 'GET' : 'GET,PUT,DELETE'
}

/** Handles one request on an auth path (`isAuthPath`). */
export async function handleAuth(ctx: AuthContext, request: FastifyRequest, reply: FastifyReply, path: string): Promise<FastifyReply> {
  if (path === '/v2/auth/enable') return enableRoute(ctx, request, reply)
  const kind = path.startsWith('/v2/auth/users') ? 'users' : 'roles'
  const pieces = cleanPath(path.slice(authPrefix.length)).split('/')
  if (pieces.length === 2) return collectionRoute(ctx, request, reply, kind)
  if (pieces.length !== 3) return sendJson(reply, 400, '{"message":"Invalid path"}')
  const name = pieces[2] ?? ''
  if (!['GET', 'PUT', 'DELETE'].includes(request.method)) return sendMethodNotAllowed(reply, 'GET,PUT,DELETE')
  if (!(await ctx.gate.isRoot(request))) return sendInsufficient(reply)
  reply.header('x-etcd-cluster-id', ctx.member.clusterId)
  try {
    return kind === 'users' ? await userRoute(ctx, request, reply, name) : await roleRoute(ctx, request, reply, name)
  } catch (error) {
    if (error instanceof AuthError) return sendMessage(reply, error.status, error.message)
    throw error
  }
}

/** Go's path.Clean for the part after `/v2/auth` (never holds `.` segments: those were redirected). */
function cleanPath(path: string): string {
  const cleaned = path.split('/').filter((p) => p !== '').join('/')
  return '/' + cleaned
}

function sendInsufficient(reply: FastifyReply): FastifyReply {
  return sendJson(reply, 401, '{"message":"Insufficient credentials"}')
}

async function enableRoute(ctx: AuthContext, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const method = request.method
  if (method !== 'GET' && method !== 'PUT' && method !== 'DELETE') return sendMethodNotAllowed(reply, 'GET,PUT,DELETE')
  if (method !== 'GET' && !(await ctx.gate.isRoot(request))) return sendInsufficient(reply)
  reply.header('x-etcd-cluster-id', ctx.member.clusterId)
  if (method === 'GET') return sendJson(reply, 200, `{"enabled":${ctx.member.auth.isEnabled()}}\n`)
  return answerChange(ctx, reply, method === 'PUT' ? { op: 'enable', guestAccess: ctx.guestAccess } : { op: 'disable' })
}

async function collectionRoute(ctx: AuthContext, request: FastifyRequest, reply: FastifyReply, kind: 'users' | 'roles'): Promise<FastifyReply> {
  if (request.method !== 'GET') return sendMethodNotAllowed(reply, 'GET')
  if (!(await ctx.gate.isRoot(request))) return sendInsufficient(reply)
  reply.header('x-etcd-cluster-id', ctx.member.clusterId)
  const auth = ctx.member.auth
  if (kind === 'roles') return sendJson(reply, 200, `{"roles":[${auth.allRoles().map(roleJson).join(',')}]}\n`)
  const users = auth.allUsers()
  if (users.length === 0) return sendJson(reply, 200, '{"users":null}\n')
  return sendJson(reply, 200, `{"users":[${users.map((u) => userWithRolesJson(ctx, u.name, u.roles)).join(',')}]}\n`)
}

async function userRoute(ctx: AuthContext, request: FastifyRequest, reply: FastifyReply, name: string): Promise<FastifyReply> {
  const auth = ctx.member.auth
  switch (request.method) {
    case 'GET': {
      const user = auth.user(name)
      if (user === undefined) throw new AuthError(404, `auth: User ${name} does not exist.`)
      return sendJson(reply, 200, userWithRolesJson(ctx, user.name, user.roles) + '\n')
    }
    case 'DELETE':
      return answerChange(ctx, reply, { op: 'deleteUser', name })
    default:
      return answerChange(ctx, reply, await userCommandOf(bodyOf(request), name))
  }
}

async function roleRoute(ctx: AuthContext, request: FastifyRequest, reply: FastifyReply, name: string): Promise<FastifyReply> {
  switch (request.method) {
    case 'GET': {
      const role = ctx.member.auth.role(name)
      if (role === undefined) throw new AuthError(404, `auth: Role ${name} does not exist.`)
      return sendJson(reply, 200, roleJson(role) + '\n')
    }
    case 'DELETE':
      return answerChange(ctx, reply, { op: 'deleteRole', name })
    default:
      return answerChange(ctx, reply, roleCommandOf(bodyOf(request), name))
  }
}

/** Proposes `command` and renders what applying it answered. */
async function answerChange(ctx: AuthContext, reply: FastifyReply, command: AuthCommand): Promise<FastifyReply> {
  let result: AuthResult
  try {
    result = await ctx.member.authChange(command)
  } catch (error) {
    if (error instanceof AuthError) return sendMessage(reply, error.status, error.message)
    throw error
  }
  switch (result.kind) {
    case 'empty':
      return reply.code(200).header('content-type', 'application/json').send(Buffer.alloc(0))
    case 'user':
      return sendJson(reply, result.status, `{"user":${goJsonString(result.name)},"roles":${listJson(result.roles)}}\n`)
    case 'role':
      return sendJson(reply, result.status, roleJson(result.role) + '\n')
  }
}

const invalidJson = 'Invalid JSON in request body.'

function bodyOf(request: FastifyRequest): unknown {
  const body = request.body
  if (!Buffer.isBuffer(body)) throw new AuthError(400, invalidJson)
  try {
    return JSON.parse(body.toString('utf8'))
  } catch {
    throw new AuthError(400, invalidJson)
  }
}

/**
 * A user PUT body (`{"user","password","roles","grant","revoke"}`) as a command, with the
 * password hashed. Go's decoder rules: wrong types are invalid JSON, unknown fields ignored,
 * `null` is an empty object. @throws AuthError 400
 */
async function userCommandOf(body: unknown, name: string): Promise<AuthCommand> {
  const input = objectOf(body)
  const user = stringField(input, 'user')
  const password = stringField(input, 'password')
  const roles = stringListField(input, 'roles')
  const grant = stringListField(input, 'grant') ?? []
  const revoke = stringListField(input, 'revoke') ?? []
  if (user !== name) throw new AuthError(400, 'User JSON name does not match the name in the URL')
  const hasRoles = roles !== null && roles.length > 0
  if ((grant.length > 0 || revoke.length > 0) && hasRoles) throw new AuthError(400, 'User JSON contains both roles and grant/revoke')
  const mode = grant.length > 0 || revoke.length > 0 ? 'update' : hasRoles ? 'create' : 'createOrUpdate'
  const passwordHash = password === '' ? null : await hashPassword(password)
  return { op: 'putUser', mode, name, passwordHash, roles, grant, revoke }
}

/**
 * A role PUT body (`{"role","permissions","grant","revoke"}`) as a command. An empty key
 * pattern is refused (etcd stores it, then its permission check crashes: spec §5.3).
 * @throws AuthError 400
 */
function roleCommandOf(body: unknown, name: string): AuthCommand {
  const input = objectOf(body)
  const role = stringField(input, 'role')
  const permissions = permissionsField(input, 'permissions')
  const grant = permissionsField(input, 'grant')
  const revoke = permissionsField(input, 'revoke')
  if (role !== name) throw new AuthError(400, 'Role JSON name does not match the name in the URL')
  for (const p of [permissions, grant, revoke]) {
    if ([...(p.read ?? []), ...(p.write ?? [])].includes('')) throw new AuthError(400, 'auth: Permission patterns cannot be empty')
  }
  if (isEmpty(grant) && isEmpty(revoke)) return { op: 'createRole', role: { name, permissions } }
  if (!isEmpty(permissions)) throw new AuthError(400, 'Role JSON contains both permissions and grant/revoke')
  return { op: 'updateRole', name, grant, revoke }
}

function isEmpty(p: KvPermissions): boolean {
  return (p.read ?? []).length === 0 && (p.write ?? []).length === 0
}

function objectOf(body: unknown): Record<string, unknown> {
  if (body === null) return {}
  if (typeof body !== 'object' || Array.isArray(body)) throw new AuthError(400, invalidJson)
  return body as Record<string, unknown>
}

function stringField(input: Record<string, unknown>, field: string): string {
  const value = input[field]
  if (value === undefined || value === null) return ''
  if (typeof value !== 'string') throw new AuthError(400, invalidJson)
  return value
}

function stringListField(input: Record<string, unknown>, field: string): string[] | null {
  const value = input[field]
  if (value === undefined || value === null) return null
  if (!Array.isArray(value) || !value.every((x) => typeof x === 'string')) throw new AuthError(400, invalidJson)
  return value as string[]
}

/** `{"kv":{"read":[...],"write":[...]}}`; missing lists stay null. */
function permissionsField(input: Record<string, unknown>, field: string): KvPermissions {
  const value = input[field]
  if (value === undefined || value === null) return { read: null, write: null }
  const kv = objectOf(objectOf(value)['kv'] ?? null)
  return { read: stringListField(kv, 'read'), write: stringListField(kv, 'write') }
}

/** etcd's role object. */
export function roleJson(role: Role): string {
  const { read, write } = role.permissions
  return `{"role":${goJsonString(role.name)},"permissions":{"kv":{"read":${listJson(read)},"write":${listJson(write)}}}}`
}

/** A user with its roles expanded to role objects; roles that do not exist are left out
 *  (etcd answers 404 for the user instead: spec §5.6); no `roles` key when none is left. */
function userWithRolesJson(ctx: AuthContext, name: string, roleNames: readonly string[] | null): string {
  const roles = (roleNames ?? []).flatMap((r) => {
    const role = ctx.member.auth.role(r)
    return role === undefined ? [] : [roleJson(role)]
  })
  const rolesPart = roles.length === 0 ? '' : `,"roles":[${roles.join(',')}]`
  return `{"user":${goJsonString(name)}${rolesPart}}`
}

function listJson(list: readonly string[] | null): string {
  return list === null ? 'null' : `[${list.map(goJsonString).join(',')}]`
}
