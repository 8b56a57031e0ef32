#!/bin/bash
# Runs inside the device-mapper guest (DmGuestIT): the packaged command line backs up test-driver
# domains in snapshot-dm mode on real LVM: an image file on an ext4 LV, an LV itself, and a linked
# clone on an XFS LV whose template is on the ext4 LV. Then a snapshot too small for what is
# written meanwhile, a disk off LVM, writes to the origins while the copy waits, and runs stopped
# at each step followed by recover. It records what it saw in /vbt/out; the test judges it.
set -euxo pipefail
OUT=/vbt/out
ms() { read -r up _ < /proc/uptime; echo "$up"; }
last_lap=$(ms)
lvs_now() { lvs --noheadings --separator , -o lv_name,origin,lv_attr vbt | tr -d ' '; }

modprobe dm-mod
modprobe dm-snapshot
pvcreate -q /dev/vdb
vgcreate -q vbt /dev/vdb
lvcreate -q -y -L 64M -n images vbt
lvcreate -q -y -L 16M -n blk vbt
lvcreate -q -y -L 320M -n xfs vbt   # mkfs.xfs wants 300 MB at least
mkfs.ext4 -q /dev/vbt/images
mkfs.xfs -q /dev/vbt/xfs
mkdir -p /mnt/images /mnt/xfs
mount /dev/vbt/images /mnt/images
mount /dev/vbt/xfs /mnt/xfs
truncate -s 16M /mnt/images/web.raw
head -c 2M /dev/urandom | dd of=/mnt/images/web.raw conv=notrunc status=none
head -c 1M /dev/urandom | dd of=/dev/vbt/blk seek=4 bs=1M conv=notrunc status=none
# A linked clone across two volumes: its template on the ext4 LV, the clone on the XFS LV.
qemu-img create -q -f qcow2 /mnt/images/template.qcow2 32M
qemu-io -c 'write -P 0x5a 0 3M' /mnt/images/template.qcow2 > /dev/null
qemu-img create -q -f qcow2 -b /mnt/images/template.qcow2 -F qcow2 /mnt/xfs/clone.qcow2
qemu-io -c 'write -P 0xc3 1M 1M' /mnt/xfs/clone.qcow2 > /dev/null
sync

node() {  # node NAME DISK...: a running test-driver domain; DISK is file:PATH:FORMAT or block:DEVICE
    local name=$1 target=a kind path format
    shift
    echo "<node><domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>"
    echo "<name>$name</name><memory unit='MiB'>16</memory><os><type>hvm</type></os>"
    echo "<test:runstate>1</test:runstate><devices>"
    for disk in "$@"; do
        IFS=: read -r kind path format <<< "$disk"
        if [ "$kind" = file ]; then
            echo "<disk type='file' device='disk'><driver name='qemu' type='$format'/><source file='$path'/>"
        else
            echo "<disk type='block' device='disk'><driver name='qemu' type='raw'/><source dev='$path'/>"
        fi
        echo "<target dev='vd$target' bus='virtio'/></disk>"
        target=$(echo "$target" | tr 'a-y' 'b-z')
    done
    echo "</devices></domain></node>"
}
# web's first image through a link from the root file system (no LV), as /var/lib/libvirt/images
# often is: the copy must find it in the snapshot of the LV the link leads to.
ln -s /mnt/images /var/lib/vbt-images
node web file:/var/lib/vbt-images/web.raw:raw block:/dev/vbt/blk file:/mnt/xfs/clone.qcow2:qcow2 > /tmp/web.xml
CLI=(java -XX:TieredStopAtLevel=1 -jar /vbt/in/virt-backup-cli.jar --state-dir /tmp/vbt-state
     --error-log "$OUT/error.log" -b snapshot-dm)
