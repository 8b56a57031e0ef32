package io.jenkins.plugins.virtbackup.engine.recovery;

import io.jenkins.plugins.virtbackup.engine.BackupException;
import io.jenkins.plugins.virtbackup.engine.ExitStatus;
import io.jenkins.plugins.virtbackup.engine.store.BackupDirectory;
import io.jenkins.plugins.virtbackup.engine.store.Json;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What a run must undo if it dies: written, and synced to disk, BEFORE each step that changes the
 * domain, and cleared once that step is undone. A run killed by SIGKILL, a power cut or a crash
 * leaves it behind; the next run for the domain, or {@code virt-backup recover}, finishes it.
 *
 * <p>One small JSON file per domain in the state directory, replaced atomically on every change.
 */
public final class RecoveryJournal {
    /** One thing to undo: an action name and what it needs. */
    public record Undo(String action, Map<String, String> details) {
        public static final String START = "start";
        public static final String RESTORE = "restore";
        public static final String MERGE = "merge";
        public static final String ABORT_JOB = "abort-job";
        public static final String THAW = "thaw";
        /** A checkpoint taken with a backup that never completed: detail {@code checkpoint}, its name. */
        public static final String DELETE_CHECKPOINT = "delete-checkpoint";
        /** The scratch files of a pull backup job: detail {@code folder}, which holds only them. */
        public static final String REMOVE_SCRATCH = "remove-scratch";
        /** snapshot-dm's LVM snapshot: details {@code vg}, {@code lv} (the snapshot), {@code origin}. */
        public static final String REMOVE_SNAPSHOT = "remove-snapshot";
        /** snapshot-dm's read-only mount of a snapshot: detail {@code dir}, a folder made for it alone. */
        public static final String UNMOUNT = "unmount";

        public Undo {
            details = Map.copyOf(details);
        }

        public String detail(String key) {
            return details.get(key);
        }
    }

    private final Path file;
    private final String domain;
    private final String uri;
    private Path backupDirectory;
    private final List<Undo> pending = new ArrayList<>();

    private RecoveryJournal(Path file, String domain, String uri) {
        this.file = file;
        this.domain = domain;
        this.uri = uri;
    }

    /** The journal of {@code domain}: what an earlier run left, or an empty one. */
    public static RecoveryJournal of(StateDirectory state, String uri, String domain) throws IOException {
        RecoveryJournal journal = new RecoveryJournal(state.journalFile(uri, domain), domain, uri);
        journal.load();
        return journal;
    }

    /** As {@link #of}, failing with the one-line error a run reports. */
    public static RecoveryJournal open(StateDirectory state, String uri, String domain) throws BackupException {
        try {
            return of(state, uri, domain);
        } catch (IOException e) {
            throw new BackupException(ExitStatus.BACKUP_FAILED, "cannot read the recovery journal of domain '" + domain
                    + "' in " + state.root() + ": " + e.getMessage(), e);
        }
    }

    /** Reads a journal file found in the state directory (for {@code recover} without names). */
    static RecoveryJournal read(Path file) throws IOException {
        Map<String, Object> json = parse(file);
        RecoveryJournal journal = new RecoveryJournal(file, (String) json.get("domain"), (String) json.get("hypervisor"));
        journal.load();
        return journal;
    }

    public String domain() {
        return domain;
    }

    /** Where the journal is kept. */
    public Path file() {
        return file;
    }

    public String hypervisorUri() {
        return uri;
    }

    public boolean isEmpty() {
        return pending.isEmpty() && backupDirectory == null;
    }

    /** What is left to undo, in the order it was done (undo goes backwards). */
    public synchronized List<Undo> pending() {
        return List.copyOf(pending);
    }

    public synchronized Optional<Path> backupDirectory() {
        return Optional.ofNullable(backupDirectory);
    }

    /** Notes the unfinished backup directory, to be removed if the run dies. */
    public synchronized void startedBackup(Path partialDirectory) throws IOException {
        backupDirectory = partialDirectory;
        write();
    }

    /** Records, durably, a step about to change the domain. */
    public synchronized void willDo(Undo undo) throws IOException {
        pending.add(undo);
        write();
    }

    /** Adds what was learnt while taking a step (the disks' state after a save) to its entry. */
    public synchronized void amend(Undo step, Undo amended) throws IOException {
        int at = pending.indexOf(step);
        if (at < 0) {
            throw new IllegalStateException("no pending step " + step.action() + " to amend");
        }
        pending.set(at, amended);
        write();
    }

    /** The step's effect is undone (or never happened): forget it. */
    synchronized void undone(Undo undo) throws IOException {
        pending.remove(undo);
        write();
    }

    /** The run ended with nothing left to undo or clean: the journal goes away. */
    public synchronized void finished() throws IOException {
        pending.clear();
        backupDirectory = null;
        Files.deleteIfExists(file);
    }

    /** The run ended with its backup complete, or removed: only pending undo steps remain, if any. */
    public synchronized void backupSettled() throws IOException {
        backupDirectory = null;
        write();
    }

    private void load() throws IOException {
        if (!Files.exists(file)) {
            return;
        }
        Map<String, Object> json = parse(file);
        Object dir = json.get("backupDirectory");
        backupDirectory = dir == null ? null : Path.of((String) dir);
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> undo = (List<Map<String, Object>>) json.get("undo");
        for (Map<String, Object> step : undo) {
            Map<String, String> details = new LinkedHashMap<>();
            step.forEach((key, value) -> {
                if (!key.equals("action")) {
                    details.put(key, String.valueOf(value));
                }
            });
            pending.add(new Undo((String) step.get("action"), details));
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> parse(Path file) throws IOException {
        try {
            return (Map<String, Object>) Json.parse(Files.readString(file, StandardCharsets.UTF_8));
        } catch (IllegalArgumentException | ClassCastException e) {
            throw new IOException("unreadable recovery journal " + file + ": " + e.getMessage(), e);
        }
    }

    private void write() throws IOException {
        if (pending.isEmpty() && backupDirectory == null) {
            Files.deleteIfExists(file);
            return;
        }
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("domain", domain);
        json.put("hypervisor", uri);
        json.put("process", ProcessHandle.current().pid());
        json.put("written", Instant.now().toString());
        json.put("backupDirectory", backupDirectory == null ? null : backupDirectory.toString());
        List<Map<String, String>> undo = new ArrayList<>();
        for (Undo step : pending) {
            Map<String, String> entry = new LinkedHashMap<>();
            entry.put("action", step.action());
            entry.putAll(step.details());
            undo.add(entry);
        }
        json.put("undo", undo);
        Path temp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(temp, Json.write(json), StandardCharsets.UTF_8);
        try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
            channel.force(true);
        }
        Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        BackupDirectory.syncDirectory(file.getParent());
    }
}
