# Installs what virt-backup needs to build, demo and test, from Debian's packages and Maven Central.
# Sourced by bin/demo and bin/test; says what it does. Needs root (or sudo) for apt-get.

# libnbd0: the NBD client the libvirt adapter's NbdSource calls through JNA (pull mode, issue 11).
VIRT_BACKUP_PACKAGES=(openjdk-17-jdk-headless maven libvirt0 libvirt-clients qemu-utils libnbd0)
# Only the tests need these: a libvirt daemon with QEMU to run real guests; mksquashfs for a file
# system that refuses O_DIRECT (DiskCopierTest); filefrag (e2fsprogs) to check SEEK_DATA against FIEMAP
# (LinuxFileExtentsTest); strace to see what a run syncs (FsyncTrace); a real
# browser and its WebDriver for the Jenkins form check (FormsJenkinsIT); xz-utils, unzip, curl and
# python3 for the Jenkins runtime; jq for the check-backup script of docs/format.md (FormatRecipeTest);
# nbdkit for an NBD server that answers block status for less than asked (NbdSourceTest); mmdebstrap
# to build the guest whose kernel has device-mapper (DmGuestIT, src/test/guest/build-dm-guest.sh).
VIRT_BACKUP_TEST_PACKAGES=(libvirt-daemon-system qemu-system-x86 util-linux e2fsprogs squashfs-tools strace
    chromium chromium-driver xz-utils unzip curl python3 jq nbdkit mmdebstrap)

# install_prerequisites PACKAGE...: installs those of the Debian packages that are missing.
install_prerequisites() {
    local missing=() pkg
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    if [ ${#missing[@]} -eq 0 ]; then
        echo "==> Debian packages present: $*"
        return 0
    fi
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "==> Installing Debian packages: ${missing[*]}"
    $sudo apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}

# The test guest is built from packages fetched with apt-get download: that needs package lists.
ensure_package_lists() {
    if ! apt-cache show linux-image-amd64 >/dev/null 2>&1; then
        echo "==> Updating Debian's package lists (the test guest is built from Debian packages)"
        apt-get update -q >/dev/null
    fi
}

# Builds target/virt-backup-cli.jar unless it is newer than every source file.
build_cli_jar() {
    local root="$1" jar="$1/target/virt-backup-cli.jar"
    if [ -f "$jar" ] && [ -z "$(find "$root/src/main" "$root/pom.xml" -newer "$jar" -print -quit)" ]; then
        return 0
    fi
    echo "==> Building $jar (Maven fetches dependencies from Maven Central on the first run)" >&2
    (cd "$root" && mvn -q -B package -DskipTests) >&2
}
