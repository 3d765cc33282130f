package main

// The smaller LanguageRuntime RPCs around running a program:
//
//	GetRequiredPackages / GetRequiredPlugins   empty: providers come from Pulumi.yaml
//	                                           plugins.providers or installed plugins
//	InstallDependencies                        npm install | venv + pip install -r | go mod download
//	About                                      the runtime's executable and version
//	GetProgramDependencies                     the program's packages and their versions
//
// The engine calls About for the update metadata and GetRequiredPackages before
// every preview/up/destroy; `pulumi install` calls InstallDependencies and
// `pulumi about` calls GetProgramDependencies.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func errUnsupportedRun(language string) error {
	return status.Errorf(codes.Unimplemented,
		"this language host only generates %s SDKs; it cannot run %s programs", language, language)
}

// GetRequiredPackages reports no packages: the engine then loads providers on
// demand, from the project's plugins.providers or the installed plugins (it
// never downloads them here: PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION).
func (s *server) GetRequiredPackages(
	context.Context, *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	return &pulumirpc.GetRequiredPackagesResponse{}, nil
}

// GetRequiredPlugins is the older form of GetRequiredPackages.
func (s *server) GetRequiredPlugins(
	context.Context, *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	return &pulumirpc.GetRequiredPluginsResponse{}, nil
}

// installCommands lists the commands that install a program's dependencies, in order.
func installCommands(language string, p program) ([][]string, error) {
	switch language {
	case "nodejs":
		return [][]string{{"npm", "install"}}, nil
	case "python":
		var cmds [][]string
		py := "python3"
		if venv := virtualenvDir(p); venv != "" {
			if _, err := os.Stat(filepath.Join(venv, "bin", "python")); err != nil {
				cmds = append(cmds, []string{"python3", "-m", "venv", venv})
			}
			py = filepath.Join(venv, "bin", "python")
		}
		for _, dir := range []string{p.dir, p.root} {
			if _, err := os.Stat(filepath.Join(dir, "requirements.txt")); err == nil {
				cmds = append(cmds, []string{py, "-m", "pip", "install", "-r", filepath.Join(dir, "requirements.txt")})
				break
			}
		}
		return cmds, nil
	case "go":
		return [][]string{{"go", "mod", "download"}}, nil
	}
	return nil, errUnsupportedRun(language)
}

// streamWriter sends what a command writes as InstallDependenciesResponse messages.
type streamWriter struct {
	mu     *sync.Mutex
	stream grpc.ServerStreamingServer[pulumirpc.InstallDependenciesResponse]
	stderr bool
}

func (w streamWriter) Write(b []byte) (int, error) {
	msg := &pulumirpc.InstallDependenciesResponse{}
	data := append([]byte(nil), b...)
	if w.stderr {
		msg.Stderr = data
	} else {
		msg.Stdout = data
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.stream.Send(msg); err != nil {
		return 0, err
	}
	return len(b), nil
}

// InstallDependencies runs the language's install commands in the program
// directory, streaming their output to the engine.
func (s *server) InstallDependencies(
	req *pulumirpc.InstallDependenciesRequest,
	stream grpc.ServerStreamingServer[pulumirpc.InstallDependenciesResponse],
) error {
	p := programFromInfo(req.GetInfo(), req.GetDirectory(), "") //nolint:staticcheck // fallback
	cmds, err := installCommands(s.language, p)
	if err != nil {
		return err
	}
	var mu sync.Mutex
	for _, argv := range cmds {
		cmd := exec.CommandContext(stream.Context(), argv[0], argv[1:]...)
		cmd.Dir = p.dir
		cmd.Stdout = streamWriter{mu: &mu, stream: stream}
		cmd.Stderr = streamWriter{mu: &mu, stream: stream, stderr: true}
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%s: %w", strings.Join(argv, " "), err)
		}
	}
	return nil
}

// runtimeVersion runs `exe args...` and returns the version word of its output.
func runtimeVersion(ctx context.Context, exe string, args ...string) string {
	out, err := exec.CommandContext(ctx, exe, args...).CombinedOutput()
	if err != nil {
		return ""
	}
	return parseRuntimeVersion(string(out))
}

// parseRuntimeVersion finds the version in "v20.1.0", "Python 3.11.7" or
// "go version go1.26.8 linux/amd64".
func parseRuntimeVersion(out string) string {
	for _, f := range strings.Fields(out) {
		f = strings.TrimPrefix(strings.TrimPrefix(f, "go"), "v")
		if f != "" && f[0] >= '0' && f[0] <= '9' {
			return f
		}
	}
	return ""
}

