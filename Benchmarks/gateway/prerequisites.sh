# Sourced by the gateway benchmarks after `root` is set: installs nginx, wrk and curl from
# Debian's packages when missing, and sets `nginx` and `binary` (KEYWARDEN_BIN, or a release
# build made here).
need=()
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx)
command -v wrk >/dev/null || need+=(wrk)
command -v curl >/dev/null || need+=(curl)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]} from Debian's packages" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2 && apt-get install -y -qq "${need[@]}" >&2
fi
nginx=$(command -v nginx || echo /usr/sbin/nginx)

binary=${KEYWARDEN_BIN:-}
if [ -z "$binary" ]; then
  echo "building keywarden (release)" >&2
  (cd "$root" && swift build -c release --product keywarden >&2)
  binary="$root/.build/release/keywarden"
fi
