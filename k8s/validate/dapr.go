package validate

import (
	"encoding/json"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The Dapr resources below mirror the schema of Dapr 1.18's custom
// resources (unchanged since 1.14 for the fields used here)
// (github.com/dapr/dapr/pkg/apis/*/v1alpha1): the same JSON field names, so
// that strict decoding rejects a field Dapr would not know. They are copied
// as far as this project may use them; a field Dapr has and these types lack
// fails decoding too, and is then added here.

// DaprAPIVersion is the apiVersion of every Dapr resource the shop uses.
const DaprAPIVersion = "dapr.io/v1alpha1"

// Component is a Dapr component (kind Component).
type Component struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              ComponentSpec  `json:"spec"`
	Auth              *ComponentAuth `json:"auth,omitempty"`
	Scopes            []string       `json:"scopes,omitempty"`
}

// ComponentSpec is a component's type, version and metadata.
type ComponentSpec struct {
	Type         string         `json:"type"`
	Version      string         `json:"version"`
	IgnoreErrors bool           `json:"ignoreErrors,omitempty"`
	Metadata     []MetadataItem `json:"metadata"`
	InitTimeout  string         `json:"initTimeout,omitempty"`
}

// ComponentAuth names the secret store that resolves secretKeyRefs.
type ComponentAuth struct {
	SecretStore string `json:"secretStore"`
}

// MetadataItem is one name/value pair of a component: an inline value, a
// reference to a secret, or an environment variable of the sidecar.
type MetadataItem struct {
	Name         string          `json:"name"`
	Value        json.RawMessage `json:"value,omitempty"`
	SecretKeyRef *SecretKeyRef   `json:"secretKeyRef,omitempty"`
	EnvRef       string          `json:"envRef,omitempty"`
}

// SecretKeyRef points at a key of a secret (on Kubernetes: a Secret's data key).
type SecretKeyRef struct {
	Name string `json:"name"`
	Key  string `json:"key,omitempty"`
}

// HasValue reports whether the item carries an inline value.
func (m MetadataItem) HasValue() bool { return len(m.Value) > 0 && string(m.Value) != "null" }

// ValueString returns the inline value as text: a JSON string unquoted,
// anything else (a number, a boolean) as written.
func (m MetadataItem) ValueString() string {
	var s string
	if json.Unmarshal(m.Value, &s) == nil {
		return s
	}
	return string(m.Value)
}

// Metadata returns the component's item called name, if any.
func (c Component) Metadata(name string) (MetadataItem, bool) {
	for _, m := range c.Spec.Metadata {
		if m.Name == name {
			return m, true
		}
	}
	return MetadataItem{}, false
}

// Configuration is a Dapr Configuration (kind Configuration).
type Configuration struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              ConfigurationSpec `json:"spec"`
}

// ConfigurationSpec is the whole spec of a Dapr 1.18 Configuration.
type ConfigurationSpec struct {
	AppHTTPPipeline *PipelineSpec       `json:"appHttpPipeline,omitempty"`
	HTTPPipeline    *PipelineSpec       `json:"httpPipeline,omitempty"`
	Tracing         *TracingSpec        `json:"tracing,omitempty"`
	Metric          *MetricSpec         `json:"metric,omitempty"`
	Metrics         *MetricSpec         `json:"metrics,omitempty"`
	MTLS            *MTLSSpec           `json:"mtls,omitempty"`
	Secrets         *SecretsSpec        `json:"secrets,omitempty"`
	AccessControl   *AccessControlSpec  `json:"accessControl,omitempty"`
	NameResolution  *NameResolutionSpec `json:"nameResolution,omitempty"`
	Features        []FeatureSpec       `json:"features,omitempty"`
	API             *APISpec            `json:"api,omitempty"`
	Components      *ComponentsSpec     `json:"components,omitempty"`
	Logging         *LoggingSpec        `json:"logging,omitempty"`
	Wasm            *WasmSpec           `json:"wasm,omitempty"`
	Workflow        *WorkflowSpec       `json:"workflow,omitempty"`
}

// PipelineSpec is an HTTP middleware pipeline.
type PipelineSpec struct {
	Handlers []HandlerSpec `json:"handlers"`
}

// HandlerSpec names a middleware component of a pipeline.
type HandlerSpec struct {
	Name     string        `json:"name"`
	Type     string        `json:"type"`
	Version  string        `json:"version,omitempty"`
	Selector *SelectorSpec `json:"selector,omitempty"`
}

// SelectorSpec restricts a handler to requests whose fields match.
type SelectorSpec struct {
	Fields []SelectorField `json:"fields"`
}

// SelectorField is one field of a SelectorSpec.
type SelectorField struct {
	Field string `json:"field"`
	Value string `json:"value"`
}

