package validate

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	cmd   string // upper case: FROM, RUN, COPY...
	args  string
	stage int // index of the FROM it belongs to
}

func parseDockerfile(t *testing.T, path string) []instruction {
	t.Helper()
	var out []instruction
	stage := -1
	var cur string
	for _, line := range strings.Split(string(readFile(t, path)), "\n") {
		trimmed := strings.TrimSpace(line)
		if cur == "" && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if strings.HasSuffix(trimmed, "\\") {
			cur += strings.TrimSuffix(trimmed, "\\") + " "
			continue
		}
		cur += trimmed
		cmd, args, _ := strings.Cut(cur, " ")
		cmd = strings.ToUpper(cmd)
		if cmd == "FROM" {
			stage++
		}
		out = append(out, instruction{cmd: cmd, args: strings.TrimSpace(args), stage: stage})
		cur = ""
	}
	return out
}

// shellWords splits a command line on blanks, honouring double quotes.
func shellWords(s string) []string {
	var words []string
	var w strings.Builder
	inQuote, inWord := false, false
	for _, r := range s {
		switch {
		case r == '"':
			inQuote, inWord = !inQuote, true
		case (r == ' ' || r == '\t') && !inQuote:
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		default:
			w.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		words = append(words, w.String())
	}
	return words
}

// dockerBuild is what the Dockerfile does to build a service's binary.
type dockerBuild struct {
	env  []string // ENV of the build stage, KEY=VALUE
	args []string // the go build arguments, -o and the package excluded
}

// The one Dockerfile (at the root, the service named by the build argument
// SERVICE) builds each service as a static, stripped binary in a
// golang:1.26 stage with cached modules, and runs it as non-root from
// distroless static, with no secret in any layer.
func TestDockerfile(t *testing.T) {
	for _, svc := range services {
		checkDockerfile(t, svc)
	}
}

// serviceArg is the Dockerfile's build argument that names the service.
const serviceArg = "SERVICE"

// checkDockerfile checks the Dockerfile as built with SERVICE=svc.
func checkDockerfile(t *testing.T, svc string) dockerBuild {
	t.Helper()
	path := filepath.Join(repoDir, "Dockerfile")
	ins := parseDockerfile(t, path)
	fail := func(format string, a ...any) {
		t.Errorf("%s (%s=%s): %s", path, serviceArg, svc, fmt.Sprintf(format, a...))
	}
	declared := false
	for i, in := range ins {
		if in.stage == 0 && in.cmd == "ARG" && in.args == serviceArg {
			declared = true
		}
		// The service's name, as docker substitutes it in the build stage.
		ins[i].args = strings.NewReplacer("${"+serviceArg+"}", svc, "$"+serviceArg, svc).Replace(in.args)
	}
	if !declared {
		fail("the build stage must declare ARG %s, with no default", serviceArg)
	}
	var froms []string
	var build dockerBuild
	last := -1
	for _, in := range ins {
		if in.cmd == "FROM" {
			froms = append(froms, in.args)
			last = in.stage
		}
	}
	if len(froms) != 2 || froms[0] != "golang:1.26 AS build" || froms[1] != "gcr.io/distroless/static-debian12:nonroot" {
		fail("stages %q, want golang:1.26 AS build, then gcr.io/distroless/static-debian12:nonroot", froms)
	}
	var user, entrypoint string
	for _, in := range ins {
		switch in.cmd {
		case "ENV", "ARG":
			for _, kv := range strings.Fields(in.args) {
				name, _, _ := strings.Cut(kv, "=")
				if SensitiveKey.MatchString(name) {
					fail("%s %s: no secret or credential may be baked into an image", in.cmd, name)
				}
				if in.stage == 0 && in.cmd == "ENV" {
					build.env = append(build.env, kv)
				}
			}
		case "COPY", "ADD":
			words := strings.Fields(in.args)
			if len(words) > 0 && strings.HasPrefix(words[0], "--from=") {
				continue
			}
			for _, src := range words[:len(words)-1] {
				if !strings.HasPrefix(src, "platform/") && !strings.HasPrefix(src, svc+"/") {
					fail("%s %s: copy only platform/ and %s/ into the build", in.cmd, src, svc)
				}
			}
		case "RUN":
			if in.stage == last {
				fail("RUN in the final stage: distroless has no shell")
			}
			if strings.Contains(in.args, "go mod download") || strings.Contains(in.args, "go build") {
				if !strings.Contains(in.args, "--mount=type=cache,target=/go/pkg/mod") {
					fail("%q does not cache the module download", in.args)
				}
			}
			if _, after, ok := strings.Cut(in.args, "go build"); ok {
				if !strings.Contains(in.args, "--mount=type=cache,target=/root/.cache/go-build") {
					fail("go build without the build cache mount")
				}
				words := shellWords(after)
				for i := 0; i < len(words); i++ {
					switch {
					case words[i] == "-o":
						i++
					case words[i] == ".":
					default:
						build.args = append(build.args, words[i])
					}
				}
			}
		case "USER":
			user = in.args
		case "EXPOSE":
			fail("EXPOSE %s: the services listen on different ports; the manifests declare them", in.args)
		case "ENTRYPOINT":
			entrypoint = in.args
		}
	}
	if !slices.Contains(build.env, "CGO_ENABLED=0") {
		fail("the build stage must set CGO_ENABLED=0 (ENV %v)", build.env)
	}
	if !slices.Contains(build.args, "-trimpath") || !slices.Contains(build.args, "-s -w") {
		fail("go build %q, want -trimpath -ldflags \"-s -w\"", build.args)
	}
	if user != "65532:65532" {
		fail("USER %q, want 65532:65532 (distroless nonroot)", user)
	}
	if entrypoint != `["/service"]` {
		fail("ENTRYPOINT %s, want [\"/service\"]", entrypoint)
	}
	return build
}

// The build context leaves out everything but the service modules, and
// development secrets in any case.
func TestDockerignore(t *testing.T) {
	var patterns []string
	for _, l := range strings.Split(string(readFile(t, filepath.Join(repoDir, ".dockerignore"))), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			patterns = append(patterns, l)
		}
	}
	if len(patterns) == 0 || patterns[0] != "*" {
		t.Fatalf(".dockerignore must start by excluding everything (*), got %q", patterns)
	}
	var included []string
	for _, p := range patterns {
		if strings.HasPrefix(p, "!") {
			included = append(included, strings.TrimSuffix(p[1:], "/"))
		}
	}
	want := append([]string{"platform"}, services...)
	slices.Sort(want)
	slices.Sort(included)
	if !slices.Equal(included, want) {
		t.Errorf(".dockerignore lets in %v, want %v", included, want)
	}
	for _, p := range []string{"**/*DEVELOPMENT-ONLY*", "**/*.pem", "**/*.key", "**/.env"} {
		if !slices.Contains(patterns, p) {
			t.Errorf(".dockerignore does not exclude %s", p)
		}
	}
}

