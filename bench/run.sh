#!/usr/bin/env bash
# Load benchmark: Carnet's pages against Nginx serving the same bytes from disk.
#
#   bench/run.sh [POSTS] [COMMENTS]        (default 1000 10000)
#
# Builds the release binary, generates a dataset, imports it into a fresh data
# folder, starts `carnet serve`, drives it with wrk (-t2 -c64 -d10s), then serves
# the saved `/`, post-page, feed and sitemap bodies with nginx under the same
# load, and prints one table. Installs wrk and nginx-light (Debian) if missing.
# Stops everything it started, whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."
POSTS=${1:-1000}
COMMENTS=${2:-10000}
DURATION=${BENCH_DURATION:-10s}
PORT=${BENCH_PORT:-18080}
NGINX_PORT=${BENCH_NGINX_PORT:-18081}
WORK=$(mktemp -d /tmp/carnet-bench.XXXXXX)
PIDS=()

cleanup() {
  for pid in "${PIDS[@]:-}"; do kill "$pid" 2>/dev/null || true; done
  if [ -f "$WORK/nginx/nginx.pid" ]; then kill "$(cat "$WORK/nginx/nginx.pid")" 2>/dev/null || true; fi
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

need() {
  command -v "$1" >/dev/null 2>&1 && return
  echo "installing $2…" >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2") >/dev/null
}
need wrk wrk
need nginx nginx-light

echo "building the release binary…" >&2
cargo build --release --quiet --bin carnet --example gen_dataset
BIN=$PWD/target/release/carnet

echo "generating $POSTS posts / $COMMENTS comments…" >&2
./target/release/examples/gen_dataset --posts "$POSTS" --comments "$COMMENTS" --seed 1 > "$WORK/site.json"
cat > "$WORK/Rocket.toml" <<TOML
[release]
data_dir = "$WORK/data"
port = $PORT
log_level = "off"
TOML
export CARNET_CONFIG="$WORK/Rocket.toml" CARNET_PROFILE=release

start=$(date +%s%N)
"$BIN" import "$WORK/site.json" >/dev/null
import_ms=$(( ($(date +%s%N) - start) / 1000000 ))

start=$(date +%s%N)
"$BIN" serve > "$WORK/serve.log" 2>&1 &
PIDS+=($!)
CARNET_PID=$!
until curl -sf -o /dev/null "http://127.0.0.1:$PORT/"; do sleep 0.005; done
cold_ms=$(( ($(date +%s%N) - start) / 1000000 ))
sleep 1
rss_idle=$(( $(ps -o rss= -p "$CARNET_PID") / 1024 ))

# The routes of the issue: deep page, busiest post, largest tag, a common word.
BUSIEST=/posts/post-0
TAG=/tags/rust
declare -a ROUTES=("/" "/?page=50" "$BUSIEST" "$TAG" "/feed.xml" "/search?q=garden" "/sitemap.xml")

run_wrk() { # url → "req/s p50 p99 non2xx"
  local out
  out=$(wrk -t2 -c64 -d"$DURATION" --latency "$1" 2>&1)
  local rps p50 p99 non2xx
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
  echo "$rps ${p50:-?} ${p99:-?} ${non2xx:-0}"
}

declare -A RPS
printf '\n%-22s %12s %10s %10s %8s\n' "route" "req/s" "p50" "p99" "non-2xx"
for route in "${ROUTES[@]}"; do
  read -r rps p50 p99 bad < <(run_wrk "http://127.0.0.1:$PORT$route")
  RPS[$route]=$rps
  printf '%-22s %12s %10s %10s %8s\n' "carnet $route" "$rps" "$p50" "$p99" "$bad"
done
rss_loaded=$(( $(ps -o rss= -p "$CARNET_PID") / 1024 ))

# The same bytes, served statically by nginx.
mkdir -p "$WORK/nginx/www/posts"
curl -sf "http://127.0.0.1:$PORT/" -o "$WORK/nginx/www/index.html"
curl -sf "http://127.0.0.1:$PORT$BUSIEST" -o "$WORK/nginx/www/posts/post.html"
# Feeds and the sitemap are ten times the size of `/`: compare them with the
# same bytes too, to tell body size from Carnet's own cost.
curl -sf "http://127.0.0.1:$PORT/feed.xml" -o "$WORK/nginx/www/feed.xml"
curl -sf "http://127.0.0.1:$PORT/sitemap.xml" -o "$WORK/nginx/www/sitemap.xml"
cat > "$WORK/nginx/nginx.conf" <<NGINX
worker_processes 2;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  default_type text/html;
  client_body_temp_path $WORK/nginx;
  proxy_temp_path $WORK/nginx;
  fastcgi_temp_path $WORK/nginx;
  uwsgi_temp_path $WORK/nginx;
  scgi_temp_path $WORK/nginx;
  server { listen 127.0.0.1:$NGINX_PORT; root $WORK/nginx/www; }
}
NGINX
# nginx workers run as an unprivileged user: let them read the files.
chmod 755 "$WORK" "$WORK/nginx" && chmod -R a+rX "$WORK/nginx/www"
nginx -c "$WORK/nginx/nginx.conf"
for _ in $(seq 1 100); do curl -sf -o /dev/null "http://127.0.0.1:$NGINX_PORT/index.html" && break; sleep 0.05; done
for pair in "/:/index.html" "$BUSIEST:/posts/post.html" "/feed.xml:/feed.xml" "/sitemap.xml:/sitemap.xml"; do
  route=${pair%%:*}; file=${pair#*:}
  read -r rps p50 p99 bad < <(run_wrk "http://127.0.0.1:$NGINX_PORT$file")
  printf '%-22s %12s %10s %10s %8s\n' "nginx $file" "$rps" "$p50" "$p99" "$bad"
  ratio=$(awk -v a="${RPS[$route]}" -v b="$rps" 'BEGIN { if (b > 0) printf "%.0f%%", 100 * a / b; else print "?" }')
  printf '%-22s %12s\n' "  carnet/nginx $route" "$ratio"
done

printf '\n%-22s %12s\n' "import" "${import_ms} ms"
printf '%-22s %12s\n' "cold start" "${cold_ms} ms"
printf '%-22s %12s\n' "RSS idle" "${rss_idle} MiB"
printf '%-22s %12s\n' "RSS after load" "${rss_loaded} MiB"
echo "dataset: $POSTS posts, $COMMENTS comments; machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB" 
