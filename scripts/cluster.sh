#!/usr/bin/env bash
# Starts a local 3-member arbor cluster on loopback in the foreground, like etcd's Procfile.
#   clients: http://127.0.0.1:2379, :22379, :32379   peers: :2380, :22380, :32380
#   data: ./cluster.arbor/infra{1,2,3}   logs: stdout, prefixed by member name
# Ctrl-C stops all three. To work with one member while it runs:
#   stop:    kill -TERM "$(cat cluster.arbor/infra2.pid)"
#   kill:    kill -KILL "$(cat cluster.arbor/infra2.pid)"
#   start:   scripts/cluster.sh member infra2
set -euo pipefail
cd "$(dirname "$0")/.."
cluster="infra1=http://127.0.0.1:2380,infra2=http://127.0.0.1:22380,infra3=http://127.0.0.1:32380"
declare -A client=([infra1]=2379 [infra2]=22379 [infra3]=32379)
declare -A peer=([infra1]=2380 [infra2]=22380 [infra3]=32380)
mkdir -p cluster.arbor

member() {
  local name=$1
  node dist/arbor.mjs --name "$name" --data-dir "cluster.arbor/$name" \
    --listen-client-urls "http://127.0.0.1:${client[$name]}" --advertise-client-urls "http://127.0.0.1:${client[$name]}" \
    --listen-peer-urls "http://127.0.0.1:${peer[$name]}" --initial-advertise-peer-urls "http://127.0.0.1:${peer[$name]}" \
    --initial-cluster-token arbor-cluster-1 --initial-cluster "$cluster" --initial-cluster-state new \
    > >(sed -u "s/^/$name | /") 2>&1 &
  # $! is node's own PID (its output goes through a process substitution, not a pipe).
  echo $! > "cluster.arbor/$name.pid"
}

npm run build --silent
if [ "${1:-}" = member ]; then
  member "$2"
  wait
  exit 0
fi
trap 'for n in infra1 infra2 infra3; do [ -f cluster.arbor/$n.pid ] && kill -TERM "$(cat cluster.arbor/$n.pid)" 2>/dev/null; done; wait' INT TERM
for name in infra1 infra2 infra3; do member "$name"; done
echo "cluster: clients http://127.0.0.1:2379, :22379, :32379. For one member (e.g. infra2):"
echo "  stop: kill -TERM \"\$(cat cluster.arbor/infra2.pid)\"   kill: kill -KILL \"\$(cat cluster.arbor/infra2.pid)\"   start again: scripts/cluster.sh member infra2"
wait