// TracingSpec is the sidecar's tracing.
type TracingSpec struct {
	SamplingRate string      `json:"samplingRate"`
	Stdout       *bool       `json:"stdout,omitempty"`
	Zipkin       *ZipkinSpec `json:"zipkin,omitempty"`
	Otel         *OtelSpec   `json:"otel,omitempty"`
}

// ZipkinSpec is a Zipkin exporter.
type ZipkinSpec struct {
	EndpointAddress string `json:"endpointAddress"`
}

// OtelSpec is an OpenTelemetry exporter.
type OtelSpec struct {
	Protocol        string `json:"protocol"`
	EndpointAddress string `json:"endpointAddress"`
	IsSecure        *bool  `json:"isSecure"`
}

// MetricSpec is the sidecar's metrics.
type MetricSpec struct {
	Enabled                    *bool         `json:"enabled"`
	HTTP                       *MetricHTTP   `json:"http,omitempty"`
	Rules                      []MetricsRule `json:"rules,omitempty"`
	LatencyDistributionBuckets *[]int        `json:"latencyDistributionBuckets,omitempty"`
}

// MetricHTTP configures the HTTP metrics.
type MetricHTTP struct {
	IncreasedCardinality *bool    `json:"increasedCardinality,omitempty"`
	PathMatching         []string `json:"pathMatching,omitempty"`
	ExcludeVerbs         *bool    `json:"excludeVerbs,omitempty"`
}

// MetricsRule rewrites metric labels.
type MetricsRule struct {
	Name   string        `json:"name"`
	Labels []MetricLabel `json:"labels"`
}

// MetricLabel is a label of a MetricsRule.
type MetricLabel struct {
	Name  string            `json:"name"`
	Regex map[string]string `json:"regex"`
}

// MTLSSpec is the mutual TLS between sidecars.
type MTLSSpec struct {
	Enabled                 *bool           `json:"enabled"`
	WorkloadCertTTL         *string         `json:"workloadCertTTL,omitempty"`
	AllowedClockSkew        *string         `json:"allowedClockSkew,omitempty"`
	SentryAddress           string          `json:"sentryAddress,omitempty"`
	ControlPlaneTrustDomain string          `json:"controlPlaneTrustDomain,omitempty"`
	TokenValidators         []ValidatorSpec `json:"tokenValidators,omitempty"`
}

// ValidatorSpec is a Sentry token validator.
type ValidatorSpec struct {
	Name    string          `json:"name"`
	Options json.RawMessage `json:"options,omitempty"`
}

// SecretsSpec limits which secrets the app may read from each store.
type SecretsSpec struct {
	Scopes []SecretsScope `json:"scopes"`
}

// SecretsScope is the secret access of one store.
type SecretsScope struct {
	StoreName      string   `json:"storeName"`
	DefaultAccess  string   `json:"defaultAccess,omitempty"`
	AllowedSecrets []string `json:"allowedSecrets,omitempty"`
	DeniedSecrets  []string `json:"deniedSecrets,omitempty"`
}

// AccessControlSpec says which apps may invoke which operations.
type AccessControlSpec struct {
	DefaultAction string          `json:"defaultAction,omitempty"`
	TrustDomain   string          `json:"trustDomain,omitempty"`
	Policies      []AppPolicySpec `json:"policies,omitempty"`
}

// AppPolicySpec is the access of one calling app.
type AppPolicySpec struct {
	AppID         string               `json:"appId"`
	DefaultAction string               `json:"defaultAction,omitempty"`
	TrustDomain   string               `json:"trustDomain,omitempty"`
	Namespace     string               `json:"namespace,omitempty"`
	Operations    []AppOperationAction `json:"operations,omitempty"`
}

// AppOperationAction allows or denies an operation (a path) for some verbs.
type AppOperationAction struct {
	Name     string   `json:"name"`
	Action   string   `json:"action"`
	HTTPVerb []string `json:"httpVerb,omitempty"`
}

// NameResolutionSpec replaces the name resolution component.
type NameResolutionSpec struct {
	Component     string          `json:"component"`
	Version       string          `json:"version"`
	Configuration json.RawMessage `json:"configuration"`
}

// FeatureSpec switches a preview feature.
type FeatureSpec struct {
	Name    string `json:"name"`
	Enabled *bool  `json:"enabled"`
}

// APISpec allows or denies the sidecar's own APIs.
type APISpec struct {
	Allowed []APIAccessRule `json:"allowed,omitempty"`
	Denied  []APIAccessRule `json:"denied,omitempty"`
}

// APIAccessRule names one API of the sidecar.
type APIAccessRule struct {
	Name     string `json:"name"`
	Version  string `json:"version"`
	Protocol string `json:"protocol,omitempty"`
}

