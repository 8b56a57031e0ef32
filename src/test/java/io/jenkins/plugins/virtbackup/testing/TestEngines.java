package io.jenkins.plugins.virtbackup.testing;

import io.jenkins.plugins.virtbackup.engine.BackupEngine;
import io.jenkins.plugins.virtbackup.engine.Hypervisor;
import io.jenkins.plugins.virtbackup.engine.log.BackupLog;
import io.jenkins.plugins.virtbackup.engine.lvm.VolumeTools;
import io.jenkins.plugins.virtbackup.engine.recovery.StateDirectory;
import io.jenkins.plugins.virtbackup.engine.store.BackupDirectory;
import io.jenkins.plugins.virtbackup.libvirt.LinuxFileExtents;
import io.jenkins.plugins.virtbackup.libvirt.QemuNbdWriter;

/** An engine wired as the command line wires it, with the tools' error reports on standard error. */
public final class TestEngines {
    private TestEngines() {
    }

    public static BackupEngine of(Hypervisor hypervisor, BackupLog log, StateDirectory state) {
        return of(hypervisor, log, state, VolumeTools.ABSENT);
    }

    /** With {@code volumes} as the host's LVM and mount table (snapshot-dm). */
    public static BackupEngine of(Hypervisor hypervisor, BackupLog log, StateDirectory state, VolumeTools volumes) {
        return new BackupEngine(hypervisor, log, state, new LinuxFileExtents(),
                new QemuNbdWriter(BackupDirectory.FILE_MODE, (tool, text) -> System.err.println(tool + ": " + text)),
                volumes);
    }
}
