package io.jenkins.plugins.virtbackup.libvirt;

import com.sun.jna.Native;
import com.sun.jna.Pointer;

/**
 * The calls of libnbd (Debian's {@code libnbd0}) that the NBD reader and writer use, bound with JNA.
 * Errors are per thread in libnbd: read {@link #lastError} on the thread whose call failed.
 */
final class Libnbd {
    static {
        // The soname, not "nbd": libnbd.so exists only where libnbd-dev is installed.
        Native.register("libnbd.so.0");
    }

    static String lastError() {
        String message = nbd_get_error();
        return message == null ? "errno " + nbd_get_errno() : message;
    }

    static native Pointer nbd_create();

    static native void nbd_close(Pointer handle);

    static native String nbd_get_error();

    static native int nbd_get_errno();

    static native int nbd_set_export_name(Pointer handle, String exportName);

    static native int nbd_add_meta_context(Pointer handle, String name);

    static native int nbd_connect_unix(Pointer handle, String socket);

    static native int nbd_connect_tcp(Pointer handle, String host, String port);

    static native int nbd_can_meta_context(Pointer handle, String name);

    static native long nbd_get_size(Pointer handle);

    static native long nbd_get_block_size(Pointer handle, int sizeType);

    static native int nbd_pread(Pointer handle, Pointer buffer, long count, long offset, int flags);

    static native int nbd_block_status(Pointer handle, long count, long offset, NbdSource.ExtentCallbackByValue callback,
                                       int flags);

    static native int nbd_shutdown(Pointer handle, int flags);

    static native int nbd_pwrite(Pointer handle, Pointer buffer, long count, long offset, int flags);

    static native int nbd_zero(Pointer handle, long count, long offset, int flags);

    static native int nbd_flush(Pointer handle, int flags);

    static native int nbd_can_zero(Pointer handle);
}
