package io.jenkins.plugins.virtbackup.engine.image;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The few fields of a qcow2 image's header that a backup needs: the name of its backing file as
 * stored, that file's format, and where the name sits, so that a copy can point at another file.
 * The layout is QEMU's (docs/interop/qcow2.txt): big-endian, versions 2 and 3.
 */
public final class Qcow2Header {
    static final int MAGIC = 0x514649fb;  // "QFI\xfb"
    private static final int BACKING_FORMAT_EXTENSION = 0xe2792aca;
    private static final int DATA_FILE_EXTENSION = 0x44415441;
    /** Incompatible feature bit 2: guest data lives in a separate file the header names. */
    private static final long EXTERNAL_DATA_FILE = 1L << 2;
    private static final int V2_HEADER_LENGTH = 72;
    private static final int BACKING_NAME_SIZE_OFFSET = 16;
    /** QEMU's own limit on a backing file name. */
    private static final int MAX_BACKING_NAME = 1023;

    private final int clusterSize;
    private final long backingNameOffset;
    private final String backingName;
    private final String backingFormat;
    private final boolean externalDataFile;

    private Qcow2Header(int clusterSize, long backingNameOffset, String backingName, String backingFormat,
                        boolean externalDataFile) {
        this.clusterSize = clusterSize;
        this.backingNameOffset = backingNameOffset;
        this.backingName = backingName;
        this.backingFormat = backingFormat;
        this.externalDataFile = externalDataFile;
    }

    /** Whether {@code image} starts with the qcow2 magic. */
    static boolean hasMagic(Path image) throws IOException {
        try (FileChannel in = FileChannel.open(image, StandardOpenOption.READ)) {
            ByteBuffer magic = ByteBuffer.allocate(4);
            return readAt(in, magic, 0) == 4 && magic.getInt(0) == MAGIC;
        }
    }

    public static Qcow2Header read(Path image) throws IOException {
        try (FileChannel in = FileChannel.open(image, StandardOpenOption.READ)) {
            ByteBuffer fixed = ByteBuffer.allocate(104);
            if (readAt(in, fixed, 0) < V2_HEADER_LENGTH || fixed.getInt(0) != MAGIC) {
                throw new IOException(image + " is not a qcow2 image");
            }
            int version = fixed.getInt(4);
            long nameOffset = fixed.getLong(8);
            int nameLength = fixed.getInt(BACKING_NAME_SIZE_OFFSET);
            int clusterSize = 1 << fixed.getInt(20);
            long incompatible = version >= 3 ? fixed.getLong(72) : 0;
            int headerLength = version >= 3 ? fixed.getInt(100) : V2_HEADER_LENGTH;
            if (nameLength < 0 || nameLength > MAX_BACKING_NAME || (nameLength > 0 && nameOffset <= 0)) {
                throw new IOException(image + " has a damaged qcow2 header (backing file name)");
            }
            String name = nameLength == 0 ? null : readString(in, nameOffset, nameLength);
            Extensions extensions = readExtensions(in, headerLength, clusterSize);
            return new Qcow2Header(clusterSize, nameOffset, name, extensions.backingFormat,
                    (incompatible & EXTERNAL_DATA_FILE) != 0 || extensions.dataFile);
        }
    }

    /** The backing file as the image names it (relative to the image's folder, or absolute); null for none. */
    String backingName() {
        return backingName;
    }

    /** The backing file's format as the image records it; null when it leaves QEMU to probe it. */
    String backingFormat() {
        return backingFormat;
    }

    /** Whether guest data lives in a separate file rather than in this image. */
    boolean hasExternalDataFile() {
        return externalDataFile;
    }

    /**
     * Points the image whose first bytes are {@code start} at another backing file: the new name is
     * written where the old one was. The header cluster holds nothing after that name, so a longer
     * name fits as long as it stays inside the cluster and inside {@code start}.
     */
    public void pointBackingAt(ByteBuffer start, String newName) throws IOException {
        byte[] bytes = newName.getBytes(StandardCharsets.UTF_8);
        long end = backingNameOffset + Math.max(bytes.length, backingName.getBytes(StandardCharsets.UTF_8).length);
        if (end > clusterSize || end > start.limit()) {
            throw new IOException("no room to rename the backing file to '" + newName + "' in the image header");
        }
        int at = (int) backingNameOffset;
        for (int i = at; i < end; i++) {
            start.put(i, (byte) 0);
        }
        start.put(at, bytes);
        start.putInt(BACKING_NAME_SIZE_OFFSET, bytes.length);
    }

    private record Extensions(String backingFormat, boolean dataFile) {
    }

    /** Header extensions follow the header, each type, length and data padded to 8 bytes, until type 0. */
    private static Extensions readExtensions(FileChannel in, long from, int clusterSize) throws IOException {
        String backingFormat = null;
        boolean dataFile = false;
        ByteBuffer head = ByteBuffer.allocate(8);
        long at = from;
        while (at + 8 <= clusterSize) {
            head.clear();
            if (readAt(in, head, at) < 8) {
                break;
            }
            int type = head.getInt(0);
            int length = head.getInt(4);
            if (type == 0 || length < 0 || at + 8 + length > clusterSize) {
                break;
            }
            if (type == BACKING_FORMAT_EXTENSION) {
                backingFormat = readString(in, at + 8, length);
            } else if (type == DATA_FILE_EXTENSION) {
                dataFile = true;
            }
            at += 8 + ((length + 7L) & ~7L);
        }
        return new Extensions(backingFormat, dataFile);
    }

    private static String readString(FileChannel in, long offset, int length) throws IOException {
        ByteBuffer bytes = ByteBuffer.allocate(length);
        if (readAt(in, bytes, offset) < length) {
            throw new EOFException("qcow2 header ends inside a name");
        }
        return new String(bytes.array(), StandardCharsets.UTF_8);
    }

    private static int readAt(FileChannel in, ByteBuffer buffer, long position) throws IOException {
        int total = 0;
        while (buffer.hasRemaining()) {
            int n = in.read(buffer, position + total);
            if (n < 0) {
                break;
            }
            total += n;
        }
        return total;
    }
}
