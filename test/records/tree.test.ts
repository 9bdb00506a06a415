/**
 * Goal: `isAction` accepts exactly etcd's eight v2 actions (spec §4.1), as storage relies on
 * it to refuse an unknown action read back from the history table or a state snapshot.
 * Method: a table of texts and other values.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { actions, isAction } from '../../src/records/index.js'

test('the actions are etcd v2 actions, each once', () => {
  assert.deepEqual(
    [...actions].sort(),
    ['compareAndDelete', 'compareAndSwap', 'create', 'delete', 'expire', 'get', 'set', 'update'],
  )
})

const cases: { value: unknown; want: boolean }[] = [
  ...actions.map((value) => ({ value, want: true })),
  { value: 'Expire', want: false },
  { value: 'compareandswap', want: false },
  { value: 'set ', want: false },
  { value: '', want: false },
  { value: 'watch', want: false },
  { value: 1, want: false },
  { value: null, want: false },
  { value: undefined, want: false },
]
for (const c of cases) {
  test(`isAction(${JSON.stringify(c.value) ?? 'undefined'}) is ${c.want}`, () => assert.equal(isAction(c.value), c.want))
}
