/**
 * A small builder that keeps cases.ts readable: one line per step, ids derived from the
 * request (`PUT /v2/keys/a?prevExist=false`, with `#2`, `#3` ... on repeats) so that a
 * report names the step the way a reader would find it.
 */
import type { AwaitStep, Group, LoopStep, RequestSpec, RequestStep, Step, Vary, WatchStep } from './types.js'

/** `/v2/keys` + key, the key starting with `/`. */
export function K(key: string): string {
  return `/v2/keys${key}`
}

/** Options of a request step besides method, path, body and query. */
export interface StepOptions {
  readonly headers?: Readonly<Record<string, string>>
  readonly noContentType?: boolean
  readonly raw?: boolean
  readonly note?: string
  readonly vary?: Vary
  readonly quirk?: string
  readonly capture?: Readonly<Record<string, string>>
  /** Explicit id (otherwise derived from the request). */
  readonly id?: string
}

export class GroupBuilder {
  private readonly steps: Step[] = []
  private readonly seen = new Map<string, number>()

  constructor(
    private readonly name: string,
    private readonly sections: string,
  ) {}

  /** Any request. `path` is the full raw path. */
  req(method: string, path: string, query?: string, body?: string, o: StepOptions = {}): this {
    const req: RequestSpec = {
      method,
      path,
      ...(query !== undefined ? { query } : {}),
      ...(body !== undefined ? { body } : {}),
      ...(o.headers !== undefined ? { headers: o.headers } : {}),
      ...(o.noContentType === true ? { noContentType: true } : {}),
      ...(o.raw === true ? { raw: true } : {}),
    }
    const step: RequestStep = {
      do: 'request',
      id: this.uniqueId(o.id ?? describe(req)),
      req,
      ...(o.note !== undefined ? { note: o.note } : {}),
      ...(o.vary !== undefined ? { vary: o.vary } : {}),
      ...(o.quirk !== undefined ? { quirk: o.quirk } : {}),
      ...(o.capture !== undefined ? { capture: o.capture } : {}),
    }
    this.steps.push(step)
    return this
  }

  get(path: string, query?: string, o?: StepOptions): this {
    return this.req('GET', path, query, undefined, o)
  }

  head(path: string, query?: string, o?: StepOptions): this {
    return this.req('HEAD', path, query, undefined, o)
  }

  /** PUT with a form body (or none). */
  put(path: string, body?: string, query?: string, o?: StepOptions): this {
    return this.req('PUT', path, query, body, o)
  }

  post(path: string, body?: string, query?: string, o?: StepOptions): this {
    return this.req('POST', path, query, body, o)
  }

  del(path: string, query?: string, o?: StepOptions & { body?: string }): this {
    return this.req('DELETE', path, query, o?.body, o)
  }

  /** Starts a watch named `id` (a GET; `query` must hold `wait=true`). */
  watch(id: string, path: string, query: string, o: { events?: number; note?: string; quirk?: string } = {}): this {
    const step: WatchStep = {
      do: 'watch',
      id: this.uniqueId(id),
      req: { method: 'GET', path, query },
      ...(o.events !== undefined ? { events: o.events } : {}),
      ...(o.note !== undefined ? { note: o.note } : {}),
      ...(o.quirk !== undefined ? { quirk: o.quirk } : {}),
    }
    this.steps.push(step)
    return this
  }

  /** Completes the watch `watch`. A short `timeoutMs` with a pending recording means
   *  "never fires". */
  await(watch: string, o: { timeoutMs?: number; note?: string; quirk?: string } = {}): this {
    const step: AwaitStep = {
      do: 'await',
      id: this.uniqueId(`await ${watch}`),
      watch,
      ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
      ...(o.note !== undefined ? { note: o.note } : {}),
      ...(o.quirk !== undefined ? { quirk: o.quirk } : {}),
    }
    this.steps.push(step)
    return this
  }

  sleep(ms: number, note?: string): this {
    this.steps.push({ do: 'sleep', id: this.uniqueId(`sleep ${ms}`), ms, ...(note !== undefined ? { note } : {}) })
    return this
  }

  loop(id: string, count: number, concurrency: number, req: RequestSpec, note?: string): this {
    const step: LoopStep = { do: 'loop', id: this.uniqueId(id), count, concurrency, req, ...(note !== undefined ? { note } : {}) }
    this.steps.push(step)
    return this
  }

  build(): Group {
    return { name: this.name, sections: this.sections, steps: [...this.steps] }
  }

  private uniqueId(base: string): string {
    const n = (this.seen.get(base) ?? 0) + 1
    this.seen.set(base, n)
    return n === 1 ? base : `${base} #${n}`
  }
}

/** `METHOD path?query [body]`, shortened for ids. */
function describe(req: RequestSpec): string {
  const target = req.query === undefined ? req.path : `${req.path}?${req.query}`
  const body = req.body === undefined ? '' : ` [${req.body.length > 60 ? `${req.body.slice(0, 60)}…` : req.body}]`
  const full = `${req.method} ${target}${body}`
  return full.length > 160 ? `${full.slice(0, 160)}…` : full
}
