package io.jenkins.plugins.virtbackup.engine.restore;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * What a restore changes in the domain definition it found in a backup. The libvirt adapter applies
 * it to the domain XML; the engine only decides.
 *
 * @param name          the new domain name; null keeps the backup's
 * @param newIdentity   a copy beside the original: no UUID and no MAC address (libvirt makes new
 *                      ones), and no NVRAM file of the original's (libvirt makes one from the
 *                      firmware's template, in {@code deviceFolder} when given)
 * @param isolated      a clone that must not reach anything of production: no network interface, no
 *                      host device, no shared host folder, no USB redirection; graphics on a free port
 * @param disks         each restored disk, by target: it becomes a plain local file of that format,
 *                      with no backing chain in the definition
 * @param removedDisks  targets of disks to leave out (not restored, and writable: a copy must not
 *                      write into the original's storage)
 * @param deviceFolder  where files and sockets of the serial ports, consoles and channels go; null
 *                      keeps their paths (only right for the original identity)
 * @param consoleLog    when not null, the first serial port writes to this file (a restore test reads
 *                      it as proof of life)
 */
public record DefinitionChanges(String name, boolean newIdentity, boolean isolated, Map<String, RestoredImage> disks,
                                Set<String> removedDisks, Path deviceFolder, Path consoleLog) {

    public DefinitionChanges {
        disks = Collections.unmodifiableMap(new LinkedHashMap<>(disks));
        removedDisks = Set.copyOf(removedDisks);
    }

    /** The disks' new images only: what a disaster recovery changes (nothing when they go back in place). */
    public static DefinitionChanges disksOnly(Map<String, RestoredImage> disks) {
        return new DefinitionChanges(null, false, false, disks, Set.of(), null, null);
    }

    /**
     * A restored disk image.
     *
     * @param path   where it is
     * @param format {@code raw} or {@code qcow2}
     */
    public record RestoredImage(Path path, String format) {
    }
}
