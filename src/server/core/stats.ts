/**
 * The member as `/v2/stats/self`, `/v2/stats/leader` (spec §12.3) and `/metrics` show it,
 * computed from the core's state when asked.
 */
import { goRfc3339Nano } from '../../lib/index.js'
import type { LeaderStats, LoopStats, SelfStats } from '../api.js'
import type { MemberInfo } from '../ports.js'
import { goDuration } from '../time-format.js'
import type { CoreParts, CoreState } from './parts.js'
import type { Proposals } from './proposals.js'
import type { TurnCounters } from './turn.js'

/** `/v2/stats/self`: `startTimeMs` of this process, appends received and sent since. */
export function selfStats(
  parts: CoreParts,
  state: CoreState,
  counts: { readonly startTimeMs: number; readonly appendsReceived: number; readonly appendsSent: number },
): SelfStats {
  const nowMs = parts.clock.nowMs()
  return {
    name: parts.settings.name,
    id: parts.settings.memberId,
    state: state.role,
    startTime: goRfc3339Nano(counts.startTimeMs),
    leaderInfo: {
      leader: state.leaderId,
      uptime: goDuration(nowMs - state.leaderSinceMs),
      startTime: goRfc3339Nano(state.leaderSinceMs),
    },
    recvAppendRequestCnt: counts.appendsReceived,
    sendAppendRequestCnt: counts.appendsSent,
  }
}

/** The loop's counters for `/metrics`. */
export function loopStats(parts: CoreParts, state: CoreState, turns: TurnCounters, proposals: Proposals): LoopStats {
  return {
    turns: turns.turns,
    durableTurns: turns.durableTurns,
    commitIndex: parts.raft.commitIndex(),
    appliedIndex: state.appliedIndex,
    pendingWrites: proposals.pendingWrites,
    writesAwaitingLeader: proposals.awaitingLeaderCount,
    leaderChanges: state.leaderChanges,
    proposalsFailed: proposals.failed,
  }
}

/** `/v2/stats/leader`, with what the transport measured of each follower; undefined off the leader. */
export function leaderStats(parts: CoreParts, state: CoreState, members: readonly MemberInfo[]): LeaderStats | undefined {
  if (!state.isLeader) return undefined
  const measured = parts.peers.stats?.() ?? {}
  const followers: LeaderStats['followers'] = {}
  for (const m of members) {
    if (m.id === parts.settings.memberId) continue
    const peer = measured[m.id]
    followers[m.id] = {
      latency: peer?.latencyMs ?? { current: 0, average: 0, standardDeviation: 0, minimum: 0, maximum: 0 },
      counts: { fail: peer?.fail ?? 0, success: peer?.success ?? 0 },
    }
  }
  return { leader: parts.settings.memberId, followers }
}
