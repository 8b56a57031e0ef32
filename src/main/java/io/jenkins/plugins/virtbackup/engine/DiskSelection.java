package io.jenkins.plugins.virtbackup.engine;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Which of a domain's disks a run copies, and why the others are left out.
 *
 * @param toCopy  disks to copy, in the domain's order
 * @param skipped target of every other disk, with the reason
 */
public record DiskSelection(List<Disk> toCopy, Map<String, String> skipped) {

    /**
     * Chooses from {@code disks}: every copyable disk when {@code requested} is empty, else exactly
     * the requested ones, each named by target ({@code vda}) or by source path.
     *
     * @throws BackupException {@link ExitStatus#NOT_FOUND} for a name no disk has,
     *         {@link ExitStatus#USAGE} for a requested disk that cannot be copied (a cdrom, say)
     */
    public static DiskSelection choose(String domain, List<Disk> disks, List<String> requested)
            throws BackupException {
        List<Disk> wanted = requested.isEmpty() ? disks : findRequested(domain, disks, requested);
        List<Disk> toCopy = new ArrayList<>();
        Map<String, String> skipped = new LinkedHashMap<>();
        for (Disk disk : disks) {
            Optional<String> reason = disk.reasonToSkip();
            if (!wanted.contains(disk)) {
                skipped.put(disk.target(), "not requested");
            } else if (reason.isPresent() && !requested.isEmpty()) {
                throw new BackupException(ExitStatus.USAGE,
                        "disk " + disk.target() + " of domain '" + domain + "' cannot be backed up: " + reason.get());
            } else if (reason.isPresent()) {
                skipped.put(disk.target(), reason.get());
            } else {
                toCopy.add(disk);
            }
        }
        // Keep the domain's disk order: the log and the manifest list disks as the domain does.
        return new DiskSelection(List.copyOf(toCopy), Collections.unmodifiableMap(skipped));
    }

    private static List<Disk> findRequested(String domain, List<Disk> disks, List<String> requested)
            throws BackupException {
        List<Disk> found = new ArrayList<>();
        for (String name : requested) {
            Disk disk = disks.stream().filter(d -> names(d, name)).findFirst().orElseThrow(() ->
                    new BackupException(ExitStatus.NOT_FOUND, "domain '" + domain + "' has no disk '" + name
                            + "' (its disks: " + describe(disks) + ")"));
            if (!found.contains(disk)) {
                found.add(disk);
            }
        }
        return found;
    }

    private static boolean names(Disk disk, String name) {
        if (disk.target().equals(name)) {
            return true;
        }
        return disk.source() != null && Path.of(disk.source()).normalize().equals(Path.of(name).normalize());
    }

    private static String describe(List<Disk> disks) {
        if (disks.isEmpty()) {
            return "none";
        }
        return disks.stream()
                .map(d -> d.source() == null ? d.target() : d.target() + " = " + d.source())
                .collect(Collectors.joining(", "));
    }
}
