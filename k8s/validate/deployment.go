package validate

import (
	"errors"
	"fmt"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Dapr sidecar injector annotations (Dapr 1.18; each is in its pkg/injector/annotations) the shop's pods rely on.
const (
	AnnEnabled             = "dapr.io/enabled"
	AnnAppID               = "dapr.io/app-id"
	AnnAppPort             = "dapr.io/app-port"
	AnnConfig              = "dapr.io/config"
	AnnLogAsJSON           = "dapr.io/log-as-json"
	AnnCPURequest          = "dapr.io/sidecar-cpu-request"
	AnnCPULimit            = "dapr.io/sidecar-cpu-limit"
	AnnMemoryRequest       = "dapr.io/sidecar-memory-request"
	AnnMemoryLimit         = "dapr.io/sidecar-memory-limit"
	AnnEnableAppHealth     = "dapr.io/enable-app-health-check"
	AnnAppHealthPath       = "dapr.io/app-health-check-path"
	AnnEnableMetrics       = "dapr.io/enable-metrics"
	AnnAppTokenSecret      = "dapr.io/app-token-secret"
	AnnAPITokenSecret      = "dapr.io/api-token-secret"
	AnnDisableBuiltinStore = "dapr.io/disable-builtin-k8s-secret-store"
	AnnSeccompProfile      = "dapr.io/sidecar-seccomp-profile-type"
	AnnSidecarImage        = "dapr.io/sidecar-image"
)

// requiredAnnotations are the pod template annotations every app Deployment
// carries, with the value each must have ("" = any non-empty value).
var requiredAnnotations = []struct{ key, value string }{
	{AnnEnabled, "true"},
	{AnnAppID, ""},
	{AnnAppPort, ""},
	{AnnConfig, ""},
	{AnnLogAsJSON, "true"},
	{AnnCPURequest, ""},
	{AnnCPULimit, ""},
	{AnnMemoryRequest, ""},
	{AnnMemoryLimit, ""},
	{AnnEnableAppHealth, "true"},
	{AnnAppHealthPath, "/healthz"},
	{AnnEnableMetrics, "true"},
	{AnnAppTokenSecret, ""},
	{AnnAPITokenSecret, ""},
	{AnnDisableBuiltinStore, "true"},
	{AnnSeccompProfile, "RuntimeDefault"},
	{AnnSidecarImage, ""},
}

// AppTokenEnv is the variable through which the app learns the token its
// sidecar sends (platform/service: APP_API_TOKEN); APITokenEnv the one it
// sends its sidecar (DAPR_API_TOKEN, read by the Dapr SDK).
const (
	AppTokenEnv = "APP_API_TOKEN"
	APITokenEnv = "DAPR_API_TOKEN"
)

// CheckDeployment checks one app Deployment on its own: the Dapr sidecar
// annotations, a single app container with its port, probes, resources and a
// non-root, read-only, unprivileged security context.
func CheckDeployment(d appsv1.Deployment) error {
	var errs []error
	fail := func(format string, a ...any) {
		errs = append(errs, fmt.Errorf("Deployment %s: %s", d.Name, fmt.Sprintf(format, a...)))
	}
	pod := d.Spec.Template.Spec
	ann := d.Spec.Template.Annotations

	for _, r := range requiredAnnotations {
		v, ok := ann[r.key]
		switch {
		case !ok || v == "":
			fail("pod template annotation %s is missing", r.key)
		case r.value != "" && v != r.value:
			fail("pod template annotation %s=%q, want %q", r.key, v, r.value)
		}
	}
	checkQuantities(fail, "sidecar cpu", ann[AnnCPURequest], ann[AnnCPULimit])
	checkQuantities(fail, "sidecar memory", ann[AnnMemoryRequest], ann[AnnMemoryLimit])

	if d.Spec.Replicas == nil || *d.Spec.Replicas < 2 {
		fail("replicas must be at least 2, so that one pod can go while the other serves")
	}
	if pod.ServiceAccountName == "" || pod.ServiceAccountName == "default" {
		fail("runs as the default service account; give the app its own")
	}
	if pod.HostNetwork || pod.HostPID || pod.HostIPC {
		fail("shares a host namespace")
	}
	if len(pod.Containers) != 1 {
		fail("has %d containers, want 1 (the sidecar is injected by Dapr)", len(pod.Containers))
		return errors.Join(errs...)
	}
	c := pod.Containers[0]
	if c.Image == "" {
		fail("container %s has no image", c.Name)
	}

	// The port: dapr.io/app-port is the container's port named http.
	appPort := -1
	for _, p := range c.Ports {
		if p.Name == "http" {
			appPort = int(p.ContainerPort)
		}
	}
	if appPort < 0 {
		fail("container %s has no port named http", c.Name)
	} else if ann[AnnAppPort] != "" && ann[AnnAppPort] != strconv.Itoa(appPort) {
		fail("%s=%q but the container's http port is %d", AnnAppPort, ann[AnnAppPort], appPort)
	}
	if v, ok := envValue(c, "APP_PORT"); !ok || v != strconv.Itoa(appPort) {
		fail("container %s: APP_PORT=%q, want the http port %d", c.Name, v, appPort)
	}

	checkProbe(fail, c, "readinessProbe", c.ReadinessProbe, "/readyz", appPort)
	checkProbe(fail, c, "livenessProbe", c.LivenessProbe, "/healthz", appPort)
	checkProbe(fail, c, "startupProbe", c.StartupProbe, "/healthz", appPort)

	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		req, okReq := c.Resources.Requests[r]
		lim, okLim := c.Resources.Limits[r]
		switch {
		case !okReq:
			fail("container %s has no %s request", c.Name, r)
		case !okLim:
			fail("container %s has no %s limit", c.Name, r)
		case req.Cmp(lim) > 0:
			fail("container %s: %s request %s is above its limit %s", c.Name, r, req.String(), lim.String())
		}
	}

	checkSecurity(fail, pod, c)

	// The app token: the sidecar sends the Secret's "token" (the injector
	// reads that key), and the app must expect the same one.
	for _, tok := range []struct{ ann, env string }{{AnnAppTokenSecret, AppTokenEnv}, {AnnAPITokenSecret, APITokenEnv}} {
		if secret := ann[tok.ann]; secret != "" {
			ref := envSecretRef(c, tok.env)
			if ref == nil || ref.Name != secret || ref.Key != "token" {
				fail("container %s: %s must come from Secret %s, key token (%s)", c.Name, tok.env, secret, tok.ann)
			}
		}
	}
	if ann[AnnAppTokenSecret] != "" && ann[AnnAppTokenSecret] == ann[AnnAPITokenSecret] {
		fail("%s and %s name the same Secret; each direction needs its own token", AnnAppTokenSecret, AnnAPITokenSecret)
	}
	// The app listens on 127.0.0.1 unless told otherwise, where the
	// kubelet's probes of the pod's address cannot reach it.
	if v, _ := envValue(c, "APP_LISTEN_ADDRESS"); v != "0.0.0.0" {
		fail("container %s: APP_LISTEN_ADDRESS=%q, want 0.0.0.0 (the kubelet probes the pod's address)", c.Name, v)
	}
	return errors.Join(errs...)
}

