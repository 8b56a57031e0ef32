package io.jenkins.plugins.virtbackup.engine;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One file of a backup, as the manifest lists it.
 *
 * @param name   file name inside the backup directory
 * @param kind   {@code definition}, {@code disk} or {@code memory}
 * @param digest size and SHA-256, as re-read after writing
 * @param target the disk's target ({@code vda}), null for other kinds
 * @param source where it was copied from, null for the definition
 * @param format the disk image format, null for other kinds
 */
public record BackedUpFile(String name, String kind, FileDigest digest, String target, String source, String format) {

    Map<String, Object> toJson() {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("name", name);
        json.put("kind", kind);
        json.put("size", digest.size());
        json.put("sha256", digest.sha256());
        json.put("target", target);
        json.put("source", source);
        json.put("format", format);
        return json;
    }
}
