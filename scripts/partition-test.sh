#!/usr/bin/env bash
# Network-partition test of a 3-member arbor cluster (not part of `npm test`; run as root).
#
# Each member runs in its own network namespace, joined to a bridge in the root namespace by
# a veth pair (10.231.<n>.1-3/24). The script cuts the leader off from the two followers,
# checks that the majority elects a new leader and serves writes while the old leader
# cannot commit (its writes fail with 500 / errorCode 300 after the request timeout), heals
# the partition, and checks that the old leader steps down and catches up and that the
# write refused in the minority exists nowhere. The client (curl) stays in the root
# namespace and reaches every member throughout: only member-to-member traffic is cut.
#
# The cut drops packets both ways: iptables DROP rules (INPUT and OUTPUT, in each member's
# namespace) when iptables is installed, otherwise blackhole routes (`ip route add blackhole`)
# in each namespace, which silently drop what a member sends to the other side.
#
# Usage: sudo scripts/partition-test.sh      Prints PASS (exit 0) or FAIL (exit 1) with reasons;
#        exit 2 when it cannot run here (not root, no `ip netns`, no curl/jq).
# Logs are kept in the temporary directory it prints when a check fails (always with KEEP_LOGS=1).
set -uo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

heartbeat_ms=50
election_ms=500
request_timeout_ms=1500

id=$$
net="10.231.$((id % 250 + 1))"
bridge="arbbr$id"
work=$(mktemp -d /tmp/arbor-partition-XXXXXX)
declare -a ns pid ip
failures=()

fail() { failures+=("$1"); echo "  check failed: $1"; }
say() { echo "[$(date +%T.%3N)] $*"; }

