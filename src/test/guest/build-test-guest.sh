#!/bin/bash
# build-test-guest.sh - build a tiny libvirt test guest (KVM or TCG) from Debian packages only.
# virt-backup's own copy of the recipe in shared/test-guest, so that a fresh clone builds its guest
# alone. Changed here: the output goes to the test cache; anc.acpi=0 on the kernel command line
# makes a guest that ignores the ACPI power button (for the shutdown timeout path);
# anc.bootcheck=1 powers the guest off at boot unless its disk starts with "ANC-BOOT" (a boot loader's
# stand-in, so that a restore test can see a backup that does not boot);
# anc.poweroff_delay=SECONDS makes its power off take that long (it keeps running meanwhile, as a
# guest stopping its services does); anc.agent=SECONDS runs a stand-in for qemu-guest-agent whose
# file system freeze takes that long (anc.agent=off: the channel is there, no agent listens).
#
# Output (default OUT=/var/cache/virt-backup-tests/guest):
#   vmlinuz          kernel from the Debian package linux-image-<ver>-amd64
#   initramfs.img    gzip'd newc cpio: busybox-static + a few kernel modules + /init
#   build-info.txt   package versions, sizes, sha256 sums, kernel cmdline hints
#
# Needs: apt-get (with current package lists), dpkg-deb, gzip. Runs as any user
# (as root it additionally puts a /dev/console node into the cpio).
# Nothing is installed on the host: packages are only downloaded and unpacked.
#
# Guest features (see /init below):
#   * ACPI power button -> clean power off (busybox acpid -> /etc/acpi/PWRF/00000080)
#     so `virsh shutdown` works.
#   * heartbeat "H <n> <uptime>" every anc.hbt seconds (default 0.01) on ttyS0.
#   * "cpu N" on ttyS1: times N iterations of a shell loop (TCG/KVM slowdown yardstick).
#   * optional pattern writer to /dev/vda: kernel cmdline anc.pattern=START:SIZE[:STRIDE] (MiB),
#     or on demand through commands on ttyS1 ("write S N [K]", "pattern S N [K]", "stop", ...).
#     Every 64 KiB block = 1024 identical 64-byte records
#       "ANCP r=<run> q=<seq> b=<block> c=<check> k=<stride>."
#     (check = (q*2654435761+b*40503+0x<run>) mod 4294967291; write q goes to block
#      base + ((q mod n)*stride) mod n)
#     written sequentially with O_DIRECT, queue depth 1 (one `yes | dd` per block).
set -euo pipefail

OUT=${OUT:-/var/cache/virt-backup-tests/guest}
WORK=${WORK:-/tmp/virt-backup-guest-build.$$}
KPKG=${KPKG:-}          # e.g. linux-image-6.1.0-57-amd64; default: what linux-image-amd64 depends on
MODULES=${MODULES:-"virtio_pci virtio_blk virtio_console button evdev"}

t0=$(date +%s.%N)
rm -rf "$WORK"; mkdir -p "$WORK/dl" "$WORK/pkg" "$WORK/root" "$OUT"
cd "$WORK/dl"

if [ -z "$KPKG" ]; then
    KPKG=$(apt-cache depends linux-image-amd64 | sed -n 's/^ *Depends: \(linux-image-[0-9].*\)$/\1/p' | head -n1)
    [ -n "$KPKG" ] || { echo "cannot resolve linux-image-amd64 (run apt-get update?)" >&2; exit 1; }
