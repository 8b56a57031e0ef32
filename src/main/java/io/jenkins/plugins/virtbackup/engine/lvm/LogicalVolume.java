package io.jenkins.plugins.virtbackup.engine.lvm;

/**
 * A logical volume as {@code lvs} reports it, with what its volume group has left.
 *
 * @param vg          the volume group's name
 * @param name        the volume's name
 * @param bytes       its size
 * @param segtype     LVM's segment type: {@code linear}, {@code striped}, {@code thin}, {@code thin-pool}, ...
 * @param attr        {@code lv_attr}; its first letter says what kind of volume it is ({@code s}: a snapshot)
 * @param vgFreeBytes what the volume group has free: a snapshot's room comes from there
 * @param extentBytes the volume group's extent size: LVM rounds every size up to it
 */
public record LogicalVolume(String vg, String name, long bytes, String segtype, String attr, long vgFreeBytes,
                            long extentBytes) {

    /** {@code vg/name}, as LVM's commands take it. */
    public String fullName() {
        return vg + "/" + name;
    }

    /** A thin volume or pool: its snapshots take no size and fill the pool, not the group; not supported. */
    public boolean isThin() {
        return segtype.startsWith("thin");
    }

    /** Already a snapshot (or merging one): snapshots of snapshots are not taken. */
    public boolean isSnapshot() {
        return !attr.isEmpty() && (attr.charAt(0) == 's' || attr.charAt(0) == 'S');
    }
}
