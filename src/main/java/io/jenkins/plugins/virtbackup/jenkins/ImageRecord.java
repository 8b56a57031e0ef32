package io.jenkins.plugins.virtbackup.jenkins;

import io.jenkins.plugins.virtbackup.engine.store.BackedUpFile;

/**
 * One disk image of a backup, as the build page lists it: a disk's top image, or an image below it.
 * Kept with the build (plain fields, read back by Jenkins' XStream), so it never needs the node again.
 */
public final class ImageRecord {
    private final String target;
    private final String file;
    private final String format;
    private final String compression;
    private final long size;
    /** -1 when the manifest did not record it. */
    private final long dataBytes;

    ImageRecord(String target, String file, String format, String compression, long size, long dataBytes) {
        this.target = target;
        this.file = file;
        this.format = format;
        this.compression = compression;
        this.size = size;
        this.dataBytes = dataBytes;
    }

    /** The image as the manifest lists it. */
    static ImageRecord of(BackedUpFile file) {
        return new ImageRecord(file.target(), file.name(), file.format(), file.compression(), file.size(),
                file.dataBytes() == null ? -1 : file.dataBytes());
    }

    /** The disk's target, {@code vda}. */
    public String getTarget() {
        return target;
    }

    /** The file's name in the backup folder. */
    public String getFile() {
        return file;
    }

    /** {@code qcow2} or {@code raw}, and the compression when there is one. */
    public String getFormat() {
        return compression == null ? format : format + " (" + compression + ")";
    }

    /** The file's length, holes included. */
    public String getFileSize() {
        return Figures.bytes(size);
    }

    /** What the run moved for this image. */
    public String getDataMoved() {
        return Figures.bytes(dataBytes);
    }

    long sizeBytes() {
        return size;
    }

    long dataBytes() {
        return dataBytes;
    }
}