cleanup() {
  for i in 1 2 3; do
    [ -n "${pid[$i]:-}" ] && kill -CONT "${pid[$i]}" 2>/dev/null && kill -TERM "${pid[$i]}" 2>/dev/null
  done
  for i in 1 2 3; do
    if [ -n "${pid[$i]:-}" ]; then
      for _ in $(seq 50); do kill -0 "${pid[$i]}" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "${pid[$i]}" 2>/dev/null
    fi
  done
  for i in 1 2 3; do [ -n "${ns[$i]:-}" ] && ip netns del "${ns[$i]}" 2>/dev/null; done
  ip link del "$bridge" 2>/dev/null
  if [ ${#failures[@]} -eq 0 ] && [ -z "${KEEP_LOGS:-}" ]; then rm -rf "$work"; fi
}
trap cleanup EXIT

if [ "$(id -u)" -ne 0 ]; then echo "SKIP: run as root (ip netns, veth, routes)"; exit 2; fi
for tool in ip curl jq node; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed"; exit 2; }
done
if ! ip netns add "arbprobe$id" 2>/dev/null; then echo "SKIP: ip netns add does not work here"; exit 2; fi
ip netns del "arbprobe$id"
cut_with=blackhole
command -v iptables >/dev/null && cut_with=iptables

# ---- network ---------------------------------------------------------------------------------
ip link add "$bridge" type bridge
ip addr add "$net.254/24" dev "$bridge"
ip link set "$bridge" up
for i in 1 2 3; do
  ns[$i]="arbp$id-$i"
  ip[$i]="$net.$i"
  ip netns add "${ns[$i]}"
  ip link add "av$id-$i" type veth peer name "avp$id-$i"
  ip link set "avp$id-$i" netns "${ns[$i]}"
  ip link set "av$id-$i" master "$bridge" up
  ip netns exec "${ns[$i]}" ip link set lo up
  ip netns exec "${ns[$i]}" ip link set "avp$id-$i" name eth0
  ip netns exec "${ns[$i]}" ip addr add "${ip[$i]}/24" dev eth0
  ip netns exec "${ns[$i]}" ip link set eth0 up
done
if [ "$cut_with" = iptables ] && ! ip netns exec "${ns[1]}" iptables -L -n >/dev/null 2>&1; then cut_with=blackhole; fi

# Cuts (or with "del", heals) traffic between member $1 and member $2, both ways.
link() {
  local action=$1 a=$2 b=$3
  for pair in "$a $b" "$b $a"; do
    set -- $pair
    if [ "$cut_with" = iptables ]; then
      local flag=-A; [ "$action" = del ] && flag=-D
      ip netns exec "${ns[$1]}" iptables "$flag" INPUT -s "${ip[$2]}" -j DROP
      ip netns exec "${ns[$1]}" iptables "$flag" OUTPUT -d "${ip[$2]}" -j DROP
    else
      ip netns exec "${ns[$1]}" ip route "$action" blackhole "${ip[$2]}/32"
    fi
  done
}

# ---- members ---------------------------------------------------------------------------------
cluster="n1=http://${ip[1]}:2380,n2=http://${ip[2]}:2380,n3=http://${ip[3]}:2380"
for i in 1 2 3; do
  ip netns exec "${ns[$i]}" node --import tsx "$repo/src/cli/main.ts" --name "n$i" --data-dir "$work/n$i" \
    --listen-client-urls "http://${ip[$i]}:2379" --advertise-client-urls "http://${ip[$i]}:2379" \
    --listen-peer-urls "http://${ip[$i]}:2380" --initial-advertise-peer-urls "http://${ip[$i]}:2380" \
    --initial-cluster "$cluster" --initial-cluster-state new --initial-cluster-token "arbor-partition-$id" \
    --heartbeat-interval "$heartbeat_ms" --election-timeout "$election_ms" \
    --request-timeout-ms "$request_timeout_ms" >"$work/n$i.log" 2>&1 &
  pid[$i]=$!
done

url() { echo "http://${ip[$1]}:2379"; }
# GET/PUT helpers; print "<status> <body>" on one line.
http() {
  local code
  : >"$work/body"
  code=$(curl -s -m "${4:-5}" -o "$work/body" -w '%{http_code}' -X "$1" "$2" ${3:+--data-urlencode "$3"})
  echo "$code $(tr -d '\n' <"$work/body")"
}
stats() { curl -s -m 1 "$(url "$1")/v2/stats/self"; }
state_of() { stats "$1" | jq -r '.state // "none"' 2>/dev/null || echo none; }
leader_seen_by() { stats "$1" | jq -r '.leaderInfo.leader // ""' 2>/dev/null; }
id_of() { stats "$1" | jq -r '.id'; }
index_of() { curl -s -m 2 -o /dev/null -D - "$(url "$1")/v2/keys/" | tr -d '\r' | awk 'tolower($1)=="x-etcd-index:" {print $2}'; }

# Waits (up to $1 seconds) until one of the members $2.. leads and all of them name it; prints its number.
wait_leader() {
  local timeout=$1; shift
  local deadline=$(($(date +%s%N) / 1000000 + timeout * 1000))
  while [ $(($(date +%s%N) / 1000000)) -lt "$deadline" ]; do
    for i in "$@"; do
      if [ "$(state_of "$i")" = StateLeader ]; then
        local lid; lid=$(id_of "$i"); local agreed=1
        for j in "$@"; do [ "$(leader_seen_by "$j")" = "$lid" ] || agreed=0; done
        [ $agreed -eq 1 ] && { echo "$i"; return 0; }
      fi
    done
    sleep 0.05
  done
  return 1
}

say "cluster in namespaces ${ns[*]} (net $net.0/24), partition by $cut_with, logs in $work"
for i in 1 2 3; do
  for _ in $(seq 200); do [ "$(curl -s -m 1 -o /dev/null -w '%{http_code}' "$(url "$i")/health")" = 200 ] && break; sleep 0.1; done
done
old=$(wait_leader 10 1 2 3) || { echo "FAIL: no leader at start"; failures+=(start); exit 1; }
old_id=$(id_of "$old")
say "leader is n$old ($old_id)"
reply=$(http PUT "$(url "$old")/v2/keys/before" value=1)
[ "${reply%% *}" = 201 ] || fail "write before the partition: $reply"

# ---- cut the leader off ------------------------------------------------------------------------
majority=()
for i in 1 2 3; do [ "$i" != "$old" ] && majority+=("$i"); done
cut_at=$(date +%s%N)
for i in "${majority[@]}"; do link add "$old" "$i"; done
say "n$old cut off from n${majority[0]} and n${majority[1]}"

new=$(wait_leader 10 "${majority[@]}") || { fail "the majority elected no leader within 10 s"; new=""; }
if [ -n "$new" ]; then
  say "n$new elected by the majority $(( ($(date +%s%N) - cut_at) / 1000000 )) ms after the cut"
  for i in "${majority[@]}"; do
    reply=$(http PUT "$(url "$i")/v2/keys/majority/n$i" value=ok)
    [ "${reply%% *}" = 201 ] || fail "write through n$i in the majority: $reply"
    reply=$(http GET "$(url "$i")/v2/keys/before?quorum=true")
    [ "$(echo "${reply#* }" | jq -r .node.value 2>/dev/null)" = 1 ] || fail "quorum read on n$i in the majority: $reply"
  done
fi

started=$(date +%s%N)
reply=$(http PUT "$(url "$old")/v2/keys/minority" value=lost 10)
took=$(( ($(date +%s%N) - started) / 1000000 ))
say "write through the cut-off n$old: $reply (after $took ms)"
[ "${reply%% *}" = 500 ] && [ "$(echo "${reply#* }" | jq -r .errorCode 2>/dev/null)" = 300 ] ||
  fail "the cut-off old leader answered a write with $reply, want 500 errorCode 300"
[ "$took" -ge $((request_timeout_ms - 100)) ] || fail "the refused write failed after $took ms, before the request timeout"
reply=$(http GET "$(url "$old")/v2/keys/before?quorum=true" "" 10)
[ "${reply%% *}" = 500 ] || fail "quorum read on the cut-off n$old: $reply, want 500"
reply=$(http GET "$(url "$old")/v2/keys/before")
[ "${reply%% *}" = 200 ] || fail "plain read on the cut-off n$old: $reply, want 200"
say "n$old now says it is $(state_of "$old")"

# ---- heal ------------------------------------------------------------------------------------
for i in "${majority[@]}"; do link del "$old" "$i"; done
healed_at=$(date +%s%N)
say "partition healed"
if [ -n "$new" ]; then
  now_leader=$(wait_leader 10 1 2 3) || fail "no agreed leader within 10 s of the heal"
  if [ -n "${now_leader:-}" ]; then
    [ "$now_leader" != "$old" ] || fail "the old leader n$old leads again after the heal"
    [ "$(state_of "$old")" = StateFollower ] || fail "n$old is $(state_of "$old") after the heal, want StateFollower"
    say "n$old follows n$now_leader $(( ($(date +%s%N) - healed_at) / 1000000 )) ms after the heal"
  fi
  target=$(index_of "$new")
  for _ in $(seq 200); do [ "$(index_of "$old")" -ge "$target" ] 2>/dev/null && break; sleep 0.05; done
  [ "$(index_of "$old")" -ge "$target" ] 2>/dev/null || fail "n$old at etcd index $(index_of "$old"), not $target"
  for i in "${majority[@]}"; do
    reply=$(http GET "$(url "$old")/v2/keys/majority/n$i")
    [ "$(echo "${reply#* }" | jq -r .node.value 2>/dev/null)" = ok ] || fail "n$old lacks the majority's write via n$i: $reply"
  done
  for i in 1 2 3; do
    reply=$(http GET "$(url "$i")/v2/keys/minority?quorum=true")
    [ "${reply%% *}" = 404 ] || fail "the write refused in the minority is on n$i: $reply"
  done
fi

if [ ${#failures[@]} -eq 0 ]; then
  echo "PASS"
  exit 0
fi
echo "FAIL (${#failures[@]} checks): logs in $work"
printf '  - %s\n' "${failures[@]}"
exit 1
