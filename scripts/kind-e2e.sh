#!/usr/bin/env bash
# End to end on a local kind cluster: build and load the images, install the chart (with a
# certification root), apply a signed PolicyBundle and a GuardianSidecar (principal, tool routes,
# upstream key), deploy an annotated sample agent whose upstream is the scripted model, check that
# an allowed tool call arrives and a denied one is blocked, then export the pod's ProofGraph and
# verify it offline with helmctl (the sidecar's log key is certified by the operator's root), with
# an ALLOW and a DENY receipt in it. Finally uninstall and check no webhook configuration is left.
#
# Needs: docker (running), kind, kubectl, helm 3, Node.js >= 22 with `npm install` done.
#   scripts/kind-e2e.sh            # creates cluster helm-e2e, deletes it at the end
#   KEEP=1 scripts/kind-e2e.sh     # keeps the cluster (and prints the work directory)
# Environment: CLUSTER (helm-e2e), KIND_NODE_IMAGE (kind's default), KEEP (0).
set -euo pipefail
cd "$(dirname "$0")/.."

CLUSTER="${CLUSTER:-helm-e2e}"
KEEP="${KEEP:-0}"
TAG=e2e
OPERATOR_NS=helm-system
APP_NS=agents
MODEL_NS=models
WORK="$(mktemp -d)"

say() { printf '\n==> %s\n' "$*"; }
fail() { printf '\nFAIL: %s\n' "$*" >&2; exit 1; }
for tool in docker kind kubectl helm node npm; do
  command -v "$tool" >/dev/null 2>&1 || fail "$tool is not on PATH"
done
docker info >/dev/null 2>&1 || fail "docker is not running"

cleanup() {
  status=$?
  if [ "$status" -ne 0 ]; then
    echo "--- diagnostics ---" >&2
    kubectl get pods -A -o wide >&2 || true
    kubectl -n "$OPERATOR_NS" logs deploy/helm-operator --tail=100 >&2 || true
    kubectl -n "$APP_NS" describe pods >&2 || true
    kubectl get policybundles,guardiansidecars,clusterguardiansidecars -A >&2 || true
  fi
  if [ "$KEEP" = 1 ]; then
    echo "cluster $CLUSTER kept; work directory $WORK"
  else
    kind delete cluster --name "$CLUSTER" >/dev/null 2>&1 || true
    rm -rf "$WORK"
  fi
  exit "$status"
}
trap cleanup EXIT

helmctl() { node dist/cli/helmctl.js "$@"; }

say "build helmctl (dist/)"
npm run build >/dev/null

say "kind cluster $CLUSTER"
if ! kind get clusters | grep -qx "$CLUSTER"; then
  kind create cluster --name "$CLUSTER" --config kind-config.yaml ${KIND_NODE_IMAGE:+--image "$KIND_NODE_IMAGE"} --wait 120s
fi
kubectl config use-context "kind-$CLUSTER" >/dev/null

say "images"
docker build -f Dockerfile.operator -t "helm-operator:$TAG" .
docker build -f Dockerfile.sidecar -t "helm-sidecar:$TAG" .
kind load docker-image --name "$CLUSTER" "helm-operator:$TAG" "helm-sidecar:$TAG"

say "keys: bundle signer, certification root (the operator certifies each sidecar's keys), exporter"
# Sidecars make their node and log keys in memory at start (certified identity): no key Secret.
helmctl keygen --type root --name e2e/bundle-signer --out "$WORK/bundle-signer.key"
helmctl keygen --type root --name e2e/certify-root --out "$WORK/certify-root.key"
helmctl keygen --type exporter --name e2e/exporter --out "$WORK/exporter.key"

say "sign the example policy bundle (metadata.version must equal the PolicyBundle's spec.version)"
sed 's/^  version: .*$/  version: "1"/' examples/bundles/support-desk.yaml > "$WORK/bundle.yaml"
helmctl bundle sign "$WORK/bundle.yaml" --key "$WORK/bundle-signer.key" --out "$WORK/bundle.signature.json"
sig() { node -e 'const s=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")); console.log(s[process.argv[2]])' "$WORK/bundle.signature.json" "$1"; }