run() {  # run NAME ARGS...: the CLI's output and exit status into OUT/NAME.*
    local name=$1; shift
    set +e
    "${CLI[@]}" "$@" > "$OUT/$name.log" 2>&1
    echo $? > "$OUT/$name.exit"
    set -e
}
# The guest's view of a disk: its content as raw, whatever its format and backing chain.
raw_sum() {  # raw_sum IMAGE FORMAT
    qemu-img convert -f "$2" -O raw "$1" /tmp/raw-sum.img
    sha256sum < /tmp/raw-sum.img | cut -d' ' -f1
    rm -f /tmp/raw-sum.img
}
backup_sums() {  # backup_sums DIR: the guest's view of vda and vdb (raw) and vdc (the copied chain)
    local disk
    for disk in vda vdb; do
        echo "backup $disk $(sha256sum < "$1/$disk.raw" | cut -d' ' -f1)"
    done
    # What a stock tool makes of the copied chain: the clone over its renamed template.
    echo "backup vdc $(cd "$1" && raw_sum vdc.qcow2 qcow2)"
}
wait_for_line() {  # wait_for_line FILE PATTERN: up to 60 s, without tracing each look
    { set +x; } 2>/dev/null
    for _ in $(seq 1200); do
        grep -q "$2" "$1" 2>/dev/null && { set -x; return 0; }
        sleep 0.05
    done
    set -x
    echo "no line '$2' in $1" >&2
    return 1
}
lap() {  # lap NAME: seconds since the previous lap, into timings.txt
    local now; now=$(ms)
    echo "$1_seconds=$(awk "BEGIN{print $now-${last_lap:-$now}}")" >> "$OUT/timings.txt"
    last_lap=$now
}

# 1. A backup in snapshot-dm mode, verbose: the log says where each disk was read from.
lap setup
run backup -v -c test:///tmp/web.xml -d /var/backups/vbt --result-file "$OUT/result.json" --verify web
lap backup
lvs_now > "$OUT/lvs-after-backup.txt"
findmnt -rn -o TARGET > "$OUT/mounts-after-backup.txt"
ls -A /tmp/vbt-state/dm-mounts > "$OUT/mount-folders-after-backup.txt" 2>/dev/null || true
backup=$(sed -n 's/^ *"backup": "\(.*\)",$/\1/p' "$OUT/result.json")
cp "$backup/manifest.json" "$OUT/manifest.json"
ls -1 "$backup" > "$OUT/backup-files.txt"
{
    echo "source vda $(sha256sum < /mnt/images/web.raw | cut -d' ' -f1)"
    echo "source vdb $(sha256sum < /dev/vbt/blk | cut -d' ' -f1)"
    echo "source vdc $(raw_sum /mnt/xfs/clone.qcow2 qcow2)"
    backup_sums "$backup"
} > "$OUT/sums.txt"
qemu-img info --backing-chain "$backup/vdc.qcow2" > "$OUT/vdc-chain.txt"

# 2. A snapshot of one extent while the origin is overwritten again and again: it overflows.
( while true; do dd if=/dev/zero of=/dev/vbt/blk bs=1M count=16 oflag=direct conv=notrunc status=none
      dd if=/dev/urandom of=/dev/vbt/blk bs=1M count=16 oflag=direct conv=notrunc status=none; done ) &
writer=$!
run overflow -c test:///tmp/web.xml -d /var/backups/vbt-overflow --snapshot-size 4M web
kill "$writer"; wait "$writer" 2>/dev/null || true
lvs_now > "$OUT/lvs-after-overflow.txt"
ls -A /var/backups/vbt-overflow/web > "$OUT/overflow-backups.txt" 2>/dev/null || true
lap overflow

# 3. A disk on the root file system, which is no LV: a usage error, nothing made.
truncate -s 4M /var/tmp/off-lvm.raw
node off file:/var/tmp/off-lvm.raw:raw block:/dev/vbt/blk > /tmp/off.xml
run off-lvm -c test:///tmp/off.xml -d /var/backups/vbt-off off
lvs_now > "$OUT/lvs-after-off-lvm.txt"
lap off_lvm

