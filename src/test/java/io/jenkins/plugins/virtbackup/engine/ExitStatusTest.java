package io.jenkins.plugins.virtbackup.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;

class ExitStatusTest {
    @Test
    void theWorstOfManyFollowsTheDocumentedOrder() {
        List<ExitStatus> worstFirst = List.of(ExitStatus.VM_NOT_RESTORED, ExitStatus.HYPERVISOR_UNREACHABLE,
                ExitStatus.BACKUP_FAILED, ExitStatus.VERIFY_FAILED, ExitStatus.RESTORE_TEST_FAILED,
                ExitStatus.CHAIN_BROKEN, ExitStatus.RESTORE_TARGET_EXISTS, ExitStatus.BUSY, ExitStatus.NOT_FOUND,
                ExitStatus.USAGE, ExitStatus.OK);
        assertThat(worstFirst).as("every status has its place").containsExactlyInAnyOrder(ExitStatus.values());
        for (int i = 0; i < worstFirst.size(); i++) {
            EnumSet<ExitStatus> thisAndBetter = EnumSet.copyOf(worstFirst.subList(i, worstFirst.size()));
            assertThat(ExitStatus.worst(thisAndBetter)).isEqualTo(worstFirst.get(i));
        }
        assertThat(ExitStatus.worst(List.of())).isEqualTo(ExitStatus.OK);
        assertThat(ExitStatus.worst(List.of(ExitStatus.BUSY, ExitStatus.BACKUP_FAILED, ExitStatus.OK)))
                .isEqualTo(ExitStatus.BACKUP_FAILED);
    }

    @Test
    void codesMapBack() {
        for (ExitStatus status : ExitStatus.values()) {
            assertThat(ExitStatus.ofCode(status.code())).contains(status);
        }
        assertThat(ExitStatus.ofCode(143)).isEmpty();
    }
}
