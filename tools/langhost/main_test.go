package main

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/structpb"
)

func TestParseArgs(t *testing.T) {
	cases := []struct {
		argv0    string
		args     []string
		language string
		engine   string
	}{
		{"/x/bin/pulumi-language-nodejs", []string{"127.0.0.1:1234"}, "nodejs", "127.0.0.1:1234"},
		{"pulumi-language-python", []string{"--logtostderr", "-v=9", "--tracing", "http://t", "127.0.0.1:1"},
			"python", "127.0.0.1:1"},
		{"pulumi-language-go.exe", []string{"--tracing=http://t", "--unknown", "127.0.0.1:2"}, "go", "127.0.0.1:2"},
		{"langhost", []string{"--language", "dotnet", "127.0.0.1:3"}, "dotnet", "127.0.0.1:3"},
		{"pulumi-language-nodejs", []string{"-language=go"}, "go", ""},
		{"pulumi-language-go", nil, "go", ""},
	}
	for _, c := range cases {
		o, err := parseArgs(c.argv0, c.args)
		if err != nil {
			t.Fatalf("parseArgs(%q, %q): %v", c.argv0, c.args, err)
		}
		if o.language != c.language || o.engineAddress != c.engine {
			t.Errorf("parseArgs(%q, %q) = %+v, want language %q engine %q", c.argv0, c.args, o, c.language, c.engine)
		}
	}
	for _, bad := range [][]string{{"langhost"}, {"pulumi-language-java"}, {"langhost", "--language"}} {
		if _, err := parseArgs(bad[0], bad[1:]); err == nil {
			t.Errorf("parseArgs(%q) succeeded, want an error", bad)
		}
	}
}

func TestWriteFiles(t *testing.T) {
	dir := t.TempDir()
	err := writeFiles(dir, map[string][]byte{"a/b.txt": []byte("b"), "c.txt": []byte("c")})
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, "a", "b.txt"))
	if err != nil || string(got) != "b" {
		t.Fatalf("a/b.txt = %q, %v", got, err)
	}
	for _, bad := range []string{"../x", "/abs", "a/../../x"} {
		if err := writeFiles(dir, map[string][]byte{bad: nil}); err == nil {
			t.Errorf("writeFiles(%q) succeeded, want an error", bad)
		}
	}
}

func TestMergeExtraFiles(t *testing.T) {
	got := mergeExtraFiles(map[string][]byte{"a": []byte("gen")},
		map[string][]byte{"a": []byte("extra"), "b": []byte("extra")})
	if string(got["a"]) != "gen" || string(got["b"]) != "extra" {
		t.Fatalf("mergeExtraFiles = %q", got)
	}
}

// The default .NET logo URL is answered offline with our placeholder.
func TestDefaultLogoIsServedLocally(t *testing.T) {
	url := "https://" + defaultLogoHost +
		"/pulumi/pulumi/dbc96206bec722b7791a22ff50e895ab7c0abdc0" + defaultLogoSuffix
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, placeholderLogo) {
		t.Fatalf("status %d, %d bytes", resp.StatusCode, len(body))
	}
	if !bytes.HasPrefix(placeholderLogo, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatal("logo.png is not a PNG")
	}
}

// --- running programs (run.go, nodejs.go, python.go, golang.go) ---

func testRequest() *pulumirpc.RunRequest {
	return &pulumirpc.RunRequest{
		MonitorAddress: "127.0.0.1:7001",
		Project:        "proj",
		Stack:          "dev",
		Parallel:       16,
		DryRun:         true,
		Organization:   "org",
		Args:           []string{"a1"},
	}
}

func testProgram(t *testing.T, options map[string]any) program {
	t.Helper()
	opts, err := structpb.NewStruct(options)
	if err != nil {
		t.Fatal(err)
	}
	return programFromInfo(&pulumirpc.ProgramInfo{
		RootDirectory: "/p", ProgramDirectory: "/p", EntryPoint: ".", Options: opts,
	}, "/p", "")
}

func TestProgramFromInfo(t *testing.T) {
	p := programFromInfo(nil, "/w", "")
	if p.root != "/w" || p.dir != "/w" || p.pwd != "/w" || p.entry != "." || p.options == nil {
		t.Fatalf("without info: %+v", p)
	}
	p = programFromInfo(&pulumirpc.ProgramInfo{RootDirectory: "/r", ProgramDirectory: "/r/src", EntryPoint: "main.py"}, "", "")
	if p.root != "/r" || p.dir != "/r/src" || p.pwd != "/r/src" || p.entryPath() != "/r/src/main.py" {
		t.Fatalf("with info: %+v (entry path %s)", p, p.entryPath())
	}
}

