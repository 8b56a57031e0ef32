package io.jenkins.plugins.virtbackup.engine.restore;

import java.io.IOException;
import java.nio.file.Path;
import java.util.function.BooleanSupplier;
import java.util.function.IntConsumer;

/**
 * Writes a backed-up disk out as one image that stands alone. Implemented in the libvirt adapter
 * with {@code qemu-img convert}, the stock tool the docs tell users to restore with.
 */
public interface ImageFlattener {
    /**
     * Reads {@code image} through its whole backing chain (the parents of an incremental, the
     * copied templates of a linked clone) into {@code destination}, a new file of {@code format} with
     * no backing file; holes stay holes. The file is synced before this returns.
     *
     * @param imageFormat the format of {@code image} ({@code qcow2} or {@code raw})
     * @param format      the destination's format ({@code qcow2} or {@code raw})
     * @param progress    told the percentage done now and then
     * @throws io.jenkins.plugins.virtbackup.engine.copy.CopyCancelledException when {@code cancelled}
     *         turns true; the tool is stopped
     */
    void flatten(Path image, String imageFormat, Path destination, String format, BooleanSupplier cancelled,
                 IntConsumer progress) throws IOException;
}
