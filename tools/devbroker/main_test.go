package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/sirupsen/logrus/hooks/test"
	"github.com/twmb/franz-go/pkg/kgo"
)

func TestParseArgs(t *testing.T) {
	daprd := []string{
		"--app-id", "devbroker", "--dapr-http-port", "9094", "--dapr-grpc-port", "50099",
		"--metrics-port", "9095", "--placement-host-address", "localhost:50005",
		"--config", "x", "--resources-path", "y", "--log-level", "info",
		"--app-protocol", "http", "--enable-app-health-check",
	}
	tests := []struct {
		name    string
		args    []string
		want    config
		wantErr string
	}{
		{name: "defaults", args: nil, want: config{kafkaAddr: "127.0.0.1:9092"}},
		{name: "kafka addr", args: []string{"--kafka-addr", "127.0.0.1:19092"}, want: config{kafkaAddr: "127.0.0.1:19092"}},
		{name: "kafka addr equals", args: []string{"--kafka-addr=:0"}, want: config{kafkaAddr: ":0"}},
		{name: "single dash", args: []string{"-kafka-addr", "127.0.0.1:1"}, want: config{kafkaAddr: "127.0.0.1:1"}},
		{
			name: "daprd command line",
			args: daprd,
			want: config{kafkaAddr: "127.0.0.1:9092", healthAddr: "127.0.0.1:9094", grpcAddr: "127.0.0.1:50099"},
		},
		{
			name: "daprd equals forms",
			args: []string{"--app-id=devbroker", "--dapr-http-port=9094", "--dapr-grpc-port=50099", "--log-level=info", "--enable-app-health-check=true"},
			want: config{kafkaAddr: "127.0.0.1:9092", healthAddr: "127.0.0.1:9094", grpcAddr: "127.0.0.1:50099"},
		},
		{
			name: "booleans between flags",
			args: []string{"--enable-app-health-check", "--enable-metrics", "--dapr-http-port", "9094", "--enable-mtls"},
			want: config{kafkaAddr: "127.0.0.1:9092", healthAddr: "127.0.0.1:9094"},
		},
		{
			name: "unknown flag value not mistaken for ours",
			args: []string{"--config", "--kafka-addr", "127.0.0.1:1", "--app-id", "kafka-addr"},
			want: config{kafkaAddr: "127.0.0.1:1"},
		},
		{
			name: "positional arguments and terminator ignored",
			args: []string{"stray", "--kafka-addr", "127.0.0.1:2", "--", "--dapr-http-port", "1"},
			want: config{kafkaAddr: "127.0.0.1:2"},
		},
		{
			name: "health addr wins over dapr http port",
			args: []string{"--dapr-http-port", "9094", "--health-addr", "127.0.0.1:0"},
			want: config{kafkaAddr: "127.0.0.1:9092", healthAddr: "127.0.0.1:0"},
		},
		{
			name: "dapr cli 1.12 command line with negative values",
			args: []string{
				"--app-id", "devbroker", "--app-port", "-1", "--dapr-http-port", "9094", "--dapr-grpc-port", "50099",
				"--profile-port", "-1", "--metrics-port", "9095", "--dapr-internal-grpc-port", "-1",
				"--config", "x", "--app-protocol", "http", "--log-level", "info", "--app-max-concurrency", "-1",
				"--placement-host-address", "localhost:50005", "--resources-path", "a", "--resources-path", "b",
				"--dapr-http-max-request-size", "-1", "--dapr-http-read-buffer-size", "-1", "--enable-api-logging",
				"--kafka-addr", "127.0.0.1:19092", "--log-as-json",
			},
			want: config{kafkaAddr: "127.0.0.1:19092", healthAddr: "127.0.0.1:9094", grpcAddr: "127.0.0.1:50099"},
		},
		{
			name:    "negative value of a known flag",
			args:    []string{"--dapr-http-port", "-1"},
			wantErr: "invalid port",
		},
		{name: "version", args: []string{"--version"}, want: config{kafkaAddr: "127.0.0.1:9092", version: true}},
		{name: "build info", args: []string{"--build-info"}, want: config{kafkaAddr: "127.0.0.1:9092", version: true}},
		{name: "version false", args: []string{"--version=false"}, want: config{kafkaAddr: "127.0.0.1:9092"}},
		{name: "version not bool", args: []string{"--version=maybe"}, wantErr: "flag --version"},
		{name: "missing value", args: []string{"--kafka-addr"}, wantErr: "flag --kafka-addr needs a value"},
		{name: "missing value before flag", args: []string{"--dapr-http-port", "--app-id", "x"}, wantErr: "flag --dapr-http-port needs a value"},
		{name: "empty kafka addr", args: []string{"--kafka-addr="}, wantErr: "flag --kafka-addr is empty"},
		{name: "bad port", args: []string{"--dapr-http-port", "http"}, wantErr: "invalid port"},
		{name: "port out of range", args: []string{"--dapr-http-port=70000"}, wantErr: "invalid port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseArgs(tt.args)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseArgs(%q) error = %v, want one containing %q", tt.args, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseArgs(%q): %v", tt.args, err)
			}
			if got != tt.want {
				t.Errorf("parseArgs(%q) = %+v, want %+v", tt.args, got, tt.want)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	log, _ := test.NewNullLogger()
	var out bytes.Buffer
	log.SetOutput(&out)
	if err := run(context.Background(), []string{"--version", "--app-id", "x"}, log); err != nil {
		t.Fatalf("run --version: %v", err)
	}
	if !strings.HasPrefix(out.String(), "devbroker (kfake") {
		t.Errorf("version output = %q", out.String())
	}
}

func TestRunServesKafkaAndHealth(t *testing.T) {
	log, hook := test.NewNullLogger()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{
			"--app-id", "devbroker", "--kafka-addr", "127.0.0.1:0", "--health-addr=127.0.0.1:0",
			"--enable-app-health-check", "--log-level", "info",
		}, log)
	}()

	listening := waitForEntry(t, hook, done, "devbroker listening")
	kafkaAddr, _ := listening.Data["kafka_addr"].(string)
	healthAddr, _ := listening.Data["health_addr"].(string)
	if kafkaAddr == "" || healthAddr == "" {
		t.Fatalf("listening line has no addresses: %v", listening.Data)
	}

	checkHealth(t, healthAddr)
	produceAndConsume(t, kafkaAddr)

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run returned %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after cancel")
	}
	for _, addr := range []string{kafkaAddr, healthAddr} {
		if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			conn.Close()
			t.Errorf("%s still accepts connections after shutdown", addr)
		}
	}
	if last := hook.LastEntry(); last == nil || last.Message != "devbroker shutting down" {
		t.Errorf("last log entry = %v, want the shutdown line", last)
	}
}

func TestRunFailsOnBusyPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	log, _ := test.NewNullLogger()
	err = run(context.Background(), []string{"--kafka-addr", ln.Addr().String()}, log)
	if err == nil || !strings.Contains(err.Error(), "listen for kafka") {
		t.Fatalf("run on a busy port: %v, want a listen error", err)
	}
}

// waitForEntry polls the hook until a log entry with msg appears, failing if
// run returns first or the deadline passes.
func waitForEntry(t *testing.T, hook *test.Hook, done <-chan error, msg string) *logrus.Entry {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, e := range hook.AllEntries() {
			if e.Message == msg {
				return e
			}
		}
		select {
		case err := <-done:
			t.Fatalf("run returned early: %v", err)
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatalf("no %q log line before the deadline", msg)
	return nil
}

func checkHealth(t *testing.T, addr string) {
	t.Helper()
	for path, want := range map[string]int{"/v1.0/healthz": http.StatusNoContent, "/other": http.StatusNotFound} {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s = %d, want %d", path, resp.StatusCode, want)
		}
	}
}

// produceAndConsume writes a record to a topic that does not exist yet and
// reads it back as a member of a consumer group.
func produceAndConsume(t *testing.T, addr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	const topic, group = "devbroker-test-orders", "devbroker-test-group"

	producer, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatalf("new producer: %v", err)
	}
	defer producer.Close()
	rec := &kgo.Record{Topic: topic, Key: []byte("o1"), Value: []byte(`{"id":"o1"}`)}
	if err := producer.ProduceSync(ctx, rec).FirstErr(); err != nil {
		t.Fatalf("produce to a new topic: %v", err)
	}

	consumer, err := kgo.NewClient(
		kgo.SeedBrokers(addr),
		kgo.ConsumerGroup(group),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.DisableAutoCommit(),
	)
	if err != nil {
		t.Fatalf("new consumer: %v", err)
	}
	defer consumer.Close()
	for {
		fetches := consumer.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("no record consumed: %v", err)
		}
		for _, fe := range fetches.Errors() {
			if !errors.Is(fe.Err, context.DeadlineExceeded) {
				t.Fatalf("fetch %s/%d: %v", fe.Topic, fe.Partition, fe.Err)
			}
		}
		recs := fetches.Records()
		if len(recs) == 0 {
			continue
		}
		if got := string(recs[0].Value); got != string(rec.Value) {
			t.Fatalf("consumed %q, want %q", got, rec.Value)
		}
		if err := consumer.CommitRecords(ctx, recs...); err != nil {
			t.Fatalf("commit in group %s: %v", group, err)
		}
		return
	}
}
