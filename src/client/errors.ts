/**
 * What can go wrong talking to a v2 keys API, as typed errors: the member's own v2 error
 * (`{"errorCode":..,"message":..,"cause":..,"index":..}`, spec v2-api.md §6.2), an answer
 * that is not one (a proxy's page, a redirect, a plain-text 400), an answer the client cannot
 * read, and a request that got no answer at all.
 */

import { ErrorCode } from '../v2error/index.js'

/** etcd's v2 error codes by name (etcd v2error/error.go), from the one table in `v2error`. */
export const v2ErrorCodes = ErrorCode

/**
 * The member answered with a v2 error. `errorCode` is etcd's code (any number the member
 * sends, not only those in `v2ErrorCodes`); `detail` is the body's `cause` ('' when absent;
 * usually the key); `index` the body's `index` (the store's etcd index then).
 */
export class V2ClientError extends Error {
  override readonly name = 'V2ClientError'
  constructor(
    readonly errorCode: number,
    readonly errorMessage: string,
    readonly detail: string,
    readonly index: number,
    readonly httpStatus: number,
  ) {
    super(`${errorCode}: ${detail === '' ? errorMessage : `${errorMessage} (${detail})`} [${index}]`)
  }
}

/** The member (or something in front of it) answered an HTTP status that carries no v2 error. */
export class HttpStatusError extends Error {
  override readonly name = 'HttpStatusError'
  constructor(
    readonly httpStatus: number,
    /** The body's first `bodyExcerptChars` characters, for the message. */
    readonly bodyExcerpt: string,
  ) {
    super(`HTTP ${httpStatus}${bodyExcerpt === '' ? '' : `: ${bodyExcerpt}`}`)
  }
}

/** A successful answer whose body is not a v2 keys answer. */
export class ResponseFormatError extends Error {
  override readonly name = 'ResponseFormatError'
}

/** The request got no answer (connection refused, reset, timed out); `cause` says why. */
export class RequestFailedError extends Error {
  override readonly name = 'RequestFailedError'
  constructor(
    readonly endpoint: string,
    options: { cause: unknown },
  ) {
    super(`no answer from ${endpoint}: ${options.cause instanceof Error ? options.cause.message : String(options.cause)}`, options)
  }
}

/** Characters of a non-v2 error body kept in `HttpStatusError` (the rest is noise). */
export const bodyExcerptChars = 200

/** True when `error` is a v2 error with `code`. */
export function isV2Error(error: unknown, code: number): error is V2ClientError {
  return error instanceof V2ClientError && error.errorCode === code
}

/**
 * The error for an answer with a status other than 2xx: a `V2ClientError` when the body is
 * a v2 error object (an integer `errorCode` and a string `message`), else an `HttpStatusError`.
 * Pure, so that the mapping is tested without a server.
 */
export function errorFromResponse(httpStatus: number, bodyText: string): V2ClientError | HttpStatusError {
  const parsed = parseJsonObject(bodyText)
  if (parsed !== undefined && Number.isInteger(parsed.errorCode) && typeof parsed.message === 'string') {
    const detail = typeof parsed.cause === 'string' ? parsed.cause : ''
    const index = Number.isInteger(parsed.index) ? (parsed.index as number) : 0
    return new V2ClientError(parsed.errorCode as number, parsed.message, detail, index, httpStatus)
  }
  return new HttpStatusError(httpStatus, bodyText.trim().slice(0, bodyExcerptChars))
}

/** `text` parsed as a JSON object, or undefined when it is not one. */
function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text)
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}

/** True for every error the client throws on purpose (the four classes above). */
export function isClientError(error: unknown): error is V2ClientError | HttpStatusError | ResponseFormatError | RequestFailedError {
  return error instanceof V2ClientError || error instanceof HttpStatusError || error instanceof ResponseFormatError || error instanceof RequestFailedError
}
