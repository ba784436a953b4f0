#!/usr/bin/env bash
# A throwaway single-node Ceph RGW (S3 with versioning and Object Lock) for tests and local runs.
# Debian packages: ceph-mon ceph-osd radosgw (see docs/fleet.md). Recipe: ../shared/design/fleet.md.
#
#   scripts/ceph-rgw.sh start DIR [RGW_PORT] [MON_PORT]   prints "endpoint=… access_key=… secret_key=…"
#   scripts/ceph-rgw.sh stop DIR                          kills the daemons started in DIR
#
# Everything (config, keyring, mon store, memstore OSD, logs, pid files) lives in DIR. The OSD is
# memstore, so data lives only as long as the daemons. Daemons run as the invoking user
# (--setuser/--setgroup), which is what lets this run without root.
set -euo pipefail

cmd=${1:-}; dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop DIR [RGW_PORT] [MON_PORT]" >&2; exit 2; }

stop() {
  for p in "$dir"/run/*.pid; do
    [ -f "$p" ] || continue
    pid=$(cat "$p")
    kill "$pid" 2>/dev/null || true
  done
  for p in "$dir"/run/*.pid; do
    [ -f "$p" ] || continue
    pid=$(cat "$p")
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$p"
  done
}

if [ "$cmd" = stop ]; then stop; exit 0; fi
[ "$cmd" = start ] || { echo "unknown command $cmd" >&2; exit 2; }

for b in ceph-mon ceph-osd radosgw radosgw-admin monmaptool ceph-authtool ceph; do
  command -v "$b" >/dev/null || { echo "missing $b: apt-get install -y ceph-mon ceph-osd radosgw" >&2; exit 3; }
done

rgw_port=${3:-7480}; mon_port=${4:-3300}
user=$(id -un); group=$(id -gn)
mkdir -p "$dir"/{mon,osd,rgw,log,run}
dir=$(cd "$dir" && pwd)
conf="$dir/ceph.conf"; keyring="$dir/keyring"
fsid=$(cat /proc/sys/kernel/random/uuid)

cat >"$conf" <<EOF
[global]
fsid = $fsid
mon host = v2:127.0.0.1:$mon_port
mon initial members = a
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
keyring = $keyring
log file = $dir/log/\$name.log
pid file = $dir/run/\$name.pid
admin socket = $dir/run/\$name.asok
run dir = $dir/run
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
mon allow pool size one = true
mon warn on pool no redundancy = false
osd objectstore = memstore
memstore device bytes = 1073741824
osd data = $dir/osd
mon data = $dir/mon
osd crush chooseleaf type = 0
rgw frontends = beast endpoint=127.0.0.1:$rgw_port
rgw data = $dir/rgw
ms bind ipv6 = false
EOF
c=(-c "$conf")
own=(--setuser "$user" --setgroup "$group")

ceph-authtool --create-keyring "$keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
ceph-authtool "$keyring" --gen-key -n client.admin --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *' >/dev/null
ceph-authtool "$keyring" --gen-key -n client.rgw.a --cap mon 'allow rw' --cap osd 'allow rwx' >/dev/null
ceph-authtool "$keyring" --gen-key -n osd.0 --cap mon 'allow profile osd' --cap osd 'allow *' >/dev/null

monmaptool --create --clobber --fsid "$fsid" --addv a "[v2:127.0.0.1:$mon_port]" "$dir/monmap" >/dev/null
ceph-mon "${c[@]}" --mkfs -i a --monmap "$dir/monmap" --keyring "$keyring" "${own[@]}" 2>>"$dir/log/setup.log"
ceph-mon "${c[@]}" -i a "${own[@]}"

osd_id=$(timeout 30 ceph "${c[@]}" osd create)
[ "$osd_id" = 0 ] || { echo "expected osd id 0, got $osd_id" >&2; stop; exit 1; }
ceph-osd "${c[@]}" -i 0 --mkfs --keyring "$keyring" "${own[@]}" 2>>"$dir/log/setup.log"
timeout 30 ceph "${c[@]}" osd crush add osd.0 1.0 host=localhost root=default >/dev/null 2>&1
ceph-osd "${c[@]}" -i 0 "${own[@]}"

radosgw "${c[@]}" -n client.rgw.a "${own[@]}"

out=$(timeout 60 radosgw-admin "${c[@]}" user create --uid=helm --display-name=helm 2>>"$dir/log/setup.log")
access=$(printf '%s' "$out" | node -e 'const u=JSON.parse(require("fs").readFileSync(0,"utf8"));process.stdout.write(u.keys[0].access_key)')
secret=$(printf '%s' "$out" | node -e 'const u=JSON.parse(require("fs").readFileSync(0,"utf8"));process.stdout.write(u.keys[0].secret_key)')

for _ in $(seq 1 300); do
  if node -e "require('net').connect($rgw_port,'127.0.0.1').on('connect',()=>process.exit(0)).on('error',()=>process.exit(1))"; then
    echo "endpoint=http://127.0.0.1:$rgw_port access_key=$access secret_key=$secret"
    exit 0
  fi
  sleep 0.2
done
echo "radosgw did not listen on $rgw_port; see $dir/log" >&2
stop
exit 1
