package io.jenkins.plugins.virtbackup.libvirt;

/** Escaping for values put into the XML documents sent to libvirt. */
final class Xml {
    private Xml() {
    }

    static String escape(String text) {
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                .replace("'", "&apos;").replace("\"", "&quot;");
    }
}
