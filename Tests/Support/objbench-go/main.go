// Object store benchmark with nats.go, the peer side of `nats-bench obj`.
//
// Usage: objbench-go URL SIZE ROUNDS STORAGE
//
//	Creates a fresh bucket (STORAGE memory or file), then ROUNDS times puts an object of SIZE
//	bytes made on the fly (1 MiB blocks, like nats-bench) and gets it back into io.Discard
//	(nats.go checks the digest), deleting it after each round. Prints one JSON line with the
//	same keys as `nats-bench obj`: put_mbps, get_mbps, cpu_put, cpu_get, maxrss_kb, ...
//
// Built against the nats.go in the local Go tree (Debian golang-github-nats-io-go-nats-dev,
// the one /work/shared/peer-bench uses), offline: see build.sh.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
)

// peakRSSKB returns VmHWM, the peak RSS of this process image.
func peakRSSKB() int64 {
	b, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			v, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(l, "VmHWM:"), "kB")), 10, 64)
			return v
		}
	}
	return -1
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Sec) + float64(ru.Utime.Usec)/1e6 + float64(ru.Stime.Sec) + float64(ru.Stime.Usec)/1e6
}

func die(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "objbench-go:", err)
		os.Exit(1)
	}
}

// generated yields size bytes in 1 MiB blocks whose first byte counts the mebibyte.
type generated struct {
	size, sent int
	block      []byte
	offset     int
}

func (g *generated) Read(p []byte) (int, error) {
	if g.sent >= g.size {
		return 0, io.EOF
	}
	if g.offset == len(g.block) {
		g.offset = 0
	}
	if g.offset == 0 {
		g.block[0] = byte(g.sent >> 20)
	}
	n := copy(p, g.block[g.offset:])
	if n > g.size-g.sent {
		n = g.size - g.sent
	}
	g.offset += n
	g.sent += n
	return n, nil
}

func main() {
	if len(os.Args) != 5 {
		fmt.Fprintln(os.Stderr, "usage: objbench-go URL SIZE ROUNDS memory|file")
		os.Exit(2)
	}
	url := os.Args[1]
	size, _ := strconv.Atoi(os.Args[2])
	rounds, _ := strconv.Atoi(os.Args[3])
	storage := nats.MemoryStorage
	if os.Args[4] == "file" {
		storage = nats.FileStorage
	}
	nc, err := nats.Connect(url)
	die(err)
	js, err := nc.JetStream()
	die(err)
	bucket := fmt.Sprintf("GOBENCHOBJ_%d", time.Now().UnixNano())
	obs, err := js.CreateObjectStore(&nats.ObjectStoreConfig{Bucket: bucket, Storage: storage})
	die(err)
	block := make([]byte, 1<<20)
	for i := range block {
		block[i] = byte((uint32(i) * 2654435761) >> 13)
	}
	var putTime, getTime time.Duration
	var putCPU, getCPU float64
	for r := 0; r < rounds; r++ {
		name := fmt.Sprintf("bench-%d", r)
		c0, t0 := cpuSeconds(), time.Now()
		info, err := obs.Put(&nats.ObjectMeta{Name: name}, &generated{size: size, block: block})
		die(err)
		t1, c1 := time.Now(), cpuSeconds()
		result, err := obs.Get(name)
		die(err)
		n, err := io.Copy(io.Discard, result)
		die(err)
		die(result.Close())
		t2, c2 := time.Now(), cpuSeconds()
		if n != int64(size) || info.Size != uint64(size) {
			die(fmt.Errorf("round %d: put %d bytes, got %d back", r, info.Size, n))
		}
		putTime += t1.Sub(t0)
		getTime += t2.Sub(t1)
		putCPU += c1 - c0
		getCPU += c2 - c1
		die(obs.Delete(name))
	}
	die(js.DeleteObjectStore(bucket))
	nc.Close()
	bytes := float64(rounds) * float64(size)
	res := map[string]interface{}{
		"client": "nats.go " + nats.Version, "mode": "obj", "msgs": rounds, "size": size, "storage": os.Args[4],
		"put_secs": putTime.Seconds(), "get_secs": getTime.Seconds(),
		"put_mbps": bytes / putTime.Seconds() / 1e6, "get_mbps": bytes / getTime.Seconds() / 1e6,
		"cpu_put": putCPU, "cpu_get": getCPU, "secs": (putTime + getTime).Seconds(),
		"rate": float64(rounds) / (putTime + getTime).Seconds(), "maxrss_kb": peakRSSKB(),
	}
	out, _ := json.Marshal(res)
	fmt.Println(string(out))
}
