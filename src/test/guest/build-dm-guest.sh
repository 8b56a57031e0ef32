#!/bin/bash
# build-dm-guest.sh - build the device-mapper test guest: a Debian root with Debian's kernel (its
# dm modules included), LVM, a Java 17 runtime and libvirt's client library, so that the packaged
# command line can run against libvirt's test driver on real LVM (this host's kernel has no
# device-mapper). DmGuest.java boots it under QEMU; docs/testing.md says how.
#
# Output (OUT, default /var/cache/virt-backup-tests/dm-guest):
#   vmlinuz          Debian's kernel, as packaged
#   initrd.img       Debian's initramfs-tools image, only the modules that mount the root
#   root.img         sparse raw ext4 image of the root (boot it through an overlay: it stays as built)
#   build-info.txt   package versions, sizes, seconds, sha256 sums
#
# Needs root, mmdebstrap and e2fsprogs (mkfs.ext4 -d). Packages come from the Debian mirror apt
# uses on this host (the Debian entries of /etc/apt/sources.list*), for this host's release.
#
# The guest boots with init=/opt/vbtest/init: no init system, a script as PID 1 that mounts the
# 9p share tagged "vbt" at /vbt, runs /vbt/in/run.sh with its output on the serial console and in
# /vbt/out/output.log, writes its exit status to /vbt/out/exit-code, prints "VBT-EXIT <status>"
# and powers off.
set -euo pipefail

OUT=${OUT:-/var/cache/virt-backup-tests/dm-guest}
WORK=${WORK:-/tmp/virt-backup-dm-guest-build.$$}
PACKAGES="linux-image-amd64 kmod mount lvm2 openjdk-17-jre-headless libvirt0 e2fsprogs xfsprogs qemu-utils"
# What the initramfs needs to mount the root; everything else is loaded from the root by modprobe.
ROOT_MODULES="virtio_pci virtio_blk ext4"

[ "$(id -u)" = 0 ] || { echo "build-dm-guest.sh needs root (mmdebstrap --mode=root)" >&2; exit 1; }
command -v mmdebstrap >/dev/null || { echo "mmdebstrap is not installed (Debian package mmdebstrap)" >&2; exit 1; }

. /etc/os-release
SUITE=${SUITE:-$VERSION_CODENAME}

# The Debian entries of apt's own sources, in one-line form: deb822 stanzas and one-line entries
# whose suite is this release or one of its pockets (bookworm, bookworm-updates, bookworm-security).
# Other vendors' repositories (cloud SDKs, node) stay out of the guest.
debian_sources() {
    local f
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        awk -v suite="$SUITE" '$1 == "deb" {
            i = 2; opts = ""
            if ($2 ~ /^\[/) { while ($i !~ /\]$/) { opts = opts " " $i; i++ }; opts = opts " " $i; i++ }
            if ($(i + 1) == suite || index($(i + 1), suite "-") == 1) print
        }' "$f"
    done
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        awk -v suite="$SUITE" '
            function flush(  n, s, i, keep) {
                if (types ~ /(^| )deb( |$)/ && uris != "") {
                    n = split(suites, s, " ")
                    for (i = 1; i <= n; i++) if (s[i] == suite || index(s[i], suite "-") == 1)
                        print "deb" (signed != "" ? " [signed-by=" signed "]" : "") " " uris " " s[i] " " comps
                }
                types = uris = suites = comps = signed = ""
            }
            /^[ \t]*$/ { flush(); next }
            /^#/ { next }
            { key = $1; sub(/:$/, "", key); $1 = ""; sub(/^ /, "") }
            key == "Types" { types = $0 } key == "URIs" { uris = $0 } key == "Suites" { suites = $0 }
            key == "Components" { comps = $0 } key == "Signed-By" { signed = $0 }
            END { flush() }' "$f"
    done
}

t0=$(date +%s.%N)
STAGE="$OUT.partial.$$"
# A failed build leaves nothing behind (KEEP_WORK=1 keeps the root tree to look at).
# (--one-file-system: should mmdebstrap leave its /proc or /dev mounts, rm stays out of them.)
trap 'rm -rf "$STAGE"; [ "${KEEP_WORK:-0}" = 1 ] || rm -rf --one-file-system "$WORK"' EXIT
rm -rf "$WORK"; mkdir -p "$WORK" "$(dirname "$OUT")"
SOURCES="$WORK/sources.list"
debian_sources > "$SOURCES"
[ -s "$SOURCES" ] || { echo "no Debian $SUITE entry in /etc/apt/sources.list*" >&2; exit 1; }
echo "== sources:"; cat "$SOURCES"

# The kernel package's drivers for hardware a QEMU guest without network, sound or display never
# has: half of the root's size. depmod then forgets them.
PRUNE_MODULES='for k in "$1"/lib/modules/*; do
    ( cd "$k/kernel" && rm -rf sound drivers/gpu drivers/media drivers/net drivers/infiniband drivers/iio \
        drivers/staging drivers/usb drivers/bluetooth net/wireless net/mac80211 net/bluetooth )
    chroot "$1" depmod "${k##*/}"
done'

# No udev runs in the guest: LVM (lvm.conf activation/udev_sync and udev_rules set to 0 below) then
# makes its device nodes itself instead of waiting for udev's rules to.

# PID 1 of the guest (see the head of this file). Bash, no init system: the guest boots in seconds
# and does only what run.sh says. The kernel's console is ttyS0, so stdout reaches the host's log.
cat > "$WORK/init" <<'INIT'
#!/bin/bash
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8
# The initramfs hands over /proc, /sys and /dev already mounted.
mountpoint -q /proc || mount -t proc proc /proc
mountpoint -q /sys || mount -t sysfs sysfs /sys
mountpoint -q /dev || mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t tmpfs -o mode=755 tmpfs /run
mkdir -p /run/lock /run/lvm
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -o remount,rw /
exec </dev/console >/dev/console 2>&1
hostname vbt-dm
read -r up _ < /proc/uptime
echo "VBT-INIT up=$up kernel=$(uname -r)"

