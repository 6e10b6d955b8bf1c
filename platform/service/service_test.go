package service

import (
	"strings"
	"testing"
	"time"

	"shop/platform/config"
)

func env(m map[string]string) *config.Source {
	return config.New(func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	})
}

func TestLoadSettings(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want Settings
	}{
		{"defaults", nil, Settings{Port: 8081, ListenAddress: "127.0.0.1", DaprHost: "127.0.0.1", DaprHTTPPort: 3500, DaprGRPCPort: 50001,
			SidecarWait: time.Minute, ShutdownDrain: 10 * time.Second, PubSub: "pubsub", MetricsAddr: "127.0.0.1:9081"}},
		{"from env", map[string]string{"APP_PORT": "9000", "DAPR_HTTP_PORT": "3600", "DAPR_GRPC_PORT": "50002",
			"DAPR_HOST": "10.0.0.1", "SIDECAR_WAIT": "5s", "SHUTDOWN_DRAIN": "1s", "APP_API_TOKEN": "t", "DAPR_API_TOKEN": "d",
			"APP_LISTEN_ADDRESS": "0.0.0.0", "INSECURE_NO_API_TOKENS": "true", "PUBSUB": "kafka-pubsub",
			"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "METRICS_ADDR": "off"},
			Settings{Port: 9000, ListenAddress: "0.0.0.0", DaprHost: "10.0.0.1", DaprHTTPPort: 3600, DaprGRPCPort: 50002,
				SidecarWait: 5 * time.Second, ShutdownDrain: time.Second, AppAPIToken: "t", DaprAPIToken: "d", PubSub: "kafka-pubsub", InsecureNoTokens: true,
				OTLPEndpoint: "http://127.0.0.1:4318"}},
	}
	for _, tt := range tests {
		src := env(tt.env)
		got := LoadSettings(src, 8081)
		if err := src.Err(); err != nil {
			t.Errorf("%s: Err() = %v", tt.name, err)
		}
		if got != tt.want {
			t.Errorf("%s: LoadSettings() = %+v; want %+v", tt.name, got, tt.want)
		}
	}
	s := LoadSettings(env(nil), 8081)
	if s.DaprHTTPAddr() != "127.0.0.1:3500" || s.DaprGRPCAddr() != "127.0.0.1:50001" {
		t.Errorf("addresses = %s, %s; want 127.0.0.1:3500, 127.0.0.1:50001", s.DaprHTTPAddr(), s.DaprGRPCAddr())
	}
}

func TestLoadSettingsRejectsBadValues(t *testing.T) {
	src := env(map[string]string{"APP_PORT": "0", "DAPR_HTTP_PORT": "x", "SIDECAR_WAIT": "soon"})
	LoadSettings(src, 8081)
	err := src.Err()
	for _, key := range []string{"APP_PORT", "DAPR_HTTP_PORT", "SIDECAR_WAIT"} {
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("Err() = %v; want it to name %s", err, key)
		}
	}
}

func TestCheckTokens(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want error
	}{
		{map[string]string{"APP_API_TOKEN": "a", "DAPR_API_TOKEN": "d"}, nil},
		{map[string]string{"APP_API_TOKEN": "a"}, ErrNoTokens},
		{map[string]string{"DAPR_API_TOKEN": "d"}, ErrNoTokens},
		{nil, ErrNoTokens},
		{map[string]string{"INSECURE_NO_API_TOKENS": "true"}, nil},
		{map[string]string{"INSECURE_NO_API_TOKENS": "false"}, ErrNoTokens},
	}
	for _, tt := range tests {
		if got := LoadSettings(env(tt.env), 8081).CheckTokens(); got != tt.want {
			t.Errorf("CheckTokens(%v) = %v; want %v", tt.env, got, tt.want)
		}
	}
}
