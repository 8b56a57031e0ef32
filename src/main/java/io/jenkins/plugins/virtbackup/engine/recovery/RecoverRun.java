package io.jenkins.plugins.virtbackup.engine.recovery;

import io.jenkins.plugins.virtbackup.engine.BackupException;
import io.jenkins.plugins.virtbackup.engine.ExitStatus;
import io.jenkins.plugins.virtbackup.engine.Hypervisor;
import io.jenkins.plugins.virtbackup.engine.log.BackupLog;
import io.jenkins.plugins.virtbackup.engine.lvm.VolumeTools;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** {@code virt-backup recover}: finishes what dead runs left for some domains, and does nothing else. */
public final class RecoverRun {
    private final Hypervisor hypervisor;
    private final BackupLog log;
    private final StateDirectory state;
    private final VolumeTools volumes;

    public RecoverRun(Hypervisor hypervisor, BackupLog log, StateDirectory state) {
        this(hypervisor, log, state, VolumeTools.ABSENT);
    }

    /** @param volumes the host's LVM and mount table, for what snapshot-dm left */
    public RecoverRun(Hypervisor hypervisor, BackupLog log, StateDirectory state, VolumeTools volumes) {
        this.hypervisor = hypervisor;
        this.log = log;
        this.state = state;
        this.volumes = volumes;
    }

    /**
     * Recovers these domains, or every domain with a journal for this hypervisor when the list is
     * empty, each under its lock.
     *
     * @return the domains that needed recovering
     * @throws BackupException the first failure, already logged
     */
    public List<String> recover(List<String> domains) throws BackupException {
        try {
            List<String> recovered = new ArrayList<>();
            for (String name : domains.isEmpty() ? domainsWithJournals() : domains) {
                if (recoverOne(name)) {
                    recovered.add(name);
                }
            }
            return recovered;
        } catch (BackupException e) {
            if (e.status() == ExitStatus.VM_NOT_RESTORED) {
                log.critical(e.getMessage());
            } else {
                log.error(e.getMessage());
            }
            throw e;
        }
    }

    private boolean recoverOne(String name) throws BackupException {
        try (DomainLock lock = DomainLock.acquire(state, hypervisor.uri(), name, "recover")) {
            RecoveryJournal journal = RecoveryJournal.open(state, hypervisor.uri(), name);
            if (journal.isEmpty()) {
                log.detail("domain '" + name + "': nothing to recover");
                return false;
            }
            new JournalReplay(hypervisor, log, volumes).finish(journal);
            log.milestone("domain '" + name + "' recovered: it is as it was before the interrupted run");
            return true;
        }
    }

    private List<String> domainsWithJournals() throws BackupException {
        List<String> names = new ArrayList<>();
        Path folder = state.journalFolder();
        if (!Files.isDirectory(folder)) {
            return names;
        }
        try (Stream<Path> files = Files.list(folder)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".json")).toList()) {
                RecoveryJournal journal = RecoveryJournal.read(file);
                if (hypervisor.uri().equals(journal.hypervisorUri())) {
                    names.add(journal.domain());
                }
            }
        } catch (IOException e) {
            throw new BackupException(ExitStatus.BACKUP_FAILED, "cannot read the recovery journals in " + folder
                    + ": " + e.getMessage(), e);
        }
        return names;
    }
}
