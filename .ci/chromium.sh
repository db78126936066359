# shellcheck shell=bash
# Sourced by .ci/run: headless Chromium (and a Japanese font, so the screenshot shows 日本語
# instead of empty boxes) for the report screenshot test in tests/report/test_html.py.
# Debian packages, installed quietly, only when missing. With CI set, that test fails rather
# than skips when /usr/bin/chromium is absent.
_migrate_ci_packages=()
[ -x /usr/bin/chromium ] || _migrate_ci_packages+=(chromium)
[ -e /usr/share/fonts/opentype/ipafont-gothic/ipag.ttf ] || _migrate_ci_packages+=(fonts-ipafont-gothic)
if [ "${#_migrate_ci_packages[@]}" -gt 0 ]; then
    _migrate_ci_sudo=()
    [ "$(id -u)" -eq 0 ] || _migrate_ci_sudo=(sudo)
    "${_migrate_ci_sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    "${_migrate_ci_sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq "${_migrate_ci_packages[@]}" >/dev/null
    unset _migrate_ci_sudo
fi
unset _migrate_ci_packages
