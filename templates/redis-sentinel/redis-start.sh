#!/bin/sh
# Start script of a data pod of kq's in-cluster Sentinel set (kq manifests --redis-mode sentinel).
#
# The rule it enforces: a pod never comes back as a second primary. A primary that was killed and
# restarts after Sentinel promoted a replica still holds its old data and, left alone, would start as
# a primary again and take writes until Sentinel demotes it. So before redis-server starts, the pod
# asks, in this order:
#   1. the Sentinels (SENTINEL get-master-addr-by-name): after a failover they name the new primary;
#   2. the other data pods (ROLE): for when no Sentinel answers (first start, or all Sentinels restarted);
#   3. nobody knows a primary: the first data pod starts as the primary, every other one replicates it.
# It then runs redis-server (exec: it receives SIGTERM and flushes its AOF) as a replica of what it
# found, or as the primary when that is itself.
#
# Env (the StatefulSet sets them; test/k8s/redis-sentinel-failover.test.ts runs this file on loopback):
#   REDIS_PASSWORD  data nodes' password (requirepass, masterauth) and the Sentinels' own
#   ANNOUNCE_HOST   this pod's stable name, as Sentinels and clients must reach it
#   REDIS_PORT      port to listen on and announce (6379)
#   DATA_NODES      "host:port ..." of every data pod, the first data pod first
#   SENTINELS       "host:port ..." of every Sentinel
#   MASTER_NAME     the name the Sentinels monitor (kq)
#   DATA_DIR        AOF directory (/data); MAXMEMORY_MB (noeviction); BIND (optional, e.g. 127.0.0.1)
set -eu
: "${REDIS_PASSWORD:?}" "${ANNOUNCE_HOST:?}" "${DATA_NODES:?}" "${SENTINELS:?}"
REDIS_PORT=${REDIS_PORT:-6379}
MASTER_NAME=${MASTER_NAME:-kq}
DATA_DIR=${DATA_DIR:-/data}
MAXMEMORY_MB=${MAXMEMORY_MB:-200}
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
for s in $SENTINELS; do
  # Two lines, host then port; anything else (nil, NOAUTH, unknown master) is no answer.
  set -- $(ask "$s" SENTINEL get-master-addr-by-name "$MASTER_NAME")
  if [ $# -eq 2 ] && [ -n "$2" ] && [ -z "$(printf '%s' "$2" | tr -d 0-9)" ]; then
    primary="$1:$2"
    source="sentinel $s"
    break
  fi
done
if [ -z "$primary" ]; then
  for n in $DATA_NODES; do
    [ "$n" = "$self" ] && continue
    if [ "$(ask "$n" ROLE | head -n 1)" = "master" ]; then
      primary=$n
      source="data node $n says ROLE master"
      break
    fi
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
  replication="replicaof ${primary%:*} ${primary##*:}"
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
