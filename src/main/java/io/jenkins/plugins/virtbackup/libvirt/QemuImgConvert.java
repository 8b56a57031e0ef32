package io.jenkins.plugins.virtbackup.libvirt;

import io.jenkins.plugins.virtbackup.engine.copy.CopyCancelledException;
import io.jenkins.plugins.virtbackup.engine.restore.ImageFlattener;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.BooleanSupplier;
import java.util.function.IntConsumer;

/**
 * Runs {@code qemu-img convert} into a new file: a live backup's copy of an NBD export, and a
 * restore's flattening of a backed-up chain ({@link ImageFlattener}). Progress comes from {@code -p};
 * a cancel stops the tool; the tool's error output goes to the error log. Its output cache ignores
 * flushes, so the file is synced here once the tool is done.
 */
public final class QemuImgConvert implements ImageFlattener {
    private final Set<PosixFilePermission> fileMode;
    private final BiConsumer<String, String> toolErrors;

    /**
     * @param fileMode   the permissions the file gets once complete
     * @param toolErrors where the tool's own error output goes: tool name, text
     */
    public QemuImgConvert(Set<PosixFilePermission> fileMode, BiConsumer<String, String> toolErrors) {
        this.fileMode = fileMode;
        this.toolErrors = toolErrors;
    }

    @Override
    public void flatten(Path image, String imageFormat, Path destination, String format, BooleanSupplier cancelled,
                        IntConsumer progress) throws IOException {
        run(List.of("-f", imageFormat, "-O", format, image.toString()), destination, cancelled, progress);
    }

    /** Runs {@code qemu-img convert -p OPTIONS... file}; {@code options} end with the source. */
    void run(List<String> options, Path file, BooleanSupplier cancelled, IntConsumer progress) throws IOException {
        if (Files.exists(file)) {
            throw new IOException(file + " exists already");
        }
        List<String> command = new ArrayList<>(List.of("qemu-img", "convert", "-p"));
        command.addAll(options);
        command.add(file.toString());
        Path errors = Files.createTempFile("virt-backup-qemu-img-", ".err");
        Process tool = new ProcessBuilder(command).redirectError(errors.toFile()).start();
        try {
            Thread reader = progressReader(tool, progress);
            while (!tool.waitFor(200, TimeUnit.MILLISECONDS)) {
                if (cancelled.getAsBoolean()) {
                    throw new CopyCancelledException("copy into " + file + " cancelled");
                }
            }
            reader.join(1000);
            if (tool.exitValue() != 0) {
                String output = Files.readString(errors, StandardCharsets.UTF_8).strip();
                toolErrors.accept("qemu-img", output);
                throw new IOException("qemu-img convert into " + file + " failed: " + lastLine(output));
            }
            Files.setPosixFilePermissions(file, fileMode);
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
                channel.force(true);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CopyCancelledException("interrupted while copying into " + file);
        } finally {
            tool.destroyForcibly();
            Files.deleteIfExists(errors);
        }
    }

    /** {@code -p} prints {@code (12.34/100%)}, each redrawn after a carriage return. */
    private static Thread progressReader(Process tool, IntConsumer progress) {
        Thread reader = new Thread(() -> {
            StringBuilder line = new StringBuilder();
            try (var out = new InputStreamReader(tool.getInputStream(), StandardCharsets.UTF_8)) {
                for (int c; (c = out.read()) >= 0; ) {
                    if (c == '\r' || c == '\n') {
                        report(line.toString(), progress);
                        line.setLength(0);
                    } else {
                        line.append((char) c);
                    }
                }
            } catch (IOException ended) {
                // the tool ended or was stopped
            }
        }, "virt-backup-qemu-img-progress");
        reader.setDaemon(true);
        reader.start();
        return reader;
    }

    private static void report(String line, IntConsumer progress) {
        int open = line.indexOf('(');
        int slash = line.indexOf("/100%)");
        if (open >= 0 && slash > open) {
            try {
                progress.accept((int) Double.parseDouble(line.substring(open + 1, slash).strip()));
            } catch (NumberFormatException notProgress) {
                // another line of output
            }
        }
    }

    static String lastLine(String text) {
        String[] lines = text.strip().split("\n");
        return lines[lines.length - 1];
    }
}
