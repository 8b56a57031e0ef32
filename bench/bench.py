#!/usr/bin/env python3
"""The virt-backup benchmark (started by bench/run, which sets up the machine first).

Backs up the same guest and disks with virt-backup and with the tools people would use instead,
pair by pair in alternating order, and writes medians, spread and same-run ratios as Markdown,
JSON and a PNG chart. Guest-seen downtime is the largest gap between the test guest's heartbeats
(one every 10 ms on its serial console) as they ARRIVE on the host, on the host's monotonic clock.
See docs/benchmark.md.
"""
import argparse
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

MiB = 1 << 20
URI = 'qemu:///system'
WORK = Path('/var/lib/virt-backup-bench')
ROOT = Path(__file__).resolve().parent.parent
HEARTBEAT = re.compile(r'^H (\d+) ([0-9.]+)$')


def log(message):
    print(f'[{time.strftime("%H:%M:%S")}] {message}', file=sys.stderr, flush=True)


def sh(*cmd, check=True):
    done = subprocess.run([str(c) for c in cmd], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if check and done.returncode != 0:
        raise RuntimeError(f'{" ".join(map(str, cmd))} exited {done.returncode}: {done.stderr.strip()[-500:]}')
    return done.stdout


def fsync_files(paths):
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def sizes(paths):
    """(apparent bytes, allocated bytes) of the given files."""
    apparent = allocated = 0
    for path in paths:
        st = os.stat(path)
        apparent += st.st_size
        allocated += st.st_blocks * 512
    return apparent, allocated


def files_under(directory):
    return sorted(p for p in Path(directory).rglob('*') if p.is_file())


def file_states(directory):
    """What each file under directory is now (size, mtime, inode), to tell afterwards what a tool wrote."""
    states = {}
    for path in files_under(directory) if Path(directory).is_dir() else []:
        st = os.stat(path)
        states[path] = (st.st_size, st.st_mtime_ns, st.st_ino)
    return states


def written_since(directory, before):
    """The files under directory that are new or changed since file_states(directory) returned before."""
    return [path for path, state in file_states(directory).items() if before.get(path) != state]


def new_backup_folder(domain_folder, before):
    """The one backup folder (holding a manifest) in our CLI's DIR/DOMAIN that is not among before."""
    found = [p for p in sorted(Path(domain_folder).iterdir())
             if p not in before and (p / 'manifest.json').is_file()]
    if len(found) != 1:
        raise RuntimeError(f'expected one new backup in {domain_folder}, found {[p.name for p in found]}')
    return found[0]


def change_mib(args):
    """How many MiB the guest rewrites between a full and an inc: change_percent of the disks' data."""
    return min(args.qcow2_size, max(1, round((args.qcow2_data + args.raw_data) * args.change_percent / 100)))


class Serial:
    """Follows a guest's serial log and stamps every line with the host's monotonic clock on arrival."""

    def __init__(self, path):
        self.path = Path(path)
        self.lines = []    # (arrival ns, text)
        self.beats = []    # arrival ns of heartbeats
        self.cond = threading.Condition()
        self.closed = False
        self.thread = threading.Thread(target=self._follow, daemon=True)
        self.thread.start()

    def _follow(self):
        offset, partial = 0, b''
        while not self.closed:
            try:
                with open(self.path, 'rb') as f:
                    f.seek(offset)
                    chunk = f.read(1 << 16)
            except FileNotFoundError:
                chunk = b''
            if not chunk:
                time.sleep(0.001)
                continue
            now = time.monotonic_ns()
            offset += len(chunk)
            partial += chunk
            *complete, partial = partial.split(b'\n')
            with self.cond:
                for raw in complete:
                    text = raw.decode('latin-1').replace('\r', '')
                    self.lines.append((now, text))
                    if HEARTBEAT.match(text):
                        self.beats.append(now)
                self.cond.notify_all()

    def wait_for(self, regex, after_ns, timeout):
        pattern = re.compile(regex)
        deadline = time.monotonic() + timeout
        i = 0
        with self.cond:
            while True:
                for i in range(i, len(self.lines)):
                    if self.lines[i][0] >= after_ns and pattern.search(self.lines[i][1]):
                        return self.lines[i][0]
                i = len(self.lines)
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f'no line matching {regex} in {self.path} within {timeout} s')
                self.cond.wait(min(left, 0.2))

    def beat_after(self, after_ns, timeout):
        deadline = time.monotonic() + timeout
        with self.cond:
            while not (self.beats and self.beats[-1] > after_ns):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f'no heartbeat in {self.path} within {timeout} s')
                self.cond.wait(min(left, 0.2))

    def largest_gap_ms(self, from_ns, to_ns):
        """Largest arrival gap between consecutive heartbeats overlapping [from, to]."""
        with self.cond:
            beats = list(self.beats)
        largest = 0.0
        for a, b in zip(beats, beats[1:]):
            if b >= from_ns and a <= to_ns:
                largest = max(largest, (b - a) / 1e6)
        return largest

    def close(self):
        self.closed = True
        self.thread.join(2)


