#!/bin/sh
# Builds objbench-go offline against the nats.go in the system Go tree (GOPATH mode, the same
# tree /work/shared/peer-bench uses). The go.mod names the version for a module-mode build
# where the module cache or a proxy is available.
set -e
cd "$(dirname "$0")"
mkdir -p .build
GOCACHE="$PWD/.build/gocache" GO111MODULE=off GOPATH=/usr/share/gocode go build -o .build/objbench-go main.go
echo "$PWD/.build/objbench-go"
