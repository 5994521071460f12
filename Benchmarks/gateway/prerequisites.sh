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

# What the upstream of every gateway benchmark answers: a fixed chat completion.
completion='{"id":"chatcmpl-bench","object":"chat.completion","created":1730764800,"model":"echo-1","choices":[{"index":0,"message":{"role":"assistant","content":"Hello."},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":2,"total_tokens":14}}'

# Starts an nginx configured in $work/nginx-NAME.conf with the http-level SERVER BLOCK given (and
# an `upstream model` of 127.0.0.1:$upstream_port for proxies); stop_nginx stops them all.
nginx_conf() { # name, server block
  cat >"$work/nginx-$1.conf" <<CONF
worker_processes auto;
pid $work/nginx-$1.pid;
error_log $work/nginx-$1.error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/body-$1;
  proxy_temp_path $work/proxy-$1;
  fastcgi_temp_path $work/fastcgi-$1;
  uwsgi_temp_path $work/uwsgi-$1;
  scgi_temp_path $work/scgi-$1;
  keepalive_requests 1000000;
  upstream model { server 127.0.0.1:${upstream_port:-1}; keepalive 128; }
  $2
}
CONF
  "$nginx" -c "$work/nginx-$1.conf"
}

# The upstream: nginx answering $completion on 127.0.0.1:$upstream_port.
start_upstream() {
  nginx_conf upstream "server { listen 127.0.0.1:$upstream_port; location / { default_type application/json; return 200 '$completion'; } }"
}

stop_nginx() {
  for conf in "$work"/nginx-*.conf; do [ -f "$conf" ] && "$nginx" -c "$conf" -s stop 2>/dev/null || true; done
}
