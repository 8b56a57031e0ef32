# Starts the libvirt daemons the integration tests need (there is no systemd here) and stops,
# at the end, only those it started. Sourced by bin/test.

TEST_HYPERVISOR_STARTED=()
# Where the QEMU tests keep their domains' files (QemuTestBed.WORK).
TEST_WORK=/var/lib/virt-backup-tests
TEST_WORK_MOUNTED=0

start_test_hypervisor() {
    local daemon
    for daemon in virtlogd virtlockd; do
        if ! pgrep -x "$daemon" >/dev/null; then
            "$daemon" -d
            TEST_HYPERVISOR_STARTED+=("$daemon")
        fi
    done
    if ! pgrep -x libvirtd >/dev/null; then
        if [ -e /dev/kvm ] && ! grep -qwE 'vmx|svm' /proc/cpuinfo; then
            # /dev/kvm is there but cannot run a guest kernel (no VT-x/AMD-V): libvirt would see it
            # as usable, find QEMU's probe saying otherwise and re-probe QEMU (~1 min) on every
            # call. Hide it from this libvirtd only, in a mount namespace of its own, where its
            # qemu.conf also turns off the per-domain /dev namespace (which cannot copy that
            # mount). The host's files stay as they are; guests use TCG.
            echo "==> Starting libvirtd (no hardware virtualization: /dev/kvm hidden from it, guests run under TCG)"
            local hidden=/run/virt-backup-tests-no-kvm conf=/run/virt-backup-tests-qemu.conf
            : > "$hidden" && chmod 000 "$hidden"
            { cat /etc/libvirt/qemu.conf; echo 'namespaces = [ ]'; } > "$conf"
            # The tests' own folder is shared with that namespace (as its slave), so that file
            # systems the tests mount there later (a full tmpfs) are seen by libvirtd too, while
            # nothing mounted in the namespace leaks out.
            mkdir -p "$TEST_WORK"
            if ! mountpoint -q "$TEST_WORK"; then
                mount --bind "$TEST_WORK" "$TEST_WORK" && mount --make-shared "$TEST_WORK"
                TEST_WORK_MOUNTED=1
            fi
            unshare --mount --propagation slave sh -c "mount --bind '$hidden' /dev/kvm \
                && mount --bind '$conf' /etc/libvirt/qemu.conf && exec libvirtd -d"
        else
            echo "==> Starting libvirtd"
            libvirtd -d
        fi
        TEST_HYPERVISOR_STARTED+=(libvirtd)
        # Tests that restart libvirtd (to drop our connection mid-backup) may only do so with a
        # daemon the test run started itself.
        export VIRT_BACKUP_TEST_OWNS_LIBVIRTD=1
    fi
    local i
    for i in $(seq 1 60); do
        virsh -c qemu:///system version >/dev/null 2>&1 && return 0
        sleep 0.5
    done
    echo "libvirtd does not answer at qemu:///system" >&2
    return 1
}

# Restarts the libvirtd this test run started (the fault tests call it mid-backup).
restart_test_libvirtd() {
    pkill -x libvirtd
    while pgrep -x libvirtd >/dev/null; do sleep 0.1; done
    start_test_hypervisor
}

stop_test_hypervisor() {
    local daemon
    for daemon in "${TEST_HYPERVISOR_STARTED[@]}"; do
        echo "==> Stopping $daemon (started by the tests)"
        pkill -x "$daemon" || true
    done
    if [ "$TEST_WORK_MOUNTED" = 1 ]; then
        umount "$TEST_WORK" || true
    fi
}
