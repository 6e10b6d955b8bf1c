package browser

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"
)

// A small W3C WebDriver client: enough of the protocol to drive Chromium
// through chromedriver (sessions, navigation, elements, keys, screenshots).

// elementKey is the key under which WebDriver names an element.
const elementKey = "element-6066-11e4-a52e-4f735466cecf"

// driver is a running chromedriver and one browser session.
type driver struct {
	base    string // chromedriver's URL
	session string
	cmd     *exec.Cmd
	http    *http.Client
}

// chromiumArgs start Chromium for a test: headless, with nothing that
// reaches the network on its own, and a profile of its own.
func chromiumArgs(profileDir string) []string {
	return []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + profileDir, "--window-size=1280,900",
	}
}

// startDriver starts chromedriver on a free port and opens a session of
// Chromium (the binaries $CHROMEDRIVER and $CHROMIUM, by default Debian's
// chromedriver and chromium on PATH).
func startDriver(ctx context.Context, profileDir, logFile string) (*driver, error) {
	chromedriver, err := exec.LookPath(envOr("CHROMEDRIVER", "chromedriver"))
	if err != nil {
		return nil, fmt.Errorf("chromedriver not found (%w): run scripts/setup.sh, which installs Debian's chromium and chromium-driver", err)
	}
	chromium, err := exec.LookPath(envOr("CHROMIUM", "chromium"))
	if err != nil {
		return nil, fmt.Errorf("chromium not found (%w): run scripts/setup.sh, which installs Debian's chromium and chromium-driver", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	log, err := os.Create(logFile)
	if err != nil {
		return nil, err
	}
	defer log.Close()
	cmd := exec.Command(chromedriver, "--port="+strconv.Itoa(port), "--allowed-ips=127.0.0.1")
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start chromedriver: %w", err)
	}
	d := &driver{base: fmt.Sprintf("http://127.0.0.1:%d", port), cmd: cmd, http: &http.Client{Timeout: 60 * time.Second}}
	// chromedriver answers /status once it listens.
	deadline := time.Now().Add(30 * time.Second)
	for {
		var status struct {
			Ready bool `json:"ready"`
		}
		if err := d.call(ctx, http.MethodGet, "/status", nil, &status); err == nil && status.Ready {
			break
		}
		if time.Now().After(deadline) {
			d.quit()
			return nil, fmt.Errorf("chromedriver did not become ready (log: %s)", logFile)
		}
		select {
		case <-ctx.Done():
			d.quit()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	caps := map[string]any{"capabilities": map[string]any{"alwaysMatch": map[string]any{
		"browserName":        "chrome",
		"goog:chromeOptions": map[string]any{"binary": chromium, "args": chromiumArgs(profileDir)},
	}}}
	var created struct {
		SessionID string `json:"sessionId"`
	}
	if err := d.call(ctx, http.MethodPost, "/session", caps, &created); err != nil {
		d.quit()
		return nil, fmt.Errorf("new session: %w", err)
	}
	d.session = "/session/" + created.SessionID
	return d, nil
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// call sends one WebDriver command and decodes its "value" into out.
func (d *driver) call(ctx context.Context, method, path string, body, out any) error {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, d.base+path, r)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := d.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	var env struct {
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(data, &env); err != nil {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, data)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error   string `json:"error"`
			Message string `json:"message"`
		}
		_ = json.Unmarshal(env.Value, &e)
		return &driverError{Code: e.Error, Message: e.Message}
	}
	if out != nil {
		return json.Unmarshal(env.Value, out)
	}
	return nil
}

// driverError is a WebDriver error answer ("no such element", ...).
type driverError struct{ Code, Message string }

func (e *driverError) Error() string { return e.Code + ": " + e.Message }

// quit ends the session and chromedriver (and with it Chromium).
func (d *driver) quit() {
	if d.session != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_ = d.call(ctx, http.MethodDelete, d.session, nil, nil)
		cancel()
	}
	_ = syscall.Kill(-d.cmd.Process.Pid, syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = d.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
}

func (d *driver) navigate(ctx context.Context, url string) error {
	return d.call(ctx, http.MethodPost, d.session+"/url", map[string]string{"url": url}, nil)
}

func (d *driver) currentURL(ctx context.Context) (string, error) {
	var u string
	err := d.call(ctx, http.MethodGet, d.session+"/url", nil, &u)
	return u, err
}

func (d *driver) setWindowSize(ctx context.Context, width, height int) error {
	return d.call(ctx, http.MethodPost, d.session+"/window/rect", map[string]int{"width": width, "height": height}, nil)
}

// find returns the first element matching the CSS selector.
func (d *driver) find(ctx context.Context, css string) (string, error) {
	var el map[string]string
	if err := d.call(ctx, http.MethodPost, d.session+"/element", map[string]string{"using": "css selector", "value": css}, &el); err != nil {
		return "", fmt.Errorf("find %s: %w", css, err)
	}
	return el[elementKey], nil
}

// count is how many elements match the CSS selector.
func (d *driver) count(ctx context.Context, css string) (int, error) {
	var els []map[string]string
	err := d.call(ctx, http.MethodPost, d.session+"/elements", map[string]string{"using": "css selector", "value": css}, &els)
	return len(els), err
}

func (d *driver) click(ctx context.Context, css string) error {
	id, err := d.find(ctx, css)
	if err != nil {
		return err
	}
	return d.call(ctx, http.MethodPost, d.session+"/element/"+id+"/click", map[string]any{}, nil)
}

// typeInto clears the field and types text into it, as keys.
func (d *driver) typeInto(ctx context.Context, css, text string) error {
	id, err := d.find(ctx, css)
	if err != nil {
		return err
	}
	if err := d.call(ctx, http.MethodPost, d.session+"/element/"+id+"/clear", map[string]any{}, nil); err != nil {
		return err
	}
	return d.call(ctx, http.MethodPost, d.session+"/element/"+id+"/value", map[string]string{"text": text}, nil)
}

// keyEnter is WebDriver's Enter key.
const keyEnter = "\ue007"

func (d *driver) text(ctx context.Context, css string) (string, error) {
	id, err := d.find(ctx, css)
	if err != nil {
		return "", err
	}
	var s string
	err = d.call(ctx, http.MethodGet, d.session+"/element/"+id+"/text", nil, &s)
	return s, err
}

func (d *driver) attribute(ctx context.Context, css, name string) (string, error) {
	id, err := d.find(ctx, css)
	if err != nil {
		return "", err
	}
	var s *string
	if err := d.call(ctx, http.MethodGet, d.session+"/element/"+id+"/attribute/"+name, nil, &s); err != nil {
		return "", err
	}
	if s == nil {
		return "", nil
	}
	return *s, nil
}

// screenshot saves a PNG of the page as it is now.
func (d *driver) screenshot(ctx context.Context, file string) error {
	var b64 string
	if err := d.call(ctx, http.MethodGet, d.session+"/screenshot", nil, &b64); err != nil {
		return err
	}
	png, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return err
	}
	return os.WriteFile(file, png, 0o644)
}