power_off() {
    sync
    # Read-only first: the power off then cuts no I/O on the root short.
    mount -o remount,ro / 2>/dev/null
    echo "VBT-POWEROFF"
    echo o > /proc/sysrq-trigger
    sleep 60
}

modprobe 9pnet_virtio && modprobe 9p \
    && mkdir -p /vbt && mount -t 9p -o trans=virtio,version=9p2000.L,msize=1048576,cache=none vbt /vbt \
    || { echo "VBT-EXIT 125 (no 9p share tagged vbt)"; power_off; }
mkdir -p /vbt/out
read -r up _ < /proc/uptime
echo "VBT-RUN up=$up"
cd /vbt/in
# The script's output goes to the console and to output.log; its status is the pipeline's first.
bash /vbt/in/run.sh 2>&1 < /dev/null | tee /vbt/out/output.log
status=${PIPESTATUS[0]}
echo "$status" > /vbt/out/exit-code
read -r up _ < /proc/uptime
echo "VBT-EXIT $status up=$up"
cd /
umount /vbt
power_off
INIT

# initramfs-tools builds an image of only what mounts the root: MODULES=list plus a hook naming
# the modules. Written after the essential packages, before the kernel is installed. The man pages
# are left out, but update-alternatives (Java's) needs the folder of the one it links.
cat > "$WORK/initramfs-hook" <<HOOK
#!/bin/sh
[ "\$1" = prereqs ] && exit 0
. /usr/share/initramfs-tools/hook-functions
manual_add_modules $ROOT_MODULES
HOOK

# --skip=download/empty keeps the downloaded packages until the last hook has counted them.
mmdebstrap --mode=root --variant=essential --format=directory --skip=download/empty \
    --aptopt='Apt::Install-Recommends "false"' \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/info/*' \
    --include="${PACKAGES// /,}" \
    --essential-hook='mkdir -p "$1/etc/initramfs-tools/conf.d" "$1/etc/initramfs-tools/hooks"' \
    --essential-hook='mkdir -p "$1/usr/share/man/man1"' \
    --essential-hook='echo MODULES=list > "$1/etc/initramfs-tools/conf.d/vbtest"' \
    --essential-hook="install -m 755 '$WORK/initramfs-hook' \"\$1/etc/initramfs-tools/hooks/vbtest\"" \
    --customize-hook="install -D -m 755 '$WORK/init' \"\$1/opt/vbtest/init\"" \
    --customize-hook='echo "vbt-dm" > "$1/etc/hostname"' \
    --customize-hook="$PRUNE_MODULES" \
    --customize-hook='sed -i -e "s/^\t# udev_sync = 1$/\tudev_sync = 0/" -e "s/^\t# udev_rules = 1$/\tudev_rules = 0/" \
        "$1/etc/lvm/lvm.conf" && grep -q "^.udev_sync = 0" "$1/etc/lvm/lvm.conf" \
        && grep -q "^.udev_rules = 0" "$1/etc/lvm/lvm.conf"' \
    --customize-hook="cat \"\$1\"/var/cache/apt/archives/*.deb | wc -c > '$WORK/download-bytes'" \
    "$SUITE" "$WORK/root" "$SOURCES"

R="$WORK/root"
KVER=$(ls "$R/lib/modules")
rm -rf "$STAGE"; mkdir -p "$STAGE"
cp "$R/boot/vmlinuz-$KVER" "$STAGE/vmlinuz"
cp "$R/boot/initrd.img-$KVER" "$STAGE/initrd.img"
rm -f "$R"/boot/initrd.img-* "$R"/var/cache/apt/*.bin
# Room for what a run writes to its root (through an overlay): the tree and 512 MiB.
ROOT_MIB=$(( $(du -sm "$R" | cut -f1) + 512 ))
mkfs.ext4 -q -F -L vbt-root -d "$R" "$STAGE/root.img" "${ROOT_MIB}M"

t1=$(date +%s.%N)
{
    echo "suite=$SUITE"
    echo "kernel_version=$KVER"
    for p in $PACKAGES; do
        echo "package=$p $(chroot "$R" dpkg-query -W -f='${Version}' "$p")"
    done
    echo "download_bytes=$(cat "$WORK/download-bytes")"
    echo "installed_packages=$(chroot "$R" dpkg-query -W -f='.\n' | wc -l)"
    echo "root_tree_mib=$(du -sm "$R" | cut -f1)"
    echo "root_image_mib=$ROOT_MIB"
    echo "vmlinuz_bytes=$(stat -c %s "$STAGE/vmlinuz")"
    echo "initrd_bytes=$(stat -c %s "$STAGE/initrd.img")"
    echo "build_seconds=$(awk "BEGIN{printf \"%.1f\", $t1-$t0}")"
    echo "cmdline_hint=console=ttyS0 root=/dev/vda rw init=/opt/vbtest/init panic=-1"
    sed 's/^/source=/' "$SOURCES"
    ( cd "$STAGE" && sha256sum vmlinuz initrd.img )
} > "$STAGE/build-info.txt"
# A build that ran at the same time and finished first wins: its image may be in use already.
if [ -e "$OUT/build-info.txt" ]; then rm -rf "$STAGE"; else rm -rf "$OUT"; mv "$STAGE" "$OUT"; fi
cat "$OUT/build-info.txt"