func TestConfigEnv(t *testing.T) {
	env, err := configEnv(map[string]string{"secure-eks:region": "us-east-1", "proj:b": `{"x":1}`},
		[]string{"proj:z", "proj:b"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`PULUMI_CONFIG={"proj:b":"{\"x\":1}","secure-eks:region":"us-east-1"}`,
		`PULUMI_CONFIG_SECRET_KEYS=["proj:b","proj:z"]`,
	}
	if !reflect.DeepEqual(env, want) {
		t.Fatalf("configEnv = %q, want %q", env, want)
	}
	env, _ = configEnv(nil, nil)
	if !reflect.DeepEqual(env, []string{"PULUMI_CONFIG={}", "PULUMI_CONFIG_SECRET_KEYS=[]"}) {
		t.Fatalf("empty configEnv = %q", env)
	}
}

func TestMergeEnv(t *testing.T) {
	got := mergeEnv([]string{"A=1", "PATH=/bin", "B=2"}, []string{"PATH=/x:/bin", "C=3"})
	want := []string{"A=1", "B=2", "PATH=/x:/bin", "C=3"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("mergeEnv = %q, want %q", got, want)
	}
}

func TestNodejsArgsAndEnv(t *testing.T) {
	p := testProgram(t, map[string]any{"nodeargs": "--max-old-space-size=4096 --trace-warnings"})
	got := nodejsArgs(p, testRequest(), "127.0.0.1:7002", "/p/node_modules/@pulumi/pulumi/cmd/run")
	want := []string{
		"--max-old-space-size=4096", "--trace-warnings",
		"/p/node_modules/@pulumi/pulumi/cmd/run",
		"--monitor=127.0.0.1:7001", "--engine=127.0.0.1:7002", "--project=proj", "--stack=dev",
		"--pwd=/p", "--root-directory=/p", "--parallel=16", "--organization=org", "--dry-run",
		".", "a1",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("nodejsArgs =\n%q\nwant\n%q", got, want)
	}
	if env := nodejsEnv(p); !reflect.DeepEqual(env, []string{"PULUMI_NODEJS_TYPESCRIPT=true"}) {
		t.Fatalf("nodejsEnv = %q", env)
	}

	// Not a dry run, no organization, JavaScript only, a tsconfig, an entry point file.
	p = testProgram(t, map[string]any{"typescript": false, "tsconfig": "tsconfig.pulumi.json"})
	p.entry = "src/index.js"
	req := testRequest()
	req.DryRun, req.Organization, req.Args = false, "", nil
	got = nodejsArgs(p, req, "e:1", "/run")
	if slices.Contains(got, "--dry-run") || slices.ContainsFunc(got, func(a string) bool {
		return strings.HasPrefix(a, "--organization")
	}) {
		t.Fatalf("nodejsArgs = %q: no --dry-run or --organization expected", got)
	}
	if got[len(got)-1] != "/p/src/index.js" {
		t.Fatalf("entry point = %q, want /p/src/index.js", got[len(got)-1])
	}
	want = []string{"PULUMI_NODEJS_TYPESCRIPT=false", "PULUMI_NODEJS_TSCONFIG_PATH=tsconfig.pulumi.json"}
	if env := nodejsEnv(p); !reflect.DeepEqual(env, want) {
		t.Fatalf("nodejsEnv = %q, want %q", env, want)
	}
}

func TestFindNodeRunEntry(t *testing.T) {
	root := t.TempDir()
	entry := filepath.Join(root, "node_modules", "@pulumi", "pulumi", "cmd", "run")
	if err := os.MkdirAll(entry, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(entry, "index.js"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(root, "packages", "infra")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if got, err := findNodeRunEntry(sub); err != nil || got != entry {
		t.Fatalf("findNodeRunEntry = %q, %v; want %q", got, err, entry)
	}
	if _, err := findNodeRunEntry(t.TempDir()); err == nil || !strings.Contains(err.Error(), "npm install") {
		t.Fatalf("findNodeRunEntry without node_modules: %v", err)
	}
}

func TestPythonArgsAndVirtualenv(t *testing.T) {
	p := testProgram(t, map[string]any{"virtualenv": "venv"})
	got := pythonArgs(p, testRequest(), "127.0.0.1:7002", "/tmp/runner.py")
	want := []string{
		"-u", "/tmp/runner.py",
		"--monitor", "127.0.0.1:7001", "--engine", "127.0.0.1:7002", "--project", "proj", "--stack", "dev",
		"--root-directory", "/p", "--parallel", "16", "--organization", "org", "--dry-run",
		"/p", "a1",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("pythonArgs =\n%q\nwant\n%q", got, want)
	}
	if v := virtualenvDir(p); v != "/p/venv" {
		t.Fatalf("virtualenvDir = %q", v)
	}
	if v := virtualenvDir(testProgram(t, map[string]any{"virtualenv": "/opt/venv"})); v != "/opt/venv" {
		t.Fatalf("absolute virtualenvDir = %q", v)
	}
	if v := virtualenvDir(testProgram(t, nil)); v != "" {
		t.Fatalf("no virtualenv: %q", v)
	}
	// A missing virtualenv is reported with the command that creates it.
	if _, _, err := pythonExecutable(p); err == nil || !strings.Contains(err.Error(), "pip install -r requirements.txt") {
		t.Fatalf("pythonExecutable with a missing venv: %v", err)
	}
}

func TestGoEnvAndBuild(t *testing.T) {
	p := testProgram(t, nil)
	got := goEnv(p, testRequest(), "127.0.0.1:7002")
	want := []string{
		"PULUMI_MONITOR=127.0.0.1:7001", "PULUMI_ENGINE=127.0.0.1:7002", "PULUMI_PROJECT=proj",
		"PULUMI_STACK=dev", "PULUMI_ORGANIZATION=org", "PULUMI_ROOT_DIRECTORY=/p",
		"PULUMI_PARALLEL=16", "PULUMI_DRY_RUN=true",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("goEnv =\n%q\nwant\n%q", got, want)
	}
	if args := goBuildArgs(p, "/tmp/x"); !reflect.DeepEqual(args, []string{"build", "-o", "/tmp/x", "."}) {
		t.Fatalf("goBuildArgs = %q", args)
	}
	p = testProgram(t, map[string]any{"buildTarget": "./cmd/infra"})
	if args := goBuildArgs(p, "/tmp/x"); args[len(args)-1] != "./cmd/infra" {
		t.Fatalf("goBuildArgs with buildTarget = %q", args)
	}
}

func TestRunResponse(t *testing.T) {
	if r := runResponse("x", nil); r.Error != "" || r.Bail {
		t.Fatalf("success: %v", r)
	}
	exitErr := func(code int) error {
		return exec.Command("sh", "-c", "exit "+strconv.Itoa(code)).Run()
	}
	if r := runResponse("x", exitErr(32)); !r.Bail || r.Error != "" {
		t.Fatalf("exit 32: %v", r)
	}
	if r := runResponse("x", exitErr(3)); r.Bail || !strings.Contains(r.Error, "status 3") {
		t.Fatalf("exit 3: %v", r)
	}
	if r := runResponse("x", exec.Command("sh", "-c", "kill -9 $$").Run()); !strings.Contains(r.Error, "signal") {
		t.Fatalf("killed: %v", r)
	}
	if r := runResponse("nope", exec.Command("/nonexistent/nope").Run()); !strings.Contains(r.Error, "could not start nope") {
		t.Fatalf("not started: %v", r)
	}
}

func TestParseRuntimeVersion(t *testing.T) {
	for in, want := range map[string]string{
		"v20.20.2\n":                        "20.20.2",
		"Python 3.11.7\n":                   "3.11.7",
		"go version go1.26.8 linux/amd64\n": "1.26.8",
		"":                                  "",
	} {
		if got := parseRuntimeVersion(in); got != want {
			t.Errorf("parseRuntimeVersion(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestInstallCommands(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "requirements.txt"), []byte("pulumi\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	opts, _ := structpb.NewStruct(map[string]any{"virtualenv": "venv"})
	p := programFromInfo(&pulumirpc.ProgramInfo{RootDirectory: dir, ProgramDirectory: dir, Options: opts}, "", "")
	got, err := installCommands("python", p)
	if err != nil {
		t.Fatal(err)
	}
	venv := filepath.Join(dir, "venv")
	want := [][]string{
		{"python3", "-m", "venv", venv},
		{filepath.Join(venv, "bin", "python"), "-m", "pip", "install", "-r", filepath.Join(dir, "requirements.txt")},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("installCommands(python) = %q, want %q", got, want)
	}
	if got, _ := installCommands("nodejs", p); !reflect.DeepEqual(got, [][]string{{"npm", "install"}}) {
		t.Fatalf("installCommands(nodejs) = %q", got)
	}
	if _, err := installCommands("dotnet", p); err == nil {
		t.Fatal("installCommands(dotnet) succeeded")
	}
}

// The embedded Python runner parses its flags (checked with the machine's python3, no pulumi needed).
func TestPyRunnerParses(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3")
	}
	script := filepath.Join(t.TempDir(), "pyrunner.py")
	if err := os.WriteFile(script, pyRunner, 0o644); err != nil {
		t.Fatal(err)
	}
	args := pythonArgs(testProgram(t, nil), testRequest(), "e:1", script)[1:] // without -u
	code := "import runpy, sys; m = runpy.run_path(sys.argv[1]); o = m['parse'](sys.argv[2:]); " +
		"print(o.monitor, o.engine, o.project, o.stack, o.organization, o.root_directory, o.parallel, o.dry_run, o.program, o.args)"
	out, err := exec.Command(py, append([]string{"-c", code}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	want := "127.0.0.1:7001 e:1 proj dev org /p 16 True /p ['a1']\n"
	if string(out) != want {
		t.Fatalf("runner parsed %q, want %q", out, want)
	}
}
