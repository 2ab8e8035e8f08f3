#!/bin/sh
# Start script of a data pod of kq's in-cluster Sentinel set (kq manifests --redis-mode sentinel).
#
# The rule it enforces: a pod never comes back as a second primary. A primary that was killed and
# restarts after Sentinel promoted a replica still holds its old data and, left alone, would start as
# a primary again and take writes until Sentinel demotes it. So before redis-server starts, the pod
# asks, in this order:
#   1. the Sentinels (SENTINEL get-master-addr-by-name): after a failover they name the new primary;
#   2. the other data pods (ROLE): for when no Sentinel answers yet;
#   3. when this pod holds data from an earlier run (a restart, not a fresh set), both again until one
#      answers or SENTINEL_WAIT_S pass: the Sentinels keep their state on a volume, so after a restart of
#      the whole set they name the last primary once they are up, while the first data pod may hold
#      older data than the last primary (it may have been down while the others took writes);
#   4. nobody knows a primary: the first data pod starts as the primary, every other one replicates it.
# Why not "the data pod with the highest replication offset" in step 4: this pod's own offset is not
# known before its redis-server runs, and with AOF on, redis-server starts with offset 0 (it restores
# the offset from an RDB file only), so after a whole-set restart every pod reports 0 (docs/ha.md).
# It then runs redis-server (exec: it receives SIGTERM and flushes its AOF) as a replica of what it
# found, or as the primary when that is itself.
# A replica starts with replica-priority 0 (the Sentinels never promote it) until its first sync with
# the primary has completed: until then its data may be older than the primary's, and promoting it would
# drop what it missed. The Sentinels of a restarted set might otherwise promote such a replica when the
# primary takes longer than down-after-milliseconds to come up. After REPLICA_SYNC_WAIT_S without a sync
# the priority is restored anyway, so a primary that never comes back does not block every failover.
#
# Env (the StatefulSet sets them; test/k8s/redis-sentinel-failover.test.ts runs this file on loopback):
#   REDIS_PASSWORD  data nodes' password (requirepass, masterauth) and the Sentinels' own
#   ANNOUNCE_HOST   this pod's stable name, as Sentinels and clients must reach it
#   REDIS_PORT      port to listen on and announce (6379)
#   DATA_NODES      "host:port ..." of every data pod, the first data pod first
#   SENTINELS       "host:port ..." of every Sentinel
#   MASTER_NAME     the name the Sentinels monitor (kq)
#   DATA_DIR        AOF directory (/data); MAXMEMORY_MB (noeviction); BIND (optional, e.g. 127.0.0.1)
#   SENTINEL_WAIT_S how long a restarted pod waits for a Sentinel or primary to answer (step 3; 60)
#   REPLICA_SYNC_WAIT_S longest a replica stays unpromotable while it has not synced (300)
set -eu
: "${REDIS_PASSWORD:?}" "${ANNOUNCE_HOST:?}" "${DATA_NODES:?}" "${SENTINELS:?}"
REDIS_PORT=${REDIS_PORT:-6379}
MASTER_NAME=${MASTER_NAME:-kq}
DATA_DIR=${DATA_DIR:-/data}
MAXMEMORY_MB=${MAXMEMORY_MB:-200}
SENTINEL_WAIT_S=${SENTINEL_WAIT_S:-60}
REPLICA_SYNC_WAIT_S=${REPLICA_SYNC_WAIT_S:-300}
export REDISCLI_AUTH="$REDIS_PASSWORD"
self="$ANNOUNCE_HOST:$REDIS_PORT"
first=${DATA_NODES%% *}

# One command to host:port, bounded; prints nothing when the peer is unreachable.
ask() {
  peer=$1
  shift
  timeout 3 redis-cli --no-auth-warning --raw -h "${peer%:*}" -p "${peer##*:}" "$@" 2>/dev/null || true
}

primary=""
source=""
# Steps 1 and 2: sets primary and source when a Sentinel or a data pod names one.
find_primary() {
  for s in $SENTINELS; do
    # Two lines, host then port; anything else (nil, NOAUTH, unknown master) is no answer.
    set -- $(ask "$s" SENTINEL get-master-addr-by-name "$MASTER_NAME")
    if [ $# -eq 2 ] && [ -n "$2" ] && [ -z "$(printf '%s' "$2" | tr -d 0-9)" ]; then
      primary="$1:$2"
      source="sentinel $s"
      return
    fi
  done
  for n in $DATA_NODES; do
    [ "$n" = "$self" ] && continue
    if [ "$(ask "$n" ROLE | head -n 1)" = "master" ]; then
      primary=$n
      source="data node $n says ROLE master"
      return
    fi
  done
}
find_primary
# Data from an earlier run: AOF files (appendonlydir since Redis 7) or an RDB file.
if [ -z "$primary" ] && { [ -d "$DATA_DIR/appendonlydir" ] || [ -f "$DATA_DIR/dump.rdb" ]; }; then
  echo "kq-redis: restarted with data and nobody names a primary yet: waiting up to ${SENTINEL_WAIT_S}s"
  started=$(date +%s)
  while [ -z "$primary" ] && [ $(($(date +%s) - started)) -lt "$SENTINEL_WAIT_S" ]; do
    sleep 1
    find_primary
  done
fi
if [ -z "$primary" ]; then
  primary=$first
  source="no Sentinel or data node knows a primary: the first data pod is it"
fi

replication=""
if [ "$primary" = "$self" ]; then
  echo "kq-redis: starting as the primary ($source)"
else
  echo "kq-redis: starting as a replica of $primary ($source)"
  replication="replicaof ${primary%:*} ${primary##*:}
replica-priority 0"
  # In the background (it outlives the exec below): the normal priority once the first sync is done.
  (
    started=$(date +%s)
    while [ $(($(date +%s) - started)) -lt "$REPLICA_SYNC_WAIT_S" ]; do
      sleep 1
      if ask "127.0.0.1:$REDIS_PORT" INFO replication | grep -q '^master_link_status:up'; then
        ask "127.0.0.1:$REDIS_PORT" CONFIG SET replica-priority 100 >/dev/null
        echo "kq-redis: in sync with the primary: replica-priority 100"
        exit 0
      fi
    done
    ask "127.0.0.1:$REDIS_PORT" CONFIG SET replica-priority 100 >/dev/null
    echo "kq-redis: no sync within ${REPLICA_SYNC_WAIT_S}s: replica-priority 100 anyway"
  ) &
fi
bind=""
[ -n "${BIND:-}" ] && bind="bind $BIND"

# The config goes in on stdin: the password is neither in the pod spec nor in redis-server's argv.
exec redis-server - <<CONF
port $REDIS_PORT
$bind
dir $DATA_DIR
appendonly yes
appendfsync everysec
maxmemory ${MAXMEMORY_MB}mb
maxmemory-policy noeviction
requirepass $REDIS_PASSWORD
masterauth $REDIS_PASSWORD
replica-announce-ip $ANNOUNCE_HOST
replica-announce-port $REDIS_PORT
$replication
CONF
