"""
Drives python-etcd (the `etcd` module, 0.4.x) against one etcd v2 endpoint and prints what
the client saw, as one JSON object on stdout, for test/e2e/python-etcd.test.ts to check.

Usage: python3 scenarios.py <host> <port> <scenario>
Scenarios: kv, dirs, cas, append, ttl, watch, lock, cluster. Each uses its own key prefix
(/py/<scenario>) so that they can run one after the other against the same member.

The script only observes; the assertions live in the TypeScript test. An exception the
scenario expects is recorded as {"error": <class name>, "errorCode": ..., "cause": ...};
any other exception ends the script with a traceback and a non-zero exit code.
"""
import json
import sys
import threading
import time

import etcd


def caught(action):
    """Runs `action`; returns its result, or a record of the etcd error it raised."""
    try:
        return action()
    except etcd.EtcdException as error:
        payload = error.payload if isinstance(error.payload, dict) else {}
        return {
            "error": type(error).__name__,
            "errorCode": payload.get("errorCode"),
            "cause": payload.get("cause"),
        }


def node_of(result):
    """The parts of an EtcdResult a user looks at."""
    prev = getattr(result, "_prev_node", None)
    return {
        "action": result.action,
        "key": result.key,
        "value": result.value,
        "dir": result.dir,
        "newKey": getattr(result, "newKey", False),
        "ttl": result.ttl,
        "hasExpiration": result.expiration is not None,
        "createdIndex": result.createdIndex,
        "modifiedIndex": result.modifiedIndex,
        "etcdIndex": result.etcd_index,
        "prevValue": prev.value if prev is not None else None,
    }


