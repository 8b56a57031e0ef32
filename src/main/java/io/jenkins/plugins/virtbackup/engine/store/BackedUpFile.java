package io.jenkins.plugins.virtbackup.engine.store;

import io.jenkins.plugins.virtbackup.engine.copy.ChunkIndex;
import io.jenkins.plugins.virtbackup.engine.copy.FileDigest;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One file of a backup, as the manifest lists it.
 *
 * @param name   file name inside the backup directory
 * @param kind   {@code definition}, {@code disk}, {@code backing} (an image below a disk's top image) or
 *               {@code memory}
 * @param digest size and SHA-256, as re-read after writing
 * @param target the disk's target ({@code vda}), null for other kinds
 * @param source where it was copied from, null for the definition
 * @param format the disk image format, null for other kinds
 * @param backing the file of this backup the image reads through (its backing file), null for none
 */
public record BackedUpFile(String name, String kind, FileDigest digest, String target, String source, String format,
                           String backing) {
    public static final String DISK = "disk";
    public static final String BACKING = "backing";

    public BackedUpFile(String name, String kind, FileDigest digest, String target, String source, String format) {
        this(name, kind, digest, target, source, format, null);
    }

    Map<String, Object> toJson() {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("name", name);
        json.put("kind", kind);
        json.put("size", digest.size());
        ChunkIndex.Ref chunks = digest.chunks();
        Map<String, Object> index = new LinkedHashMap<>();
        index.put("file", chunks.file());
        index.put("chunkSize", chunks.chunkSize());
        index.put("count", chunks.chunks());
        index.put("dataChunks", chunks.dataChunks());
        index.put("sha256", chunks.sha256());
        json.put("chunks", index);
        json.put("target", target);
        json.put("source", source);
        json.put("format", format);
        if (backing != null) {
            json.put("backing", backing);
        }
        return json;
    }
}
