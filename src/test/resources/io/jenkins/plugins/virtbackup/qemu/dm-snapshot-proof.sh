#!/bin/bash
# Runs inside the device-mapper guest (DmGuestIT): the packaged command line backs up a test-driver
# domain in snapshot-dm mode, its disks an image file on an ext4 LV and an LV itself, on real LVM.
# Then a snapshot too small for what is written meanwhile, a disk off LVM, and a run killed
# mid-copy followed by recover. It records what it saw in /vbt/out; the test judges it.
set -euxo pipefail
OUT=/vbt/out
ms() { read -r up _ < /proc/uptime; echo "$up"; }
lvs_now() { lvs --noheadings --separator , -o lv_name,origin,lv_attr vbt | tr -d ' '; }

modprobe dm-mod
modprobe dm-snapshot
pvcreate -q /dev/vdb
vgcreate -q vbt /dev/vdb
lvcreate -q -y -L 64M -n images vbt
lvcreate -q -y -L 16M -n blk vbt
mkfs.ext4 -q /dev/vbt/images
mkdir -p /mnt/images
mount /dev/vbt/images /mnt/images
truncate -s 16M /mnt/images/web.raw
head -c 2M /dev/urandom | dd of=/mnt/images/web.raw conv=notrunc status=none
head -c 1M /dev/urandom | dd of=/dev/vbt/blk seek=4 bs=1M conv=notrunc status=none
sync

node() {  # node NAME FILE-IMAGE BLOCK-DEVICE
    cat <<XML
<node>
  <domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>
    <name>$1</name>
    <memory unit='MiB'>16</memory>
    <os><type>hvm</type></os>
    <test:runstate>1</test:runstate>
    <devices>
      <disk type='file' device='disk'><driver name='qemu' type='raw'/>
        <source file='$2'/><target dev='vda' bus='virtio'/></disk>
      <disk type='block' device='disk'><driver name='qemu' type='raw'/>
        <source dev='$3'/><target dev='vdb' bus='virtio'/></disk>
    </devices>
  </domain>
</node>
XML
}
node web /mnt/images/web.raw /dev/vbt/blk > /tmp/web.xml
CLI=(java -XX:TieredStopAtLevel=1 -jar /vbt/in/virt-backup-cli.jar --state-dir /tmp/vbt-state
     --error-log "$OUT/error.log" -b snapshot-dm)
run() {  # run NAME ARGS...: the CLI's output and exit status into OUT/NAME.*
    local name=$1; shift
    set +e
    "${CLI[@]}" "$@" > "$OUT/$name.log" 2>&1
    echo $? > "$OUT/$name.exit"
    set -e
}

# 1. A backup in snapshot-dm mode, verbose: the log says where each disk was read from.
t0=$(ms)
run backup -v -c test:///tmp/web.xml -d /var/backups/vbt --result-file "$OUT/result.json" --verify web
t1=$(ms)
echo "snapshot_dm_backup_seconds=$(awk "BEGIN{print $t1-$t0}")" > "$OUT/timings.txt"
lvs_now > "$OUT/lvs-after-backup.txt"
findmnt -rn -o TARGET > "$OUT/mounts-after-backup.txt"
ls -A /tmp/vbt-state/dm-mounts > "$OUT/mount-folders-after-backup.txt" 2>/dev/null || true
backup=$(sed -n 's/^ *"backup": "\(.*\)",$/\1/p' "$OUT/result.json")
cp "$backup/manifest.json" "$OUT/manifest.json"
ls -1 "$backup" > "$OUT/backup-files.txt"
{
    echo "source vda $(sha256sum < /mnt/images/web.raw | cut -d' ' -f1)"
    echo "source vdb $(sha256sum < /dev/vbt/blk | cut -d' ' -f1)"
    for disk in vda vdb; do
        echo "backup $disk $(sha256sum < "$backup/$disk.raw" | cut -d' ' -f1)"
    done
} > "$OUT/sums.txt"

# 2. A snapshot of one extent while the origin is overwritten again and again: it overflows.
( while true; do dd if=/dev/zero of=/dev/vbt/blk bs=1M count=16 oflag=direct conv=notrunc status=none
      dd if=/dev/urandom of=/dev/vbt/blk bs=1M count=16 oflag=direct conv=notrunc status=none; done ) &
writer=$!
run overflow -c test:///tmp/web.xml -d /var/backups/vbt-overflow --snapshot-size 4M web
kill "$writer"; wait "$writer" 2>/dev/null || true
lvs_now > "$OUT/lvs-after-overflow.txt"
ls -A /var/backups/vbt-overflow/web > "$OUT/overflow-backups.txt" 2>/dev/null || true

# 3. A disk on the root file system, which is no LV: a usage error, nothing made.
truncate -s 4M /var/tmp/off-lvm.raw
node off /var/tmp/off-lvm.raw /dev/vbt/blk > /tmp/off.xml
run off-lvm -c test:///tmp/off.xml -d /var/backups/vbt-off off
lvs_now > "$OUT/lvs-after-off-lvm.txt"

# 4. A run killed (SIGKILL) while it copies from a mounted snapshot; recover removes what it left.
lvcreate -q -y -L 96M -n bulk vbt
head -c 64M /dev/urandom | dd of=/dev/vbt/bulk bs=1M conv=notrunc status=none
node bulk /mnt/images/web.raw /dev/vbt/bulk > /tmp/bulk.xml
"${CLI[@]}" -c test:///tmp/bulk.xml -d /var/backups/vbt-kill bulk > "$OUT/killed.log" 2>&1 &
cli=$!
for _ in $(seq 600); do
    findmnt -rn -o TARGET | grep -q vbsnap && break
    sleep 0.1
done
kill -9 "$cli"; wait "$cli" 2>/dev/null || true
lvs_now > "$OUT/lvs-after-kill.txt"
findmnt -rn -o TARGET > "$OUT/mounts-after-kill.txt"
set +e
java -XX:TieredStopAtLevel=1 -jar /vbt/in/virt-backup-cli.jar recover -v -c test:///tmp/bulk.xml \
    --state-dir /tmp/vbt-state bulk > "$OUT/recover.log" 2>&1
echo $? > "$OUT/recover.exit"
set -e
lvs_now > "$OUT/lvs-after-recover.txt"
findmnt -rn -o TARGET > "$OUT/mounts-after-recover.txt"
ls -A /var/backups/vbt-kill/bulk > "$OUT/kill-backups.txt" 2>/dev/null || true

umount /mnt/images
vgremove -q -f vbt
