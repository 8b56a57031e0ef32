package io.jenkins.plugins.virtbackup.demo;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Sets up the embedded demo hypervisor: {@code java -cp virt-backup-cli.jar
 * io.jenkins.plugins.virtbackup.demo.DemoHypervisor DIR} writes it into DIR and prints its URI.
 * Domain {@code demo-web} runs with a sparse raw disk, a qcow2 disk and an empty cdrom;
 * {@code demo-db} is shut off.
 */
public final class DemoHypervisor {
    private static final long MIB = 1 << 20;

    private DemoHypervisor() {
    }

    public static String create(Path dir) throws IOException {
        TestDriverNode node = new TestDriverNode(dir);
        Path webRoot = node.rawImage("demo-web-root.raw", 256 * MIB, (int) (4 * MIB), 1);
        Path webData = node.qcow2Image("demo-web-data.qcow2", 128 * MIB, 8);
        Path dbRoot = node.rawImage("demo-db-root.raw", 64 * MIB, (int) (2 * MIB), 2);
        return node
                .domain("demo-web", TestDriverNode.RunState.RUNNING, true,
                        TestDriverNode.fileDisk("vda", webRoot, "raw"),
                        TestDriverNode.fileDisk("vdb", webData, "qcow2"),
                        TestDriverNode.emptyCdrom("hdc"))
                .domain("demo-db", TestDriverNode.RunState.SHUT_OFF, true,
                        TestDriverNode.fileDisk("vda", dbRoot, "raw"))
                .write();
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: DemoHypervisor DIR");
            System.exit(2);
        }
        System.out.println(create(Path.of(args[0])));
    }
}
