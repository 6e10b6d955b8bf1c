package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// clockTicks is USER_HZ, the unit of the CPU times in /proc/<pid>/stat:
// 100 on every Linux architecture Go runs on.
const clockTicks = 100

// usage is what /proc says about one process at one moment.
type usage struct {
	CPU     time.Duration // user + system time since it started
	RSS     int64         // resident memory now, bytes
	PeakRSS int64         // the most resident memory it has had (VmHWM), bytes
}

// readUsage reads the CPU time and memory of process pid from /proc.
func readUsage(pid int) (usage, error) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return usage{}, err
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	end := bytes.LastIndexByte(stat, ')')
	if end < 0 {
		return usage{}, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	fields := strings.Fields(string(stat[end+1:]))
	// fields[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(fields) < 13 {
		return usage{}, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(fields))
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return usage{}, fmt.Errorf("/proc/%d/stat: bad CPU times", pid)
	}
	u := usage{CPU: time.Duration(utime+stime) * time.Second / clockTicks}
	status, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return usage{}, err
	}
	defer status.Close()
	sc := bufio.NewScanner(status)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || (k != "VmRSS" && k != "VmHWM") {
			continue
		}
		kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if k == "VmRSS" {
			u.RSS = kb * 1024
		} else {
			u.PeakRSS = kb * 1024
		}
	}
	return u, sc.Err()
}

// findProcesses returns the pids of the processes whose command name is
// one of names, as "name[pid]" (servers the profile uses that the harness
// does not start, such as redis-server).
func findProcesses(names ...string) map[string]int {
	out := map[string]int{}
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		comm, err := os.ReadFile(filepath.Join(d, "comm"))
		if err != nil {
			continue
		}
		c := strings.TrimSpace(string(comm))
		for _, n := range names {
			if c == n {
				pid, _ := strconv.Atoi(filepath.Base(d))
				out[fmt.Sprintf("%s[%d]", n, pid)] = pid
			}
		}
	}
	return out
}

// meter follows the CPU time and memory of a set of processes: snapshots
// for CPU deltas, and a sampler for the peak resident memory in a window.
type meter struct {
	pids map[string]int
	mu   sync.Mutex
	peak map[string]int64 // highest RSS sampled since the last mark
	stop chan struct{}
	done chan struct{}
}

func newMeter(pids map[string]int) *meter {
	m := &meter{pids: pids, peak: map[string]int64{}, stop: make(chan struct{}), done: make(chan struct{})}
	go m.sample(250 * time.Millisecond)
	return m
}

func (m *meter) sample(every time.Duration) {
	defer close(m.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		for name, pid := range m.pids {
			if u, err := readUsage(pid); err == nil {
				m.mu.Lock()
				m.peak[name] = max(m.peak[name], u.RSS)
				m.mu.Unlock()
			}
		}
		select {
		case <-m.stop:
			return
		case <-t.C:
		}
	}
}

func (m *meter) close() { close(m.stop); <-m.done }

// snapshot is the CPU time of every process at one moment.
type snapshot struct {
	at  time.Time
	cpu map[string]time.Duration
}

// mark takes a snapshot and starts a new peak-memory window.
func (m *meter) mark() snapshot {
	s := m.cpuNow()
	m.mu.Lock()
	m.peak = map[string]int64{}
	m.mu.Unlock()
	return s
}

// Usage is the CPU time and peak memory of one process over a window.
type Usage struct {
	Process    string  `json:"process"`
	CPUSeconds float64 `json:"cpu_s"`
	CPUShare   float64 `json:"cpu_share"` // CPU seconds per second of the window (1 = one core)
	PeakRSSMB  float64 `json:"peak_rss_mb"`
}

// since is every process's usage from snapshot from until now, sorted by
// CPU, most first.
func (m *meter) since(from snapshot) []Usage {
	to := m.cpuNow()
	wall := to.at.Sub(from.at).Seconds()
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Usage
	for name := range m.pids {
		cpu := (to.cpu[name] - from.cpu[name]).Seconds()
		out = append(out, Usage{Process: name, CPUSeconds: cpu, CPUShare: cpu / wall, PeakRSSMB: float64(m.peak[name]) / (1 << 20)})
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].CPUSeconds > out[j].CPUSeconds || out[i].CPUSeconds == out[j].CPUSeconds && out[i].Process < out[j].Process
	})
	return out
}

// cpuNow is a snapshot that leaves the peak-memory window as it is.
func (m *meter) cpuNow() snapshot {
	s := snapshot{at: time.Now(), cpu: map[string]time.Duration{}}
	for name, pid := range m.pids {
		if u, err := readUsage(pid); err == nil {
			s.cpu[name] = u.CPU
		}
	}
	return s
}

// lifetime is every process's CPU time and VmHWM since it started.
func (m *meter) lifetime() []Usage {
	var out []Usage
	for name, pid := range m.pids {
		if u, err := readUsage(pid); err == nil {
			out = append(out, Usage{Process: name, CPUSeconds: u.CPU.Seconds(), PeakRSSMB: float64(u.PeakRSS) / (1 << 20)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Process < out[j].Process })
	return out
}

func totalCPU(us []Usage, skip string) float64 {
	var t float64
	for _, u := range us {
		if u.Process != skip {
			t += u.CPUSeconds
		}
	}
	return t
}