func checkQuantities(fail func(string, ...any), what, request, limit string) {
	req, err1 := resource.ParseQuantity(request)
	lim, err2 := resource.ParseQuantity(limit)
	if request == "" || limit == "" {
		return // reported as a missing annotation
	}
	if err1 != nil || err2 != nil {
		fail("%s request %q / limit %q: not quantities", what, request, limit)
		return
	}
	if req.Cmp(lim) > 0 {
		fail("%s request %s is above its limit %s", what, request, limit)
	}
}

func checkProbe(fail func(string, ...any), c corev1.Container, name string, p *corev1.Probe, path string, appPort int) {
	if p == nil {
		fail("container %s has no %s", c.Name, name)
		return
	}
	if p.HTTPGet == nil {
		fail("container %s: %s is not an HTTP GET of %s", c.Name, name, path)
		return
	}
	if p.HTTPGet.Path != path {
		fail("container %s: %s path %q, want %q", c.Name, name, p.HTTPGet.Path, path)
	}
	if port := resolvePort(c, p.HTTPGet.Port); port != appPort {
		fail("container %s: %s port %s is not the app's port %d", c.Name, name, p.HTTPGet.Port.String(), appPort)
	}
}

func resolvePort(c corev1.Container, p intstr.IntOrString) int {
	if p.Type == intstr.Int {
		return int(p.IntVal)
	}
	for _, cp := range c.Ports {
		if cp.Name == p.StrVal {
			return int(cp.ContainerPort)
		}
	}
	return -2
}

func checkSecurity(fail func(string, ...any), pod corev1.PodSpec, c corev1.Container) {
	psc := pod.SecurityContext
	if psc == nil {
		psc = &corev1.PodSecurityContext{}
	}
	sc := c.SecurityContext
	if sc == nil {
		fail("container %s has no securityContext", c.Name)
		return
	}
	nonRoot := psc.RunAsNonRoot
	if sc.RunAsNonRoot != nil {
		nonRoot = sc.RunAsNonRoot
	}
	if nonRoot == nil || !*nonRoot {
		fail("container %s may run as root: set runAsNonRoot: true", c.Name)
	}
	user := psc.RunAsUser
	if sc.RunAsUser != nil {
		user = sc.RunAsUser
	}
	if user != nil && *user == 0 {
		fail("container %s runs as user 0", c.Name)
	}
	if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		fail("container %s: readOnlyRootFilesystem must be true", c.Name)
	}
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		fail("container %s: allowPrivilegeEscalation must be false", c.Name)
	}
	if sc.Privileged != nil && *sc.Privileged {
		fail("container %s is privileged", c.Name)
	}
	dropsAll := false
	if sc.Capabilities != nil {
		for _, cap := range sc.Capabilities.Drop {
			dropsAll = dropsAll || cap == "ALL"
		}
		if len(sc.Capabilities.Add) > 0 {
			fail("container %s adds capabilities %v", c.Name, sc.Capabilities.Add)
		}
	}
	if !dropsAll {
		fail("container %s must drop ALL capabilities", c.Name)
	}
	seccomp := psc.SeccompProfile
	if sc.SeccompProfile != nil {
		seccomp = sc.SeccompProfile
	}
	if seccomp == nil || seccomp.Type != corev1.SeccompProfileTypeRuntimeDefault {
		fail("container %s: seccompProfile must be RuntimeDefault", c.Name)
	}
}

func envValue(c corev1.Container, name string) (string, bool) {
	for _, e := range c.Env {
		if e.Name == name && e.ValueFrom == nil {
			return e.Value, true
		}
	}
	return "", false
}

func envSecretRef(c corev1.Container, name string) *corev1.SecretKeySelector {
	for _, e := range c.Env {
		if e.Name == name && e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			return e.ValueFrom.SecretKeyRef
		}
	}
	return nil
}
