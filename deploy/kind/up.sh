#!/usr/bin/env bash
# Try one kq approach on a local kind cluster: build the image, load it, install KEDA when needed,
# apply deploy/<approach>, enqueue jobs and watch the workers.
# Usage: deploy/kind/up.sh [deployment|cronjob|keda-scaledobject|keda-scaledjob|keda-external|keda-external-job|hpa-adapter]
# Needs docker, kind, kubectl, node and openssl. hpa-prometheus needs Prometheus + prometheus-adapter:
# see deploy/hpa-prometheus/README.md.
set -euo pipefail
cd "$(dirname "$0")/../.."

APPROACH="${1:-keda-scaledobject}"
CLUSTER="${CLUSTER:-kq}"
KEDA_VERSION="${KEDA_VERSION:-2.20.0}"
JOBS="${JOBS:-20}"
IMAGE="kq:$(node -p "require('./package.json').version")"
[ -f "deploy/$APPROACH/kustomization.yaml" ] || { echo "unknown approach: $APPROACH" >&2; exit 2; }
if [ "$APPROACH" = hpa-prometheus ]; then
  echo "hpa-prometheus needs Prometheus and prometheus-adapter: see deploy/hpa-prometheus/README.md" >&2
  exit 2
fi

kind get clusters | grep -qx "$CLUSTER" || kind create cluster --name "$CLUSTER" --config deploy/kind/cluster.yaml
docker build -t "$IMAGE" .
kind load docker-image "$IMAGE" --name "$CLUSTER"

case "$APPROACH" in
  keda-*)
    # Server-side apply: KEDA's CRDs are too large for the client-side last-applied annotation.
    kubectl apply --server-side -f "https://github.com/kedacore/keda/releases/download/v${KEDA_VERSION}/keda-${KEDA_VERSION}.yaml"
    kubectl -n keda rollout status deployment/keda-operator --timeout=300s
    kubectl -n keda rollout status deployment/keda-operator-metrics-apiserver --timeout=300s
    ;;
esac

# Secrets: generated once into deploy/secrets/*.env (git-ignored); hex keeps REDIS_URL valid.
[ -f deploy/secrets/redis.env ] || printf 'password=%s\n' "$(openssl rand -hex 32)" > deploy/secrets/redis.env
[ -f deploy/secrets/api.env ] || printf 'tokens=%s\n' "$(openssl rand -hex 32)" > deploy/secrets/api.env
kubectl create namespace kq --dry-run=client -o yaml | kubectl apply -f -

if [ "$APPROACH" = hpa-adapter ]; then
  tmp="$(mktemp -d)"
  openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj "/CN=kq-metrics-adapter-ca" \
    -keyout "$tmp/ca.key" -out "$tmp/ca.crt" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=kq-metrics-adapter.kq.svc" \
    -keyout "$tmp/tls.key" -out "$tmp/tls.csr" 2>/dev/null
  printf 'subjectAltName=DNS:kq-metrics-adapter.kq.svc,DNS:kq-metrics-adapter.kq.svc.cluster.local\n' > "$tmp/san.ext"
  openssl x509 -req -in "$tmp/tls.csr" -CA "$tmp/ca.crt" -CAkey "$tmp/ca.key" -CAcreateserial -days 365 \
    -extfile "$tmp/san.ext" -out "$tmp/tls.crt" 2>/dev/null
  kubectl -n kq create secret tls kq-metrics-adapter-tls --cert="$tmp/tls.crt" --key="$tmp/tls.key" \
    --dry-run=client -o yaml | kubectl apply -f -
  kubectl -n kube-system get configmap extension-apiserver-authentication \
    -o jsonpath='{.data.requestheader-client-ca-file}' > "$tmp/requestheader-ca.crt"
  kubectl -n kq create configmap kq-requestheader-ca \
    --from-file=requestheader-client-ca-file="$tmp/requestheader-ca.crt" --dry-run=client -o yaml | kubectl apply -f -
fi

case "$APPROACH" in
  keda-external*)
    # kq keda-scaler: one CA, a serving pair for the scalerAddress name and KEDA's client pair.
    tmp="$(mktemp -d)"
    openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj "/CN=kq-keda-scaler-ca" \
      -keyout "$tmp/ca.key" -out "$tmp/ca.crt" 2>/dev/null
    for side in server client; do
      openssl req -newkey rsa:2048 -nodes -subj "/CN=kq-keda-scaler-$side" \
        -keyout "$tmp/$side.key" -out "$tmp/$side.csr" 2>/dev/null
    done
    printf 'subjectAltName=DNS:kq-keda-scaler.kq.svc\nextendedKeyUsage=serverAuth\n' > "$tmp/server.ext"
    printf 'extendedKeyUsage=clientAuth\n' > "$tmp/client.ext"
    for side in server client; do
      openssl x509 -req -in "$tmp/$side.csr" -CA "$tmp/ca.crt" -CAkey "$tmp/ca.key" -CAcreateserial \
        -days 365 -extfile "$tmp/$side.ext" -out "$tmp/$side.crt" 2>/dev/null
    done
    for pair in kq-keda-scaler-tls:server kq-keda-scaler-client-tls:client; do
      kubectl -n kq create secret generic "${pair%%:*}" --from-file=tls.crt="$tmp/${pair#*:}.crt" \
        --from-file=tls.key="$tmp/${pair#*:}.key" --from-file=ca.crt="$tmp/ca.crt" \
        --dry-run=client -o yaml | kubectl apply -f -
    done
    ;;
esac

kubectl apply -k "deploy/$APPROACH"
if [ "$APPROACH" = hpa-adapter ]; then
  kubectl patch apiservice v1beta1.external.metrics.k8s.io --type merge \
    -p "{\"spec\":{\"caBundle\":\"$(base64 < "$tmp/ca.crt" | tr -d '\n')\"}}"
fi
kubectl -n kq rollout status statefulset/kq-redis --timeout=300s
kubectl -n kq rollout status deployment/kq-api --timeout=300s

# Enqueue with the CLI inside an API pod: it already has REDIS_URL (password from the Secret).
kubectl -n kq exec deploy/kq-api -- sh -c \
  "for i in \$(seq $JOBS); do node /app/dist/cli.js enqueue sleep '{\"seconds\":30}' >/dev/null; done"
echo "enqueued $JOBS sleep jobs; watching workers (Ctrl-C to stop)"
kubectl -n kq get pods -l app.kubernetes.io/name=kq-worker -w
