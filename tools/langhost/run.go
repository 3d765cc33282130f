package main

// The program-running half of the LanguageRuntime service: Run, plus the
// pieces every language shares (where the program is, its runtime options, the
// PULUMI_CONFIG environment, how an exit status becomes a RunResponse).
//
// Each language runs the program through its own SDK's entry point:
//
//	nodejs   node <program>/node_modules/@pulumi/pulumi/cmd/run <flags> <entry point>  (nodejs.go)
//	python   <virtualenv>/bin/python pyrunner.py <flags> <entry point>                  (python.go)
//	go       go build, then the binary with the PULUMI_* variables of the Go SDK         (golang.go)

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// exitLoggedError is the exit status by which all three SDKs say "the error was
// already reported to the engine": the host then answers bail=true and prints
// nothing more (the Go SDK's constant.ExitStatusLoggedError).
const exitLoggedError = 32

// program says where a Pulumi program is and how it is configured.
type program struct {
	root    string         // the directory holding Pulumi.yaml (absolute)
	dir     string         // the program directory (absolute)
	entry   string         // the entry point, relative to dir; "." for the directory itself
	pwd     string         // the working directory to run the program in
	options map[string]any // runtime.options from Pulumi.yaml
}

// programFromInfo reads a ProgramInfo, falling back to the deprecated loose
// fields (pwd, program) that older engines send.
func programFromInfo(info *pulumirpc.ProgramInfo, pwd, entry string) program {
	p := program{pwd: pwd, entry: entry}
	if info != nil {
		p.root = info.GetRootDirectory()
		p.dir = info.GetProgramDirectory()
		if e := info.GetEntryPoint(); e != "" {
			p.entry = e
		}
		if o := info.GetOptions(); o != nil {
			p.options = o.AsMap()
		}
	}
	if p.dir == "" {
		p.dir = pwd
	}
	if p.root == "" {
		p.root = p.dir
	}
	if p.pwd == "" {
		p.pwd = p.dir
	}
	if p.entry == "" {
		p.entry = "."
	}
	if p.options == nil {
		p.options = map[string]any{}
	}
	return p
}

// stringOption returns runtime option name if it is a string.
func (p program) stringOption(name string) (string, bool) {
	s, ok := p.options[name].(string)
	return s, ok && s != ""
}

// boolOption returns runtime option name as a bool (true/false or the strings
// "true"/"false"), or def when it is absent or not a bool.
func (p program) boolOption(name string, def bool) bool {
	switch v := p.options[name].(type) {
	case bool:
		return v
	case string:
		if b, err := strconv.ParseBool(v); err == nil {
			return b
		}
	}
	return def
}

// entryPath is the entry point as an absolute path.
func (p program) entryPath() string {
	if filepath.IsAbs(p.entry) {
		return p.entry
	}
	return filepath.Join(p.dir, p.entry)
}

// configEnv is the configuration as all three SDKs read it: PULUMI_CONFIG, a
// JSON object of "<namespace>:<key>" to the value's text, and
// PULUMI_CONFIG_SECRET_KEYS, a JSON array of the keys whose values are secret.
func configEnv(config map[string]string, secretKeys []string) ([]string, error) {
	if config == nil {
		config = map[string]string{}
	}
	c, err := json.Marshal(config) // map keys are sorted: the output is deterministic
	if err != nil {
		return nil, err
	}
	keys := make([]string, len(secretKeys)) // never nil: "[]", not "null"
	copy(keys, secretKeys)
	sort.Strings(keys)
	k, err := json.Marshal(keys)
	if err != nil {
		return nil, err
	}
	return []string{"PULUMI_CONFIG=" + string(c), "PULUMI_CONFIG_SECRET_KEYS=" + string(k)}, nil
}

// mergeEnv returns base with every NAME=value of extra set (replacing base's).
func mergeEnv(base, extra []string) []string {
	override := map[string]bool{}
	for _, kv := range extra {
		name, _, _ := strings.Cut(kv, "=")
		override[name] = true
	}
	out := make([]string, 0, len(base)+len(extra))
	for _, kv := range base {
		name, _, _ := strings.Cut(kv, "=")
		if !override[name] {
			out = append(out, kv)
		}
	}
	return append(out, extra...)
}

// launch is a prepared program process: argv, extra environment, working
// directory, and what to remove afterwards.
type launch struct {
	argv    []string
	env     []string // added to (and replacing in) the host's environment
	dir     string
	cleanup func()
}

// runLaunch runs the program to completion, with the host's stdout and stderr
// (the engine shows both), and turns its exit status into a RunResponse.
func runLaunch(ctx context.Context, l launch) (*pulumirpc.RunResponse, error) {
	if l.cleanup != nil {
		defer l.cleanup()
	}
	cmd := exec.CommandContext(ctx, l.argv[0], l.argv[1:]...)
	cmd.Dir = l.dir
	cmd.Env = mergeEnv(os.Environ(), l.env)
	cmd.Stdin = nil
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	// On cancellation ask politely first: the SDKs flush and shut down on SIGINT.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second // then kill it
	err := cmd.Run()
	return runResponse(l.argv[0], err), nil
}

// runResponse maps how the program ended to the protocol: success is an empty
// response, exit status 32 is bail (the program already reported its error
// through the engine), anything else is an error message for the engine to print.
func runResponse(name string, err error) *pulumirpc.RunResponse {
	if err == nil {
		return &pulumirpc.RunResponse{}
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return &pulumirpc.RunResponse{Error: fmt.Sprintf("the program was stopped by signal %v", ws.Signal())}
		}
		if exit.ExitCode() == exitLoggedError {
			return &pulumirpc.RunResponse{Bail: true}
		}
		return &pulumirpc.RunResponse{
			Error: fmt.Sprintf("the program exited with status %d (its output is above)", exit.ExitCode()),
		}
	}
	return &pulumirpc.RunResponse{Error: fmt.Sprintf("could not start %s: %v", name, err)}
}

// Run implements LanguageRuntime.Run: start the program for the engine's
// resource monitor and wait for it.
func (s *server) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	p := programFromInfo(req.GetInfo(), req.GetPwd(), req.GetProgram()) //nolint:staticcheck // fallback
	cfg, err := configEnv(req.GetConfig(), req.GetConfigSecretKeys())
	if err != nil {
		return nil, err
	}
	var l launch
	switch s.language {
	case "nodejs":
		l, err = nodejsLaunch(p, req, s.engine())
	case "python":
		l, err = pythonLaunch(p, req, s.engine())
	case "go":
		l, err = goLaunch(ctx, p, req, s.engine())
	default:
		return nil, errUnsupportedRun(s.language)
	}
	if err != nil {
		// A problem the user can fix (no SDK installed, build failed): report it
		// as the program's error so the engine prints it plainly.
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	l.env = append(l.env, cfg...)
	return runLaunch(ctx, l)
}