fi
echo "== downloading $KPKG busybox-static"
# apt-get download writes into the current directory; the _apt sandbox warning is harmless.
apt-get download "$KPKG" busybox-static 2>&1 | grep -v '^W: Download is performed unsandboxed' || true
ls ./"$KPKG"_*.deb ./busybox-static_*.deb >/dev/null || { echo "apt-get download failed" >&2; exit 1; }
DL_BYTES=$(cat ./*.deb | wc -c)

dpkg-deb -x ./"$KPKG"_*.deb "$WORK/pkg"
dpkg-deb -x ./busybox-static_*.deb "$WORK/pkg"
KVER=$(ls "$WORK/pkg/lib/modules")
BB="$WORK/pkg/bin/busybox"
MODDIR="$WORK/pkg/lib/modules/$KVER"

# ---- kernel modules: resolve dependencies from each .ko's .modinfo "depends=" ----
declare -A MODPATH=() SEEN=()
while IFS= read -r f; do m=$(basename "$f" .ko); MODPATH[${m//-/_}]=$f; done \
    < <(find "$MODDIR/kernel" -name '*.ko')
ORDER=()
resolve() {   # depth-first: dependencies first
    local m=${1//-/_} d deps
    [ -n "${SEEN[$m]:-}" ] && return 0
    SEEN[$m]=1
    [ -n "${MODPATH[$m]:-}" ] || { echo "module $m not found (built in?)" >&2; return 0; }
    deps=$(tr '\0' '\n' < "${MODPATH[$m]}" | sed -n 's/^depends=//p' | head -n1 | tr ',' ' ')
    for d in $deps; do resolve "$d"; done
    ORDER+=("$m")
}
for m in $MODULES; do resolve "$m"; done

R="$WORK/root"
mkdir -p "$R"/{bin,dev,proc,sys,tmp,run,etc/anc,etc/acpi/PWRF,lib/modules/"$KVER"}
cp "$BB" "$R/bin/busybox"
for a in $("$BB" --list); do [ "$a" = busybox ] || ln -s busybox "$R/bin/$a"; done
: > "$R/etc/anc/modules.list"
for m in "${ORDER[@]}"; do
    rel=${MODPATH[$m]#"$MODDIR/"}
    mkdir -p "$R/lib/modules/$KVER/$(dirname "$rel")"
    cp "${MODPATH[$m]}" "$R/lib/modules/$KVER/$rel"
    echo "$KVER/$rel" >> "$R/etc/anc/modules.list"
done
if [ "$(id -u)" = 0 ]; then mknod -m 600 "$R/dev/console" c 5 1; fi

# ---- /init ----
cat > "$R/init" <<'INIT'
#!/bin/sh
# anc test guest /init (busybox ash, PID 1)
PATH=/bin; export PATH
mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs tmpfs /run
read -r up idle < /proc/uptime
echo "ANC-INIT up=$up"
while read -r m; do insmod "/lib/modules/$m" || echo "ANC-WARN insmod $m failed"; done < /etc/anc/modules.list

read -r CMDLINE < /proc/cmdline
HB=1; HBT=0.01; PATTERN=; DISK=/dev/vda; ACPI=1
for w in $CMDLINE; do
    case $w in
        anc.hb=*) HB=${w#anc.hb=} ;;            # 0 = no heartbeat
        anc.hbt=*) HBT=${w#anc.hbt=} ;;         # heartbeat period in seconds
        anc.pattern=*) PATTERN=${w#anc.pattern=} ;;  # START:SIZE[:STRIDE] (MiB), continuous
        anc.disk=*) DISK=${w#anc.disk=} ;;
        anc.acpi=*) ACPI=${w#anc.acpi=} ;;      # 0 = ignore the ACPI power button
        anc.poweroff_delay=*) POWEROFF_DELAY=${w#anc.poweroff_delay=} ;;  # seconds a power off takes
        anc.agent=*) AGENT=${w#anc.agent=} ;;   # seconds the stand-in agent's freeze takes; off = none
        anc.bootcheck=*) BOOTCHECK=${w#anc.bootcheck=} ;;  # 1 = power off unless the disk starts with ANC-BOOT
    esac
done
echo "DISK=$DISK" > /etc/anc/env
echo "POWEROFF_DELAY=${POWEROFF_DELAY:-0}" >> /etc/anc/env

# pattern writer: pattern_writer START_MiB SIZE_MiB PASSES(0 = until /tmp/anc.stop exists) [STRIDE]
# write number q goes to block base + ((q mod nblk) * STRIDE) mod nblk  (STRIDE coprime to nblk;
# 1 = sequential; e.g. 977 scatters the writes so that a naive live copy is caught)
pattern_writer() {
    st=$1; sz=$2; passes=${3:-0}; k=${4:-1}
    nblk=$((sz * 16)); base=$((st * 16))
    read -r run < /proc/sys/kernel/random/uuid; run=${run%%-*}; rn=$((0x$run))
    K=00000$k; K=${K#${K%?????}}
    pad=" k=$K."
    echo "ANC-WRITER-START run=$run base=$base nblk=$nblk passes=$passes stride=$k disk=$DISK"
    gen=0
    while [ "$passes" -eq 0 ] || [ "$gen" -lt "$passes" ]; do
        i=0
        while [ $i -lt $nblk ]; do
            [ -e /tmp/anc.stop ] && break 2
            q=$((gen * nblk + i)); b=$((base + (i * k) % nblk))
            c=$(( (q * 2654435761 + b * 40503 + rn) % 4294967291 ))
            Q=000000000000$q; Q=${Q#${Q%????????????}}
            B=00000000$b; B=${B#${B%????????}}
            C=0000000000$c; C=${C#${C%??????????}}
            # one 64 KiB block = 1024 x the 64-byte record; one O_DIRECT write, queue depth 1
            yes "ANCP r=$run q=$Q b=$B c=$C$pad" | dd of="$DISK" bs=65536 seek=$b count=1 \
                oflag=direct iflag=fullblock conv=notrunc 2>/tmp/anc.dd.err \
                || { echo "ANC-WRITER-DDFAIL q=$q"; cat /tmp/anc.dd.err; break 2; }
            i=$((i + 1))
        done
        gen=$((gen + 1))
        read -r up idle < /proc/uptime
        echo "ANC-WRITER-PASS run=$run gen=$gen up=$up"
    done
    read -r up idle < /proc/uptime
    echo "ANC-WRITER-END run=$run gen=$gen up=$up"
    rm -f /tmp/anc.writer.pid
}
writer_start() {
    writer_stop
    rm -f /tmp/anc.stop
    pattern_writer "$@" &
    echo $! > /tmp/anc.writer.pid
    renice -n 10 -p $! >/dev/null 2>&1
}
writer_stop() {
    touch /tmp/anc.stop
    i=0
    while [ -e /tmp/anc.writer.pid ] && [ $i -lt 100 ]; do
        read -r p < /tmp/anc.writer.pid 2>/dev/null && kill -0 "$p" 2>/dev/null || break
        usleep 50000; i=$((i + 1))
    done
    rm -f /tmp/anc.writer.pid
}

# A stand-in for qemu-guest-agent on the virtio port org.qemu.guest_agent.0. It answers guest-sync
# (libvirt sends one before every command), guest-fsfreeze-freeze after $1 seconds (slower than
# libvirt's agent timeout, it answers after libvirt gave up) and guest-fsfreeze-thaw, and reports
# each on the console. It freezes nothing for real: the host only needs to see the protocol.
fake_agent() {
    port=; i=0
    while [ -z "$port" ] && [ $i -lt 50 ]; do
        for p in /sys/class/virtio-ports/*; do
            read -r n < "$p/name" 2>/dev/null && [ "$n" = org.qemu.guest_agent.0 ] && port=/dev/${p##*/}
        done
        [ -n "$port" ] || usleep 100000; i=$((i + 1))
    done
    [ -n "$port" ] || { echo "ANC-WARN no guest agent port"; return; }
    exec 5<>"$port"
    echo "ANC-AGENT-READY $port"
    frozen=0
    while :; do
        if ! read -r req <&5; then sleep 1; continue; fi
        case $req in
            *guest-sync*)
                id=${req##*\"id\":}; id=${id%%[!0-9]*}
                echo "{\"return\": $id}" >&5 ;;
            *guest-fsfreeze-freeze*)
                echo "ANC-FSFREEZE-START"; sleep "$1"; frozen=1; echo "ANC-FSFREEZE-DONE"
                echo '{"return": 1}' >&5 ;;
            *guest-fsfreeze-thaw*)
                echo "ANC-FSTHAW frozen=$frozen"; frozen=0
                echo '{"return": 1}' >&5 ;;
            *) echo '{"return": {}}' >&5 ;;
        esac
    done
}

