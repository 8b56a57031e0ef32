package io.jenkins.plugins.virtbackup.engine;

import java.util.Optional;

/**
 * One {@code <disk>} of a domain, as its definition describes it.
 *
 * @param target  the guest-side name, e.g. {@code vda}; unique within a domain
 * @param device  {@code disk}, {@code cdrom}, {@code floppy} or {@code lun}
 * @param type    where the data lives: {@code file}, {@code block}, {@code network}, {@code volume}, ...
 * @param source  the host path of a file or block disk; null when the disk has none (empty cdrom, network)
 * @param format  the image format the hypervisor reads it as, e.g. {@code qcow2}; {@code raw} when unset
 * @param readOnly  marked {@code <readonly/>}
 * @param shareable marked {@code <shareable/>}: other domains may write it while we copy
 */
public record Disk(String target, String device, String type, String source, String format,
                   boolean readOnly, boolean shareable) {

    /** Why this disk is not copied, or empty when it is. Explicit, so the log can say it. */
    public Optional<String> reasonToSkip() {
        if (!"disk".equals(device) && !"lun".equals(device)) {
            return Optional.of("it is a " + device);
        }
        if (!"file".equals(type) && !"block".equals(type)) {
            return Optional.of("its source is of type '" + type + "', not a local file or block device");
        }
        if (source == null || source.isEmpty()) {
            return Optional.of("it has no source");
        }
        if (readOnly) {
            return Optional.of("it is read-only");
        }
        if (shareable) {
            return Optional.of("it is shareable, so another domain may write it during the copy");
        }
        return Optional.empty();
    }

    /** The file name of this disk's copy in a backup, e.g. {@code vda.qcow2}. */
    public String backupFileName() {
        return target + "." + format;
    }
}
