package io.jenkins.plugins.virtbackup.engine.store;

import io.jenkins.plugins.virtbackup.engine.copy.ChunkIndex;
import io.jenkins.plugins.virtbackup.engine.copy.FileDigest;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * One file of a backup, as the manifest lists it.
 *
 * @param name     file name inside the backup directory
 * @param kind     {@code definition}, {@code disk}, {@code backing} (an image below a disk's top image) or
 *                 {@code memory}
 * @param size     logical size in bytes (holes count)
 * @param checksum what its content is checked against: a chunk index, or in backups of manifest format 1
 *                 the SHA-256 of the whole file
 * @param target   the disk's target ({@code vda}), null for other kinds
 * @param source   where it was copied from: the image's path; the hypervisor's URI for the definition and
 *                 the RAM
 * @param format   the disk image format, null for other kinds
 * @param backing  the file of this backup the image reads through (its backing file), null for none
 * @param compression how the image's data clusters are compressed ({@code zstd}, which QEMU reads
 *                 directly), null when they are not; the chunk index covers the file as written
 * @param dataBytes the data the run moved for this file: for an image virt-backup copied itself, the bytes
 *                  of its source's data extents (holes are never read); for a file another program wrote
 *                  (QEMU's images in live mode and compressed ones, the RAM state) and the definition, the
 *                  bytes of the written file's data extents. Null in manifests written before it was recorded
 */
public record BackedUpFile(String name, String kind, long size, Checksum checksum, String target, String source,
                           String format, String backing, String compression, Long dataBytes) {
    public static final String DISK = "disk";
    public static final String BACKING = "backing";

    /** What a file's content is checked against; which one a file has depends on the manifest's format. */
    public sealed interface Checksum permits Chunked, WholeFile {
    }

    /** Format 2: a SHA-256 per chunk, in the chunk index beside the file. */
    public record Chunked(ChunkIndex.Ref index) implements Checksum {
        public Chunked {
            Objects.requireNonNull(index, "index");
        }
    }

    /** Format 1: the SHA-256 of the file's whole logical content. */
    public record WholeFile(String sha256) implements Checksum {
        public WholeFile {
            Objects.requireNonNull(sha256, "sha256");
        }
    }

    /** A file whose moved data nobody recorded, as manifests before {@code dataBytes} list it. */
    public BackedUpFile(String name, String kind, long size, Checksum checksum, String target, String source,
                        String format, String backing, String compression) {
        this(name, kind, size, checksum, target, source, format, backing, compression, null);
    }

    /** A file that is not compressed. */
    public BackedUpFile(String name, String kind, long size, Checksum checksum, String target, String source,
                        String format, String backing) {
        this(name, kind, size, checksum, target, source, format, backing, null);
    }

    /** A file the engine has just written and indexed. */
    public BackedUpFile(String name, String kind, FileDigest digest, String target, String source, String format,
                        String backing, String compression) {
        this(name, kind, digest.size(), new Chunked(digest.chunks()), target, source, format, backing, compression,
                digest.dataBytes() < 0 ? null : digest.dataBytes());
    }

    /** A file the engine has just written and indexed, not compressed. */
    public BackedUpFile(String name, String kind, FileDigest digest, String target, String source, String format,
                        String backing) {
        this(name, kind, digest, target, source, format, backing, null);
    }

    public BackedUpFile(String name, String kind, FileDigest digest, String target, String source, String format) {
        this(name, kind, digest, target, source, format, null);
    }

    /**
     * Size and chunk index, as a copy returns them, for reading a file back after writing it.
     *
     * @throws IllegalStateException for a file of a format 1 backup, which has no chunk index
     */
    public FileDigest digest() {
        if (checksum instanceof Chunked chunked) {
            return new FileDigest(size, chunked.index(), dataBytes == null ? -1 : dataBytes);
        }
        throw new IllegalStateException(name + " has no chunk index: its backup is of manifest format 1");
    }

    Map<String, Object> toJson() {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("name", name);
        json.put("kind", kind);
        json.put("size", size);
        if (checksum instanceof Chunked chunked) {
            json.put("chunks", indexJson(chunked.index()));
        } else if (checksum instanceof WholeFile whole) {
            json.put("sha256", whole.sha256());
        }
        json.put("target", target);
        json.put("source", source);
        json.put("format", format);
        if (backing != null) {
            json.put("backing", backing);
        }
        if (compression != null) {
            json.put("compression", compression);
        }
        if (dataBytes != null) {
            json.put("dataBytes", dataBytes);
        }
        return json;
    }

    private static Map<String, Object> indexJson(ChunkIndex.Ref index) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("file", index.file());
        json.put("chunkSize", index.chunkSize());
        json.put("count", index.chunks());
        json.put("dataChunks", index.dataChunks());
        json.put("sha256", index.sha256());
        return json;
    }
}
