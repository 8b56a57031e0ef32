package io.jenkins.plugins.virtbackup.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BackupDirectoryTest {
    private static final Instant START = Instant.parse("2026-11-30T02:30:05.123Z");

    @TempDir
    Path root;

    @Test
    void buildsUnderAPartialNameAndRenamesOnCommit() throws Exception {
        BackupDirectory directory = BackupDirectory.create(root, "web", START);
        assertThat(directory.partialPath()).isEqualTo(root.resolve("web/20261130T023005Z.partial")).isDirectory();
        Files.writeString(directory.file("domain.xml"), "<domain/>");

        directory.commit();

        assertThat(root.resolve("web/20261130T023005Z/domain.xml")).hasContent("<domain/>");
        assertThat(directory.partialPath()).doesNotExist();
    }

    @Test
    void twoRunsInTheSameSecondGetTwoDirectories() throws Exception {
        BackupDirectory first = BackupDirectory.create(root, "web", START);
        first.commit();
        BackupDirectory second = BackupDirectory.create(root, "web", START);
        BackupDirectory third = BackupDirectory.create(root, "web", START);

        assertThat(second.completePath().getFileName()).hasToString("20261130T023005Z-2");
        assertThat(third.completePath().getFileName()).hasToString("20261130T023005Z-3");
    }

    @Test
    void discardRemovesTheBackupAndTheDirectoriesItCreated() throws Exception {
        Path deep = root.resolve("new/backups");
        BackupDirectory directory = BackupDirectory.create(deep, "web", START);
        Files.writeString(directory.file("vda.raw"), "half");

        directory.discard();

        assertThat(root).isEmptyDirectory();
    }

    @Test
    void discardKeepsEarlierBackups() throws Exception {
        BackupDirectory earlier = BackupDirectory.create(root, "web", START);
        earlier.commit();
        BackupDirectory failed = BackupDirectory.create(root, "web", START.plusSeconds(60));

        failed.discard();

        assertThat(root.resolve("web")).isDirectoryContaining(p -> p.equals(earlier.completePath()));
        assertThat(Files.list(root.resolve("web")).count()).isEqualTo(1);
    }

    @Test
    void refusesNamesThatAreNotASingleDirectoryName() {
        for (String name : new String[] {"..", ".", "", "../etc", "a/b", "x\0y", "new\nline"}) {
            assertThatThrownBy(() -> BackupDirectory.create(root, name, START)).as(name)
                    .isInstanceOfSatisfying(BackupException.class,
                            e -> assertThat(e.status()).isEqualTo(ExitStatus.USAGE));
        }
        assertThat(root).isEmptyDirectory();
    }

    @Test
    void acceptsOddButHarmlessNames() throws Exception {
        for (String name : new String[] {"web server", "it's \"quoted\"", "dömäin-ü", "-dash", ".hidden"}) {
            BackupDirectory directory = BackupDirectory.create(root, name, START);
            assertThat(directory.partialPath().getParent()).isEqualTo(root.resolve(name));
        }
    }

    @Test
    void aRootThatIsAFileFailsClearly() throws IOException {
        Path file = Files.writeString(root.resolve("file"), "not a directory");

        assertThatThrownBy(() -> BackupDirectory.create(file, "web", START))
                .isInstanceOfSatisfying(BackupException.class, e -> {
                    assertThat(e.status()).isEqualTo(ExitStatus.BACKUP_FAILED);
                    assertThat(e.getMessage()).contains(file.toString());
                });
        assertThat(file).hasContent("not a directory");
    }

    @Test
    void aRootThatIsALinkIsFollowedButADomainFolderThatIsALinkIsRefused() throws Exception {
        Path elsewhere = Files.createDirectories(root.resolve("nas"));
        Path link = Files.createSymbolicLink(root.resolve("backups"), elsewhere);
        BackupDirectory.create(link, "web", START).commit();
        assertThat(elsewhere.resolve("web/20261130T023005Z")).isDirectory();

        Path etc = Files.createDirectories(root.resolve("etc"));
        Files.createSymbolicLink(elsewhere.resolve("db"), etc);
        assertThatThrownBy(() -> BackupDirectory.create(link, "db", START))
                .isInstanceOfSatisfying(BackupException.class, e -> {
                    assertThat(e.status()).isEqualTo(ExitStatus.BACKUP_FAILED);
                    assertThat(e.getMessage()).endsWith("is a symbolic link; refusing to write backups through it");
                });
        assertThat(etc).isEmptyDirectory();
    }
}
