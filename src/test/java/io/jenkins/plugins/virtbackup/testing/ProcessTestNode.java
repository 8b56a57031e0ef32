package io.jenkins.plugins.virtbackup.testing;

import io.jenkins.plugins.virtbackup.demo.TestDriverNode;
import io.jenkins.plugins.virtbackup.demo.TestDriverNode.RunState;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/** The test-driver hypervisor the command-line process tests share. */
public final class ProcessTestNode {
    private ProcessTestNode() {
    }

    /**
     * Writes a node with two running domains into {@code images} and returns its URI: {@code web}
     * (8 MiB disk) and {@code big}, whose 32 GiB sparse disk takes seconds to copy: time to send a
     * signal, or start a second run, mid-copy. Holes cost a copy nothing, so its data is spread:
     * 4 KiB in every MiB, 32768 chunks to read, hash and write.
     */
    public static String webAndBig(Path images) throws IOException {
        TestDriverNode node = new TestDriverNode(images);
        return node
                .domain("web", RunState.RUNNING, true,
                        TestDriverNode.fileDisk("vda", node.rawImage("web.raw", 8 << 20, 1 << 20, 5), "raw"))
                .domain("big", RunState.RUNNING, true,
                        TestDriverNode.fileDisk("vda", spread(node.rawImage("big.raw", 32L << 30, 1 << 20, 6)), "raw"))
                .write();
    }

    /**
     * Writes a node with two running domains like {@code big}, {@code big-1} and {@code big-2}, and
     * returns its URI: for signals while several domains are copied at once.
     */
    public static String twoBig(Path images) throws IOException {
        TestDriverNode node = new TestDriverNode(images);
        for (String name : new String[] {"big-1", "big-2"}) {
            node.domain(name, RunState.RUNNING, true, TestDriverNode.fileDisk("vda",
                    spread(node.rawImage(name + ".raw", 32L << 30, 1 << 20, name.hashCode())), "raw"));
        }
        return node.write();
    }

    /** Writes 4 KiB of data at the start of every MiB of {@code image}. */
    private static Path spread(Path image) throws IOException {
        byte[] block = new byte[4096];
        Arrays.fill(block, (byte) 0x5a);
        try (FileChannel file = FileChannel.open(image, StandardOpenOption.WRITE)) {
            for (long at = 0; at < file.size(); at += 1 << 20) {
                file.write(ByteBuffer.wrap(block), at);
            }
        }
        return image;
    }
}
