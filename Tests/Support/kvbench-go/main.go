// Key-value latency benchmark with nats.go, the peer of `nats-bench kv`.
//
// Usage: kvbench-go URL N SIZE [memory|file]
//
// Creates a fresh bucket, warms up with 200 puts and gets, then times N sequential puts (keys
// k0..k99 in turn) and N sequential gets of those keys. Prints one JSON line with p50/p99 of
// each, the rate in put+get pairs per second, the client's CPU user/sys seconds and peak RSS,
// then deletes the bucket.
//
// Build offline against the Debian nats.go (1.22) the way peer-bench does:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o kvbench-go .
package main

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"sort"
	"strconv"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
)

func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	index := int(float64(len(sorted)-1) * p)
	return sorted[index]
}

func round1(v float64) float64 { return float64(int64(v*10+0.5)) / 10 }

func main() {
	if len(os.Args) < 4 {
		fmt.Fprintln(os.Stderr, "usage: kvbench-go URL N SIZE [memory|file]")
		os.Exit(2)
	}
	url := os.Args[1]
	n, err1 := strconv.Atoi(os.Args[2])
	size, err2 := strconv.Atoi(os.Args[3])
	if err1 != nil || err2 != nil || n < 1 || size < 0 {
		fmt.Fprintln(os.Stderr, "N and SIZE must be whole numbers")
		os.Exit(2)
	}
	storage := nats.MemoryStorage
	storageName := "memory"
	if len(os.Args) > 4 && os.Args[4] == "file" {
		storage = nats.FileStorage
		storageName = "file"
	}
	nc, err := nats.Connect(url)
	if err != nil {
		fmt.Fprintln(os.Stderr, "connect:", err)
		os.Exit(2)
	}
	defer nc.Close()
	js, err := nc.JetStream()
	if err != nil {
		fmt.Fprintln(os.Stderr, "jetstream:", err)
		os.Exit(2)
	}
	bucket := fmt.Sprintf("BENCHKV_%d", rand.New(rand.NewSource(time.Now().UnixNano())).Uint32())
	kv, err := js.CreateKeyValue(&nats.KeyValueConfig{Bucket: bucket, Storage: storage})
	if err != nil {
		fmt.Fprintln(os.Stderr, "create bucket:", err)
		os.Exit(2)
	}
	defer js.DeleteKeyValue(bucket)
	payload := make([]byte, size)
	for i := range payload {
		payload[i] = 'a'
	}
	keys := make([]string, 100)
	for i := range keys {
		keys[i] = "k" + strconv.Itoa(i)
	}
	for i := 0; i < 200; i++ {
		if _, err := kv.Put(keys[i%100], payload); err != nil {
			fmt.Fprintln(os.Stderr, "put:", err)
			os.Exit(2)
		}
		if _, err := kv.Get(keys[i%100]); err != nil {
			fmt.Fprintln(os.Stderr, "get:", err)
			os.Exit(2)
		}
	}
	puts := make([]float64, 0, n)
	gets := make([]float64, 0, n)
	start := time.Now()
	for i := 0; i < n; i++ {
		t0 := time.Now()
		if _, err := kv.Put(keys[i%100], payload); err != nil {
			fmt.Fprintln(os.Stderr, "put:", err)
			os.Exit(2)
		}
		puts = append(puts, float64(time.Since(t0).Nanoseconds())/1000)
	}
	for i := 0; i < n; i++ {
		t0 := time.Now()
		if _, err := kv.Get(keys[i%100]); err != nil {
			fmt.Fprintln(os.Stderr, "get:", err)
			os.Exit(2)
		}
		gets = append(gets, float64(time.Since(t0).Nanoseconds())/1000)
	}
	secs := time.Since(start).Seconds()
	sort.Float64s(puts)
	sort.Float64s(gets)
	var usage syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &usage)
	result := map[string]interface{}{
		"mode": "kv", "client": "nats.go", "msgs": n, "size": size, "storage": storageName,
		"secs":       float64(int64(secs*1e4)) / 1e4,
		"rate":       float64(int64(float64(n) / secs)), // put+get pairs per second, as nats-bench kv
		"p50_us":     round1(percentile(puts, 0.5)),
		"p99_us":     round1(percentile(puts, 0.99)),
		"put_p50_us": round1(percentile(puts, 0.5)),
		"put_p99_us": round1(percentile(puts, 0.99)),
		"get_p50_us": round1(percentile(gets, 0.5)),
		"get_p99_us": round1(percentile(gets, 0.99)),
		"cpu_user":   float64(usage.Utime.Sec) + float64(usage.Utime.Usec)/1e6,
		"cpu_sys":    float64(usage.Stime.Sec) + float64(usage.Stime.Usec)/1e6,
		"maxrss_kb":  usage.Maxrss,
	}
	line, _ := json.Marshal(result)
	fmt.Println(string(line))
}
