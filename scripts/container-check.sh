#!/usr/bin/env bash
# Build the voiceclone image without a Docker daemon or registry, start the service inside
# it and walk the original curl flow (upload a voice, synthesize "안녕하세요", stream the
# result) against it; report image size and cold-start time.
#
# The base image is made here: `debootstrap --variant=minbase bookworm` from this machine's
# Debian mirror, imported as the Dockerfile's FROM (debian:bookworm-slim). buildah builds
# and runs with chroot isolation and the host network. Run as root.
#   scripts/container-check.sh [REFERENCE.wav]
set -euo pipefail
cd "$(dirname "$0")/.."

BASE_IMAGE=docker.io/library/debian:bookworm-slim
IMAGE=${IMAGE:-localhost/voiceclone:check}
PORT=${PORT:-18080}
BASE_URL="http://127.0.0.1:$PORT"
REFERENCE=${1:-${VOICECLONE_HOME:-$HOME/.local/share/voiceclone}/refvoices/en_harold.wav}
HOST_CA=/etc/ssl/certs/ca-certificates.crt
WORK=$(mktemp -d)
container=""

step() { printf '\n== %s\n' "$*"; }
cleanup() {
    pkill -f "voiceclone serve --host 127.0.0.1 --port $PORT" 2>/dev/null || true
    [ -n "$container" ] && buildah rm "$container" >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT

need_tools() {
    local missing=()
    for tool in buildah podman debootstrap curl; do
        command -v "$tool" >/dev/null || missing+=("$tool")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        step "installing ${missing[*]}"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
    fi
}

debian_mirror() {
    local mirror
    mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
    [ -n "$mirror" ] || mirror=$(awk '/^deb / {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
    echo "${mirror:-http://deb.debian.org/debian}"
}

make_base_image() {
    if podman image exists "$BASE_IMAGE"; then
        echo "$BASE_IMAGE is already here"
        return
    fi
    local root="$WORK/rootfs" mirror
    mirror=$(debian_mirror)
    step "debootstrap --variant=minbase bookworm from $mirror"
    debootstrap --variant=minbase bookworm "$root" "$mirror" >"$WORK/debootstrap.log" 2>&1 \
        || { tail -20 "$WORK/debootstrap.log"; exit 1; }
    rm -rf "$root/var/cache/apt/archives/"*.deb "$root/var/lib/apt/lists/"*
    tar -C "$root" -c . | podman import - "$BASE_IMAGE" >/dev/null
    echo "imported as $BASE_IMAGE"
}

build_image() {
    step "buildah bud (chroot isolation, host network)"
    local started=$SECONDS
    buildah bud --isolation chroot --network host --pull=never --format docker --layers \
        --volume "$HOST_CA:/run/host-ca.crt:ro" --build-arg PIP_CERT=/run/host-ca.crt \
        -t "$IMAGE" . >"$WORK/build.log" 2>&1 || { tail -40 "$WORK/build.log"; exit 1; }
    echo "built $IMAGE in $((SECONDS - started)) s"
    podman image inspect "$IMAGE" --format \
        'size: {{.Size}} bytes; user: {{.Config.User}}; cmd: {{.Config.Cmd}}; healthcheck: {{.HealthCheck.Test}}' \
        2>/dev/null || podman image inspect "$IMAGE" --format 'size: {{.Size}} bytes'
    podman image ls "$IMAGE" --format 'image size: {{.Size}}'
}

in_container() {
    buildah run --isolation chroot --network host --user voiceclone "$container" -- "$@"
}

start_service() {
    step "cold start"
    container=$(buildah from --pull=never "$IMAGE")
    local started
    started=$(date +%s.%N)
    in_container voiceclone serve --host 127.0.0.1 --port "$PORT" >"$WORK/serve.log" 2>&1 &
    until curl -fsS "$BASE_URL/readyz" >/dev/null 2>&1; do
        if ! pgrep -f "voiceclone serve --host 127.0.0.1 --port $PORT" >/dev/null; then
            tail -30 "$WORK/serve.log"
            exit 1
        fi
        sleep 0.2
    done
    python3 -c "import time; print(f'ready (GET /readyz 200) {time.time() - $started:.1f} s after start')"
    curl -fsS "$BASE_URL/readyz"
    echo
    echo "first log line: $(head -1 "$WORK/serve.log" | cut -c1-200)"
}

curl_flow() {
    step "the original curl flow"
    [ -f "$REFERENCE" ] || {
        echo "no reference recording at $REFERENCE; give one as the first argument"
        exit 1
    }
    local key upload blob voice synth job stream
    key=$(in_container voiceclone keys create --owner alice | tail -1)
    upload=$(curl -fsS -H "Authorization: Bearer $key" -F user_id=alice -F consent=true \
        -F "file=@$REFERENCE" "$BASE_URL/upload-voice")
    echo "POST /upload-voice -> $upload" | cut -c1-300
    blob=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["blob"])' <<<"$upload")
    synth=$(curl -fsS -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
        -d "{\"user_id\":\"alice\",\"text\":\"안녕하세요\",\"input_voice_gcs\":\"$blob\"}" \
        "$BASE_URL/synthesize")
    echo "POST /synthesize -> $synth" | cut -c1-300
    job=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["job"])' <<<"$synth")
    stream=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["proxy_stream_url"])' <<<"$synth")
    for _ in $(seq 300); do
        status=$(curl -fsS -H "Authorization: Bearer $key" "$BASE_URL/v1/jobs/$job" |
            python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])')
        [ "$status" = succeeded ] || [ "$status" = failed ] && break
        sleep 0.2
    done
    echo "job $job: $status"
    [ "$status" = succeeded ] || exit 1
    curl -fsS -o "$WORK/out.wav" "$BASE_URL$stream"
    python3 - "$WORK/out.wav" <<'EOF'
import sys, wave
with wave.open(sys.argv[1]) as audio:
    seconds = audio.getnframes() / audio.getframerate()
    print(f"GET proxy_stream_url (no header) -> WAV, {audio.getframerate()} Hz, {seconds:.2f} s")
EOF
    local range
    range=$(curl -sS -o /dev/null -w '%{http_code} %{size_download}' -H 'Range: bytes=0-99' \
        "$BASE_URL$stream")
    echo "Range: bytes=0-99 -> $range"
    in_container voiceclone worker --help >"$WORK/worker-help.txt" 2>&1
    echo "worker entry point: $(grep -m1 -o 'Run synthesis jobs[^.]*' "$WORK/worker-help.txt")"
}

need_tools
make_base_image
build_image
start_service
curl_flow
step "container check passed"
