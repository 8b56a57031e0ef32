package io.jenkins.plugins.virtbackup.engine.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jenkins.plugins.virtbackup.engine.BackupException;
import io.jenkins.plugins.virtbackup.engine.ExitStatus;
import io.jenkins.plugins.virtbackup.engine.copy.FsyncTrace;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
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
    void commitsUnderDirectoriesTheRunCreated() throws Exception {
        BackupDirectory directory = BackupDirectory.create(root.resolve("new/backups"), "web", START);
        Files.writeString(directory.file("domain.xml"), "<domain/>");

        directory.commit();

        assertThat(root.resolve("new/backups/web/20261130T023005Z/domain.xml")).hasContent("<domain/>");
        assertThat(root.resolve("new/backups/web")).isDirectoryContaining(p -> p.equals(directory.completePath()));
    }

    @Test
    void syncsTheBackupAndEveryDirectoryItsRunCreatedWithTheOneHoldingIt() throws Exception {
        Path backups = root.resolve("new/backups");
        AtomicReference<BackupDirectory> directory = new AtomicReference<>();

        Set<Path> created = FsyncTrace.of(() -> directory.set(create(backups, "web")));
        Set<Path> committed = FsyncTrace.of(() -> directory.get().commit());

        // Made durable at once: before the commit, the folder may hold a domain's saved RAM.
        assertThat(created).containsExactlyInAnyOrder(root, root.resolve("new"), backups, backups.resolve("web"));
        // The backup's own folder is synced just before its rename, under its .partial name.
        assertThat(committed).containsExactlyInAnyOrder(directory.get().partialPath(),
                root, root.resolve("new"), backups, backups.resolve("web"));
    }

    @Test
    void anotherBackupOfTheDomainSyncsOnlyItsOwnFolderAndTheDomainFolder() throws Exception {
        create(root, "web").commit();
        BackupDirectory second = create(root, "web");

        Set<Path> synced = FsyncTrace.of(second::commit);

        assertThat(synced).containsExactlyInAnyOrder(second.partialPath(), root.resolve("web"));
    }

    private static BackupDirectory create(Path backupRoot, String domain) throws IOException {
        try {
            return BackupDirectory.create(backupRoot, domain, START);
        } catch (BackupException e) {
            throw new IOException(e);
        }
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
