#!/usr/bin/env bash
# helm-boundary: the CI boundary check that .github/workflows/helm-boundary.yml runs (one script,
# so the workflow has no logic of its own and this file is what CI tests).
#
#   helm-boundary.sh --level L1|L2|L3 --out DIR [--pack PACK --trust-policy FILE] [--bundle FILE]
#                    [--report-key KEY] [--build HELM_DIR]
#
# 1. --pack:   helmctl verify PACK --trust-policy FILE       (an evidence pack you already have)
# 2. --bundle: helmctl bundle test FILE                      (your bundle's fixtures still hold)
# 3. always:   a conformance kit in DIR/kit, `helmctl serve --config DIR/kit/sidecar.yaml` started
#              here, `helmctl conformance --level LEVEL` against it (at L2 and L3 it also SIGKILLs
#              and restarts the sidecar, --crash-command: the rotated node key at L2, crash
#              durability at L3; signed report DIR/report.json,
#              signed by --report-key or a key made for this run), then the sidecar's pack exported
#              to DIR/pack.tar.gz and verified with the kit's trust policy.
# --build HELM_DIR: npm ci and npm run build in a HELM OSS checkout first, and use its helmctl.
# Every step runs; the exit code is 0 when all passed, 1 when any failed, 2 on a usage error.
# HELMCTL names the command (default: helmctl on PATH), e.g. HELMCTL="node dist/cli/helmctl.js".
set -uo pipefail

usage() { sed -n '5,6p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

level="" out="" pack="" policy="" bundle="" report_key="" build=""
while [ $# -gt 0 ]; do
  case "$1" in
    --level) level="${2:-}"; shift 2 ;;
    --out) out="${2:-}"; shift 2 ;;
    --pack) pack="${2:-}"; shift 2 ;;
    --trust-policy) policy="${2:-}"; shift 2 ;;
    --bundle) bundle="${2:-}"; shift 2 ;;
    --report-key) report_key="${2:-}"; shift 2 ;;
    --build) build="${2:-}"; shift 2 ;;
    -h|--help) usage ;;
    *) echo "helm-boundary: unknown argument $1" >&2; usage ;;
  esac
done
case "$level" in L1|L2|L3) ;; *) echo "helm-boundary: --level must be L1, L2 or L3" >&2; usage ;; esac
[ -n "$out" ] || { echo "helm-boundary: --out DIR is required" >&2; usage; }
if [ -n "$pack" ] && [ -z "$policy" ]; then echo "helm-boundary: --pack needs --trust-policy" >&2; usage; fi

if [ -n "$build" ]; then
  (cd "$build" && npm ci && npm run build) || { echo "helm-boundary: building HELM OSS in $build failed" >&2; exit 2; }
  export PATH="$(cd "$build" && pwd)/node_modules/.bin:$PATH"
  HELMCTL="node $(cd "$build" && pwd)/dist/cli/helmctl.js"
fi
read -r -a helmctl <<< "${HELMCTL:-helmctl}"
mkdir -p "$out"
failed=()
step() { # step NAME COMMAND...: run it, remember a failure, never stop
  local name="$1"; shift
  echo "::group::$name"
  "$@"; local rc=$?
  echo "::endgroup::"
  if [ $rc -ne 0 ]; then echo "helm-boundary: FAILED: $name (exit $rc)"; failed+=("$name"); else echo "helm-boundary: passed: $name"; fi
}

[ -n "$pack" ] && step "helmctl verify $pack" "${helmctl[@]}" verify "$pack" --trust-policy "$policy"
[ -n "$bundle" ] && step "helmctl bundle test $bundle" "${helmctl[@]}" bundle test "$bundle"

# Three free loopback ports for the governed and admin listeners and the runner's scripted model.
read -r gport aport mport < <(node -e '
  const net = require("node:net");
  const one = () => new Promise((r) => { const s = net.createServer(); s.listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => r(p)); }); });
  Promise.all([one(), one(), one()]).then((p) => console.log(p.join(" ")));')
rm -rf "$out/kit"
"${helmctl[@]}" conformance init --dir "$out/kit" --listen "127.0.0.1:$gport" --admin-listen "127.0.0.1:$aport" --model-listen "127.0.0.1:$mport" >/dev/null || { echo "helm-boundary: conformance init failed" >&2; exit 2; }
if [ -z "$report_key" ]; then
  report_key="$out/report.key"
  rm -f "$report_key" "$report_key.pub"
  "${helmctl[@]}" keygen --type root --name helm-boundary/report --out "$report_key" >/dev/null || exit 2
fi

# The sidecar's pid lives in a file: the crash command (L2 key rotation, L3 crash check) replaces
# the process; the new one reads kit/sidecar.yaml again (the rotation rewrote it).
pidfile="$out/sidecar.pid"
serve="${helmctl[*]} serve --config $out/kit/sidecar.yaml"
$serve 2> "$out/sidecar.log" &
echo $! > "$pidfile"
stop_sidecar() {
  local pid; pid="$(cat "$pidfile" 2>/dev/null)" || return 0
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
}
trap stop_sidecar EXIT
if ! node -e '
  const url = process.argv[1], t0 = Date.now();
  (async () => { for (;;) { try { if ((await fetch(url)).status === 200) return; } catch {} if (Date.now() - t0 > 60000) process.exit(1); await new Promise((r) => setTimeout(r, 200)); } })();' "http://127.0.0.1:$aport/readyz"; then
  echo "helm-boundary: the sidecar did not become ready; its log:" >&2; cat "$out/sidecar.log" >&2; exit 2
fi

# SIGKILL returns before the process is gone: wait (up to 10 s) until its pid is, or the new sidecar
# finds the store's LOCK held by a pid still running (ERR_STORE_LOCKED) and exits.
crash="pid=\"\$(cat $pidfile)\" && kill -9 \"\$pid\" && for i in \$(seq 1 100); do kill -0 \"\$pid\" 2>/dev/null || break; sleep 0.1; done && ($serve 2>> $out/sidecar.log & echo \$! > $pidfile)"
step "helmctl conformance --level $level" "${helmctl[@]}" conformance --level "$level" --target "http://127.0.0.1:$gport" --admin "http://127.0.0.1:$aport" --kit "$out/kit" --key "$report_key" --out "$out/report.json" --crash-command "$crash"
rm -f "$out/pack.tar.gz"
step "helmctl export + verify of the sidecar's pack" sh -c '"$@" export --store "$0/kit/proofgraph" --out "$0/pack.tar.gz" --key "$0/kit/keys/exporter.key" >/dev/null && "$@" verify "$0/pack.tar.gz" --trust-policy "$0/kit/trust-policy.txt"' "$out" "${helmctl[@]}"

if [ ${#failed[@]} -gt 0 ]; then
  echo "helm-boundary: ${#failed[@]} step(s) failed: ${failed[*]}"
  exit 1
fi
echo "helm-boundary: all steps passed (report $out/report.json)"
