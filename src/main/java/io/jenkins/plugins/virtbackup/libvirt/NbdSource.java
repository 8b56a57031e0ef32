package io.jenkins.plugins.virtbackup.libvirt;

import com.sun.jna.Callback;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.Structure;
import io.jenkins.plugins.virtbackup.engine.copy.BlockSource;
import io.jenkins.plugins.virtbackup.engine.copy.Extent;
import java.io.IOException;
import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * An NBD export as a {@link BlockSource}, read through libnbd (Debian's {@code libnbd0}) with JNA:
 * what pull-mode backups read from the {@code qemu-nbd} that libvirt's backup job starts. Its
 * extents come from NBD block status in one meta context, chosen when connecting:
 * <ul>
 *   <li>{@value #BASE_ALLOCATION} (a full backup): a range whose {@code NBD_STATE_HOLE} bit is set
 *       is a hole and is never read; a range flagged {@code NBD_STATE_ZERO} only is still data,
 *       since the server may answer it from allocated storage, and the pipeline finds its zeros
 *       by reading them.</li>
 *   <li>{@value #DIRTY_BITMAP_PREFIX}NAME (an incremental): bit 0 set means dirty, changed since
 *       the bitmap started, and is data; clear means unchanged, and counts as a hole: not read,
 *       not written. The "holes" then mean "take it from the parent backup", not "zeros".</li>
 * </ul>
 *
 * <p>One thread uses a source at a time (the copy's reading thread); its methods are
 * synchronized anyway, since libnbd reports errors per thread and a call's error must be read on
 * the thread that made it.
 */
public final class NbdSource implements BlockSource {
    public static final String BASE_ALLOCATION = "base:allocation";
    public static final String DIRTY_BITMAP_PREFIX = "qemu:dirty-bitmap:";

    /** {@code NBD_STATE_HOLE} in base:allocation; the dirty bit in qemu:dirty-bitmap:*. */
    private static final int STATE_BIT_0 = 1;
    private static final int LIBNBD_SIZE_MAXIMUM = 2;
    /**
     * The largest read the NBD protocol says every server accepts when it advertises no maximum;
     * libnbd itself refuses reads over 64 MiB.
     */
    private static final long DEFAULT_MAX_READ = 32L << 20;
    /** Block status lengths are 32 bits in the protocol: ask for at most 1 GiB at a time. */
    private static final long MAX_STATUS_REQUEST = 1L << 30;

    private final Pointer handle;
    private final String name;
    private final String metaContext;
    private final boolean dirtyBitmap;
    private final long size;
    private final long maxRead;
    private boolean closed;

    private NbdSource(Pointer handle, String name, String metaContext, long size, long maxRead) {
        this.handle = handle;
        this.name = name;
        this.metaContext = metaContext;
        this.dirtyBitmap = metaContext.startsWith(DIRTY_BITMAP_PREFIX);
        this.size = size;
        this.maxRead = maxRead;
    }

    /** The meta context of an incremental: the blocks a bitmap {@code bitmap} marks as changed. */
    public static String dirtyBitmap(String bitmap) {
        return DIRTY_BITMAP_PREFIX + bitmap;
    }

    /**
     * Connects to {@code exportName} on the unix socket {@code socket}.
     *
     * @param metaContext {@value #BASE_ALLOCATION} or {@link #dirtyBitmap}
     */
    public static NbdSource connectUnix(Path socket, String exportName, String metaContext) throws IOException {
        String where = "NBD export '" + exportName + "' on unix socket " + socket;
        return connect(where, exportName, metaContext, h -> Libnbd.nbd_connect_unix(h, socket.toString()));
    }

    /**
     * Connects to {@code exportName} on {@code host}:{@code port}, for a hypervisor on another
     * machine. Plain TCP: the data travels unencrypted.
     *
     * @param metaContext {@value #BASE_ALLOCATION} or {@link #dirtyBitmap}
     */
    public static NbdSource connectTcp(String host, int port, String exportName, String metaContext)
            throws IOException {
        String where = "NBD export '" + exportName + "' on " + host + ":" + port;
        return connect(where, exportName, metaContext,
                h -> Libnbd.nbd_connect_tcp(h, host, Integer.toString(port)));
    }

    private interface Connect {
        int to(Pointer handle);
    }

    private static NbdSource connect(String where, String exportName, String metaContext, Connect connect)
            throws IOException {
        if (!metaContext.equals(BASE_ALLOCATION) && !metaContext.startsWith(DIRTY_BITMAP_PREFIX)) {
            throw new IllegalArgumentException("unknown NBD meta context " + metaContext + ": only "
                    + BASE_ALLOCATION + " and " + DIRTY_BITMAP_PREFIX + "NAME have a meaning here");
        }
        Pointer handle = Libnbd.nbd_create();
        if (handle == null) {
            throw new IOException("cannot create an NBD handle for " + where + ": " + Libnbd.lastError());
        }
        try {
            check(Libnbd.nbd_set_export_name(handle, exportName), "cannot name the export of " + where);
            check(Libnbd.nbd_add_meta_context(handle, metaContext), "cannot ask " + where + " for " + metaContext);
            check(connect.to(handle), "cannot connect to " + where);
            int offered = Libnbd.nbd_can_meta_context(handle, metaContext);
            check(offered, "cannot ask " + where + " which meta contexts it offers");
            if (offered == 0) {
                throw new IOException(where + " does not offer the meta context " + metaContext);
            }
            long size = Libnbd.nbd_get_size(handle);
            check(size, "cannot get the size of " + where);
            long advertised = Libnbd.nbd_get_block_size(handle, LIBNBD_SIZE_MAXIMUM);
            check(advertised, "cannot get the largest read of " + where);
            long maxRead = advertised > 0 ? Math.min(advertised, DEFAULT_MAX_READ) : DEFAULT_MAX_READ;
            return new NbdSource(handle, where, metaContext, size, maxRead);
        } catch (IOException | RuntimeException e) {
            Libnbd.nbd_close(handle);
            throw e;
        }
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public String name() {
        return name;
    }

    /** The meta context whose answers {@link #extents} translates. */
    public String metaContext() {
        return metaContext;
    }

    /** The largest piece one read asks the server for. */
    long maxRead() {
        return maxRead;
    }

    @Override
    public synchronized List<Extent> extents(long from, long to) throws IOException {
        ensureOpen();
        Extents extents = new Extents();
        long end = Math.min(to, size);
        long at = from;
        while (at < end) {
            long asked = at;
            long count = Math.min(end - at, MAX_STATUS_REQUEST);
            StatusAnswer answer = new StatusAnswer(metaContext, asked, asked + count);
            ExtentCallbackByValue callback = new ExtentCallbackByValue(new ExtentCallback(answer));
            // Keep the callback reachable until the call returns: the native side holds only a pointer.
            int result;
            try {
                result = Libnbd.nbd_block_status(handle, count, asked, callback, 0);
            } finally {
                Reference.reachabilityFence(callback);
            }
            if (answer.failure != null) {
                throw new IOException("block status of " + name + " at " + asked + " failed", answer.failure);
            }
            check(result, "block status of " + name + " at " + asked + " failed");
            if (answer.ranges.isEmpty()) {
                throw new IOException(name + " answered no extents for " + metaContext + " at " + asked);
            }
            for (long[] range : answer.ranges) {
                extents.add(range[0], range[1], isData((int) range[2]));
            }
            at = answer.ranges.get(answer.ranges.size() - 1)[1];
        }
        return extents.list;
    }

    /** What a range's status flags mean in this source's meta context (see the class comment). */
    private boolean isData(int flags) {
        boolean bit0 = (flags & STATE_BIT_0) != 0;
        return dirtyBitmap ? bit0 : !bit0;
    }

    @Override
    public synchronized void read(ByteBuffer into, long position) throws IOException {
        ensureOpen();
        long at = position;
        while (into.hasRemaining()) {
            int piece = (int) Math.min(into.remaining(), maxRead);
            readPiece(into, piece, at);
            into.position(into.position() + piece);
            at += piece;
        }
    }

    /** Reads {@code length} bytes into {@code into} at its position, straight into a direct buffer. */
    private void readPiece(ByteBuffer into, int length, long position) throws IOException {
        String failed = "reading " + length + " bytes of " + name + " at " + position + " failed";
        if (into.isDirect()) {
            Pointer target = Native.getDirectBufferPointer(into).share(into.position());
            try {
                check(Libnbd.nbd_pread(handle, target, length, position, 0), failed);
            } finally {
                Reference.reachabilityFence(into);
            }
            return;
        }
        try (Memory bounce = new Memory(length)) {
            check(Libnbd.nbd_pread(handle, bounce, length, position, 0), failed);
            into.duplicate().put(bounce.getByteBuffer(0, length));
        }
    }

    private void ensureOpen() throws IOException {
        if (closed) {
            throw new IOException(name + " is closed");
        }
    }

    /** Disconnects politely (NBD_CMD_DISC), then frees the handle, even when the server is gone. */
    @Override
    public synchronized void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        int shutdown = Libnbd.nbd_shutdown(handle, 0);
        String error = shutdown < 0 ? Libnbd.lastError() : null;
        Libnbd.nbd_close(handle);
        if (error != null) {
            throw new IOException("disconnecting from " + name + " failed: " + error);
        }
    }

    private static void check(long result, String what) throws IOException {
        if (result < 0) {
            throw new IOException(what + ": " + Libnbd.lastError());
        }
    }

    /** The ranges of one block status answer, clipped to what was asked: {start, end, flags} each. */
    private static final class StatusAnswer {
        final long from;
        final long to;
        final String context;
        final List<long[]> ranges = new ArrayList<>();
        Throwable failure;

        StatusAnswer(String context, long from, long to) {
            this.context = context;
            this.from = from;
            this.to = to;
        }

        /**
         * The server may answer for less than was asked (the caller asks again from where it
         * stopped) and its last range may reach past what was asked (clipped here).
         */
        void take(String answered, long offset, Pointer entries, long count) {
            if (!context.equals(answered)) {
                return;  // only one context is negotiated; another would be a server's extra
            }
            long at = offset;
            for (long i = 0; i + 1 < count && at < to; i += 2) {
                long length = Integer.toUnsignedLong(entries.getInt(i * 4));
                int flags = entries.getInt((i + 1) * 4);
                long start = Math.max(at, from);
                long end = Math.min(at + length, to);
                if (end > start) {
                    ranges.add(new long[] {start, end, flags});
                }
                at += length;
            }
        }
    }

    /** Extents in order, neighbours of one kind merged. */
    private static final class Extents {
        final List<Extent> list = new ArrayList<>();

        void add(long start, long end, boolean data) throws IOException {
            if (!list.isEmpty()) {
                Extent last = list.get(list.size() - 1);
                if (last.end() != start) {
                    throw new IOException("the server's extents leave a gap: " + start + " does not follow " + last);
                }
                if (last.data() == data) {
                    list.set(list.size() - 1, new Extent(last.offset(), end - last.offset(), data));
                    return;
                }
            }
            list.add(new Extent(start, end - start, data));
        }
    }

    /** libnbd's {@code nbd_extent_callback.callback}, as JNA wants it: an interface. */
    public interface ExtentFunction extends Callback {
        /**
         * @param entries {@code count} 32-bit numbers: a length and its status flags, pair by pair
         * @return 0, or -1 to make nbd_block_status fail
         */
        int callback(Pointer userData, String context, long offset, Pointer entries, long count, Pointer error);
    }

    /**
     * It runs on the calling thread, inside nbd_block_status; an exception must not cross back
     * into C, so it is kept, the call is told to fail, and the caller throws it.
     */
    private static final class ExtentCallback implements ExtentFunction {
        private final StatusAnswer answer;

        ExtentCallback(StatusAnswer answer) {
            this.answer = answer;
        }

        @Override
        public int callback(Pointer userData, String context, long offset, Pointer entries, long count,
                            Pointer error) {
            try {
                answer.take(context, offset, entries, count);
                return 0;
            } catch (RuntimeException | Error e) {
                answer.failure = e;
                return -1;
            }
        }
    }

    /** {@code nbd_extent_callback}, which nbd_block_status takes by value. */
    @Structure.FieldOrder({"callback", "user_data", "free"})
    public static final class ExtentCallbackByValue extends Structure implements Structure.ByValue {
        public ExtentFunction callback;
        public Pointer user_data;
        /** Nothing to free: user_data is null. */
        public Pointer free;

        /** For JNA, which builds one to learn the layout. */
        public ExtentCallbackByValue() {
        }

        ExtentCallbackByValue(ExtentFunction callback) {
            this.callback = callback;
        }
    }
}
