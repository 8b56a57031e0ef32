package io.jenkins.plugins.virtbackup.libvirt;

import io.jenkins.plugins.virtbackup.engine.Disk;
import io.jenkins.plugins.virtbackup.engine.DomainIdentity;
import java.io.IOException;
import java.io.StringReader;
import java.util.ArrayList;
import java.util.List;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;
import org.xml.sax.InputSource;
import org.xml.sax.SAXException;

/** Reads what the engine needs from libvirt's domain XML. */
final class DomainXml {
    private DomainXml() {
    }

    /** The {@code <disk>} elements under {@code <devices>}, in document order. */
    static List<Disk> disks(String domainXml) {
        Element devices = firstChild(parse(domainXml).getDocumentElement(), "devices");
        List<Disk> disks = new ArrayList<>();
        if (devices == null) {
            return disks;
        }
        NodeList children = devices.getElementsByTagName("disk");
        for (int i = 0; i < children.getLength(); i++) {
            Element disk = (Element) children.item(i);
            if (disk.getParentNode() == devices) {
                disks.add(toDisk(disk));
            }
        }
        return disks;
    }

    /** The definition's name and UUID (null when it has none: libvirt makes one). */
    static DomainIdentity identity(String domainXml) {
        Element domain = parse(domainXml).getDocumentElement();
        Element name = firstChild(domain, "name");
        Element uuid = firstChild(domain, "uuid");
        return new DomainIdentity(name == null ? null : name.getTextContent().strip(),
                uuid == null ? null : uuid.getTextContent().strip());
    }

    /** Whether {@code <devices>} has a {@code kind} element. */
    static boolean hasDevice(String domainXml, String kind) {
        Element devices = firstChild(parse(domainXml).getDocumentElement(), "devices");
        return devices != null && firstChild(devices, kind) != null;
    }

    /** The state of the block job mirroring disk {@code target}: absent when none runs. */
    enum MirrorState { NONE, RUNNING, READY }

    static MirrorState mirrorState(String domainXml, String target) {
        Element devices = firstChild(parse(domainXml).getDocumentElement(), "devices");
        NodeList disks = devices == null ? null : devices.getElementsByTagName("disk");
        for (int i = 0; disks != null && i < disks.getLength(); i++) {
            Element disk = (Element) disks.item(i);
            Element targetElement = firstChild(disk, "target");
            if (targetElement != null && target.equals(targetElement.getAttribute("dev"))) {
                Element mirror = firstChild(disk, "mirror");
                if (mirror == null) {
                    return MirrorState.NONE;
                }
                // libvirt only pivots once the job says ready='yes'; cur == end is not enough.
                return "yes".equals(mirror.getAttribute("ready")) ? MirrorState.READY : MirrorState.RUNNING;
            }
        }
        return MirrorState.NONE;
    }

    private static Disk toDisk(Element disk) {
        String type = attribute(disk, "type", "file");
        String device = attribute(disk, "device", "disk");
        Element target = firstChild(disk, "target");
        Element driver = firstChild(disk, "driver");
        Element source = firstChild(disk, "source");
        String path = null;
        if (source != null) {
            path = "block".equals(type) ? attribute(source, "dev", null) : attribute(source, "file", null);
        }
        return new Disk(target == null ? "" : attribute(target, "dev", ""), device, type, path,
                driver == null ? "raw" : attribute(driver, "type", "raw"),
                firstChild(disk, "readonly") != null, firstChild(disk, "shareable") != null);
    }

    static Document parse(String xml) {
        try {
            DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
            // Domain XML comes from the hypervisor, but an XML parser is no place for trust.
            factory.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            factory.setExpandEntityReferences(false);
            return factory.newDocumentBuilder().parse(new InputSource(new StringReader(xml)));
        } catch (ParserConfigurationException | SAXException | IOException e) {
            throw new IllegalArgumentException("the hypervisor returned unreadable domain XML: " + e.getMessage(), e);
        }
    }

    /** The virtio serial port name qemu-guest-agent listens on. */
    private static final String GUEST_AGENT_CHANNEL = "org.qemu.guest_agent.0";

    /** The guest agent's channel: absent, or its connection state as libvirt reports it (live XML). */
    enum AgentChannel { NONE, CONNECTED, DISCONNECTED, STATE_UNKNOWN }

    static AgentChannel agentChannel(String domainXml) {
        Element devices = firstChild(parse(domainXml).getDocumentElement(), "devices");
        NodeList channels = devices == null ? null : devices.getElementsByTagName("channel");
        for (int i = 0; channels != null && i < channels.getLength(); i++) {
            Element target = firstChild((Element) channels.item(i), "target");
            if (target != null && GUEST_AGENT_CHANNEL.equals(target.getAttribute("name"))) {
                return switch (target.getAttribute("state")) {
                    case "connected" -> AgentChannel.CONNECTED;
                    case "disconnected" -> AgentChannel.DISCONNECTED;
                    default -> AgentChannel.STATE_UNKNOWN;  // older QEMU: libvirt cannot tell
                };
            }
        }
        return AgentChannel.NONE;
    }

    static Element firstChild(Element parent, String name) {
        for (var node = parent.getFirstChild(); node != null; node = node.getNextSibling()) {
            if (node instanceof Element element && element.getTagName().equals(name)) {
                return element;
            }
        }
        return null;
    }

    static String attribute(Element element, String name, String fallback) {
        String value = element.getAttribute(name);
        return value.isEmpty() ? fallback : value;
    }
}