say "helm install (trust root: the bundle signer; certification root key from a Secret)"
kubectl create namespace "$OPERATOR_NS" --dry-run=client -o yaml | kubectl apply -f -
kubectl -n "$OPERATOR_NS" create secret generic helm-certify-root --from-file=root.key="$WORK/certify-root.key" --dry-run=client -o yaml | kubectl apply -f -
helm upgrade --install helm-operator charts/helm-operator \
  --namespace "$OPERATOR_NS" --create-namespace \
  --set image.repository=helm-operator --set image.tag="$TAG" --set image.pullPolicy=Never \
  --set-json "trustRoots=[\"$(cat "$WORK/bundle-signer.key.pub")\"]" \
  --set certification.rootKeySecret=helm-certify-root --set clusterOrigin=helm.e2e/kind \
  --set-json "rbac.governedNamespaces=[\"$APP_NS\"]" \
  --wait --timeout 5m
kubectl -n "$OPERATOR_NS" rollout status deploy/helm-operator --timeout=180s

say "scripted model (the agent's upstream): asks for crm.lookup_customer when told to look up, else for the undeclared shell.exec"
kubectl create namespace "$MODEL_NS" --dry-run=client -o yaml | kubectl apply -f -
kubectl apply -f - <<EOF
apiVersion: apps/v1
kind: Deployment
metadata: { name: scripted-model, namespace: $MODEL_NS }
spec:
  replicas: 1
  selector: { matchLabels: { app: scripted-model } }
  template:
    metadata: { labels: { app: scripted-model } }
    spec:
      securityContext: { runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: RuntimeDefault } }
      containers:
        - name: model
          image: helm-sidecar:$TAG
          imagePullPolicy: Never
          command: ["node", "--input-type=module", "-e"]
          args:
            - |
              const { startScriptedModel } = await import('/app/dist/sidecar/scripted-model/server.js');
              const lookup = { id: 'call_e2e_allow', name: 'crm.lookup_customer', arguments: '{"customerId":"cus_12345678"}' };
              const shell = { id: 'call_e2e_deny', name: 'shell.exec', arguments: '{"cmd":"rm -rf /var/data"}' };
              const script = (req) => ({ toolCalls: [JSON.stringify(req.body ?? req).includes('look up') ? lookup : shell] });
              const m = await startScriptedModel({ host: '0.0.0.0', port: 8000, script });
              console.log('scripted model at', m.url);
          ports: [{ containerPort: 8000 }]
          readinessProbe: { httpGet: { path: /v1/models, port: 8000 } }
          securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: [ALL] } }
---
apiVersion: v1
kind: Service
metadata: { name: scripted-model, namespace: $MODEL_NS }
spec:
  selector: { app: scripted-model }
  ports: [{ port: 8000, targetPort: 8000 }]
EOF
kubectl -n "$MODEL_NS" rollout status deploy/scripted-model --timeout=120s

say "governed namespace $APP_NS: the upstream API key (sidecar only)"
kubectl create namespace "$APP_NS" --dry-run=client -o yaml | kubectl apply -f -
kubectl label namespace "$APP_NS" helm.mindburn.org/governed=true --overwrite
kubectl -n "$APP_NS" create secret generic upstream-llm --from-literal=api-key=e2e-upstream-key --dry-run=client -o yaml | kubectl apply -f -

