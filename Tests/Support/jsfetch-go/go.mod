module tributary/jsfetch-go

go 1.19

// Built offline in GOPATH mode against Debian's nats.go 1.22.1 (golang-github-nats-io-go-nats-dev):
//   GO111MODULE=off GOPATH=/usr/share/gocode go build -o ../../../.build/jsfetch-go .
// With network access, module mode works too: go get github.com/nats-io/nats.go@v1.22.1
require github.com/nats-io/nats.go v1.22.1
