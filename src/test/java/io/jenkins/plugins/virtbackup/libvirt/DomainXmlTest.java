package io.jenkins.plugins.virtbackup.libvirt;

import static org.assertj.core.api.Assertions.assertThat;

import io.jenkins.plugins.virtbackup.libvirt.DomainXml.AgentChannel;
import org.junit.jupiter.api.Test;

/** The guest agent channel as libvirt's live XML shows it: what tells "no agent" from "no answer". */
class DomainXmlTest {
    private static String domainWith(String channels) {
        return "<domain type='kvm'><name>web</name><devices>"
                + "<channel type='spicevmc'><target type='virtio' name='com.redhat.spice.0' state='connected'/></channel>"
                + channels + "</devices></domain>";
    }

    private static String agent(String state) {
        return "<channel type='unix'><source mode='bind' path='/run/libvirt/qemu/channel/1-web/org.qemu.guest_agent.0'/>"
                + "<target type='virtio' name='org.qemu.guest_agent.0'" + state + "/><alias name='channel0'/></channel>";
    }

    @Test
    void noAgentChannelConfigured() {
        assertThat(DomainXml.agentChannel(domainWith(""))).isEqualTo(AgentChannel.NONE);
    }

    @Test
    void anAgentChannelWithNoAgentListening() {
        assertThat(DomainXml.agentChannel(domainWith(agent(" state='disconnected'")))).isEqualTo(AgentChannel.DISCONNECTED);
    }

    @Test
    void anAgentChannelWithTheAgentListening() {
        assertThat(DomainXml.agentChannel(domainWith(agent(" state='connected'")))).isEqualTo(AgentChannel.CONNECTED);
    }

    @Test
    void anInactiveDefinitionCannotSay() {
        assertThat(DomainXml.agentChannel(domainWith(agent("")))).isEqualTo(AgentChannel.STATE_UNKNOWN);
    }
}
