package io.jenkins.plugins.virtbackup.qemu;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Checks the test guest's write pattern in a raw image: is the region exactly the state after
 * writes 0..M of the latest run, with at most the one in-flight write torn? That is what a
 * crash-consistent copy taken while the guest writes must show.
 *
 * <p>The guest writes 64 KiB blocks of 1024 identical 64-byte records
 * {@code ANCP r=RUN q=SEQ b=BLOCK c=CHECK k=STRIDE.}; write q goes to block
 * {@code base + ((q mod n) * k) mod n}; {@code check = (q*2654435761 + b*40503 + RUN) mod 4294967291}.
 */
final class GuestPattern {
    static final int BLOCK = 65536;
    private static final Pattern RECORD =
            Pattern.compile("^ANCP r=([0-9a-f]{8}) q=(\\d{12}) b=(\\d{8}) c=(\\d{10}) k=(\\d{5})\\.$");

    /** The verdict, with the counts behind it. */
    record Verdict(boolean consistent, int blocks, int patterned, int torn, int badCheck, int mismatched,
                   long lastWrite, String run) {
    }

    private record Block(String run, long sequence) {
    }

    private GuestPattern() {
    }

    static Verdict check(Path rawImage, int startMiB, int sizeMiB) throws IOException {
        int base = startMiB * 16;
        int n = sizeMiB * 16;
        List<Block> blocks = new ArrayList<>();
        List<Integer> tornAt = new ArrayList<>();
        Map<String, Integer> strides = new HashMap<>();
        int badCheck = 0;
        int patterned = 0;
        byte[] data = new byte[BLOCK];
        try (RandomAccessFile in = new RandomAccessFile(rawImage.toFile(), "r")) {
            for (int i = 0; i < n; i++) {
                in.seek((long) (base + i) * BLOCK);
                in.readFully(data);
                String first = new String(data, 0, 64, StandardCharsets.ISO_8859_1);
                Matcher m = first.endsWith("\n") ? RECORD.matcher(first.substring(0, 63)) : null;
                if (m == null || !m.matches() || !repeats(data)) {
                    if (new String(data, StandardCharsets.ISO_8859_1).contains("ANCP")) {
                        tornAt.add(i);
                        blocks.add(new Block("torn", i));
                    } else {
                        blocks.add(null);
                    }
                    continue;
                }
                String run = m.group(1);
                long q = Long.parseLong(m.group(2));
                long b = Long.parseLong(m.group(3));
                long c = Long.parseLong(m.group(4));
                int k = Integer.parseInt(m.group(5));
                if (c != (q * 2654435761L + b * 40503L + Long.parseLong(run, 16)) % 4294967291L
                        || b != base + i || b != base + ((q % n) * k) % n) {
                    badCheck++;
                }
                patterned++;
                strides.put(run, k);
                blocks.add(new Block(run, q));
            }
        }
        String latest = null;
        long lastWrite = -1;
        for (Block block : blocks) {
            if (block != null && !block.run().equals("torn") && block.sequence() > lastWrite) {
                lastWrite = block.sequence();
                latest = block.run();
            }
        }
        if (latest == null) {
            return new Verdict(false, n, 0, tornAt.size(), badCheck, n, -1, null);
        }
        int k = strides.get(latest);
        long kInverse = BigInteger.valueOf(k).modInverse(BigInteger.valueOf(n)).longValue();
        int mismatched = 0;
        for (int p = 0; p < n; p++) {
            Block block = blocks.get(p);
            if (block != null && block.run().equals("torn")) {
                continue;
            }
            long j = (p * kInverse) % n;
            long expected = lastWrite - Math.floorMod(lastWrite - j, (long) n);  // latest write <= M to block p
            boolean holdsLatestRun = block != null && block.run().equals(latest);
            if (expected < 0 ? holdsLatestRun : !(holdsLatestRun && block.sequence() == expected)) {
                mismatched++;
            }
        }
        int nextWriteAt = (int) ((((lastWrite + 1) % n) * k) % n);
        boolean tornOk = tornAt.isEmpty() || tornAt.equals(List.of(nextWriteAt));
        return new Verdict(mismatched == 0 && badCheck == 0 && tornOk, n, patterned, tornAt.size(), badCheck,
                mismatched, lastWrite, latest);
    }

    private static boolean repeats(byte[] data) {
        for (int offset = 64; offset < data.length; offset += 64) {
            if (!Arrays.equals(data, offset, offset + 64, data, 0, 64)) {
                return false;
            }
        }
        return true;
    }
}
