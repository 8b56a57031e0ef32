package io.jenkins.plugins.virtbackup.libvirt;

import io.jenkins.plugins.virtbackup.engine.restore.DefinitionChanges;
import io.jenkins.plugins.virtbackup.engine.restore.DefinitionChanges.RestoredImage;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import javax.xml.transform.OutputKeys;
import javax.xml.transform.TransformerException;
import javax.xml.transform.TransformerFactory;
import javax.xml.transform.dom.DOMSource;
import javax.xml.transform.stream.StreamResult;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;

/**
 * Applies a restore's {@link DefinitionChanges} to libvirt's domain XML, and says whether anything
 * changed: libvirt's restore takes a changed definition only when it must (the test driver takes
 * none at all).
 */
final class DefinitionRewrite {
    /** Devices that reach the host or the network: a restore test's clone gets none of them. */
    private static final Set<String> OUTSIDE_DEVICES = Set.of("interface", "hostdev", "filesystem", "redirdev",
            "smartcard");
    /** Character devices whose {@code <source path>} names a host file or socket. */
    private static final Set<String> CHARACTER_DEVICES = Set.of("serial", "console", "channel", "parallel");

    private final Document document;
    private final Element domain;
    private boolean changed;

    private DefinitionRewrite(String xml) {
        this.document = DomainXml.parse(xml);
        this.domain = document.getDocumentElement();
    }

    /** The result: the new XML, and whether it differs from what was given. */
    record Result(String xml, boolean changed) {
    }

    static Result apply(String xml, DefinitionChanges changes) {
        DefinitionRewrite rewrite = new DefinitionRewrite(xml);
        rewrite.applyChanges(changes);
        return new Result(rewrite.serialize(), rewrite.changed);
    }

    private void applyChanges(DefinitionChanges changes) {
        if (changes.name() != null) {
            setText(DomainXml.firstChild(domain, "name"), changes.name());
        }
        Element devices = DomainXml.firstChild(domain, "devices");
        if (changes.newIdentity()) {
            remove(DomainXml.firstChild(domain, "uuid"));
            forgetNvram(changes);
        }
        if (devices == null) {
            return;
        }
        for (Element device : children(devices)) {
            String kind = device.getTagName();
            if (kind.equals("disk")) {
                rewriteDisk(device, changes);
            } else if (changes.isolated() && OUTSIDE_DEVICES.contains(kind)) {
                remove(device);
            } else if (changes.newIdentity() && kind.equals("interface")) {
                remove(DomainXml.firstChild(device, "mac"));
            } else if (changes.isolated() && kind.equals("graphics")) {
                freeGraphicsPort(device);
            } else if (changes.deviceFolder() != null && CHARACTER_DEVICES.contains(kind)) {
                moveCharacterDevice(device, changes);
            }
        }
        if (changes.consoleLog() != null) {
            logFirstSerialPort(devices, changes.consoleLog());
        }
    }

    private void rewriteDisk(Element disk, DefinitionChanges changes) {
        Element target = DomainXml.firstChild(disk, "target");
        String dev = target == null ? "" : target.getAttribute("dev");
        if (changes.removedDisks().contains(dev)) {
            remove(disk);
            return;
        }
        RestoredImage image = changes.disks().get(dev);
        if (image == null) {
            return;
        }
        setAttribute(disk, "type", "file");
        Element driver = DomainXml.firstChild(disk, "driver");
        if (driver == null) {
            driver = document.createElement("driver");
            driver.setAttribute("name", "qemu");
            disk.insertBefore(driver, disk.getFirstChild());
        }
        setAttribute(driver, "type", image.format());
        Element source = DomainXml.firstChild(disk, "source");
        if (source == null) {
            source = document.createElement("source");
            disk.insertBefore(source, driver.getNextSibling());
        }
        if (source.hasAttribute("dev")) {
            source.removeAttribute("dev");
            changed = true;
        }
        setAttribute(source, "file", image.path().toString());
        // The restored image stands alone: a chain named here would make QEMU read an old template.
        remove(DomainXml.firstChild(disk, "backingStore"));
    }

