package io.jenkins.plugins.virtbackup.engine.lvm;

import java.nio.file.Path;

/**
 * A mounted file system, as the mount table has it.
 *
 * @param source     the device it is mounted from
 * @param mountPoint where it is mounted
 * @param fsType     its type, e.g. {@code ext4}
 */
public record MountedFileSystem(Path source, Path mountPoint, String fsType) {
}
