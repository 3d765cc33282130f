package main

// Running Python programs. The `pulumi` package has no program runner, so the
// host carries its own (pyrunner.py, embedded) and runs it with the program's
// interpreter: <virtualenv>/bin/python when runtime.options.virtualenv is set
// (relative to the directory of Pulumi.yaml), else $PULUMI_PYTHON_CMD, python3
// or python from PATH.
//
// Runtime options: virtualenv (see above). Other options (toolchain: poetry or
// uv, typechecker) are not supported: pip into a virtualenv only.

import (
	_ "embed"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

//go:embed pyrunner.py
var pyRunner []byte

// virtualenvDir is the program's virtualenv (absolute), or "" when it has none.
func virtualenvDir(p program) string {
	venv, ok := p.stringOption("virtualenv")
	if !ok {
		return ""
	}
	if !filepath.IsAbs(venv) {
		venv = filepath.Join(p.root, venv)
	}
	return venv
}

// pythonExecutable picks the interpreter, and the environment that activates
// the virtualenv (VIRTUAL_ENV, its bin first on PATH) when there is one.
func pythonExecutable(p program) (string, []string, error) {
	if venv := virtualenvDir(p); venv != "" {
		py := filepath.Join(venv, "bin", "python")
		if _, err := os.Stat(py); err != nil {
			return "", nil, fmt.Errorf("the virtualenv %s does not exist: create it and install the "+
				"program's requirements (python3 -m venv %s && %s -m pip install -r requirements.txt), "+
				"or run `pulumi install`", venv, venv, py)
		}
		env := []string{
			"VIRTUAL_ENV=" + venv,
			"PATH=" + filepath.Join(venv, "bin") + string(os.PathListSeparator) + os.Getenv("PATH"),
		}
		return py, env, nil
	}
	if cmd := os.Getenv("PULUMI_PYTHON_CMD"); cmd != "" {
		py, err := exec.LookPath(cmd)
		return py, nil, err
	}
	for _, name := range []string{"python3", "python"} {
		if py, err := exec.LookPath(name); err == nil {
			return py, nil, nil
		}
	}
	return "", nil, errors.New("no python3 or python on PATH: install Python 3 to run this program")
}

// pythonArgs builds the runner's command line (after the interpreter).
func pythonArgs(p program, req *pulumirpc.RunRequest, engine, runner string) []string {
	args := []string{"-u", runner,
		"--monitor", req.GetMonitorAddress(),
		"--engine", engine,
		"--project", req.GetProject(),
		"--stack", req.GetStack(),
		"--root-directory", p.root,
		"--parallel", strconv.Itoa(int(req.GetParallel())),
	}
	if org := req.GetOrganization(); org != "" {
		args = append(args, "--organization", org)
	}
	if req.GetDryRun() {
		args = append(args, "--dry-run")
	}
	args = append(args, p.entryPath())
	return append(args, req.GetArgs()...)
}

func pythonLaunch(p program, req *pulumirpc.RunRequest, engine string) (launch, error) {
	py, env, err := pythonExecutable(p)
	if err != nil {
		return launch{}, err
	}
	f, err := os.CreateTemp("", "secure-eks-pyrunner-*.py")
	if err != nil {
		return launch{}, err
	}
	runner := f.Name()
	cleanup := func() { _ = os.Remove(runner) }
	if _, err := f.Write(pyRunner); err != nil {
		_ = f.Close()
		cleanup()
		return launch{}, err
	}
	if err := f.Close(); err != nil {
		cleanup()
		return launch{}, err
	}
	env = append(env, "PYTHONUNBUFFERED=1")
	return launch{
		argv:    append([]string{py}, pythonArgs(p, req, engine, runner)...),
		env:     env,
		dir:     p.pwd,
		cleanup: cleanup,
	}, nil
}