    /** The original's NVRAM file stays the original's: a copy starts from the firmware's template. */
    private void forgetNvram(DefinitionChanges changes) {
        Element os = DomainXml.firstChild(domain, "os");
        Element nvram = os == null ? null : DomainXml.firstChild(os, "nvram");
        if (nvram == null) {
            return;
        }
        if (changes.deviceFolder() == null) {
            setText(nvram, "");
        } else {
            String name = changes.name() != null ? changes.name() : DomainXml.firstChild(domain, "name").getTextContent();
            setText(nvram, changes.deviceFolder().resolve(name + "_VARS.fd").toString());
        }
    }

    private void freeGraphicsPort(Element graphics) {
        if (graphics.hasAttribute("port") || graphics.hasAttribute("autoport")) {
            graphics.removeAttribute("port");
            graphics.removeAttribute("tlsPort");
            graphics.setAttribute("autoport", "yes");
            changed = true;
        }
    }

    /**
     * A file or socket of a serial port, console or parallel port moves into the device folder, named
     * by the device and its position; a channel's socket loses its path, and libvirt makes one per
     * domain.
     */
    private void moveCharacterDevice(Element device, DefinitionChanges changes) {
        Element source = DomainXml.firstChild(device, "source");
        if (source == null || !source.hasAttribute("path")) {
            return;
        }
        String type = device.getAttribute("type");
        if (device.getTagName().equals("channel") && type.equals("unix")) {
            source.removeAttribute("path");
            changed = true;
        } else if (type.equals("file") || type.equals("unix")) {
            String name = device.getTagName() + position(device) + (type.equals("file") ? ".log" : ".sock");
            setAttribute(source, "path", changes.deviceFolder().resolve(name).toString());
        }
    }

    /** The first serial port writes to {@code log}; the console that mirrors it is made again by libvirt. */
    private void logFirstSerialPort(Element devices, Path log) {
        for (Element device : children(devices)) {
            if (device.getTagName().equals("console")) {
                Element target = DomainXml.firstChild(device, "target");
                if (target == null || target.getAttribute("type").isEmpty()
                        || target.getAttribute("type").equals("serial")) {
                    remove(device);
                }
            }
        }
        for (Element device : children(devices)) {
            if (device.getTagName().equals("serial")) {
                setAttribute(device, "type", "file");
                for (Element child : children(device)) {
                    if (child.getTagName().equals("source") || child.getTagName().equals("log")) {
                        remove(child);
                    }
                }
                Element source = document.createElement("source");
                source.setAttribute("path", log.toString());
                source.setAttribute("append", "on");
                device.insertBefore(source, device.getFirstChild());
                changed = true;
                return;
            }
        }
    }

    private static int position(Element device) {
        int index = 0;
        for (Node node = device.getPreviousSibling(); node != null; node = node.getPreviousSibling()) {
            if (node instanceof Element other && other.getTagName().equals(device.getTagName())) {
                index++;
            }
        }
        return index;
    }

    private static List<Element> children(Element parent) {
        List<Element> elements = new ArrayList<>();
        for (Node node = parent.getFirstChild(); node != null; node = node.getNextSibling()) {
            if (node instanceof Element element) {
                elements.add(element);
            }
        }
        return elements;
    }

    private void setAttribute(Element element, String name, String value) {
        if (!value.equals(element.getAttribute(name)) || !element.hasAttribute(name)) {
            element.setAttribute(name, value);
            changed = true;
        }
    }

    private void setText(Element element, String text) {
        if (!text.equals(element.getTextContent())) {
            element.setTextContent(text);
            changed = true;
        }
    }

    private void remove(Element element) {
        if (element != null) {
            element.getParentNode().removeChild(element);
            changed = true;
        }
    }

    private String serialize() {
        try {
            var transformer = TransformerFactory.newInstance().newTransformer();
            transformer.setOutputProperty(OutputKeys.OMIT_XML_DECLARATION, "yes");
            StringWriter out = new StringWriter();
            transformer.transform(new DOMSource(document), new StreamResult(out));
            return out.toString();
        } catch (TransformerException e) {
            throw new IllegalStateException("cannot write domain XML: " + e.getMessage(), e);
        }
    }
}