// ComponentsSpec denies component types.
type ComponentsSpec struct {
	Deny []string `json:"deny,omitempty"`
}

// LoggingSpec configures the sidecar's API logging.
type LoggingSpec struct {
	APILogging *APILoggingSpec `json:"apiLogging,omitempty"`
}

// APILoggingSpec configures the API log.
type APILoggingSpec struct {
	Enabled          *bool `json:"enabled,omitempty"`
	ObfuscateURLs    *bool `json:"obfuscateURLs,omitempty"`
	OmitHealthChecks *bool `json:"omitHealthChecks,omitempty"`
}

// WasmSpec configures WebAssembly components.
type WasmSpec struct {
	StrictSandbox bool `json:"strictSandbox,omitempty"`
}

// WorkflowSpec configures workflows.
type WorkflowSpec struct {
	MaxConcurrentWorkflowInvocations int32 `json:"maxConcurrentWorkflowInvocations,omitempty"`
	MaxConcurrentActivityInvocations int32 `json:"maxConcurrentActivityInvocations,omitempty"`
}

// Resiliency is a Dapr Resiliency resource: policies and the targets they
// apply to, in the sidecars of the apps in Scopes.
type Resiliency struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              ResiliencySpec `json:"spec"`
	Scopes            []string       `json:"scopes,omitempty"`
}

// ResiliencySpec holds the policies and targets.
type ResiliencySpec struct {
	Policies Policies `json:"policies"`
	Targets  Targets  `json:"targets"`
}

// Policies are named timeouts, retries and circuit breakers.
type Policies struct {
	Timeouts        map[string]string         `json:"timeouts,omitempty"`
	Retries         map[string]Retry          `json:"retries,omitempty"`
	CircuitBreakers map[string]CircuitBreaker `json:"circuitBreakers,omitempty"`
}

// Retry is a retry policy.
type Retry struct {
	Policy      string         `json:"policy,omitempty"`
	Duration    string         `json:"duration,omitempty"`
	MaxInterval string         `json:"maxInterval,omitempty"`
	MaxRetries  *int           `json:"maxRetries,omitempty"`
	Matching    *RetryMatching `json:"matching,omitempty"`
}

// RetryMatching limits the answers a retry policy retries to the codes
// listed ("429,500-503"); an empty list means every code.
type RetryMatching struct {
	HTTPStatusCodes string `json:"httpStatusCodes,omitempty"`
	GRPCStatusCodes string `json:"gRPCStatusCodes,omitempty"`
}

// CircuitBreaker is a circuit breaker policy.
type CircuitBreaker struct {
	MaxRequests int    `json:"maxRequests,omitempty"`
	Interval    string `json:"interval,omitempty"`
	Timeout     string `json:"timeout,omitempty"`
	Trip        string `json:"trip,omitempty"`
}

// Targets apply policies to apps, actors and components.
type Targets struct {
	Apps       map[string]EndpointPolicyNames  `json:"apps,omitempty"`
	Actors     map[string]ActorPolicyNames     `json:"actors,omitempty"`
	Components map[string]ComponentPolicyNames `json:"components,omitempty"`
}

// EndpointPolicyNames are the policies of calls to an app.
type EndpointPolicyNames struct {
	Timeout                 string `json:"timeout,omitempty"`
	Retry                   string `json:"retry,omitempty"`
	CircuitBreaker          string `json:"circuitBreaker,omitempty"`
	CircuitBreakerCacheSize int    `json:"circuitBreakerCacheSize,omitempty"`
}

// ActorPolicyNames are the policies of calls to an actor type.
type ActorPolicyNames struct {
	Timeout                 string `json:"timeout,omitempty"`
	Retry                   string `json:"retry,omitempty"`
	CircuitBreaker          string `json:"circuitBreaker,omitempty"`
	CircuitBreakerScope     string `json:"circuitBreakerScope,omitempty"`
	CircuitBreakerCacheSize int    `json:"circuitBreakerCacheSize,omitempty"`
}

// ComponentPolicyNames are the policies of a component, both ways: outbound
// (the app calls the component, e.g. publishes) and inbound (the component
// calls the app, e.g. delivers an event).
type ComponentPolicyNames struct {
	Inbound  PolicyNames `json:"inbound,omitempty"`
	Outbound PolicyNames `json:"outbound,omitempty"`
}

// PolicyNames names a timeout, retry and circuit breaker policy.
type PolicyNames struct {
	Timeout        string `json:"timeout,omitempty"`
	Retry          string `json:"retry,omitempty"`
	CircuitBreaker string `json:"circuitBreaker,omitempty"`
}
