package io.jenkins.plugins.virtbackup.testing;

import io.jenkins.plugins.virtbackup.engine.store.Json;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/** What QEMU itself says about an image: its compression and how many clusters are stored compressed. */
public final class QemuImages {
    private QemuImages() {
    }

    /** {@code compressed-clusters} of {@code qemu-img check}: the image's own clusters stored compressed. */
    public static long compressedClusters(Path image) throws IOException {
        return number(check(image), "compressed-clusters");
    }

    /** {@code allocated-clusters} of {@code qemu-img check}: the image's own clusters holding data. */
    public static long allocatedClusters(Path image) throws IOException {
        return number(check(image), "allocated-clusters");
    }

    /** The qcow2 header's compression type ({@code zlib} or {@code zstd}), as {@code qemu-img info} reads it. */
    public static String compressionType(Path image) throws IOException {
        Map<?, ?> info = (Map<?, ?>) Json.parse(Host.run("qemu-img", "info", "--output=json", image.toString()));
        Map<?, ?> specific = (Map<?, ?>) ((Map<?, ?>) info.get("format-specific")).get("data");
        return (String) specific.get("compression-type");
    }

    /** The backing file name the image stores, or null. */
    public static String backingFile(Path image) throws IOException {
        Map<?, ?> info = (Map<?, ?>) Json.parse(Host.run("qemu-img", "info", "--output=json", image.toString()));
        return (String) info.get("backing-filename");
    }

    /** Whether QEMU reads the same guest data from both images (their chains followed). */
    public static boolean sameContent(Path one, Path other) throws IOException {
        return Host.run("qemu-img", "compare", one.toString(), other.toString()).contains("Images are identical");
    }

    private static Map<?, ?> check(Path image) throws IOException {
        Map<?, ?> report = (Map<?, ?>) Json.parse(Host.run("qemu-img", "check", "--output=json", image.toString()));
        if (((Number) report.get("check-errors")).longValue() != 0) {
            throw new AssertionError("qemu-img check finds errors in " + image + ": " + report);
        }
        return report;
    }

    private static long number(Map<?, ?> report, String key) {
        Object value = report.get(key);
        return value == null ? 0 : ((Number) value).longValue();
    }
}
