# Debian's headless Chromium and its WebDriver, for the dashboard's browser
# tests (tests/test_dashboard.py) and benchmark (benches/dashboard.py).
#
#   source scripts/chromium.sh && ensure_chromium
#
# Installs the packages with apt when they are missing (as root, as CI runs;
# through sudo otherwise) and exports WINDCORE_CHROMIUM / WINDCORE_CHROMEDRIVER.

ensure_chromium() {
    if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
        echo "chromium / chromedriver not found: installing them (apt-get install chromium chromium-driver)"
        local sudo=()
        if [ "$(id -u)" != 0 ]; then
            sudo=(sudo)
        fi
        export DEBIAN_FRONTEND=noninteractive
        "${sudo[@]}" apt-get update -qq
        "${sudo[@]}" apt-get install -y -qq chromium chromium-driver >/dev/null
    fi
    WINDCORE_CHROMIUM=$(command -v chromium)
    WINDCORE_CHROMEDRIVER=$(command -v chromedriver)
    export WINDCORE_CHROMIUM WINDCORE_CHROMEDRIVER
}
