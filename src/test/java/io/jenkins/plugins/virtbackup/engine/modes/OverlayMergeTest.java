package io.jenkins.plugins.virtbackup.engine.modes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jenkins.plugins.virtbackup.engine.BlockJobState;
import io.jenkins.plugins.virtbackup.engine.HypervisorException;
import io.jenkins.plugins.virtbackup.engine.ScriptedVirtualMachine;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The merge of an overlay: started once, pivoted when ready, and a failed job noticed at once. */
class OverlayMergeTest {
    private final ScriptedVirtualMachine vm = new ScriptedVirtualMachine();

    @Test
    void startsTheCommitAndPivotsOnceReady() throws Exception {
        vm.blockJobStates.add(BlockJobState.NONE);
        vm.blockJobStates.add(BlockJobState.RUNNING);
        vm.blockJobStates.add(BlockJobState.RUNNING);
        vm.blockJobStates.add(BlockJobState.READY);

        OverlayMerge.merge(vm, "vda", Duration.ofSeconds(10));

        assertThat(vm.calls).containsExactly("job? vda", "commit vda", "job? vda", "job? vda", "job? vda",
                "pivot vda");
    }

    @Test
    void aCommitLeftRunningByAnEarlierAttemptIsWaitedForNotStartedAgain() throws Exception {
        vm.blockJobStates.add(BlockJobState.RUNNING);
        vm.blockJobStates.add(BlockJobState.READY);

        OverlayMerge.merge(vm, "vdb", Duration.ofSeconds(10));

        assertThat(vm.calls).doesNotContain("commit vdb").endsWith("pivot vdb");
    }

    @Test
    void aCommitThatFailsIsReportedAtOnceNotAfterTheTimeout() {
        vm.blockJobStates.add(BlockJobState.NONE);
        vm.blockJobStates.add(BlockJobState.RUNNING);
        vm.blockJobStates.add(BlockJobState.NONE);  // the job vanished without becoming ready
        long started = System.nanoTime();

        assertThatThrownBy(() -> OverlayMerge.merge(vm, "vda", Duration.ofMinutes(10)))
                .isInstanceOf(HypervisorException.class).hasMessageContaining("ended before it was ready");

        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(5));
        assertThat(vm.calls).doesNotContain("pivot vda");
    }

    @Test
    void aCommitThatNeverGetsReadyTimesOut() {
        vm.blockJobStates.add(BlockJobState.RUNNING);

        assertThatThrownBy(() -> OverlayMerge.merge(vm, "vda", Duration.ofMillis(200)))
                .isInstanceOf(HypervisorException.class).hasMessageContaining("not ready within");
        assertThat(vm.calls).doesNotContain("pivot vda");
    }
}