heartbeat() {
    mkfifo /tmp/hb.fifo; exec 3<>/tmp/hb.fifo      # read -t on an idle fifo = fork-free sleep
    n=0
    while :; do
        read -r up idle < /proc/uptime
        echo "H $n $up"
        n=$((n + 1))
        read -t "$HBT" -u 3 x
    done
}

# CPU yardstick: N iterations of shell arithmetic (run the same on the host to get the slowdown)
cpubench() {
    read -r t0 idle < /proc/uptime
    j=0; while [ $j -lt "$1" ]; do j=$((j + 1)); done
    read -r t1 idle < /proc/uptime
    echo "ANC-CPU n=$1 t0=$t0 t1=$t1"
}

# command channel on ttyS1 (libvirt <serial type='unix'> port 1); one command per line
cmdloop() {
    while :; do
        if ! read -r c a b k x <&4; then sleep 1; continue; fi
        read -r up idle < /proc/uptime
        echo "ANC-CMD $c $a $b $k up=$up"
        case $c in
            write)   writer_start "$a" "$b" 1 "${k:-1}"; echo "ANC-CMD-OK write" ;;
            pattern) writer_start "$a" "$b" 0 "${k:-1}"; echo "ANC-CMD-OK pattern" ;;
            stop)    writer_stop; echo "ANC-CMD-OK stop" ;;
            sync)    sync; echo "ANC-CMD-OK sync" ;;
            ping)    echo "ANC-PONG $a" ;;
            cpu)     cpubench "${a:-100000}" ;;
            poweroff) /bin/anc-poweroff ;;
            *) echo "ANC-CMD-UNKNOWN $c" ;;
        esac
    done
}