# 3b. A volume group with no room left for a snapshot: a usage error, nothing made.
lvcreate -q -y -l 100%FREE -n filler vbt
run full-vg -c test:///tmp/web.xml -d /var/backups/vbt-full web
lvs_now > "$OUT/lvs-after-full-vg.txt"
ls -A /var/backups/vbt-full > "$OUT/full-vg-backups.txt" 2>/dev/null || true
lvremove -q -y vbt/filler
lap full_vg

# 3c. A thin volume (the guest has no thin_check: the pool is made without it): a usage error.
modprobe dm-thin-pool
lvcreate -q -y --config 'global/thin_check_executable=""' --type thin-pool -L 16M -n pool vbt
lvcreate -q -y --config 'global/thin_check_executable=""' -V 8M --thin vbt/pool -n thin
node thin block:/dev/vbt/thin > /tmp/thin.xml
run thin -c test:///tmp/thin.xml -d /var/backups/vbt-thin thin
lvs_now > "$OUT/lvs-after-thin.txt"
lvremove -q -y --config 'global/thin_check_executable=""' vbt/thin vbt/pool
lap thin

# 3d. Not root (a Jenkins agent's own user, say): a usage error before the domain is touched.
install -m 644 /vbt/in/virt-backup-cli.jar /tmp/cli.jar
set +e
setpriv --reuid=65534 --regid=65534 --clear-groups java -XX:TieredStopAtLevel=1 -jar /tmp/cli.jar \
    --state-dir /tmp/nobody-state --error-log /tmp/nobody-error.log -b snapshot-dm -c test:///tmp/web.xml \
    -d /tmp/nobody-backups web > "$OUT/not-root.log" 2>&1
echo $? > "$OUT/not-root.exit"
set -e
lvs_now > "$OUT/lvs-after-not-root.txt"
ls -A /tmp/nobody-backups > "$OUT/not-root-backups.txt" 2>/dev/null || true
lap not_root

# 4. Writes to the origins right after the domain runs again (the run held still meanwhile, so
# that they land before the copy): the image file, the LV, and the linked clone and its template
# on two file systems. The backup has the content of the snapshots' moment.
lvcreate -q -y -L 96M -n bulk vbt
head -c 64M /dev/urandom | dd of=/dev/vbt/bulk bs=1M conv=notrunc status=none
sync
node bulk file:/mnt/images/web.raw:raw block:/dev/vbt/bulk file:/mnt/xfs/clone.qcow2:qcow2 > /tmp/bulk.xml
{
    echo "before vda $(sha256sum < /mnt/images/web.raw | cut -d' ' -f1)"
    echo "before vdb $(sha256sum < /dev/vbt/bulk | cut -d' ' -f1)"
    echo "before vdc $(raw_sum /mnt/xfs/clone.qcow2 qcow2)"
} > "$OUT/consistent-sums.txt"
"${CLI[@]}" -v -c test:///tmp/bulk.xml -d /var/backups/vbt-bulk --result-file "$OUT/consistent.json" bulk \
    > "$OUT/consistent.log" 2>&1 &
cli=$!
wait_for_line "$OUT/consistent.log" "runs again after"
kill -STOP "$cli"
head -c 8M /dev/urandom | dd of=/mnt/images/web.raw conv=notrunc,fsync status=none
head -c 48M /dev/urandom | dd of=/dev/vbt/bulk bs=1M oflag=direct conv=notrunc status=none
qemu-io -c 'write -P 0x11 0 2M' /mnt/images/template.qcow2 > /dev/null  # under the clone's unwritten part
qemu-io -c 'write -P 0x22 1M 1M' /mnt/xfs/clone.qcow2 > /dev/null
sync
kill -CONT "$cli"
set +e; wait "$cli"; echo $? > "$OUT/consistent.exit"; set -e
backup=$(sed -n 's/^ *"backup": "\(.*\)",$/\1/p' "$OUT/consistent.json")
{
    echo "after vda $(sha256sum < /mnt/images/web.raw | cut -d' ' -f1)"
    echo "after vdb $(sha256sum < /dev/vbt/bulk | cut -d' ' -f1)"
    echo "after vdc $(raw_sum /mnt/xfs/clone.qcow2 qcow2)"
    backup_sums "$backup"
} >> "$OUT/consistent-sums.txt"
# Restored with virt-backup as a copy beside the domain: the LV disk comes back as a file, the
# clone as one standalone image.
set +e
java -XX:TieredStopAtLevel=1 -jar /vbt/in/virt-backup-cli.jar restore -c test:///tmp/bulk.xml \
    --state-dir /tmp/vbt-state --name bulk-copy --disk-dir /var/tmp/restored "$backup" > "$OUT/restore.log" 2>&1
