import io.jenkins.plugins.virtbackup.engine.copy.DiskCopier;
import io.jenkins.plugins.virtbackup.engine.copy.FileDigest;
import io.jenkins.plugins.virtbackup.engine.store.BackupDirectory;
import io.jenkins.plugins.virtbackup.libvirt.LinuxFileExtents;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;

/**
 * Profiles the engine's copy loop on one file, phase by phase, in one JVM (no start-up, no
 * libvirt): plain reads, reads + zero check, reads + SHA-256 of every logical byte (what the copy
 * no longer does), DiskCopier.copy (data extents only, hashing on every core, with fsync), and
 * DiskCopier.readBack (what --verify adds). Run by bench/profile-copy.
 *
 * <pre>java -cp target/virt-backup-cli.jar bench/CopyProfile.java SOURCE SCRATCH_DIR [REPEATS]</pre>
 */
public class CopyProfile {
    public static void main(String[] args) throws Exception {
        Path source = Path.of(args[0]);
        Path scratch = Path.of(args[1]);
        int repeats = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        long size = Files.size(source);
        System.out.printf("source %s: %d MiB%n", source, size >> 20);
        for (int r = 0; r < repeats; r++) {
            time("read only", size, () -> scan(source, false, false));
            time("read + zero check", size, () -> scan(source, true, false));
            time("read + SHA-256", size, () -> scan(source, false, true));
            Path target = scratch.resolve("copy-profile-" + r);
            DiskCopier copier = new DiskCopier(() -> false, new LinuxFileExtents(), BackupDirectory.FILE_MODE);
            FileDigest[] copied = new FileDigest[1];
            time("DiskCopier.copy (incl. fsync)", size, () -> copied[0] = copier.copy(source, target, null, null));
            time("DiskCopier.readBack (--verify)", size, () -> {
                if (!copier.readBack(target, copied[0]).isEmpty()) {
                    throw new IllegalStateException("read back differs");
                }
            });
            Files.delete(target);
            Files.delete(target.resolveSibling(target.getFileName() + ".chunks"));
        }
    }

    interface Step {
        void run() throws Exception;
    }

    static void time(String what, long bytes, Step step) throws Exception {
        long t0 = System.nanoTime();
        step.run();
        double s = (System.nanoTime() - t0) / 1e9;
        System.out.printf("  %-34s %7.3f s  %7.0f MiB/s%n", what, s, bytes / s / (1 << 20));
    }

    static void scan(Path source, boolean zeroCheck, boolean hash) throws Exception {
        ByteBuffer buffer = ByteBuffer.allocateDirect(1 << 20);
        ByteBuffer zeros = ByteBuffer.allocateDirect(1 << 20);
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        long nonZero = 0;
        try (FileChannel in = FileChannel.open(source, StandardOpenOption.READ)) {
            while (true) {
                buffer.clear();
                if (in.read(buffer) < 0) {
                    break;
                }
                buffer.flip();
                if (zeroCheck && buffer.mismatch(zeros.duplicate().limit(buffer.remaining())) != -1) {
                    nonZero++;
                }
                if (hash) {
                    sha.update(buffer);
                }
            }
        }
        if (nonZero < 0) {
            System.out.println(nonZero);
        }
    }
}
