// Pull-consume benchmark with nats.go, the peer of `nats-bench jsfetch`.
//
// Usage: jsfetch-go URL N SIZE BATCH [memory|file]
//
// Creates a fresh stream, fills it with N messages of SIZE bytes (async publishes, at most 256
// acks pending), creates a durable pull consumer with explicit acks (max ack pending
// max(2*BATCH, 1000)), then fetches BATCH messages at a time and acks each, until all N arrived,
// and flushes. Prints one JSON line: the consume phase's rate, its client CPU user/sys seconds
// (cpu_user_consume, cpu_sys_consume; cpu_user/cpu_sys count the fill too) and peak RSS. Then
// deletes the stream. The same steps as `nats-bench jsfetch`, with nats.go's JetStream API
// (js.PullSubscribe, Fetch, Ack).
//
// Build offline against the Debian nats.go (1.22) the way peer-bench does:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o ../../../.build/jsfetch-go .
package main

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
)

func cpuTimes() (float64, float64) {
	var usage syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &usage)
	return float64(usage.Utime.Sec) + float64(usage.Utime.Usec)/1e6, float64(usage.Stime.Sec) + float64(usage.Stime.Usec)/1e6
}

func round3(v float64) float64 { return float64(int64(v*1000+0.5)) / 1000 }

func fail(what string, err error) {
	fmt.Fprintln(os.Stderr, what+":", err)
	os.Exit(2)
}

func main() {
	if len(os.Args) < 5 {
		fmt.Fprintln(os.Stderr, "usage: jsfetch-go URL N SIZE BATCH [memory|file]")
		os.Exit(2)
	}
	url := os.Args[1]
	n, err1 := strconv.Atoi(os.Args[2])
	size, err2 := strconv.Atoi(os.Args[3])
	batch, err3 := strconv.Atoi(os.Args[4])
	if err1 != nil || err2 != nil || err3 != nil || n < 1 || size < 0 || batch < 1 {
		fmt.Fprintln(os.Stderr, "N, SIZE and BATCH must be whole numbers")
		os.Exit(2)
	}
	storage := nats.MemoryStorage
	storageName := "memory"
	if len(os.Args) > 5 && os.Args[5] == "file" {
		storage = nats.FileStorage
		storageName = "file"
	}
	nc, err := nats.Connect(url)
	if err != nil {
		fail("connect", err)
	}
	defer nc.Close()
	js, err := nc.JetStream(nats.PublishAsyncMaxPending(256))
	if err != nil {
		fail("jetstream", err)
	}
	id := rand.New(rand.NewSource(time.Now().UnixNano())).Uint32()
	stream := fmt.Sprintf("BENCH_%d", id)
	subject := fmt.Sprintf("bench.fetch.%d", id)
	if _, err := js.AddStream(&nats.StreamConfig{Name: stream, Subjects: []string{subject}, Storage: storage}); err != nil {
		fail("create stream", err)
	}
	defer js.DeleteStream(stream)
	payload := make([]byte, size)
	for i := range payload {
		payload[i] = 'a'
	}
	for i := 0; i < n; i++ {
		if _, err := js.PublishAsync(subject, payload); err != nil {
			fail("publish", err)
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(60 * time.Second):
		fail("fill", fmt.Errorf("acks still pending after 60 s"))
	}
	maxAckPending := 2 * batch
	if maxAckPending < 1000 {
		maxAckPending = 1000
	}
	if _, err := js.AddConsumer(stream, &nats.ConsumerConfig{Durable: "bench", AckPolicy: nats.AckExplicitPolicy, MaxAckPending: maxAckPending}); err != nil {
		fail("create consumer", err)
	}
	sub, err := js.PullSubscribe("", "bench", nats.Bind(stream, "bench"))
	if err != nil {
		fail("pull subscribe", err)
	}
	userBefore, sysBefore := cpuTimes()
	start := time.Now()
	received := 0
	for received < n {
		want := batch
		if n-received < want {
			want = n - received
		}
		msgs, err := sub.Fetch(want, nats.MaxWait(5*time.Second))
		if err != nil {
			fail("fetch", err)
		}
		for _, msg := range msgs {
			if err := msg.Ack(); err != nil {
				fail("ack", err)
			}
		}
		received += len(msgs)
	}
	if err := nc.FlushTimeout(30 * time.Second); err != nil {
		fail("flush", err)
	}
	secs := time.Since(start).Seconds()
	userAfter, sysAfter := cpuTimes()
	var usage syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &usage)
	result := map[string]interface{}{
		"mode": "jsfetch", "client": "nats.go", "msgs": n, "size": size, "batch": batch, "storage": storageName,
		"received":         received,
		"secs":             float64(int64(secs*1e4)) / 1e4,
		"rate":             float64(int64(float64(received) / secs)),
		"cpu_user_consume": round3(userAfter - userBefore),
		"cpu_sys_consume":  round3(sysAfter - sysBefore),
		"cpu_user":         round3(userAfter),
		"cpu_sys":          round3(sysAfter),
		"maxrss_kb":        usage.Maxrss,
	}
	line, _ := json.Marshal(result)
	fmt.Println(string(line))
}