class Bench:
    def __init__(self, args):
        import libvirt
        self.libvirt = libvirt
        self.args = args
        self._conn = None
        self.run_dir = WORK / args.run_id
        self.out_root = self.run_dir / 'out'
        self.guest = Path(args.guest)
        self.jar = Path(args.jar)
        self.serials = {}
        self.rows = []

    @property
    def conn(self):
        """The libvirt connection, opened again if libvirtd was restarted (the domains outlive it)."""
        try:
            if self._conn is not None and self._conn.isAlive():
                return self._conn
        except self.libvirt.libvirtError:
            pass
        deadline = time.monotonic() + 120
        while True:
            try:
                self._conn = self.libvirt.open(URI)
                return self._conn
            except self.libvirt.libvirtError:
                if time.monotonic() > deadline:
                    raise
                log('libvirtd does not answer: waiting for it')
                time.sleep(2)

    # ------------------------------------------------------------------ images and domains

    def make_image(self, path, fmt, size_mib, data_mib):
        """A sparse image of size_mib with data_mib of random data in 1 MiB chunks spread evenly."""
        chunks = max(1, data_mib)
        stride = size_mib / chunks
        raw = path if fmt == 'raw' else path.with_suffix('.tmp.raw')
        with open(raw, 'wb') as f:
            f.truncate(size_mib * MiB)
            for i in range(chunks):
                f.seek(int(i * stride) * MiB)
                f.write(os.urandom(MiB))
        if fmt != 'raw':
            sh('qemu-img', 'convert', '-f', 'raw', '-O', fmt, raw, path)
            raw.unlink()
        fsync_files([path])

    def make_mixed_image(self, path, fmt, size_mib, data_mib, data_out, rng):
        """A sparse image of size_mib holding data_mib of half-compressible data in 1 MiB chunks
        spread evenly (see mixed_chunk); every data byte is appended to data_out too, so that zstd can
        be timed on exactly the data the disks hold."""
        chunks = max(1, data_mib)
        stride = size_mib / chunks
        raw = path if fmt == 'raw' else path.with_suffix('.tmp.raw')
        with open(raw, 'wb') as f:
            f.truncate(size_mib * MiB)
            for i in range(chunks):
                chunk = mixed_chunk(rng, self.text_pool)
                f.seek(int(i * stride) * MiB)
                f.write(chunk)
                data_out.write(chunk)
        if fmt != 'raw':
            sh('qemu-img', 'convert', '-f', 'raw', '-O', fmt, raw, path)
            raw.unlink()
        fsync_files([path])

    def domain_xml(self, name, disks, command_channel=False):
        devices = ''.join(
            f"<disk type='file' device='disk'><driver name='qemu' type='{fmt}'/><source file='{path}'/>"
            f"<target dev='{target}' bus='virtio'/></disk>\n" for target, path, fmt in disks)
        directory = self.run_dir / name
        # The test guest's ttyS1 takes commands (guest_command); QEMU makes the socket.
        commands = (f"    <serial type='unix'><source mode='bind' path='{directory / 'cmd.sock'}'/>"
                    f"<target port='1'/></serial>\n") if command_channel else ''
        kvm = os.path.exists('/dev/kvm') and re.search(r'\b(vmx|svm)\b', Path('/proc/cpuinfo').read_text())
        return f"""<domain type='{'kvm' if kvm else 'qemu'}'>
  <name>{name}</name><memory unit='MiB'>128</memory><vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type>
    <kernel>{self.guest / 'vmlinuz'}</kernel><initrd>{self.guest / 'initramfs.img'}</initrd>
    <cmdline>console=ttyS0 quiet panic=-1</cmdline></os>
  <features><acpi/></features>
  <on_poweroff>destroy</on_poweroff><on_reboot>destroy</on_reboot><on_crash>destroy</on_crash>
  <devices>
{devices}    <serial type='file'><source path='{directory / 'serial.log'}' append='on'/><target port='0'/></serial>
{commands}    <memballoon model='none'/>
  </devices>
</domain>
"""

    def define(self, purpose, disks, command_channel=False):
        name = f'vbb-{self.args.run_id}-{purpose}'
        directory = self.run_dir / name
        directory.mkdir(parents=True)
        os.chmod(directory, 0o777)
        self.conn.defineXML(self.domain_xml(name, disks, command_channel))
        self.serials[name] = Serial(directory / 'serial.log')
        return name

    def dom(self, name):
        return self.conn.lookupByName(name)

    def is_active(self, name):
        return self.dom(name).isActive() == 1

    def start(self, name):
        t0 = time.monotonic_ns()
        self.dom(name).create()
        self.serials[name].wait_for('ANC-READY', t0, 180)
        self.serials[name].beat_after(time.monotonic_ns(), 30)

    def wait_shutoff(self, name, timeout=300):
        deadline = time.monotonic() + timeout
        while self.is_active(name):
            if time.monotonic() > deadline:
                raise TimeoutError(f'{name} did not shut off within {timeout} s')
            time.sleep(0.01)

    def stop(self, name):
        if self.is_active(name):
            self.dom(name).destroy()

    def guest_command(self, name, line):
        """Sends a line to the guest's ttyS1 and waits for its echo, sending again while it is not taken."""
        serial = self.serials[name]
        sent = time.monotonic_ns()
        for _ in range(3):
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as channel:
                channel.connect(str(self.run_dir / name / 'cmd.sock'))
                channel.sendall((line + '\n').encode())
                time.sleep(0.05)
            try:
                serial.wait_for(f'^ANC-CMD {re.escape(line.split()[0])} ', sent, 5)
                return sent
            except TimeoutError:
                pass  # the guest had not opened its port yet
        raise TimeoutError(f'guest {name} did not take the command {line!r}')

    def change_guest_data(self, name, mib):
        """The guest rewrites vda's first mib MiB once, in 64 KiB O_DIRECT writes, and waits until it is done.

        The same region every time, so every tool's inc finds the same change.
        """
        log(f'  the guest rewrites {mib} MiB of vda')
        sent = self.guest_command(name, f'write 0 {mib}')
        # gen=1: the pass ran to its end (a writer stopped early, by a command taken twice, ends with gen=0).
        self.serials[name].wait_for(r'^ANC-WRITER-END run=\S+ gen=1 ', sent, max(120, 3 * mib))

    # ------------------------------------------------------------------ the tools

    def out_dir(self, label):
        directory = self.out_root / label
        if directory.exists():
            shutil.rmtree(directory)
        directory.mkdir(parents=True)
        return directory

    def ours(self, name, mode, out, level=None, extra=()):
        """Runs our CLI as a process of its own: wall time, peak RSS (wait4), what its manifest says.

        Each run makes a new folder in out/DOMAIN; only that folder counts as its output, so that an
        inc into the root of its full is measured alone.
        """
        cmd = ['java', '-jar', str(self.jar), '-c', URI, '-b', mode] + (['-l', level] if level else []) \
            + list(extra) + ['-d', str(out), '-v', name]
        domain_folder = out / name
        before = set(domain_folder.iterdir()) if domain_folder.is_dir() else set()
        t0 = time.monotonic_ns()
        with open(out / 'cli-output.txt', 'w') as output:
            proc = subprocess.Popen(cmd, stdout=output, stderr=subprocess.STDOUT)
            _, status, rusage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
        t1 = time.monotonic_ns()
        if proc.returncode != 0:
            raise RuntimeError(f'virt-backup exited {proc.returncode}: '
                               + (out / 'cli-output.txt').read_text()[-600:])
        folder = new_backup_folder(domain_folder, before)
        manifest = json.loads((folder / 'manifest.json').read_text())
        if level and manifest.get('level') != level:
            raise RuntimeError(f'asked for level {level}, the manifest says {manifest.get("level")}')
        disks = [folder / f['name'] for f in manifest['files'] if f['kind'] == 'disk']
        result = {'t0': t0, 't1': t1, 'rss_kib': rusage.ru_maxrss,
                  'engine_downtime_ms': manifest.get('downtimeMs'),
                  'disk_files': disks, 'all_files': files_under(folder)}
        result.update(self.phases(folder / 'virt-backup.log'))
        return result

    def virtnbdbackup(self, name, level, out, raw=False):
        """virtnbdbackup into out/vnb (an inc goes where its full went, as virtnbdbackup requires).

        Its output is what this run wrote or rewrote there, fsync'd within its time like everything
        else; its disk output is the .data streams among them.
        """
        target = out / 'vnb'
        before = file_states(target)
        t0 = time.monotonic_ns()
        sh('virtnbdbackup', '-U', URI, '-d', name, '-l', level, *(['-r'] if raw else []), '-n', '-o', target)
        t1 = time.monotonic_ns()
        written = written_since(target, before)
        fsync_files(written)
        t2 = time.monotonic_ns()
        data = [p for p in written if p.name.endswith('.data')]
        if not data:
            raise RuntimeError(f'virtnbdbackup -l {level} wrote no .data file')
        return {'t0': t0, 't1': t2, 'tool_s': (t1 - t0) / 1e9, 'disk_files': data, 'all_files': written}

    @staticmethod
    def phases(run_log):
        """The engine's own copy time (its 'copied disk' lines) and its read-back verification time."""
        from datetime import datetime
        stamped = []
        for line in run_log.read_text().splitlines():
            stamp, _, message = line.partition(' ')
            try:
                stamped.append((datetime.fromisoformat(stamp.replace('Z', '+00:00')).timestamp(), message))
            except ValueError:
                continue
        result = {}
        copied = [float(m.group(1)) for _, msg in stamped for m in [re.search(r'copied disk .* in ([0-9.]+) s', msg)]
                  if m]
        if copied:
            result['copy_s'] = sum(copied)
        for i, (t, msg) in enumerate(stamped):
            if msg.startswith('read back') and i > 0:  # only with --verify
                result['verify_s'] = t - stamped[i - 1][0]
        return result

    def copy_disks(self, disks, out):
        """cp --sparse=always of each disk file, then fsync: returns (cp seconds, cp+fsync seconds)."""
        t0 = time.monotonic()
        targets = []
        for target, path, fmt in disks:
            dst = out / f'{target}.{fmt}'
            sh('cp', '--sparse=always', path, dst)
            targets.append(dst)
        t1 = time.monotonic()
        fsync_files(targets)
        return t1 - t0, time.monotonic() - t0, targets

    # ------------------------------------------------------------------ measurements

    def record(self, round_no, group, tool, fn, name=None, out=None):
        """Runs one measurement of domain name (the main one by default); a failure is recorded as
        such, never as a number. Its output goes to a fresh folder removed afterwards, or into out
        when given, which the caller keeps (a full that an inc builds on) and removes."""
        name = name or self.main
        serial = self.serials.get(name)
        running = self.is_active(name)
        row = {'round': round_no, 'group': group, 'tool': tool}
        log(f'round {round_no}: {tool}')
        kept = out is not None
        if not kept:
            out = self.out_dir(re.sub(r'[^a-z0-9]+', '-', tool.lower()).strip('-'))
        try:
            children = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.monotonic_ns()
            result = fn(out)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            # CPU of the processes this tool ran (user + system); work done inside libvirtd or QEMU
            # (virsh backup-begin, virtnbdbackup's NBD server) is not theirs and not counted.
            row['cpu_s'] = (after.ru_utime - children.ru_utime) + (after.ru_stime - children.ru_stime)
            t1 = result.pop('t1', time.monotonic_ns())
            t0 = result.pop('t0', t0)
            row['time_s'] = (t1 - t0) / 1e9
            if running and group != 'memory':
                serial.beat_after(t1, 120)
                row['downtime_ms'] = serial.largest_gap_ms(t0, t1)
            disk_files = result.pop('disk_files')
            all_files = result.pop('all_files') if 'all_files' in result else files_under(out)
            row['disk_apparent'], row['disk_allocated'] = sizes(disk_files)
            row['total_allocated'] = sizes(all_files)[1]
            row.update(result)
        except Exception as e:  # noqa: BLE001 - any failure is reported in the table
            row['error'] = str(e)[:400]
            log(f'  FAILED: {row["error"]}')
        finally:
            if not kept:
                shutil.rmtree(out, ignore_errors=True)
        self.rows.append(row)
        shown = {k: (round(v, 3) if isinstance(v, float) else v) for k, v in row.items()
                 if k not in ('round', 'group', 'tool')}
        log(f'  {shown}')
        if running and not self.is_active(name):
            self.start(name)  # a failed reference must not leave the next measurement a shut-off domain
        time.sleep(self.args.settle)
        return row

    def offline_round(self, r):
        name, disks = self.main, self.disk_specs[self.main]
        self.stop(name)

        def ours(out):
            return self.ours(name, 'shutdown', out)

        def cp(out):
            t0 = time.monotonic_ns()
            cp_s, _, targets = self.copy_disks(disks, out)
            return {'t0': t0, 't1': time.monotonic_ns(), 'cp_only_s': cp_s, 'disk_files': targets}

        def qemu_img(out):
            t0 = time.monotonic_ns()
            targets = []
            for target, path, fmt in disks:
                dst = out / f'{target}.{fmt}'
                sh('qemu-img', 'convert', '-f', fmt, '-O', fmt, path, dst)
                targets.append(dst)
            fsync_files(targets)
            return {'t0': t0, 't1': time.monotonic_ns(), 'disk_files': targets}

        tools = [('virt-backup (shut-off domain)', ours), ('cp --sparse=always + fsync', cp),
                 ('qemu-img convert + fsync', qemu_img)]
        for tool, fn in rotate(tools, r):
            self.record(r, 'offline', tool, fn)
        src = sizes([p for _, p, _ in disks])
        self.rows.append({'round': r, 'group': 'offline', 'tool': 'source disks',
                          'disk_apparent': src[0], 'disk_allocated': src[1]})

    def running_round(self, r):
        name, disks, dom = self.running_main()
        lv = self.libvirt

        def ours(mode):
            return lambda out: self.ours(name, mode, out)

        def backup_begin(out):
            targets = [out / f'{t}.{f}' for t, _, f in disks]
            xml = "<domainbackup mode='push'><disks>" + ''.join(
                f"<disk name='{t}' backup='yes' type='file'><driver type='{f}'/><target file='{out / f'{t}.{f}'}'/>"
                f"</disk>" for t, _, f in disks) + '</disks></domainbackup>'
            t0 = time.monotonic_ns()
            dom.backupBegin(xml, None, 0)
            while dom.jobInfo()[0] != lv.VIR_DOMAIN_JOB_NONE:
                time.sleep(0.01)
            stats = dom.jobStats(lv.VIR_DOMAIN_JOB_STATS_COMPLETED)
            if stats.get('type') not in (None, lv.VIR_DOMAIN_JOB_COMPLETED):
                raise RuntimeError(f'backup job ended with {stats}')
            t1 = time.monotonic_ns()
            return {'t0': t0, 't1': t1, 'disk_files': targets}

        def virtnbdbackup(out):
            return self.virtnbdbackup(name, self.args.virtnbdbackup_level, out, raw=True)

        tools = [('virt-backup live', ours('live')), ('virt-backup snapshot-libvirt', ours('snapshot-libvirt')),
                 ('virsh backup-begin (push)', backup_begin),
                 (f'virtnbdbackup -l {self.args.virtnbdbackup_level}', virtnbdbackup)]
        for tool, fn in rotate(tools, r):
            self.record(r, 'running', tool, fn)
            self.clear_checkpoints(name)

    def clear_checkpoints(self, name):
        """virtnbdbackup's full and inc levels and our live mode leave checkpoints: removed so that
        every tool sees the same domain (virtnbdbackup refuses one with a checkpoint not its own)."""
        dom = self.dom(name)
        try:
            checkpoints = dom.listAllCheckpoints()
        except self.libvirt.libvirtError as e:
            log(f'  could not list checkpoints: {e}')
            return
        for cp in checkpoints:
            try:
                cp.delete()
            except self.libvirt.libvirtError as e:
                # A checkpoint whose bitmap QEMU dropped can only lose its metadata.
                log(f'  could not delete checkpoint {cp.getName()} ({e}): deleting its metadata only')
                try:
                    cp.delete(self.libvirt.VIR_DOMAIN_CHECKPOINT_DELETE_METADATA_ONLY)
                except self.libvirt.libvirtError as e2:
                    log(f'  could not delete checkpoint {cp.getName()}: {e2}')

    def incremental_round(self, r):
        """Each tool's full, the guest's change of change_percent of the data, then the tool's inc
        into the root of its full; on a domain of its own whose disks are both qcow2 (libvirt keeps
        dirty bitmaps only in qcow2, and virtnbdbackup leaves raw disks out of an inc). Only this
        domain runs meanwhile; it is shut off again at the end."""
        name = self.inc_domain
        self.stop(self.main)
        if not self.is_active(name):
            self.start(name)
        mib = change_mib(self.args)
        src = sizes([p for _, p, _ in self.disk_specs[name]])
        self.rows.append({'round': r, 'group': 'incremental', 'tool': 'source disks',
                          'disk_apparent': src[0], 'disk_allocated': src[1]})

        def ours(level):
            return lambda out: self.ours(name, 'live', out, level)

        def virtnbdbackup(level):
            return lambda out: self.virtnbdbackup(name, level, out)

        chains = [('virt-backup live', ours), ('virtnbdbackup', virtnbdbackup)]
        for tool, fn in rotate(chains, r):
            out = self.out_dir(re.sub(r'[^a-z0-9]+', '-', tool.lower()).strip('-') + '-chain')
            try:
                full = self.record(r, 'incremental', f'{tool} -l full', fn('full'), name, out)
                inc = f'{tool} -l inc'
                if 'error' in full:
                    self.rows.append({'round': r, 'group': 'incremental', 'tool': inc,
                                      'error': 'not run: the full backup it builds on failed'})
                    continue
                try:
                    self.change_guest_data(name, mib)
                except Exception as e:  # noqa: BLE001 - reported in the table like any failure
                    self.rows.append({'round': r, 'group': 'incremental', 'tool': inc,
                                      'error': f'not run: the guest did not change its data: {e}'[:400]})
                    continue
                self.record(r, 'incremental', inc, fn('inc'), name, out)
            finally:
                shutil.rmtree(out, ignore_errors=True)
                self.clear_checkpoints(name)
        self.rows.append({'round': r, 'group': 'incremental', 'tool': 'guest change',
                          'disk_apparent': mib * MiB, 'disk_allocated': mib * MiB})
        self.stop(name)

    def running_main(self):
        """The main domain, started if it is not running: (name, disks, libvirt domain)."""
        name = self.main
        if not self.is_active(name):
            self.start(name)
        return name, self.disk_specs[name], self.dom(name)

    def suspend_round(self, r):
        name, disks, dom = self.running_main()

        def ours(out):
            return self.ours(name, 'suspend', out)

        def suspend_cp(out):
            t0 = time.monotonic_ns()
            dom.suspend()
            try:
                _, _, targets = self.copy_disks(disks, out)
            finally:
                dom.resume()
            return {'t0': t0, 't1': time.monotonic_ns(), 'disk_files': targets}

        for tool, fn in rotate([('virt-backup suspend', ours), ('virsh suspend + cp + resume', suspend_cp)], r):
            self.record(r, 'suspend', tool, fn)

    def shutdown_round(self, r):
        name, disks, dom = self.running_main()

        def ours(out):
            return self.ours(name, 'shutdown', out)

        def shutdown_cp(out):
            t0 = time.monotonic_ns()
            dom.shutdown()
            self.wait_shutoff(name)
            _, _, targets = self.copy_disks(disks, out)
            dom.create()
            return {'t0': t0, 't1': time.monotonic_ns(), 'disk_files': targets}

        for tool, fn in rotate([('virt-backup shutdown', ours), ('virsh shutdown + cp + start', shutdown_cp)], r):
            self.record(r, 'shutdown', tool, fn)

    def compress_round(self, r):
        """--compress against the same backup without it and against zstd -T0 of the same data: on
        the shut-off domain (the copy alone) and in live mode (the running domain)."""
        name = self.cmp_domain
        self.stop(name)

        def ours(mode, compress):
            return lambda out: self.ours(name, mode, out, extra=['--compress'] if compress else [])

        def zstd(out):
            t0 = time.monotonic_ns()
            dst = out / 'data.zst'
            sh('zstd', '-T0', '-q', '-o', dst, self.cmp_data)
            fsync_files([dst])
            return {'t0': t0, 't1': time.monotonic_ns(), 'disk_files': [dst]}

        offline = [('virt-backup --compress (shut-off domain)', ours('shutdown', True)),
                   ('virt-backup (shut-off domain)', ours('shutdown', False)),
                   ('zstd -T0 + fsync (the disks\' data)', zstd)]
        for tool, fn in rotate(offline, r):
            self.record(r, 'compress', tool, fn, name=name)
        self.start(name)
        live = [('virt-backup live --compress', ours('live', True)), ('virt-backup live', ours('live', False))]
        for tool, fn in rotate(live, r):
            self.record(r, 'compress', tool, fn, name=name)
            self.clear_checkpoints(name)
        self.stop(name)
        data = self.cmp_data.stat().st_size
        self.rows.append({'round': r, 'group': 'compress', 'tool': 'source data',
                          'disk_apparent': data, 'disk_allocated': data})

    def define_compress_domain(self, work):
        """The compress group's domain: a qcow2 and a sparse raw disk of the main domain's sizes,
        holding half-compressible data instead of random data; data.bin holds the same bytes."""
        import random
        a = self.args
        rng = random.Random(20261203)
        self.text_pool = text_pool(rng)
        vda, vdb = work / 'cmp-vda.qcow2', work / 'cmp-vdb.raw'
        self.cmp_data = work / 'cmp-data.bin'
        with open(self.cmp_data, 'wb') as data_out:
            self.make_mixed_image(vda, 'qcow2', a.qcow2_size, a.qcow2_data, data_out, rng)
            self.make_mixed_image(vdb, 'raw', a.raw_size, a.raw_data, data_out, rng)
        fsync_files([self.cmp_data])
        disks = [('vda', vda, 'qcow2'), ('vdb', vdb, 'raw')]
        self.cmp_domain = self.define('cmp', disks)
        self.disk_specs[self.cmp_domain] = disks

    def memory_round(self, r):
        pairs = [(f'virt-backup, {self.args.raw_size} MiB sparse raw', self.mem_small),
                 (f'virt-backup, {self.args.big_size} MiB sparse raw', self.mem_big)]
        for tool, name in rotate(pairs, r):
            self.record(r, 'memory', tool, lambda out, n=name: self.ours(n, 'shutdown', out))

    # ------------------------------------------------------------------ the whole run

    def remove_leftovers(self):
        """Undefines shut-off vbb- domains of earlier runs whose folder is gone (libvirtd was away at their cleanup)."""
        for dom in self.conn.listAllDomains():
            m = re.match(r'^vbb-([0-9a-f]+)-', dom.name())
            if m and m.group(1) != self.args.run_id and not dom.isActive() and not (WORK / m.group(1)).exists():
                dom.undefineFlags(self.libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
                                  | self.libvirt.VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA)
                log(f'removed the definition of {dom.name()}, left by an earlier run')

    def define_incremental_domain(self, work, qcow2, raw):
        """The incremental group's domain: the same data as the main one, both disks qcow2. The
        region the guest rewrites is allocated beforehand, so that the source's allocation is the
        same at every full backup, the first one included."""
        vda, vdb = work / 'inc-vda.qcow2', work / 'inc-vdb.qcow2'
        sh('cp', '--sparse=always', qcow2, vda)
        sh('qemu-img', 'convert', '-f', 'raw', '-O', 'qcow2', raw, vdb)
        sh('qemu-io', '-f', 'qcow2', '-c', f'write -P 0x5a 0 {change_mib(self.args)}M', vda)
        fsync_files([vda, vdb])
        disks = [('vda', vda, 'qcow2'), ('vdb', vdb, 'qcow2')]
        self.inc_domain = self.define('inc', disks, command_channel=True)
        self.disk_specs[self.inc_domain] = disks

    def run(self):
        a = self.args
        self.remove_leftovers()
        golden = self.run_dir / 'images'
        golden.mkdir(parents=True)
        log(f'creating images in {golden}')
        qcow2 = golden / 'vda.qcow2'
        raw = golden / 'vdb.raw'
        big = golden / 'big.raw'
        groups = a.groups.split(',')
        self.disk_specs = {}
        work = self.run_dir / 'disks'
        work.mkdir()
        if 'compress' in groups:
            self.define_compress_domain(work)
        if groups == ['compress']:
            return self.rounds(groups)
        self.make_image(qcow2, 'qcow2', a.qcow2_size, a.qcow2_data)
        self.make_image(raw, 'raw', a.raw_size, a.raw_data)
        # The main domain runs on its own copies; the memory domains are never started.
        disks = [('vda', work / 'vda.qcow2', 'qcow2'), ('vdb', work / 'vdb.raw', 'raw')]
        for (_, dst, _), src in zip(disks, (qcow2, raw)):
            sh('cp', '--sparse=always', src, dst)
        self.main = self.define('main', disks)
        self.disk_specs[self.main] = disks
        if 'incremental' in groups:
            self.define_incremental_domain(work, qcow2, raw)
        if 'memory' in groups:
            self.make_image(big, 'raw', a.big_size, a.raw_data)
            self.mem_small = self.define('mem2', [('vda', raw, 'raw')])
            self.mem_big = self.define('mem8', [('vda', big, 'raw')])
        return self.rounds(groups)

    def rounds(self, groups):
        """Runs every group once per round; returns the seconds it took."""
        started = time.monotonic()
        for r in range(self.args.runs):
            log(f'=== round {r + 1} of {self.args.runs}')
            for group in groups:
                getattr(self, f'{group}_round')(r)
        return time.monotonic() - started