say "PolicyBundle (must become Active) and GuardianSidecar"
{
  cat <<EOF
apiVersion: helm.mindburn.org/v1alpha1
kind: PolicyBundle
metadata: { name: support-desk, namespace: $APP_NS }
spec:
  bundleId: support-desk
  version: 1
  contentHash: "$(sig contentHash)"
  signature: "$(sig signature)"
  signerKeyId: "$(sig signerKeyId)"
  conformanceLevel: L1
  inline: |
EOF
  sed 's/^/    /' "$WORK/bundle.yaml"
} | kubectl apply -f -
kubectl -n "$APP_NS" wait policybundle/support-desk --for=jsonpath='{.status.phase}'=Active --timeout=120s
kubectl apply -f - <<EOF
apiVersion: helm.mindburn.org/v1alpha1
kind: GuardianSidecar
metadata: { name: support, namespace: $APP_NS }
spec:
  image: helm-sidecar:$TAG
  conformanceLevel: L1
  policyBundleRef: support-desk
  failClosed: true
  principal: { id: "agent:sup-1", roles: [support] }
  toolRoutes:
    crm.lookup_customer: { connector: crm-api }
    tickets.update: { connector: helpdesk-mcp }
    mail.send: { connector: mailer }
    billing.refund: { connector: payments-api }
    kb.fetch_article: { sandbox: egress-only }
  llmUpstream:
    url: http://scripted-model.$MODEL_NS.svc:8000/v1
    apiKeySecretRef: { name: upstream-llm, key: api-key }
  # The receipts are copied out before the pod goes; a real install uses existingClaim or storageClass.
  proofGraph: { emptyDir: { acknowledgeEvidenceLoss: true } }
EOF

say "sample agent, opted in by label and annotation"
kubectl apply -f - <<EOF
apiVersion: apps/v1
kind: Deployment
metadata: { name: support-agent, namespace: $APP_NS }
spec:
  replicas: 1
  selector: { matchLabels: { app: support-agent } }
  template:
    metadata:
      labels: { app: support-agent, helm.mindburn.org/inject: "true" }
      annotations:
        helm.mindburn.org/inject: "true"
        helm.mindburn.org/conformance-level: L1
    spec:
      serviceAccountName: default
      securityContext: { runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: RuntimeDefault } }
      containers:
        - name: agent
          image: helm-sidecar:$TAG
          imagePullPolicy: Never
          command: ["node", "-e", "setInterval(() => {}, 1 << 30)"]
          securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: [ALL] } }
EOF
kubectl -n "$APP_NS" rollout status deploy/support-agent --timeout=180s
POD="$(kubectl -n "$APP_NS" get pods -l app=support-agent -o jsonpath='{.items[0].metadata.name}')"
[ "$(kubectl -n "$APP_NS" get pod "$POD" -o jsonpath='{.metadata.labels.helm\.mindburn\.org/injected}')" = true ] || fail "pod $POD was not injected"
kubectl -n "$APP_NS" get pod "$POD" -o jsonpath='{.spec.initContainers[*].name}{" "}{.spec.containers[*].name}' | grep -q helm-guardian || fail "no helm-guardian container in $POD"
kubectl -n "$APP_NS" exec "$POD" -c agent -- sh -c 'test -z "$(ls /etc/helm /var/run/secrets/helm.mindburn.org 2>/dev/null)"' || fail "the agent container can see /etc/helm or the certify token"
[ -n "$(kubectl -n "$APP_NS" get pod "$POD" -o jsonpath='{.metadata.annotations.helm\.mindburn\.org/sidecar-digest}')" ] || fail "pod $POD has no sidecar digest"
kubectl -n "$APP_NS" wait pod "$POD" --for=condition=Ready --timeout=120s || fail "the sidecar did not become ready (certification?)"

say "a workload asking for conformance L3 (its GuardianSidecar provides L1) is refused by the validating webhook"
if kubectl -n "$APP_NS" apply -f - <<EOF 2>"$WORK/denied.txt"
apiVersion: apps/v1
kind: Deployment
metadata: { name: wants-l3, namespace: $APP_NS, labels: { helm.mindburn.org/inject: "true" } }
spec:
  selector: { matchLabels: { app: wants-l3 } }
  template:
    metadata:
      labels: { app: wants-l3, helm.mindburn.org/inject: "true" }
      annotations: { helm.mindburn.org/inject: "true", helm.mindburn.org/conformance-level: L3 }
    spec:
      containers: [{ name: app, image: helm-sidecar:$TAG, imagePullPolicy: Never }]
