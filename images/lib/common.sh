# shellcheck shell=bash
# Helpers shared by the images/build-*.sh scripts. Sourced, never run.

IMAGES_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=../paths.sh
. "$IMAGES_DIR/paths.sh"

# Each line carries the seconds since this build script started, so long steps show their cost.
log() { printf 'images: %s [%ds]\n' "$*" "$SECONDS" >&2; }
die() { printf 'images: error: %s\n' "$*" >&2; exit 1; }

_apt_updated=0
apt_update_once() {
  ((_apt_updated)) && return 0
  _apt_updated=1
  log "apt-get update"
  apt-get update -qq >&2 || die "apt-get update failed"
}

# need_pkgs PKG...: apt-get install the Debian packages that are not installed (root only).
need_pkgs() {
  local p missing=()
  for p in "$@"; do
    [[ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null)" == ii* ]] || missing+=("$p")
  done
  ((${#missing[@]} == 0)) && return 0
  ((EUID == 0)) || die "missing Debian packages, install them or run as root: ${missing[*]}"
  apt_update_once
  log "apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 \
    || die "apt-get install failed: ${missing[*]}"
}

# pkg_version PKG: the installed version, else the version apt would install ("" if unknown).
pkg_version() {
  local v
  v="$(dpkg-query -W -f='${db:Status-Abbrev}${Version}' "$1" 2>/dev/null || true)"
  if [[ "$v" == ii* ]]; then echo "${v:3}"; return; fi
  v="$(apt-cache policy "$1" 2>/dev/null | sed -n 's/^ *Candidate: //p')"
  if [[ -z "$v" || "$v" == "(none)" ]] && ((EUID == 0 && !_apt_updated)); then
    apt_update_once
    v="$(apt-cache policy "$1" 2>/dev/null | sed -n 's/^ *Candidate: //p')"
  fi
  [[ "$v" == "(none)" ]] && v=""
  echo "$v"
}

# inputs_hash FILE... [-- WORD...]: hash of the files' names and contents plus the words.
inputs_hash() {
  {
    while (($#)) && [[ "$1" != -- ]]; do
      printf '%s %s\n' "${1##*/}" "$(sha256sum <"$1" | cut -c1-64)"
      shift
    done
    (($#)) && shift
    printf '%s\n' "$@"
  } | sha256sum | cut -c1-64
}

# is_fresh DIR HASH OUTPUT...: the stamp in DIR matches HASH and every OUTPUT exists. Under
# images/build.sh --check (MINIVMM_IMAGES_CHECK=1) a stale image ends its script, status 3, unbuilt.
is_fresh() {
  local dir="$1" hash="$2" f
  shift 2
  [[ -f "$dir/.stamp" && "$(<"$dir/.stamp")" == "$hash" ]] || { stale; return 1; }
  for f in "$@"; do [[ -s "$dir/$f" ]] || { stale; return 1; }; done
}
stale() { [[ "${MINIVMM_IMAGES_CHECK:-}" != 1 ]] || exit 3; }

write_stamp() { echo "$2" >"$1/.stamp"; }

# install_outputs SRCDIR DESTDIR FILE...: move built files into DESTDIR. The old stamp goes
# first, so a half-updated DESTDIR is never taken as fresh.
install_outputs() {
  local src="$1" dest="$2" f
  shift 2
  mkdir -p "$dest"
  rm -f "$dest/.stamp"
  for f in "$@"; do mv -f "$src/$f" "$dest/$f"; done
}
