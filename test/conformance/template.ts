/**
 * Templates in case requests. Cases are written in etcd's numbers; the runner shifts them
 * to the server under test:
 *
 * - `${idx:N}`   the etcd index N (etcd's first client write is 4) as the server numbers it:
 *                N + offset, where offset = (server's first write index) - 4.
 * - `${idx20:N}` the same, zero-padded to 20 digits (an in-order key name, spec §8).
 * - `${var:NAME}` a value captured from an earlier step (JSON body field or header).
 * - `${ix:NAME}`, `${ix:NAME+K}`, `${ix:NAME-K}` a captured *index* (already the server's
 *                number), optionally plus or minus K; `${ix20:...}` zero-pads it to 20 digits.
 *                Counts as an index template, like `${idx:N}`.
 * - `${i}`       the iteration of a loop step.
 */

/** What a template can refer to at the moment a request is sent. */
export interface TemplateContext {
  /** Server index minus etcd index; undefined until the group's first write answered. */
  readonly offset: number | undefined
  readonly vars: ReadonlyMap<string, string>
  readonly iteration?: number
}

const templatePattern = /\$\{(idx|idx20|ix|ix20|var|i)(?::([^}]*))?\}/g

/** Whether `text` refers to an etcd index (so numbers echoed back are shifted too). */
export function usesIndexTemplate(text: string | undefined): boolean {
  return text !== undefined && /\$\{(idx|idx20|ix|ix20):/.test(text)
}

/**
 * Expands every template in `text`.
 * @throws Error when an index is used before the offset is known, a variable is missing or
 *         `${i}` appears outside a loop: each is a bug in the case data.
 */
export function expandTemplate(text: string, ctx: TemplateContext): string {
  return text.replace(templatePattern, (_whole, kind: string, arg: string | undefined) => {
    switch (kind) {
      case 'idx':
      case 'idx20': {
        if (ctx.offset === undefined) throw new Error(`index template before the first write: ${text}`)
        const n = BigInt(arg ?? 'NaN') + BigInt(ctx.offset)
        return kind === 'idx' ? n.toString() : n.toString().padStart(20, '0')
      }
      case 'ix':
      case 'ix20': {
        const m = /^([^+-]+)([+-]\d+)?$/.exec(arg ?? '')
        const base = m === null ? undefined : ctx.vars.get(m[1] ?? '')
        if (m === null || base === undefined || !/^\d+$/.test(base)) throw new Error(`unknown index variable in ${text}`)
        const n = BigInt(base) + BigInt(m[2] ?? '0')
        return kind === 'ix' ? n.toString() : n.toString().padStart(20, '0')
      }
      case 'var': {
        const value = ctx.vars.get(arg ?? '')
        if (value === undefined) throw new Error(`unknown template variable ${arg ?? ''}`)
        return value
      }
      default: {
        if (ctx.iteration === undefined) throw new Error(`\${i} outside a loop: ${text}`)
        return String(ctx.iteration)
      }
    }
  })
}
