package io.jenkins.plugins.virtbackup.libvirt;

import com.sun.jna.Native;
import com.sun.jna.Pointer;
import org.libvirt.Connect;
import org.libvirt.LibvirtException;
import org.libvirt.jna.ConnectionPointer;

/**
 * A libvirt connection that also makes the calls libvirt-java does not bind: a restore with a changed
 * definition, and reading the definition inside a state file. Bound with JNA on the same connection.
 */
final class LibvirtConnection extends Connect {
    static {
        Native.register(LibvirtConnection.class, "libvirt.so.0");
    }

    LibvirtConnection(String uri) throws LibvirtException {
        super(uri, false);
    }

    /** {@code virDomainRestoreFlags}; returns libvirt's error message, null on success. */
    String restore(String file, String definitionXml) {
        return virDomainRestoreFlags(vcp, file, definitionXml, 0) == 0 ? null : lastError();
    }

    /** {@code virDomainSaveImageGetXMLDesc}, secure info included so that a restore can take it back whole. */
    String savedDefinition(String file) throws SavedStateException {
        Pointer xml = virDomainSaveImageGetXMLDesc(vcp, file, VIR_DOMAIN_SAVE_IMAGE_XML_SECURE);
        if (xml == null) {
            throw new SavedStateException(lastError());
        }
        try {
            return xml.getString(0, "UTF-8");
        } finally {
            Native.free(Pointer.nativeValue(xml));
        }
    }

    /** A libvirt call of this class failed; the message is libvirt's. */
    static final class SavedStateException extends Exception {
        private static final long serialVersionUID = 1L;

        SavedStateException(String message) {
            super(message);
        }
    }

    private static String lastError() {
        String message = virGetLastErrorMessage();
        return message == null ? "unknown libvirt error" : message;
    }

    private static final int VIR_DOMAIN_SAVE_IMAGE_XML_SECURE = 1;

    private static native int virDomainRestoreFlags(ConnectionPointer conn, String from, String dxml, int flags);

    private static native Pointer virDomainSaveImageGetXMLDesc(ConnectionPointer conn, String file, int flags);

    private static native String virGetLastErrorMessage();
}
