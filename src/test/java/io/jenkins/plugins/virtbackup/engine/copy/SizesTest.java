package io.jenkins.plugins.virtbackup.engine.copy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** Sizes as admins write them ({@code --snapshot-size}), in LVM's binary units. */
class SizesTest {
    @Test
    void plainBytesAndBinaryUnits() {
        assertThat(Sizes.parse("4096")).isEqualTo(4096);
        assertThat(Sizes.parse("512M")).isEqualTo(512L << 20);
        assertThat(Sizes.parse("2g")).isEqualTo(2L << 30);
        assertThat(Sizes.parse("1TiB")).isEqualTo(1L << 40);
        assertThat(Sizes.parse("8 KiB")).isEqualTo(8L << 10);
    }

    @Test
    void anythingElseIsRefused() {
        assertThatThrownBy(() -> Sizes.parse("2.5G")).hasMessageContaining("is not a size");
        assertThatThrownBy(() -> Sizes.parse("-1M")).hasMessageContaining("is not a size");
        assertThatThrownBy(() -> Sizes.parse("9999999999T")).hasMessageContaining("too large");
        // More digits than a long holds: the same words, not Java's "For input string".
        assertThatThrownBy(() -> Sizes.parse("99999999999999999999")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("'99999999999999999999' is too large");
        assertThat(Sizes.parse(Long.toString(Long.MAX_VALUE))).isEqualTo(Long.MAX_VALUE);
    }
}