def wait_for_watchers(client, count, deadline_s=5.0):
    """Polls /v2/stats/store until at least `count` watchers wait, so a write cannot race them."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if client.store_stats.get("watchers", 0) >= count:
            return True
        time.sleep(0.02)
    return False


def in_thread(action):
    """Starts `action` in a thread; returns (thread, holder) where holder['result'] is set."""
    holder = {}

    def run():
        holder["result"] = caught(action)
        holder["at"] = time.monotonic()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, holder


def scenario_kv(c):
    out = {}
    out["write"] = node_of(c.write("/py/kv/a", "one"))
    out["read"] = node_of(c.read("/py/kv/a"))
    out["overwrite"] = node_of(c.write("/py/kv/a", "two"))
    out["getValue"] = c.get("/py/kv/a").value
    out["containsBefore"] = "/py/kv/a" in c
    out["delete"] = node_of(c.delete("/py/kv/a"))
    out["readDeleted"] = caught(lambda: c.read("/py/kv/a"))
    out["containsAfter"] = "/py/kv/a" in c
    out["create"] = node_of(c.write("/py/kv/b", "x", prevExist=False))
    out["createAgain"] = caught(lambda: c.write("/py/kv/b", "y", prevExist=False))
    out["updateMissing"] = caught(lambda: c.write("/py/kv/c", "y", prevExist=True))
    read_back = c.read("/py/kv/b")
    read_back.value = "x2"
    out["update"] = node_of(c.update(read_back))
    out["pop"] = c.pop("/py/kv/b").value
    return out


def scenario_dirs(c):
    out = {}
    out["mkdir"] = node_of(c.write("/py/dirs/d", None, dir=True))
    c.write("/py/dirs/d/a", "1")
    c.write("/py/dirs/d/sub/b", "2")
    listing = c.read("/py/dirs/d", sorted=True)
    out["children"] = [[child.key, child.dir] for child in listing.children]
    deep = c.read("/py/dirs/d", recursive=True, sorted=True)
    out["leaves"] = [[leaf.key, leaf.value] for leaf in deep.leaves]
    out["deleteDirAsFile"] = caught(lambda: c.delete("/py/dirs/d"))
    out["deleteNonEmptyDir"] = caught(lambda: c.delete("/py/dirs/d", dir=True))
    out["writeValueOnDir"] = caught(lambda: c.write("/py/dirs/d", "v"))
    out["writeUnderFile"] = caught(lambda: c.write("/py/dirs/d/a/x", "v"))
    out["deleteRecursive"] = node_of(c.delete("/py/dirs/d", recursive=True))
    out["readDeletedDir"] = caught(lambda: c.read("/py/dirs/d"))
    return out


def scenario_cas(c):
    out = {}
    first = c.write("/py/cas/k", "a")
    out["testAndSet"] = node_of(c.test_and_set("/py/cas/k", "b", "a"))
    out["testAndSetFails"] = caught(lambda: c.test_and_set("/py/cas/k", "c", "a"))
    out["prevValue"] = node_of(c.write("/py/cas/k", "c", prevValue="b"))
    current = c.read("/py/cas/k").modifiedIndex
    out["prevIndex"] = node_of(c.write("/py/cas/k", "d", prevIndex=current))
    out["staleIndex"] = first.modifiedIndex
    out["prevIndexFails"] = caught(lambda: c.write("/py/cas/k", "e", prevIndex=first.modifiedIndex))
    out["deletePrevValueFails"] = caught(lambda: c.delete("/py/cas/k", prevValue="zzz"))
    out["deletePrevValue"] = node_of(c.delete("/py/cas/k", prevValue="d"))
    return out


def scenario_append(c):
    out = {}
    appended = [c.write("/py/append/q", value, append=True) for value in ["first", "second", "third"]]
    out["appended"] = [node_of(r) for r in appended]
    listing = c.read("/py/append/q", sorted=True)
    out["sortedKeys"] = [child.key for child in listing.children]
    out["sortedValues"] = [child.value for child in listing.children]
    return out


def scenario_ttl(c):
    out = {}
    out["write"] = node_of(c.write("/py/ttl/k", "v", ttl=1))
    started = time.monotonic()
    gone = None
    while time.monotonic() - started < 6.0:
        result = caught(lambda: c.read("/py/ttl/k"))
        if isinstance(result, dict):
            gone = result
            break
        time.sleep(0.1)
    out["gone"] = gone
    out["goneAfterSeconds"] = round(time.monotonic() - started, 2)
    c.write("/py/ttl/r", "kept", ttl=30)
    out["refresh"] = node_of(c.refresh("/py/ttl/r", ttl=60))
    out["afterRefresh"] = node_of(c.read("/py/ttl/r"))
    return out


def scenario_watch(c):
    out = {}
    c.write("/py/watch/k", "start")
    thread, holder = in_thread(lambda: node_of(c.watch("/py/watch/k", timeout=5)))
    out["watcherRegistered"] = wait_for_watchers(c, 1)
    written = c.write("/py/watch/k", "woken")
    thread.join(6)
    out["watch"] = holder.get("result")
    out["writtenIndex"] = written.modifiedIndex
    out["pastWaitIndex"] = node_of(c.read("/py/watch/k", wait=True, waitIndex=written.modifiedIndex, timeout=5))
    future = c.read("/py/watch/k").etcd_index + 1
    thread, holder = in_thread(
        lambda: node_of(c.read("/py/watch/k", wait=True, waitIndex=future, timeout=5))
    )
    out["futureRegistered"] = wait_for_watchers(c, 1)
    c.delete("/py/watch/k")
    thread.join(6)
    out["futureWaitIndex"] = holder.get("result")
    out["futureIndex"] = future
    thread, holder = in_thread(lambda: node_of(c.watch("/py/watch/dir", timeout=5, recursive=True)))
    out["recursiveRegistered"] = wait_for_watchers(c, 1)
    c.write("/py/watch/dir/deep/x", "1")
    thread.join(6)
    out["recursive"] = holder.get("result")
    out["timeout"] = caught(lambda: c.watch("/py/watch/nothing", timeout=1))
    return out


def scenario_lock(c):
    out = {}
    first = etcd.Lock(c, "job")
    out["firstAcquire"] = first.acquire(blocking=True, lock_ttl=60)
    out["firstIsAcquired"] = first.is_acquired
    second = etcd.Lock(c, "job")
    thread, holder = in_thread(lambda: second.acquire(blocking=True, lock_ttl=60))
    out["secondWatching"] = wait_for_watchers(c, 1)
    out["secondDoneBeforeRelease"] = "result" in holder
    released_at = time.monotonic()
    first.release()
    thread.join(10)
    out["secondAcquire"] = holder.get("result")
    out["secondWaitedForRelease"] = holder.get("at", 0) >= released_at
    out["secondIsAcquired"] = second.is_acquired
    out["firstIsAcquiredAfterRelease"] = first.is_acquired
    third = etcd.Lock(c, "job")
    out["thirdNonBlocking"] = third.acquire(blocking=False, lock_ttl=60)
    third.release()
    second.release()
    out["secondIsAcquiredAfterRelease"] = second.is_acquired
    out["lockChildrenLeft"] = len(c.read("/_locks/job")._children)
    return out


def scenario_cluster(c):
    members = c.members
    leader = c.leader
    stats = c.stats
    return {
        "members": members,
        "leader": leader,
        "stats": {"name": stats.get("name"), "id": stats.get("id"), "state": stats.get("state")},
        "leaderStatsLeader": c.leader_stats.get("leader"),
        "storeStatsKeys": sorted(c.store_stats.keys()),
        "machines": c.machines,
        "version": c.version,
        "clusterVersion": c.cluster_version,
    }


SCENARIOS = {
    "kv": scenario_kv,
    "dirs": scenario_dirs,
    "cas": scenario_cas,
    "append": scenario_append,
    "ttl": scenario_ttl,
    "watch": scenario_watch,
    "lock": scenario_lock,
    "cluster": scenario_cluster,
}


def main():
    host, port, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    client = etcd.Client(host=host, port=port, read_timeout=10)
    print(json.dumps(SCENARIOS[name](client), sort_keys=True))


if __name__ == "__main__":
    main()
