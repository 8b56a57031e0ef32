package io.jenkins.plugins.virtbackup.testing;

import io.jenkins.plugins.virtbackup.demo.TestDriverNode;
import io.jenkins.plugins.virtbackup.demo.TestDriverNode.RunState;
import java.io.IOException;
import java.nio.file.Path;

/** The test-driver hypervisor the command-line process tests share. */
public final class ProcessTestNode {
    private ProcessTestNode() {
    }

    /**
     * Writes a node with two running domains into {@code images} and returns its URI: {@code web}
     * (8 MiB disk) and {@code big}, whose 16 GiB sparse disk takes seconds to copy: time to send a
     * signal, or start a second run, mid-copy.
     */
    public static String webAndBig(Path images) throws IOException {
        TestDriverNode node = new TestDriverNode(images);
        return node
                .domain("web", RunState.RUNNING, true,
                        TestDriverNode.fileDisk("vda", node.rawImage("web.raw", 8 << 20, 1 << 20, 5), "raw"))
                .domain("big", RunState.RUNNING, true,
                        TestDriverNode.fileDisk("vda", node.rawImage("big.raw", 16L << 30, 1 << 20, 6), "raw"))
                .write();
    }
}