def text_pool(rng, size=16 * MiB):
    """Log-like text to cut disk blocks from: words of a vocabulary drawn with Zipf-like weights,
    numbers, times and line breaks. Large (16 MiB), so that zstd's window rarely finds a block twice."""
    letters = 'etaoinshrdlucmfwypvbgkqjxz'
    vocabulary = [''.join(rng.choice(letters[:12 + i % 14]) for _ in range(2 + i % 9)) for i in range(3000)]
    weights = [1 / (rank + 1) for rank in range(len(vocabulary))]
    pieces, length = [], 0
    while length < size:
        words = rng.choices(vocabulary, weights, k=4096)
        line = (f'{rng.randrange(24):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d} '
                f'pid={rng.randrange(1, 65536)} ' + ' '.join(words[:rng.randrange(4, 24)]) + '\n')
        text = line + ' '.join(words) + '\n'
        pieces.append(text)
        length += len(text)
    return ''.join(pieces).encode()[:size]


def mixed_chunk(rng, pool):
    """1 MiB as a disk holds it: of its 16 blocks of 64 KiB, 8 random (media, encrypted or already
    compressed files) and 8 of text cut from the pool, each a quarter to all of the block long and
    the rest zeros (the unused end of a file's last block), in a shuffled order."""
    block = 64 << 10
    kinds = ['random'] * 8 + ['text'] * 8
    rng.shuffle(kinds)
    out = bytearray()
    for kind in kinds:
        if kind == 'random':
            out += rng.randbytes(block)
        else:
            used = rng.randrange(block // 4, block + 1)
            at = rng.randrange(len(pool) - used)
            out += pool[at:at + used] + bytes(block - used)
    return bytes(out)


def rotate(items, r):
    """Round r starts with a different member, so no tool always goes first (or last)."""
    k = r % len(items)
    return items[k:] + items[:k]


# ---------------------------------------------------------------------- summaries

def stat(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {'median': statistics.median(values), 'min': min(values), 'max': max(values), 'n': len(values)}


def summarize(rows, args):
    tools = {}
    for row in rows:
        tools.setdefault((row['group'], row['tool']), []).append(row)
    summary = []
    for (group, tool), rs in tools.items():
        ok = [r for r in rs if 'error' not in r]
        entry = {'group': group, 'tool': tool, 'runs': len(rs), 'failed': len(rs) - len(ok),
                 'errors': sorted({r['error'] for r in rs if 'error' in r})}
        for key in ('time_s', 'downtime_ms', 'engine_downtime_ms', 'disk_apparent', 'disk_allocated',
                    'total_allocated', 'rss_kib', 'cpu_s', 'cp_only_s', 'tool_s', 'copy_s', 'verify_s'):
            s = stat([r.get(key) for r in ok])
            if s:
                entry[key] = s
        summary.append(entry)
    return summary


def by_round(rows, group, tool, key):
    return {r['round']: r[key] for r in rows
            if r['group'] == group and r['tool'] == tool and 'error' not in r and r.get(key) is not None}


def ratios(rows, args):
    """Ours / reference per round, for the comparisons below; each side is (group, tool), since the
    same tool can be measured in two groups (virtnbdbackup -l full in running and incremental)."""
    off, run, inc_group = 'offline', 'running', 'incremental'
    lvl = (run, f'virtnbdbackup -l {args.virtnbdbackup_level}')
    live, push = (run, 'virt-backup live'), (run, 'virsh backup-begin (push)')
    ours_off = (off, 'virt-backup (shut-off domain)')
    cp, qimg = (off, 'cp --sparse=always + fsync'), (off, 'qemu-img convert + fsync')
    small = ('memory', f'virt-backup, {args.raw_size} MiB sparse raw')
    big = ('memory', f'virt-backup, {args.big_size} MiB sparse raw')
    full, inc = (inc_group, 'virt-backup live -l full'), (inc_group, 'virt-backup live -l inc')
    vnb_full, vnb_inc = (inc_group, 'virtnbdbackup -l full'), (inc_group, 'virtnbdbackup -l inc')
    pct = f'{args.change_percent:g}%'
    cg = 'compress'
    cmp_off, cmp_plain = (cg, 'virt-backup --compress (shut-off domain)'), (cg, 'virt-backup (shut-off domain)')
    cmp_zstd, cmp_data = (cg, 'zstd -T0 + fsync (the disks\' data)'), (cg, 'source data')
    cmp_live = (cg, 'virt-backup live --compress')
    spec = [
        # name, ours (group, tool), ours key, reference (group, tool), reference key, target (max ratio) or None
        ('offline copy time vs cp --sparse=always', ours_off, 'time_s', cp, 'time_s', 1.10),
        ('offline copy time vs qemu-img convert', ours_off, 'time_s', qimg, 'time_s', None),
        ('offline: the engine\'s own copy phase (its log) vs cp --sparse=always', ours_off, 'copy_s', cp, 'time_s',
         None),
        ('offline output allocation vs source allocation', ours_off, 'disk_allocated', (off, 'source disks'),
         'disk_allocated', 1.00),
        ('offline output allocation vs cp --sparse=always', ours_off, 'disk_allocated', cp, 'disk_allocated', None),
        # Issue 11: live mode pulls over NBD; on the qcow2 + raw domain and on the all-qcow2 one.
        ('live full time vs virtnbdbackup (qcow2 + raw disks)', live, 'time_s', lvl, 'time_s', 0.50),
        ('live full downtime vs virtnbdbackup (qcow2 + raw disks)', live, 'downtime_ms', lvl, 'downtime_ms', 1.00),
        # No target here: the raw disk's copy is a qcow2, whose own tables the raw source does not have.
        ('live full output allocation vs source allocation (qcow2 + raw disks)', live, 'disk_allocated',
         (off, 'source disks'), 'disk_allocated', None),
        ('live full time vs virsh backup-begin push job', live, 'time_s', push, 'time_s', None),
        ('push job (virsh backup-begin) time vs virtnbdbackup', push, 'time_s', lvl, 'time_s', None),
        ('push job (virsh backup-begin) downtime vs virtnbdbackup', push, 'downtime_ms', lvl, 'downtime_ms', None),
        ('live full time vs virtnbdbackup -l full (qcow2 disks)', full, 'time_s', vnb_full, 'time_s', 0.50),
        ('live full downtime vs virtnbdbackup -l full (qcow2 disks)', full, 'downtime_ms', vnb_full, 'downtime_ms',
         1.00),
        ('live full output allocation vs source allocation (qcow2 disks)', full, 'disk_allocated',
         (inc_group, 'source disks'), 'disk_allocated', 1.00),
        (f'inc time vs our live full ({pct} of the data changed)', inc, 'time_s', full, 'time_s', 0.10),
        (f'inc time vs virtnbdbackup -l inc ({pct} changed)', inc, 'time_s', vnb_inc, 'time_s', 0.50),
        ('inc downtime vs virtnbdbackup -l inc', inc, 'downtime_ms', vnb_inc, 'downtime_ms', 1.00),
        ('inc output allocation vs virtnbdbackup -l inc', inc, 'disk_allocated', vnb_inc, 'disk_allocated', None),
        ('inc output allocation vs what the guest rewrote', inc, 'disk_allocated', (inc_group, 'guest change'),
         'disk_allocated', None),
        ('virtnbdbackup -l inc time vs its full', vnb_inc, 'time_s', vnb_full, 'time_s', None),
        ('snapshot-libvirt time vs virtnbdbackup', (run, 'virt-backup snapshot-libvirt'), 'time_s', lvl, 'time_s',
         None),
        ('snapshot-libvirt downtime vs virtnbdbackup', (run, 'virt-backup snapshot-libvirt'), 'downtime_ms', lvl,
         'downtime_ms', None),
        ('suspend time vs suspend + cp + resume', ('suspend', 'virt-backup suspend'), 'time_s',
         ('suspend', 'virsh suspend + cp + resume'), 'time_s', None),
        ('suspend downtime vs suspend + cp + resume', ('suspend', 'virt-backup suspend'), 'downtime_ms',
         ('suspend', 'virsh suspend + cp + resume'), 'downtime_ms', None),
        ('suspend downtime vs pure copy time (cp + fsync)', ('suspend', 'virt-backup suspend'), 'downtime_ms', cp,
         'time_s', 1.05),
        ('shutdown time vs shutdown + cp + start', ('shutdown', 'virt-backup shutdown'), 'time_s',
         ('shutdown', 'virsh shutdown + cp + start'), 'time_s', None),
        ('shutdown downtime vs shutdown + cp + start', ('shutdown', 'virt-backup shutdown'), 'downtime_ms',
         ('shutdown', 'virsh shutdown + cp + start'), 'downtime_ms', None),
        ('offline CPU time vs cp --sparse=always', ours_off, 'cpu_s', cp, 'cpu_s', None),
        # --compress: output bytes over the disks' data bytes, and time, against zstd -T0 of the same data.
        ('compress: output vs data (virt-backup --compress, shut-off)', cmp_off, 'disk_allocated', cmp_data,
         'disk_allocated', None),
        ('compress: output vs data (zstd -T0)', cmp_zstd, 'disk_allocated', cmp_data, 'disk_allocated', None),
        ('compress: output vs data (virt-backup live --compress)', cmp_live, 'disk_allocated', cmp_data,
         'disk_allocated', None),
        ('compress: output vs zstd -T0 output (shut-off)', cmp_off, 'disk_allocated', cmp_zstd, 'disk_allocated',
         None),
        ('compress: time vs zstd -T0 (shut-off)', cmp_off, 'time_s', cmp_zstd, 'time_s', None),
        ('compress: time vs virt-backup without --compress (shut-off)', cmp_off, 'time_s', cmp_plain, 'time_s',
         None),
        ('compress: CPU vs zstd -T0 (shut-off)', cmp_off, 'cpu_s', cmp_zstd, 'cpu_s', None),
        ('compress: live --compress time vs live', cmp_live, 'time_s', (cg, 'virt-backup live'), 'time_s', None),
        (f'time, {args.big_size} MiB vs {args.raw_size} MiB sparse disk, same data', big, 'time_s', small, 'time_s',
         1.10),
        (f'peak RSS, {args.big_size} MiB vs {args.raw_size} MiB disk', big, 'rss_kib', small, 'rss_kib', 1.10),
    ]
    out = []
    for name, ours, okey, ref, rkey, target in spec:
        a, b = by_round(rows, *ours, okey), by_round(rows, *ref, rkey)
        if okey == 'downtime_ms' and rkey == 'time_s':
            b = {k: v * 1000 for k, v in b.items()}
        per_round = [a[k] / b[k] for k in sorted(a) if k in b and b[k]]
        entry = {'name': name, 'ours': ': '.join(ours), 'reference': ': '.join(ref), 'metric': okey,
                 'per_round': per_round, 'target': target}
        s = stat(per_round)
        if s:
            entry.update(s)
        if target is None:
            entry['status'] = 'no target'
        elif not s:
            entry['status'] = 'not measured'
        elif name.startswith('peak RSS'):
            entry['status'] = 'reached' if all(abs(x - 1) <= 0.10 for x in per_round) else 'missed'
        else:
            entry['status'] = 'reached' if s['median'] <= target else 'missed'
        out.append(entry)
    return out


def fmt_stat(s, scale=1.0, digits=2, unit=''):
    if not s:
        return '–'
    f = f'{{:.{digits}f}}'
    med = f.format(s['median'] * scale)
    if s['n'] == 1:
        return med + unit
    return f'{med}{unit} [{f.format(s["min"] * scale)}–{f.format(s["max"] * scale)}]'


def markdown(result):
    a = result['config']
    lines = [f'# virt-backup benchmark, {result["finished"]}', '',
             f'{a["runs"]} rounds, tools alternating within each pair. Disks: {a["qcow2_size"]} MiB qcow2 holding '
             f'{a["qcow2_data"]} MiB (vda) and {a["raw_size"]} MiB sparse raw holding {a["raw_data"]} MiB (vdb), '
             f'one domain (128 MiB RAM, domain type {result["machine"]["domain_type"]})'
             + (f'; memory check: {a["raw_size"]} vs {a["big_size"]} MiB sparse raw' if 'memory' in a['groups'] else '')
             + f'. Sources just written (in the page cache); every tool\'s '
             f'output fsync\'d within its time. Medians with [min–max] over the rounds.'
             + incremental_setup(a), '',
             '## Ratios (ours / reference, pair by pair in the same round)', '',
             '| comparison | median [min–max] | target | status |', '|---|---|---|---|']
    ran = set(a['groups'].split(','))
    for r in result['ratios']:
        if 'median' not in r and r['ours'].split(': ')[0] not in ran:
            continue  # a comparison of a group this run left out
        target = '–' if r['target'] is None else (f'within ±10%' if r['name'].startswith('peak RSS')
                                                  else f'≤ {r["target"]:.2f}×')
        digits = 3 if r['metric'] in ('disk_allocated', 'rss_kib') else 2
        lines.append(f'| {r["name"]} | {fmt_stat(r, digits=digits, unit="×") if "median" in r else "not measured"} '
                     f'| {target} | {r["status"]} |')
    lines += ['', '## Each tool', '',
              '| group | tool | time s | CPU s | guest-seen downtime ms | engine downtime ms | disk output MiB '
              '(allocated / apparent) | all output MiB allocated | peak RSS MiB | failed |',
              '|---|---|---|---|---|---|---|---|---|---|']
    for s in result['summary']:
        fail = f'{s["failed"]}/{s["runs"]}' + (f': {s["errors"][0][:120]}' if s['errors'] else '')
        lines.append(
            f'| {s["group"]} | {s["tool"]} | {fmt_stat(s.get("time_s"))} | {fmt_stat(s.get("cpu_s"))} '
            f'| {fmt_stat(s.get("downtime_ms"), digits=0)} '
            f'| {fmt_stat(s.get("engine_downtime_ms"), digits=0)} '
            f'| {fmt_stat(s.get("disk_allocated"), 1 / MiB, 0)} / {fmt_stat(s.get("disk_apparent"), 1 / MiB, 0)} '
            f'| {fmt_stat(s.get("total_allocated"), 1 / MiB, 0)} | {fmt_stat(s.get("rss_kib"), 1 / 1024, 0)} '
            f'| {fail} |')
    lines += compression_table(result)
    m = result['machine']
    lines += ['', f'Machine: {m["cpu"]}, {m["cpus"]} CPUs, {m["mem_gib"]} GiB; {m["kernel"]}; {m["versions"]}.',
              f'Load average (1/5/15 min) at start {fmt_load(m["loadavg_at_start"])}, at end '
              f'{fmt_load(m["loadavg_at_end"])}; other running domains at the end: '
              f'{", ".join(m["other_running_domains_at_end"]) or "none"}.',
              f'Run took {result["duration_s"] / 60:.1f} min. Raw numbers: results.json. '
              'Downtime: largest gap between heartbeat arrivals (host clock) from the tool\'s start to its end.', '']
    return '\n'.join(lines)


def compression_table(result):
    """The compress group per tool: output over the disks' data, and data MiB per second of wall time."""
    rows = [r for r in result['rows'] if r['group'] == 'compress' and 'error' not in r]
    data = {r['round']: r['disk_allocated'] for r in rows if r['tool'] == 'source data'}
    if not data:
        return []
    lines = ['', '## Compression (data: ' + f'{statistics.median(data.values()) / MiB:.0f} MiB, half random, '
             'half text with zeros)', '',
             '| tool | output / data | data MiB/s (wall) | CPU s |', '|---|---|---|---|']
    for tool in dict.fromkeys(r['tool'] for r in rows if r['tool'] != 'source data'):
        mine = [r for r in rows if r['tool'] == tool and r['round'] in data]
        ratio = stat([r['disk_allocated'] / data[r['round']] for r in mine])
        speed = stat([data[r['round']] / MiB / r['time_s'] for r in mine if r.get('time_s')])
        cpu = stat([r.get('cpu_s') for r in mine])
        lines.append(f'| {tool} | {fmt_stat(ratio, digits=3)} | {fmt_stat(speed, digits=0)} | {fmt_stat(cpu)} |')
    return lines


def incremental_setup(config):
    """The sentence on the incremental group, when it ran."""
    if 'incremental' not in config['groups'].split(','):
        return ''
    return (f' Incremental group: a second domain with the same data on two qcow2 disks; each tool takes a full '
            f'backup, the guest rewrites the first {config["change_mib"]} MiB of vda ({config["change_percent"]:g}% '
            f'of the data; 64 KiB O_DIRECT writes, done before the inc starts), then the tool takes an inc into the '
            f'same folder. An inc\'s output is what that run wrote.')


def fmt_load(load):
    return '/'.join(f'{x:.1f}' for x in load)


def chart(result, path):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    rs = [r for r in result['ratios'] if 'median' in r]
    fig, ax = plt.subplots(figsize=(10, 0.45 * len(rs) + 1.5))
    ys = range(len(rs))
    colors = {'reached': '#2e7d32', 'missed': '#c62828', 'no target': '#607d8b'}
    ax.barh(list(ys), [r['median'] for r in rs], color=[colors[r['status']] for r in rs],
            xerr=[[r['median'] - r['min'] for r in rs], [r['max'] - r['median'] for r in rs]], capsize=3)
    for y, r in zip(ys, rs):
        if r['target'] is not None:
            ax.plot([r['target']] * 2, [y - 0.4, y + 0.4], color='black', linewidth=2)
        ax.text(r['max'] * 1.05 if r['max'] > 0 else 0.01, y, f'{r["median"]:.2f}×', va='center', fontsize=8)
    ax.set_yticks(list(ys))
    ax.set_yticklabels([r['name'] for r in rs], fontsize=8)
    ax.invert_yaxis()
    ax.axvline(1.0, color='grey', linestyle=':')
    ax.set_xscale('log')
    ax.set_xlabel('ours / reference (median, bars: min–max; black tick: target; log scale)')
    ax.set_title(f'virt-backup vs alternatives, {result["config"]["runs"]} rounds '
                 '(green: target reached, red: missed, grey: no target)', fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def machine_info():
    def version(*cmd):
        try:
            return sh(*cmd).splitlines()[0].strip()
        except Exception:  # noqa: BLE001
            return 'unknown'
    cpu = next((l.split(':', 1)[1].strip() for l in Path('/proc/cpuinfo').read_text().splitlines()
                if l.startswith('model name')), 'unknown')
    kvm = os.path.exists('/dev/kvm') and re.search(r'\b(vmx|svm)\b', Path('/proc/cpuinfo').read_text())
    others = [n for n in sh('virsh', '-c', URI, 'list', '--name', check=False).split() if not n.startswith('vbb-')]
    return {'cpu': cpu, 'cpus': os.cpu_count(), 'loadavg_at_end': os.getloadavg(),
            'other_running_domains_at_end': others, 'kernel': platform.release(),
            'mem_gib': round(os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / (1 << 30)),
            'domain_type': 'kvm' if kvm else 'qemu',
            'versions': '; '.join([version('virsh', '-c', URI, 'version', '--daemon').replace('\n', ' '),
                                   version('qemu-system-x86_64', '--version'), version('virtnbdbackup', '-V'),
                                   version('cp', '--version'), version('sh', '-c', 'java -version 2>&1')])}


def cleanup(run_id):
    """Destroys and undefines this run's domains and deletes its folder (also called by bench/run's trap)."""
    import libvirt
    prefix = f'vbb-{run_id}-'
    try:
        conn = libvirt.open(URI)
        for dom in conn.listAllDomains():
            if dom.name().startswith(prefix):
                if dom.isActive():
                    dom.destroy()
                for cp in dom.listAllCheckpoints():
                    cp.delete(libvirt.VIR_DOMAIN_CHECKPOINT_DELETE_METADATA_ONLY)
                dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
                                  | libvirt.VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA)
                log(f'removed domain {dom.name()}')
    except libvirt.libvirtError as e:
        log(f'cleanup: {e}')
    shutil.rmtree(WORK / run_id, ignore_errors=True)
    try:
        WORK.rmdir()
    except OSError:
        pass


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--runs', type=int, default=5, help='rounds (each tool once per round; default 5)')
    p.add_argument('--qcow2-size', type=int, default=2048, help='MiB (default 2048)')
    p.add_argument('--qcow2-data', type=int, default=1024, help='MiB of data in it (default 1024)')
    p.add_argument('--raw-size', type=int, default=2048, help='MiB (default 2048)')
    p.add_argument('--raw-data', type=int, default=512, help='MiB of data in it (default 512)')
    p.add_argument('--big-size', type=int, default=8192, help='MiB, the memory check\'s large disk (default 8192)')
    p.add_argument('--groups', default='offline,incremental,running,suspend,shutdown,memory',
                   help='any of offline,incremental,running,suspend,shutdown,memory,compress (compress: '
                        '--compress against zstd -T0 on half-compressible disks; not in the default)')
    p.add_argument('--change-percent', type=float, default=5.0,
                   help='incremental group: how much of the data (qcow2-data + raw-data) the guest rewrites '
                        'between a full and an inc (default 5)')
    p.add_argument('--virtnbdbackup-level', default='full', choices=['full', 'copy'])
    p.add_argument('--settle', type=float, default=1.0, help='seconds of rest between measurements')
    p.add_argument('--out', default=str(ROOT / 'bench' / 'results'), help='results folder')
    p.add_argument('--run-id', required=True)
    p.add_argument('--guest')
    p.add_argument('--jar')
    p.add_argument('--cleanup', action='store_true', help='only remove what run RUN_ID left')
    args = p.parse_args()
    if args.cleanup:
        cleanup(args.run_id)
        return 0
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    bench = Bench(args)
    load_at_start = os.getloadavg()
    try:
        duration = bench.run()
    finally:
        for serial in bench.serials.values():
            serial.close()
        cleanup(args.run_id)
    stamp = time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())
    result = {'finished': stamp, 'duration_s': duration,
              'config': vars(args) | {'out': None, 'change_mib': change_mib(args)},
              'machine': machine_info() | {'loadavg_at_start': load_at_start}, 'rows': bench.rows}
    result['summary'] = summarize(bench.rows, args)
    result['ratios'] = ratios(bench.rows, args)
    out = Path(args.out) / stamp
    out.mkdir(parents=True)
    (out / 'results.json').write_text(json.dumps(result, indent=1, default=str) + '\n')
    md = markdown(result)
    (out / 'results.md').write_text(md)
    try:
        chart(result, out / 'ratios.png')
    except Exception as e:  # noqa: BLE001
        log(f'no chart: {e}')
    print(md)
    log(f'results in {out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