EOF
then fail "a workload asking for L3 was admitted"; fi
grep -q "conformance L3" "$WORK/denied.txt" || fail "unexpected refusal: $(cat "$WORK/denied.txt")"

ask() { # ask PROMPT: the agent's call through the sidecar; prints the status and body
  kubectl -n "$APP_NS" exec "$POD" -c agent -- node --input-type=module -e '
    const tools = ["crm.lookup_customer", "shell.exec"].map((name) => ({ type: "function", function: { name, parameters: { type: "object", properties: {} } } }));
    const body = { model: "scripted-model", messages: [{ role: "user", content: process.argv[1] }], tools };
    const r = await fetch(process.env.OPENAI_BASE_URL + "/chat/completions", { method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer " + process.env.OPENAI_API_KEY }, body: JSON.stringify(body) });
    const text = await r.text();
    console.log(r.status, r.headers.get("x-helm-decision"), text);
    const names = r.ok ? (JSON.parse(text).choices?.[0]?.message?.tool_calls ?? []).map((c) => c.function?.name) : [];
    console.log("DELIVERED", JSON.stringify(names));
  ' "$1"
}

say "the agent asks to look up a customer; the model proposes crm.lookup_customer; the sidecar allows it"
ask "please look up customer cus_12345678" > "$WORK/allow.txt" || fail "the allowed call failed: $(cat "$WORK/allow.txt")"
cat "$WORK/allow.txt"
grep -q 'DELIVERED \["crm.lookup_customer"\]' "$WORK/allow.txt" || fail "crm.lookup_customer did not reach the agent: $(cat "$WORK/allow.txt")"

say "the agent asks to free disk space; the model proposes shell.exec; the sidecar must block it"
ask "free some disk space" > "$WORK/answer.txt" || fail "the call failed: $(cat "$WORK/answer.txt")"
cat "$WORK/answer.txt"
grep -q 'DELIVERED \[\]' "$WORK/answer.txt" || fail "the denied tool call reached the agent: $(cat "$WORK/answer.txt")"

say "receipts: copy the ProofGraph out of the sidecar, export and verify offline"
sleep 2
kubectl -n "$APP_NS" cp -c helm-guardian "$POD:/var/lib/helm/proofgraph" "$WORK/proofgraph"
helmctl export --store "$WORK/proofgraph" --out "$WORK/pack.tar.gz" --key "$WORK/exporter.key"
# One root line covers every certified sidecar log key (docs/spec/trust-policy.md).
printf 'quorum none\nroot %s\nexporter %s\n' "$(cat "$WORK/certify-root.key.pub")" "$(cat "$WORK/exporter.key.pub")" > "$WORK/trust-policy.txt"
helmctl verify "$WORK/pack.tar.gz" --trust-policy "$WORK/trust-policy.txt" || fail "the evidence pack does not verify"
helmctl replay "$WORK/pack.tar.gz" --json > "$WORK/replay.json"
grep -q '"ALLOW"' "$WORK/replay.json" || fail "no ALLOW decision receipt in the pack"
grep -q 'crm.lookup_customer' "$WORK/replay.json" || fail "the ALLOW receipt does not name crm.lookup_customer"
grep -q '"DENY"' "$WORK/replay.json" || fail "no DENY decision receipt in the pack"
grep -q 'shell.exec' "$WORK/replay.json" || fail "the DENY receipt does not name shell.exec"

say "uninstall leaves no webhook configuration behind"
kubectl delete namespace "$APP_NS" "$MODEL_NS" --wait=true --timeout=180s
helm uninstall helm-operator --namespace "$OPERATOR_NS" --wait
sleep 5
if kubectl get mutatingwebhookconfigurations,validatingwebhookconfigurations -o name | grep -q helm-operator; then
  fail "a helm-operator webhook configuration survived helm uninstall"
fi

say "PASS"
