# Installs what virt-backup needs to build, demo and test, from Debian's packages and Maven Central.
# Sourced by bin/demo and bin/test; says what it does. Needs root (or sudo) for apt-get.

VIRT_BACKUP_PACKAGES=(openjdk-17-jdk-headless maven libvirt0 libvirt-clients qemu-utils)

install_prerequisites() {
    local missing=() pkg
    for pkg in "${VIRT_BACKUP_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    if [ ${#missing[@]} -eq 0 ]; then
        echo "==> Debian packages present: ${VIRT_BACKUP_PACKAGES[*]}"
        return 0
    fi
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "==> Installing Debian packages: ${missing[*]}"
    $sudo apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
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
