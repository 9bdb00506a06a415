/**
 * `GET /arbor/v1/snapshot`: a consistent copy of this member's database, for
 * `arbor snapshot save` (etcd's Maintenance.Snapshot). The body is a backup file (an SQLite
 * database followed by its 32-byte SHA-256); the headers give its length, checksum, applied
 * Raft index and term. The copy is made by the member while it keeps serving.
 * While v2 auth is enabled, app.ts serves it to the root user only.
 */
import type { Readable } from 'node:stream'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { sendMethodNotAllowed, sendPlain } from './render.js'

/** The path of the route. */
export const snapshotRoutePath = '/arbor/v1/snapshot'

/** A backup file made for one request: read it once, then `release` it. */
export interface SnapshotFile {
  readonly body: Readable
  readonly bytes: number
  /** SHA-256 of the database part (hex), also the file's last 32 bytes. */
  readonly sha256: string
  readonly appliedIndex: number
  readonly term: number
  /** Removes the file; called once the body is sent or the request failed. */
  release(): void
}

/** Makes backup files; wired by the CLI from storage. */
export interface SnapshotSource {
  /** @throws Error when no copy could be made (answered 500). */
  snapshot(): Promise<SnapshotFile>
}

/** Serves `GET /arbor/v1/snapshot` from `source`. */
export async function serveSnapshot(source: SnapshotSource, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  if (request.method !== 'GET') return sendMethodNotAllowed(reply, 'GET')
  let file: SnapshotFile
  try {
    file = await source.snapshot()
  } catch (error) {
    reply.log.error({ err: error }, 'snapshot failed')
    return sendPlain(reply, 500, `snapshot failed: ${(error as Error).message}`)
  }
  let released = false
  const release = (): void => {
    if (released) return
    released = true
    file.release()
  }
  file.body.once('close', release)
  file.body.once('error', release)
  reply.raw.once('close', release)
  return reply
    .code(200)
    .header('content-type', 'application/octet-stream')
    .header('content-length', String(file.bytes))
    .header('x-arbor-snapshot-sha256', file.sha256)
    .header('x-arbor-snapshot-index', String(file.appliedIndex))
    .header('x-arbor-snapshot-term', String(file.term))
    .send(file.body)
}