echo $? > "$OUT/restore.exit"
set -e
{
    for disk in vda vdb; do
        echo "restored $disk $(sha256sum < "/var/tmp/restored/bulk-copy-$disk.raw" | cut -d' ' -f1)"
    done
    echo "restored vdc $(raw_sum /var/tmp/restored/bulk-copy-vdc.qcow2 qcow2)"
} >> "$OUT/consistent-sums.txt"
# And with stock tools, as the README says: the LV's copy back onto an LV of its size.
lvcreate -q -y -L 96M -n bulk-back vbt
qemu-img convert -n -f raw -O raw "$backup/vdb.raw" /dev/vbt/bulk-back
echo "stock vdb $(sha256sum < /dev/vbt/bulk-back | cut -d' ' -f1)" >> "$OUT/consistent-sums.txt"
lvremove -q -y vbt/bulk-back
# This complete backup must come through every fault below unchanged.
(cd "$backup" && sha256sum -- *) > "$OUT/kept-backup-before.txt"
basename "$backup" > "$OUT/kept-backup-name.txt"
lap consistent

# 5. Runs stopped at each step of the mode; then recover. SIGKILL leaves the journal to recover;
# SIGTERM lets the run clean up itself. Each row records what was left before and after recover.
fault() {  # fault NAME SIGNAL PATTERN: stop a run of bulk once its -v output has PATTERN
    local name=$1 signal=$2 pattern=$3 cli
    "${CLI[@]}" -v -c test:///tmp/bulk.xml -d /var/backups/vbt-bulk bulk > "$OUT/$name.log" 2>&1 &
    cli=$!
    wait_for_line "$OUT/$name.log" "$pattern"
    kill -"$signal" "$cli"
    set +e; wait "$cli"; echo $? > "$OUT/$name.exit"; set -e
    cat /tmp/vbt-state/journal/*.json > "$OUT/$name.journal.txt" 2>/dev/null || true
    lvs_now > "$OUT/$name.lvs-before-recover.txt"
    findmnt -rn -o TARGET > "$OUT/$name.mounts-before-recover.txt"
    set +e
    java -XX:TieredStopAtLevel=1 -jar /vbt/in/virt-backup-cli.jar recover -v -c test:///tmp/bulk.xml \
        --state-dir /tmp/vbt-state bulk > "$OUT/$name.recover.log" 2>&1
    echo $? > "$OUT/$name.recover.exit"
    set -e
    lvs_now > "$OUT/$name.lvs.txt"
    findmnt -rn -o TARGET > "$OUT/$name.mounts.txt"
    ls -A /tmp/vbt-state/dm-mounts > "$OUT/$name.mount-folders.txt" 2>/dev/null || true
    ls -A /var/backups/vbt-bulk/bulk > "$OUT/$name.backups.txt"
    echo "$name" >> "$OUT/faults.txt"
    lap "$name"
}
fault kill-saving KILL "saving the state of domain"
fault kill-snapshotting KILL "creating snapshot vbt/bulk-"
fault kill-mounting KILL "mounting snapshot"
fault kill-copying KILL "copying disk vdb from"
fault term-snapshotting TERM "creating snapshot vbt/bulk-"
fault term-copying TERM "copying disk vdb from"
(cd "$backup" && sha256sum -- *) > "$OUT/kept-backup-after.txt"

umount /mnt/images /mnt/xfs
vgremove -q -f vbt
