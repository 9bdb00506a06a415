/**
 * Building messages and measuring entries. A message names every field (types.ts: unused
 * fields are 0, '' or empty), so a transcript or a log line shows the whole of it.
 */
import type { Entry, Message, MessageType } from './types.js'

/** The fields of a message other than its type, sender and receiver; each defaults to "unused". */
export type MessageFields = Partial<Omit<Message, 'type' | 'from' | 'to'>>

/** A message of `type` from `from` to `to`; fields not given are 0, '' or empty. */
export function newMessage(type: MessageType, from: string, to: string, fields: MessageFields = {}): Message {
  const message: Message = {
    type,
    from,
    to,
    term: fields.term ?? 0,
    logTerm: fields.logTerm ?? 0,
    index: fields.index ?? 0,
    entries: fields.entries ?? [],
    commit: fields.commit ?? 0,
    reject: fields.reject ?? false,
    rejectHint: fields.rejectHint ?? 0,
    context: fields.context ?? '',
  }
  if (fields.snapshot !== undefined) return { ...message, snapshot: fields.snapshot }
  return message
}

/**
 * Bytes an entry counts against `messageBytesMax` and `LogStorage.entries`' `bytesMax`: the
 * UTF-8 length of its data (the same measure as the SQLite store's `entryDataBytes`).
 */
export function entryDataBytes(entry: Entry): number {
  return utf8Bytes(entry.data)
}

/** UTF-8 length of `text`, counting a surrogate pair as 4 bytes and a lone surrogate as 3. */
export function utf8Bytes(text: string): number {
  let bytes = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c < 0x80) bytes += 1
    else if (c < 0x800) bytes += 2
    else if (c >= 0xd800 && c <= 0xdbff && isLowSurrogate(text.charCodeAt(i + 1))) {
      bytes += 4
      i += 1
    } else bytes += 3
  }
  return bytes
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff
}