# ACPI power button: busybox acpid maps the KEY_POWER input event to /etc/acpi/PWRF/00000080
[ "$ACPI" != 0 ] && acpid -f -c /etc/acpi -l /tmp/acpid.log &

[ "$HB" != 0 ] && heartbeat &
i=0; while [ ! -b "$DISK" ] && [ $i -lt 50 ]; do usleep 100000; i=$((i + 1)); done
[ -b "$DISK" ] || echo "ANC-WARN no $DISK"
# A boot loader's stand-in: a disk that does not start with the signature does not boot.
if [ "${BOOTCHECK:-0}" = 1 ] && [ "$(dd if="$DISK" bs=8 count=1 2>/dev/null)" != ANC-BOOT ]; then
    echo "ANC-NOBOOT $DISK"
    poweroff -f
fi
[ -n "${AGENT:-}" ] && [ "$AGENT" != off ] && fake_agent "$AGENT" &
if [ -n "$PATTERN" ]; then
    IFS=: read -r ps pn pk <<PAT
$PATTERN
PAT
    writer_start "$ps" "$pn" 0 "${pk:-1}"
fi
if [ -c /dev/ttyS1 ] && stty -F /dev/ttyS1 raw -echo 2>/dev/null && command exec 4</dev/ttyS1; then
    cmdloop &
else
    echo "ANC-WARN no command channel on ttyS1"
fi
read -r up idle < /proc/uptime
echo "ANC-READY up=$up"
while :; do wait; sleep 3600; done
INIT
chmod 755 "$R/init"

cat > "$R/bin/anc-poweroff" <<'PO'
#!/bin/sh
# clean power off: stop the pattern writer, flush, power off (no init to signal: -f)
. /etc/anc/env
read -r up idle < /proc/uptime
echo "ANC-POWEROFF-REQ up=$up delay=$POWEROFF_DELAY" > /dev/console
sleep "$POWEROFF_DELAY"   # a guest busy shutting down still reports running
touch /tmp/anc.stop
i=0
while [ -e /tmp/anc.writer.pid ] && [ $i -lt 100 ]; do
    read -r p < /tmp/anc.writer.pid 2>/dev/null && kill -0 "$p" 2>/dev/null || break
    usleep 50000; i=$((i + 1))
done
sync
read -r up idle < /proc/uptime
echo "ANC-POWEROFF up=$up" > /dev/console
poweroff -f
PO
chmod 755 "$R/bin/anc-poweroff"
printf '#!/bin/sh\nexec /bin/anc-poweroff\n' > "$R/etc/acpi/PWRF/00000080"
chmod 755 "$R/etc/acpi/PWRF/00000080"

# ---- pack ----
cp "$WORK/pkg/boot/vmlinuz-$KVER" "$OUT/vmlinuz"
( cd "$R" && find . -mindepth 1 | LC_ALL=C sort | "$BB" cpio -o -H newc 2>/dev/null ) | gzip -9 > "$OUT/initramfs.img"
chmod 644 "$OUT/vmlinuz" "$OUT/initramfs.img"

t1=$(date +%s.%N)
{
    echo "kernel_package=$KPKG $(dpkg-deb -f "$WORK/dl/$KPKG"_*.deb Version)"
    echo "busybox_static=$(dpkg-deb -f "$WORK"/dl/busybox-static_*.deb Version)"
    echo "kernel_version=$KVER"
    echo "modules=${ORDER[*]}"
    echo "download_bytes=$DL_BYTES"
    echo "vmlinuz_bytes=$(stat -c %s "$OUT/vmlinuz")"
    echo "initramfs_bytes=$(stat -c %s "$OUT/initramfs.img")"
    echo "build_seconds=$(awk "BEGIN{printf \"%.2f\", $t1-$t0}")"
    echo "cmdline_hint=console=ttyS0 quiet panic=-1 [anc.pattern=START:SIZE[:STRIDE]] [anc.hbt=0.01] [anc.hb=0] [anc.acpi=0] [anc.poweroff_delay=S] [anc.agent=S|off] [anc.bootcheck=1]"
    ( cd "$OUT" && sha256sum vmlinuz initramfs.img )
} > "$OUT/build-info.txt"
cat "$OUT/build-info.txt"
[ "${KEEP_WORK:-0}" = 1 ] || rm -rf "$WORK"
