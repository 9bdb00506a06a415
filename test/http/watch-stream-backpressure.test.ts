/**
 * Goal: a stream watch counts only the events it holds for a client that is behind (written
 * while bytes of an earlier turn still wait for the kernel, and not yet taken), so a batch or
 * a history replay of any size never ends a stream, and a stream that holds
 * `watcherEventsMax` such events is ended by the next one (spec v2-api.md §11.5, Q23 fix).
 * Method: `StreamBacklog` driven by hand: each step gives the bytes waiting in the socket,
 * turns end when the test runs the scheduled callbacks, and the kernel taking an event is a
 * call to `taken()`. Real sockets: test/e2e/watch-stream.test.ts.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { StreamBacklog, type StreamEventFate } from '../../src/http/watch.js'

/** One step of a transcript: an event with `waitingBytes` in the socket, the end of a turn, or the kernel taking a queued event. */
type Step = { readonly event: number } | 'endTurn' | 'taken'

/** Runs `steps` on a new backlog of `eventsMax`; returns each event's fate, in order. */
function run(eventsMax: number, steps: readonly Step[]): StreamEventFate[] {
  let scheduled: (() => void)[] = []
  const backlog = new StreamBacklog(eventsMax, (callback) => scheduled.push(callback))
  const fates: StreamEventFate[] = []
  for (const step of steps) {
    if (step === 'endTurn') {
      const due = scheduled
      scheduled = []
      for (const callback of due) callback()
    } else if (step === 'taken') {
      backlog.taken()
    } else {
      fates.push(backlog.admit(step.event))
    }
  }
  return fates
}

/** `count` events with `waitingBytes` waiting each. */
function events(count: number, waitingBytes: number): Step[] {
  return Array.from({ length: count }, () => ({ event: waitingBytes }))
}

const cases: { name: string; eventsMax: number; steps: Step[]; want: StreamEventFate[] }[] = [
  {
    name: 'a replay of 1000 events in the opening turn is free, though its bytes wait (corked)',
    eventsMax: 3,
    steps: events(1000, 5_000),
    want: Array<StreamEventFate>(1000).fill('free'),
  },
  {
    name: 'a turn that begins with nothing waiting is free for all its events',
    eventsMax: 3,
    steps: ['endTurn', { event: 0 }, ...events(500, 9_000)],
    want: Array<StreamEventFate>(501).fill('free'),
  },
  {
    name: 'behind: eventsMax events are queued and kept, the next is full',
    eventsMax: 3,
    steps: ['endTurn', ...events(1, 100), 'endTurn', ...events(2, 100), 'endTurn', ...events(1, 100)],
    want: ['queued', 'queued', 'queued', 'full'],
  },
  {
    name: 'one turn behind with eventsMax + 1 events: the last is full',
    eventsMax: 2,
    steps: ['endTurn', ...events(3, 100)],
    want: ['queued', 'queued', 'full'],
  },
  {
    name: 'an event the kernel has taken frees its place',
    eventsMax: 2,
    steps: ['endTurn', ...events(2, 100), 'taken', 'endTurn', ...events(2, 100)],
    want: ['queued', 'queued', 'queued', 'full'],
  },
  {
    name: 'a client that catches up between turns is never full',
    eventsMax: 1,
    steps: Array.from({ length: 50 }, (): Step[] => ['endTurn', { event: 10 }, 'taken']).flat(),
    want: Array<StreamEventFate>(50).fill('queued'),
  },
  {
    name: 'a turn that begins with nothing waiting is free even when queued events remain counted',
    eventsMax: 2,
    steps: ['endTurn', ...events(2, 100), 'endTurn', { event: 0 }, { event: 100 }, 'endTurn', { event: 100 }],
    want: ['queued', 'queued', 'free', 'free', 'full'],
  },
]

for (const c of cases) {
  test(c.name, () => assert.deepEqual(run(c.eventsMax, c.steps), c.want))
}

test('eventsMax below 1 is a bug', () => {
  assert.throws(() => new StreamBacklog(0, () => undefined))
})
