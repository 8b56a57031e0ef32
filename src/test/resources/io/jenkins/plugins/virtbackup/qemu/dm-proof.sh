#!/bin/bash
# Runs inside the device-mapper guest (DmGuestIT): real LVM on /dev/vdb, a snapshot of a mounted
# ext4 LV, and the packaged command line backing up a test-driver domain whose disks are an image
# file on an LV and an LV itself. It records what it saw in /vbt/out; the test judges it.
set -euxo pipefail
OUT=/vbt/out
ms() { read -r up _ < /proc/uptime; echo "$up"; }

modprobe dm-mod
modprobe dm-snapshot
dmsetup targets > "$OUT/dm-targets.txt"

# LVM without udev (there is no udev in the guest): LVM makes the device nodes itself.
pvcreate -q /dev/vdb
vgcreate -q vbt /dev/vdb
lvcreate -q -y -L 64M -n images vbt
lvcreate -q -y -L 16M -n blk vbt
mkfs.ext4 -q /dev/vbt/images
mkdir -p /mnt/images /mnt/snap
mount /dev/vbt/images /mnt/images

# A file written before the snapshot, changed after it, and one written after it.
echo "written before the snapshot" > /mnt/images/before.txt
sync
t0=$(ms)
lvcreate -q -y -s -L 16M -n images-snap vbt/images
t1=$(ms)
echo "lvcreate_snapshot_seconds=$(awk "BEGIN{print $t1-$t0}")" > "$OUT/timings.txt"
echo "changed after the snapshot" > /mnt/images/before.txt
echo "written after the snapshot" > /mnt/images/after.txt
sync
lvs --noheadings --separator , -o lv_name,origin,lv_attr vbt | tr -d ' ' > "$OUT/lvs-with-snapshot.txt"
# Read-only and no journal replay: nothing may write to the snapshot.
mount -o ro,noload /dev/vbt/images-snap /mnt/snap
ls -1 /mnt/snap > "$OUT/snapshot-files.txt"
cat /mnt/snap/before.txt > "$OUT/snapshot-before.txt"
ls -1 /mnt/images > "$OUT/origin-files.txt"
umount /mnt/snap
lvremove -q -y vbt/images-snap
lvs --noheadings --separator , -o lv_name,origin,lv_attr vbt | tr -d ' ' > "$OUT/lvs-after.txt"

# The packaged command line on libvirt's test driver: the hypervisor is the test driver, the
# disks are real: a raw image file on the images LV and the blk LV as a block device.
# C1 only: under TCG the JVM's second compiler costs more than it gains in a run this short.
CLI=(java -XX:TieredStopAtLevel=1 -jar /vbt/in/virt-backup-cli.jar)
"${CLI[@]}" --version > "$OUT/cli-version.txt"
truncate -s 16M /mnt/images/web.raw
head -c 2M /dev/urandom | dd of=/mnt/images/web.raw conv=notrunc status=none
head -c 1M /dev/urandom | dd of=/dev/vbt/blk seek=4 bs=1M conv=notrunc status=none
cat > /tmp/node.xml <<'XML'
<node>
  <domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>
    <name>web</name>
    <uuid>3c1b5d8e-6a0f-4a53-9d0e-9a2f1e0b7d10</uuid>
    <memory unit='MiB'>16</memory>
    <os><type>hvm</type></os>
    <test:runstate>1</test:runstate>
    <devices>
      <disk type='file' device='disk'><driver name='qemu' type='raw'/>
        <source file='/mnt/images/web.raw'/><target dev='vda' bus='virtio'/></disk>
      <disk type='block' device='disk'><driver name='qemu' type='raw'/>
        <source dev='/dev/vbt/blk'/><target dev='vdb' bus='virtio'/></disk>
    </devices>
  </domain>
</node>
XML
t0=$(ms)
"${CLI[@]}" -c test:///tmp/node.xml -d /var/backups/vbt --state-dir /tmp/vbt-state \
    --result-file "$OUT/result.json" --verify web
t1=$(ms)
echo "cli_backup_seconds=$(awk "BEGIN{print $t1-$t0}")" >> "$OUT/timings.txt"
backup=$(sed -n 's/^ *"backup": "\(.*\)",$/\1/p' "$OUT/result.json")
{
    echo "source vda $(sha256sum < /mnt/images/web.raw | cut -d' ' -f1)"
    echo "source vdb $(sha256sum < /dev/vbt/blk | cut -d' ' -f1)"
    for disk in vda vdb; do
        echo "backup $disk $(sha256sum < "$backup/$disk.raw" | cut -d' ' -f1)"
    done
} > "$OUT/sums.txt"
ls -1 "$backup" > "$OUT/backup-files.txt"
umount /mnt/images
vgremove -q -f vbt
