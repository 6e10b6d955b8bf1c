package main

import (
	"errors"
	"slices"
	"testing"
)

func TestTranslate(t *testing.T) {
	loopback := []string{"--dapr-listen-addresses", "127.0.0.1", "--dapr-internal-grpc-listen-address", "127.0.0.1", "--metrics-listen-address", "127.0.0.1"}
	tests := []struct {
		name   string
		args   []string
		listen string
		want   []string
	}{
		{
			name: "what CLI 1.12 passes",
			args: []string{"--app-id", "ordersvc", "--placement-host-address", "localhost:50005", "--dapr-http-max-request-size", "-1", "--dapr-http-read-buffer-size", "-1", "--app-max-concurrency", "-1", "--log-as-json"},
			want: append([]string{"--app-id", "ordersvc", "--app-max-concurrency", "-1", "--log-as-json"}, loopback...),
		},
		{
			name: "sizes that were set",
			args: []string{"--dapr-http-max-request-size=8", "--dapr-http-read-buffer-size", "16"},
			want: append([]string{"--max-body-size", "8Mi", "--read-buffer-size", "16Ki"}, loopback...),
		},
		{
			name: "single-dash flags",
			args: []string{"-placement-host-address", "localhost:50005", "-app-id", "x"},
			want: append([]string{"-app-id", "x"}, loopback...),
		},
		{
			name: "listen address given",
			args: []string{"--dapr-listen-addresses", "0.0.0.0"},
			want: []string{"--dapr-listen-addresses", "0.0.0.0", "--dapr-internal-grpc-listen-address", "127.0.0.1", "--metrics-listen-address", "127.0.0.1"},
		},
		{
			name:   "opened deliberately",
			args:   []string{"--app-id", "x"},
			listen: "0.0.0.0",
			want:   []string{"--app-id", "x", "--dapr-listen-addresses", "0.0.0.0", "--dapr-internal-grpc-listen-address", "0.0.0.0", "--metrics-listen-address", "0.0.0.0"},
		},
	}
	for _, tt := range tests {
		if got := Translate(tt.args, tt.listen); !slices.Equal(got, tt.want) {
			t.Errorf("%s: Translate(%q) = %q; want %q", tt.name, tt.args, got, tt.want)
		}
	}
}

func TestRealDaprd(t *testing.T) {
	got, err := realDaprd(func(k string) string { return map[string]string{"DAPRD": "/opt/daprd"}[k] }, nil)
	if err != nil || got != "/opt/daprd" {
		t.Errorf("realDaprd with $DAPRD = %q, %v; want /opt/daprd", got, err)
	}
	_, err = realDaprd(func(string) string { return "" }, func() (string, error) { return t.TempDir(), nil })
	if err == nil {
		t.Error("realDaprd with no daprd installed: want an error")
	}
	_, err = realDaprd(func(string) string { return "" }, func() (string, error) { return "", errors.New("no home") })
	if err == nil {
		t.Error("realDaprd with no home: want an error")
	}
}