// About reports the runtime the programs run on.
func (s *server) About(ctx context.Context, req *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	p := programFromInfo(req.GetInfo(), "", "")
	var exe string
	var args []string
	switch s.language {
	case "nodejs":
		exe, args = "node", []string{"--version"}
	case "python":
		py, _, err := pythonExecutable(p)
		if err != nil {
			py = "python3"
		}
		exe, args = py, []string{"--version"}
	case "go":
		exe, args = "go", []string{"version"}
	default:
		return nil, errUnsupportedRun(s.language)
	}
	path, err := exec.LookPath(exe)
	if err != nil {
		return nil, fmt.Errorf("%s not found: %w", exe, err)
	}
	return &pulumirpc.AboutResponse{Executable: path, Version: runtimeVersion(ctx, path, args...)}, nil
}

// GetProgramDependencies lists the program's packages (for `pulumi about`).
func (s *server) GetProgramDependencies(
	ctx context.Context, req *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	p := programFromInfo(req.GetInfo(), req.GetPwd(), req.GetProgram()) //nolint:staticcheck // fallback
	var deps []*pulumirpc.DependencyInfo
	var err error
	switch s.language {
	case "nodejs":
		deps, err = nodejsDependencies(p.dir)
	case "python":
		deps, err = pythonDependencies(ctx, p, req.GetTransitiveDependencies())
	case "go":
		deps, err = goDependencies(ctx, p.dir, req.GetTransitiveDependencies())
	default:
		return nil, errUnsupportedRun(s.language)
	}
	if err != nil {
		return nil, err
	}
	sort.Slice(deps, func(i, j int) bool { return deps[i].Name < deps[j].Name })
	return &pulumirpc.GetProgramDependenciesResponse{Dependencies: deps}, nil
}

// nodejsDependencies: package.json's dependencies with their installed versions
// (the requested range when not installed).
func nodejsDependencies(dir string) ([]*pulumirpc.DependencyInfo, error) {
	data, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if err != nil {
		return nil, err
	}
	var pkg struct {
		Dependencies    map[string]string `json:"dependencies"`
		DevDependencies map[string]string `json:"devDependencies"`
	}
	if err := json.Unmarshal(data, &pkg); err != nil {
		return nil, fmt.Errorf("package.json: %w", err)
	}
	var deps []*pulumirpc.DependencyInfo
	for _, m := range []map[string]string{pkg.Dependencies, pkg.DevDependencies} {
		for name, want := range m {
			version := want
			if b, err := os.ReadFile(filepath.Join(dir, "node_modules", name, "package.json")); err == nil {
				var installed struct {
					Version string `json:"version"`
				}
				if json.Unmarshal(b, &installed) == nil && installed.Version != "" {
					version = installed.Version
				}
			}
			deps = append(deps, &pulumirpc.DependencyInfo{Name: name, Version: version})
		}
	}
	return deps, nil
}

// pythonDependencies: `pip list` in the program's interpreter.
func pythonDependencies(ctx context.Context, p program, transitive bool) ([]*pulumirpc.DependencyInfo, error) {
	py, _, err := pythonExecutable(p)
	if err != nil {
		return nil, err
	}
	args := []string{"-m", "pip", "list", "--format=json", "--disable-pip-version-check"}
	if !transitive {
		args = append(args, "--not-required")
	}
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, py, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("pip list: %v: %s", err, tail(stderr.Bytes(), 2000))
	}
	var list []struct{ Name, Version string }
	if err := json.Unmarshal(out, &list); err != nil {
		return nil, fmt.Errorf("pip list: %w", err)
	}
	deps := make([]*pulumirpc.DependencyInfo, 0, len(list))
	for _, d := range list {
		deps = append(deps, &pulumirpc.DependencyInfo{Name: d.Name, Version: d.Version})
	}
	return deps, nil
}

// goDependencies: the module's requirements from `go list -m`.
func goDependencies(ctx context.Context, dir string, transitive bool) ([]*pulumirpc.DependencyInfo, error) {
	format := "{{if not .Main}}{{if not .Indirect}}{{.Path}} {{.Version}}{{end}}{{end}}"
	if transitive {
		format = "{{if not .Main}}{{.Path}} {{.Version}}{{end}}"
	}
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "go", "list", "-m", "-f", format, "all")
	cmd.Dir = dir
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list -m: %v: %s", err, tail(stderr.Bytes(), 2000))
	}
	return parseNameVersionLines(bytes.NewReader(out))
}

func parseNameVersionLines(r io.Reader) ([]*pulumirpc.DependencyInfo, error) {
	var deps []*pulumirpc.DependencyInfo
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch len(f) {
		case 0:
			continue
		case 1:
			deps = append(deps, &pulumirpc.DependencyInfo{Name: f[0]})
		default:
			deps = append(deps, &pulumirpc.DependencyInfo{Name: f[0], Version: f[1]})
		}
	}
	if err := sc.Err(); err != nil {
		return nil, errors.New("reading go list output: " + err.Error())
	}
	return deps, nil
}
