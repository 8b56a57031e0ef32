package io.jenkins.plugins.virtbackup.engine.incremental;

import io.jenkins.plugins.virtbackup.engine.BackupException;
import io.jenkins.plugins.virtbackup.engine.CheckpointCheck;
import io.jenkins.plugins.virtbackup.engine.ExitStatus;
import io.jenkins.plugins.virtbackup.engine.HypervisorException;
import io.jenkins.plugins.virtbackup.engine.VirtualMachine;
import io.jenkins.plugins.virtbackup.engine.image.BackingChain;
import io.jenkins.plugins.virtbackup.engine.log.BackupLog;
import io.jenkins.plugins.virtbackup.engine.modes.BackupMode;
import io.jenkins.plugins.virtbackup.engine.store.BackupDirectory;
import io.jenkins.plugins.virtbackup.engine.store.Increment;
import io.jenkins.plugins.virtbackup.engine.store.Manifest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeSet;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Decides, before anything is touched, what a {@code live} backup of a running domain will be. An
 * inc or diff is only taken when every link it depends on checks out; otherwise {@code auto}
 * takes a full and says why, and an explicit inc or diff fails with {@link ExitStatus#CHAIN_BROKEN}.
 * Never a wrong incremental: each doubt breaks the chain.
 *
 * <p>The chain is read from the backups themselves: the newest complete backup of the domain in the
 * backup root is the parent of an inc; following parents from it leads to the full, the parent of
 * a diff. libvirt's checkpoints only say where changes are counted from.
 */
public final class ChainPlanner {
    private final VirtualMachine vm;
    private final String domain;
    private final BackupLog log;

    public ChainPlanner(VirtualMachine vm, String domain, BackupLog log) {
        this.vm = vm;
        this.domain = domain;
        this.log = log;
    }

    /** A disk as it is now: its top image and its size. */
    /**
     * @param keepsBitmap whether libvirt can keep a checkpoint's bitmap in it (a qcow2 image)
     */
    public record DiskNow(String source, long capacity, boolean keepsBitmap) {
        /** A qcow2 disk. */
        public DiskNow(String source, long capacity) {
            this(source, capacity, true);
        }
    }

    /** A reason the chain cannot be extended. */
    static final class BrokenChain extends Exception {
        BrokenChain(String reason) {
            super(reason);
        }
    }

    /**
     * @param running      whether the domain runs: libvirt's backup job needs it to
     * @param domainFolder the domain's folder in the backup root ({@code ROOT/DOMAIN})
     * @param disks        the disks this backup copies, by target
     */
    public ChainPlan plan(BackupLevel requested, boolean running, Path domainFolder, String uuid,
                          Map<String, DiskNow> disks) throws BackupException {
        if (requested == BackupLevel.FULL) {
            return ChainPlan.FULL;
        }
        BackupLevel level = requested == BackupLevel.DIFF ? BackupLevel.DIFF : BackupLevel.INC;
        try {
            if (!running) {
                throw new BrokenChain("it is shut off, and libvirt's backup job needs it running");
            }
            if (disks.values().stream().noneMatch(DiskNow::keepsBitmap)) {
                throw new BrokenChain("none of the disks it copies is a qcow2 image, the only kind in which libvirt "
                        + "keeps the bitmaps of a checkpoint");
            }
            return extend(level, domainFolder, uuid, disks);
        } catch (BrokenChain broken) {
            if (requested == BackupLevel.AUTO) {
                log.notice("level auto: taking a full backup, since the chain cannot be extended: "
                        + broken.getMessage());
                return ChainPlan.FULL;
            }
            throw new BackupException(ExitStatus.CHAIN_BROKEN, "cannot back up domain '" + domain + "' at level "
                    + level + ": " + broken.getMessage() + "; nothing was written. Take a full backup "
                    + "(--level full), or use --level auto, which does so when the chain is broken");
        }
    }

    private ChainPlan extend(BackupLevel level, Path domainFolder, String uuid, Map<String, DiskNow> disks)
            throws BrokenChain, BackupException {
        List<Link> chain = chainFromNewest(domainFolder);
        Link newest = chain.get(0);
        checkSameDomainAndDisks(newest, uuid, disks);
        for (Link link : chain) {
            if (!link.manifest.increment().disks().keySet().equals(disks.keySet())) {
                throw new BrokenChain("backup " + link.folder + " of the chain holds disks "
                        + new TreeSet<>(link.manifest.increment().disks().keySet()) + ", not "
                        + new TreeSet<>(disks.keySet()));
            }
        }
        Link full = chain.get(chain.size() - 1);
        Link parent = level == BackupLevel.DIFF ? full : newest;
        // libvirt counts the changes since a checkpoint with its bitmap and those of every later
        // checkpoint: each one from the parent's on must be sound.
        for (Link link : chain.subList(0, chain.indexOf(parent) + 1)) {
            checkCheckpoint(link);
        }
        log.detail("level " + level + ": building on backup " + parent.folder + " (checkpoint "
                + parent.manifest.increment().checkpoint().name() + ")");
        return new ChainPlan(level, parent.folder, parent.manifest, parent.manifest.increment().checkpoint().name());
    }

    /** One backup of the chain: its folder's name and its manifest. */
    private record Link(String folder, Manifest manifest) {
    }

    /** The newest backup, then its parent, and so on down to the full backup. */
    private List<Link> chainFromNewest(Path domainFolder) throws BrokenChain {
        Link newest = newestBackup(domainFolder);
        List<Link> chain = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (Link link = newest; ; ) {
            // A folder met twice means an edited or mixed-up manifest: following parents would never end.
            if (!seen.add(link.folder)) {
                throw new BrokenChain("the chain of backup " + newest.folder + " loops back to backup " + link.folder);
            }
            Increment increment = link.manifest.increment();
            if (link.manifest.mode() != BackupMode.LIVE || increment.checkpoint() == null) {
                throw new BrokenChain(link == newest
                        ? "the newest backup, " + link.folder + ", was taken in mode " + link.manifest.mode()
                                + (link.manifest.mode() == BackupMode.LIVE ? " of a domain that was not running" : "")
                                + " and took no checkpoint"
                        : "backup " + link.folder + " of the chain took no checkpoint");
            }
            chain.add(link);
            if (increment.parent() == null) {
                return chain;
            }
            link = read(domainFolder, increment.parent())
                    .orElseThrow(() -> new BrokenChain("backup " + increment.parent() + ", which backup "
                            + chain.get(chain.size() - 1).folder + " builds on, is missing or unreadable"));
        }
    }

    private Link newestBackup(Path domainFolder) throws BrokenChain {
        List<Link> backups = new ArrayList<>();
        if (Files.isDirectory(domainFolder)) {
            try (Stream<Path> entries = Files.list(domainFolder)) {
                for (Path entry : entries.sorted().toList()) {
                    String name = entry.getFileName().toString();
                    if (!name.endsWith(BackupDirectory.PARTIAL_SUFFIX) && Files.isDirectory(entry)) {
                        Optional<Link> backup = read(domainFolder, name);
                        backup.ifPresentOrElse(backups::add, () -> log.detail("backup folder " + name
                                + " has no manifest this version can read: no chain builds on it"));
                    }
                }
            } catch (IOException e) {
                throw new BrokenChain("cannot list " + domainFolder + ": " + e.getMessage());
            }
        }
        return backups.stream()
                .max(Comparator.comparing((Link l) -> l.manifest.start()).thenComparing(Link::folder))
                .orElseThrow(() -> new BrokenChain("there is no earlier backup of it in " + domainFolder));
    }

    private static Optional<Link> read(Path domainFolder, String folder) {
        try {
            return Optional.of(new Link(folder, Manifest.read(domainFolder.resolve(folder))));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private void checkSameDomainAndDisks(Link newest, String uuid, Map<String, DiskNow> disks) throws BrokenChain {
        Manifest manifest = newest.manifest;
        if (!Objects.equals(manifest.domainUuid(), uuid)) {
            throw new BrokenChain("the domain was redefined since backup " + newest.folder + " (UUID "
                    + manifest.domainUuid() + ", now " + uuid + ")");
        }
        Map<String, Increment.DiskChain> before = manifest.increment().disks();
        for (String target : disks.keySet()) {
            if (!before.containsKey(target)) {
                throw new BrokenChain("disk " + target + " was not in backup " + newest.folder
                        + " (added since, or not selected then)");
            }
        }
        for (String target : before.keySet()) {
            if (!disks.containsKey(target)) {
                throw new BrokenChain("disk " + target + " of backup " + newest.folder
                        + " is not backed up now (removed since, or not selected now)");
            }
        }
        for (Map.Entry<String, DiskNow> disk : disks.entrySet()) {
            String target = disk.getKey();
            long size = before.get(target).size();
            if (size != disk.getValue().capacity()) {
                throw new BrokenChain("disk " + target + " was resized since backup " + newest.folder + " (from "
                        + size + " to " + disk.getValue().capacity() + " bytes)");
            }
            BackingChain chain = manifest.chains().get(target);
            String then = chain == null ? null : chain.top().path().toString();
            if (!Objects.equals(then, disk.getValue().source())) {
                throw new BrokenChain("disk " + target + " now writes to " + disk.getValue().source()
                        + ", not to " + then + " as at backup " + newest.folder);
            }
        }
    }

    private void checkCheckpoint(Link link) throws BrokenChain, BackupException {
        Increment.Checkpoint checkpoint = link.manifest.increment().checkpoint();
        CheckpointCheck check;
        try {
            check = vm.validateCheckpoint(checkpoint.name(), checkpoint.xml());
        } catch (HypervisorException e) {
            ExitStatus status = e.kind() == HypervisorException.Kind.UNREACHABLE
                    ? ExitStatus.HYPERVISOR_UNREACHABLE : ExitStatus.BACKUP_FAILED;
            throw new BackupException(status, "cannot check checkpoint " + checkpoint.name()
                    + " of domain '" + domain + "': " + e.getMessage(), e);
        }
        if (!check.usable()) {
            throw new BrokenChain("checkpoint " + checkpoint.name() + " of backup " + link.folder
                    + " cannot be used: " + check.problem());
        }
        if (check.redefined()) {
            log.notice("libvirt had lost checkpoint " + checkpoint.name() + "; redefined it from backup "
                    + link.folder + " and its bitmaps check out");
        }
    }
}
