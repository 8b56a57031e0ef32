package io.jenkins.plugins.virtbackup.engine.store;

import io.jenkins.plugins.virtbackup.engine.ExitStatus;
import io.jenkins.plugins.virtbackup.engine.copy.ChunkCheck;
import io.jenkins.plugins.virtbackup.engine.copy.ChunkIndex;
import io.jenkins.plugins.virtbackup.engine.copy.ChunkPipeline;
import io.jenkins.plugins.virtbackup.engine.copy.FileExtents;
import io.jenkins.plugins.virtbackup.engine.log.BackupLog;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** {@code virt-backup verify DIR}: re-reads every file of a backup and compares it with the manifest. */
public final class BackupVerifier {
    private final BackupLog log;
    private final FileExtents extents;
    private final ChunkPipeline pipeline = new ChunkPipeline(() -> false);

    public BackupVerifier(BackupLog log, FileExtents extents) {
        this.log = log;
        this.extents = extents;
    }

    /** Checks one backup directory; every problem is logged as an error. */
    public ExitStatus verify(Path backup) {
        List<String> problems = new ArrayList<>();
        if (backup.getFileName() != null && backup.getFileName().toString().endsWith(BackupDirectory.PARTIAL_SUFFIX)) {
            problems.add(backup + " is an unfinished backup (" + BackupDirectory.PARTIAL_SUFFIX + ")");
        }
        List<Map<String, Object>> files = List.of();
        try {
            files = manifestFiles(backup);
        } catch (IOException | IllegalArgumentException | ClassCastException e) {
            problems.add("cannot read " + backup.resolve(Manifest.FILE_NAME) + ": " + message(e));
        }
        for (Map<String, Object> file : files) {
            check(backup, file, problems);
        }
        problems.forEach(log::error);
        if (!problems.isEmpty()) {
            return ExitStatus.VERIFY_FAILED;
        }
        log.milestone("backup " + backup + " verified: " + files.size() + " file(s) match the manifest");
        return ExitStatus.OK;
    }

    private void check(Path backup, Map<String, Object> file, List<String> problems) {
        String name = (String) file.get("name");
        Path path = backup.resolve(name).normalize();
        if (!path.getParent().equals(backup.normalize())) {
            problems.add("the manifest names a file outside the backup: " + name);
            return;
        }
        try {
            @SuppressWarnings("unchecked")
            Map<String, Object> chunks = (Map<String, Object>) file.get("chunks");
            ChunkIndex.Ref ref = new ChunkIndex.Ref((String) chunks.get("file"),
                    ((Number) chunks.get("chunkSize")).intValue(), ((Number) chunks.get("count")).longValue(),
                    ((Number) chunks.get("dataChunks")).longValue(), (String) chunks.get("sha256"));
            List<String> found = new ChunkCheck(pipeline, extents).check(backup, name,
                    ((Number) file.get("size")).longValue(), ref);
            if (found.isEmpty()) {
                log.detail(name + ": ok");
            }
            problems.addAll(found);
        } catch (NoSuchFileException e) {
            problems.add(name + " is missing");
        } catch (IOException e) {
            problems.add("cannot read " + name + ": " + message(e));
        }
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> manifestFiles(Path backup) throws IOException {
        Map<String, Object> manifest = (Map<String, Object>) Json.parse(
                Files.readString(backup.resolve(Manifest.FILE_NAME), StandardCharsets.UTF_8));
        if (!"complete".equals(manifest.get("result"))) {
            throw new IllegalArgumentException("the manifest does not say the backup is complete");
        }
        return (List<Map<String, Object>>) manifest.get("files");
    }

    private static String message(Exception e) {
        return e instanceof IOException io ? BackupDirectory.describe(io) : String.valueOf(e.getMessage());
    }
}
