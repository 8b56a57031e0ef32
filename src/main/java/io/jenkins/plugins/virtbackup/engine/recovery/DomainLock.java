package io.jenkins.plugins.virtbackup.engine.recovery;

import io.jenkins.plugins.virtbackup.engine.BackupException;
import io.jenkins.plugins.virtbackup.engine.ExitStatus;
import io.jenkins.plugins.virtbackup.engine.store.BackupDirectory;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;

/**
 * One backup (or recovery) per domain at a time. The lock is the kernel's (fcntl) lock on a file,
 * so it goes away with the process that held it, however that process ended: a crashed run can
 * never leave it stuck. The file says who holds it, for the error a second run prints.
 */
public final class DomainLock implements AutoCloseable {
    private final FileChannel channel;
    private final FileLock lock;

    private DomainLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * Takes the lock of {@code domain} on {@code uri}, or fails at once naming the holder.
     *
     * @param what what this process is doing, for the holder line: "backup", "recover"
     */
    public static DomainLock acquire(StateDirectory state, String uri, String domain, String what)
            throws BackupException {
        return acquire(state, uri, domain, "domain '" + domain + "'", what);
    }

    /**
     * Takes the lock of a domain's backup folder ({@code DIR/DOMAIN}): a backup writing into it and
     * a prune deleting from it never run at once, whatever hypervisor the backups came from.
     */
    public static DomainLock acquireFolder(StateDirectory state, Path domainFolder, String what)
            throws BackupException {
        Path folder = domainFolder.toAbsolutePath().normalize();
        return acquire(state, "folder:", folder.toString(), "the backups in " + folder, what);
    }

    /** @param subject what is locked, for the messages: "domain 'web'" */
    private static DomainLock acquire(StateDirectory state, String uri, String key, String subject, String what)
            throws BackupException {
        Path file;
        FileChannel channel = null;
        try {
            file = state.lockFile(uri, key);
            channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                    StandardOpenOption.WRITE);
            FileLock lock;
            try {
                lock = channel.tryLock();
            } catch (OverlappingFileLockException e) {
                lock = null;  // held by this very process, through another run
            }
            if (lock == null) {
                String holder = readHolder(channel);
                channel.close();
                throw new BackupException(ExitStatus.BUSY, subject + " is busy: " + holder);
            }
            String holder = what + " by process " + ProcessHandle.current().pid() + " since " + Instant.now() + "\n";
            channel.truncate(0);
            channel.write(ByteBuffer.wrap(holder.getBytes(StandardCharsets.UTF_8)), 0);
            channel.force(true);
            return new DomainLock(channel, lock);
        } catch (IOException e) {
            closeQuietly(channel);
            throw new BackupException(ExitStatus.BACKUP_FAILED, "cannot lock " + subject + " in "
                    + state.root() + ": " + BackupDirectory.describe(e), e);
        }
    }

    private static String readHolder(FileChannel channel) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(512);
        channel.read(buffer, 0);
        String text = new String(buffer.array(), 0, buffer.position(), StandardCharsets.UTF_8).strip();
        return text.isEmpty() ? "another virt-backup process holds its lock" : text;
    }

    private static void closeQuietly(FileChannel channel) {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // Closing releases the lock; nothing else to do.
            }
        }
    }

    @Override
    public void close() {
        try {
            lock.release();
        } catch (IOException ignored) {
            // Closing the channel below releases it as well.
        }
        closeQuietly(channel);
    }
}
