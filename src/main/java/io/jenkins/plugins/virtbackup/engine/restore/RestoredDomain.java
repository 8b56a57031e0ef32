package io.jenkins.plugins.virtbackup.engine.restore;

import java.nio.file.Path;
import java.util.Map;

/**
 * A domain a restore defined.
 *
 * @param name    its name
 * @param uuid    its UUID
 * @param disks   each restored disk's image, by target
 * @param started {@code resumed}, {@code booted}, or null when it was not started
 */
public record RestoredDomain(String name, String uuid, Map<String, Path> disks, String started) {
    public static final String RESUMED = "resumed";
    public static final String BOOTED = "booted";

    public RestoredDomain {
        disks = Map.copyOf(disks);
    }
}
