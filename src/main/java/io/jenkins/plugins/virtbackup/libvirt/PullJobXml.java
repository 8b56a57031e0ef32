package io.jenkins.plugins.virtbackup.libvirt;

import io.jenkins.plugins.virtbackup.engine.PullBackupRequest;
import io.jenkins.plugins.virtbackup.engine.incremental.Checkpoints;
import java.net.URI;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/** The XML documents of a pull-mode backup job: the job and checkpoint asked for, and the job as running. */
final class PullJobXml {
    private PullJobXml() {
    }

    /**
     * The {@code <domainbackup>} of {@code request}; every disk of the domain not in it is left out
     * of the job. Over TCP the server listens on the hypervisor's host name from the connection URI,
     * and libvirt picks the port.
     */
    static String backup(PullBackupRequest request, List<String> allTargets, String hypervisorUri) {
        StringBuilder xml = new StringBuilder("<domainbackup mode='pull'>");
        if (request.incrementalFrom() != null) {
            xml.append("<incremental>").append(Xml.escape(request.incrementalFrom())).append("</incremental>");
        }
        if (request.socket() != null) {
            xml.append("<server transport='unix' socket='").append(Xml.escape(request.socket().toString()))
                    .append("'/>");
        } else {
            xml.append("<server transport='tcp' name='").append(Xml.escape(host(hypervisorUri))).append("'/>");
        }
        xml.append("<disks>");
        for (String target : allTargets) {
            xml.append("<disk name='").append(Xml.escape(target)).append("' ");
            if (!request.targets().contains(target)) {
                xml.append("backup='no'/>");
                continue;
            }
            boolean whole = request.incrementalFrom() != null && request.wholeDisks().contains(target);
            Path scratch = request.scratchFile(target);
            xml.append("backup='yes' type='file'").append(whole ? " backupmode='full'" : "").append(">")
                    .append(scratch == null ? "" : "<scratch file='" + Xml.escape(scratch.toString()) + "'/>")
                    .append("</disk>");
        }
        return xml.append("</disks></domainbackup>").toString();
    }

    /**
     * The checkpoint taken with the job: a bitmap on each disk backed up that can hold one, none on
     * the others; null when there is none to take.
     */
    static String checkpoint(PullBackupRequest request, List<String> allTargets) {
        if (request.checkpointName() == null) {
            return null;
        }
        StringBuilder xml = new StringBuilder("<domaincheckpoint><name>")
                .append(Xml.escape(request.checkpointName())).append("</name>")
                .append("<description>").append(Xml.escape(Checkpoints.DESCRIPTION)).append("</description><disks>");
        for (String target : allTargets) {
            xml.append("<disk name='").append(Xml.escape(target)).append("' checkpoint='")
                    .append(request.targets().contains(target) && !request.wholeDisks().contains(target)
                            ? "bitmap" : "no").append("'/>");
        }
        return xml.append("</disks></domaincheckpoint>").toString();
    }

    static String host(String hypervisorUri) {
        String host = URI.create(hypervisorUri).getHost();
        return host == null ? "localhost" : host;
    }

    /** Where a running job serves its exports, and each disk's export name and bitmap. */
    record Served(String socket, String host, int port, Map<String, Export> exports) {
    }

    /** @param bitmap the dirty bitmap exported with it, null for a full backup */
    record Export(String name, String bitmap) {
    }

    static Served served(String jobXml) {
        Element job = DomainXml.parse(jobXml).getDocumentElement();
        Element server = DomainXml.firstChild(job, "server");
        if (server == null) {
            throw new IllegalArgumentException("the backup job has no NBD server: not a pull job");
        }
        String port = DomainXml.attribute(server, "port", "0");
        Map<String, Export> exports = new LinkedHashMap<>();
        Element disks = DomainXml.firstChild(job, "disks");
        NodeList list = disks == null ? null : disks.getElementsByTagName("disk");
        for (int i = 0; list != null && i < list.getLength(); i++) {
            Element disk = (Element) list.item(i);
            if ("yes".equals(disk.getAttribute("backup"))) {
                String target = disk.getAttribute("name");
                exports.put(target, new Export(DomainXml.attribute(disk, "exportname", target),
                        DomainXml.attribute(disk, "exportbitmap", null)));
            }
        }
        return new Served(DomainXml.attribute(server, "socket", null), DomainXml.attribute(server, "name", null),
                Integer.parseInt(port), exports);
    }
}