// No Docker engine runs here, so the images cannot be built; what goes into
// them can. Each binary is built the way the Dockerfile builds it (module
// mode, the same environment and flags) and must be a static, stripped ELF
// executable: no program interpreter, no shared libraries, no symbol table,
// so that it runs on distroless static, which has no libc.
func TestStaticBinaries(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the three services")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("go is not on PATH: %v", err)
	}
	out := t.TempDir()
	for _, svc := range services {
		build := checkDockerfile(t, svc)
		bin := filepath.Join(out, svc)
		args := append([]string{"build"}, build.args...)
		args = append(args, "-o", bin, ".")
		cmd := exec.Command(goBin, args...)
		cmd.Dir = filepath.Join(repoDir, svc)
		cmd.Env = append(os.Environ(), build.env...)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("%s: %s %v (as in the Dockerfile): %v\n%s", svc, goBin, args, err, b)
			continue
		}
		if err := checkStaticELF(bin); err != nil {
			t.Errorf("%s: %v", svc, err)
		}
		st, err := os.Stat(bin)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: static stripped binary %d bytes (%.1f MiB)", svc, st.Size(), float64(st.Size())/(1<<20))
	}
}

func checkStaticELF(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var errs []error
	if f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN {
		errs = append(errs, fmt.Errorf("ELF type %v is not an executable", f.Type))
	}
	for _, p := range f.Progs {
		switch p.Type {
		case elf.PT_INTERP:
			errs = append(errs, errors.New("has a program interpreter (PT_INTERP): dynamically linked"))
		case elf.PT_DYNAMIC:
			errs = append(errs, errors.New("has a dynamic section (PT_DYNAMIC)"))
		}
	}
	if libs, err := f.ImportedLibraries(); err != nil || len(libs) > 0 {
		errs = append(errs, fmt.Errorf("needs shared libraries %v (%v)", libs, err))
	}
	if syms, err := f.Symbols(); !errors.Is(err, elf.ErrNoSymbols) {
		errs = append(errs, fmt.Errorf("is not stripped: %d symbols", len(syms)))
	}
	return errors.Join(errs...)
}

// The ELF check tells a dynamically linked executable from a static one:
// two minimal ELF files, the same but for a program interpreter.
func TestStaticELFCheck(t *testing.T) {
	write := func(interp bool) string {
		const interpPath = "/lib64/ld-linux-x86-64.so.2\x00"
		h := elf.Header64{
			Type: uint16(elf.ET_EXEC), Machine: uint16(elf.EM_X86_64), Version: uint32(elf.EV_CURRENT),
			Ehsize: 64, Phentsize: 56, Shentsize: 64,
		}
		copy(h.Ident[:], elf.ELFMAG)
		h.Ident[elf.EI_CLASS] = byte(elf.ELFCLASS64)
		h.Ident[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
		h.Ident[elf.EI_VERSION] = byte(elf.EV_CURRENT)
		var buf bytes.Buffer
		var progs []elf.Prog64
		if interp {
			h.Phoff, h.Phnum = 64, 1
			progs = append(progs, elf.Prog64{
				Type: uint32(elf.PT_INTERP), Flags: uint32(elf.PF_R), Off: 64 + 56,
				Filesz: uint64(len(interpPath)), Memsz: uint64(len(interpPath)), Align: 1,
			})
		}
		if err := binary.Write(&buf, binary.LittleEndian, h); err != nil {
			t.Fatal(err)
		}
		for _, p := range progs {
			if err := binary.Write(&buf, binary.LittleEndian, p); err != nil {
				t.Fatal(err)
			}
		}
		if interp {
			buf.WriteString(interpPath)
		}
		path := filepath.Join(t.TempDir(), "bin")
		if err := os.WriteFile(path, buf.Bytes(), 0o755); err != nil {
			t.Fatal(err)
		}
		return path
	}
	if err := checkStaticELF(write(false)); err != nil {
		t.Errorf("checkStaticELF(static) = %v; want nil", err)
	}
	if err := checkStaticELF(write(true)); err == nil || !strings.Contains(err.Error(), "PT_INTERP") {
		t.Errorf("checkStaticELF(with an interpreter) = %v; want PT_INTERP reported", err)
	}
}
