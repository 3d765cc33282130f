package main

// Running Node.js programs. The @pulumi/pulumi package the program installed
// carries the runner: cmd/run takes minimist flags (--monitor, --engine,
// --project, --stack, --organization, --root-directory, --pwd, --parallel,
// --dry-run), then the program and its arguments; it reads the configuration from
// PULUMI_CONFIG / PULUMI_CONFIG_SECRET_KEYS and, when PULUMI_NODEJS_TYPESCRIPT is
// "true", registers ts-node (the program's own, else the copy it vendors) so
// index.ts runs without a build step. It exits with 32 after reporting an error
// through the engine.
//
// Runtime options (Pulumi.yaml runtime.options):
//
//	typescript   bool, default true: run .ts sources through ts-node
//	tsconfig     path of the tsconfig file ts-node uses (PULUMI_NODEJS_TSCONFIG_PATH)
//	nodeargs     extra arguments for node, space separated (e.g. "--max-old-space-size=4096")

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// nodeRunEntry is the runner inside @pulumi/pulumi.
const nodeRunEntry = "node_modules/@pulumi/pulumi/cmd/run"

// findNodeRunEntry looks for @pulumi/pulumi's runner from dir upwards (npm
// workspaces hoist node_modules to a parent directory).
func findNodeRunEntry(dir string) (string, error) {
	for d := dir; ; d = filepath.Dir(d) {
		candidate := filepath.Join(d, nodeRunEntry)
		if _, err := os.Stat(filepath.Join(candidate, "index.js")); err == nil {
			return candidate, nil
		}
		if parent := filepath.Dir(d); parent == d {
			break
		}
	}
	return "", fmt.Errorf("the @pulumi/pulumi package is not installed for the program in %s "+
		"(no %s here or in a parent directory): run `npm install` (or `pulumi install`) first", dir, nodeRunEntry)
}

// nodejsArgs builds node's command line (without the node executable itself).
func nodejsArgs(p program, req *pulumirpc.RunRequest, engine, runEntry string) []string {
	var args []string
	if extra, ok := p.stringOption("nodeargs"); ok {
		args = append(args, strings.Fields(extra)...)
	}
	args = append(args, runEntry,
		"--monitor="+req.GetMonitorAddress(),
		"--engine="+engine,
		"--project="+req.GetProject(),
		"--stack="+req.GetStack(),
		"--pwd="+p.pwd,
		"--root-directory="+p.root,
		"--parallel="+strconv.Itoa(int(req.GetParallel())),
	)
	if org := req.GetOrganization(); org != "" {
		args = append(args, "--organization="+org)
	}
	if req.GetDryRun() {
		args = append(args, "--dry-run")
	}
	// The runner treats "." as "use package.json's main/exports"; any other entry
	// point is a path it resolves against --pwd, so pass it absolute unless the
	// program directory is the working directory.
	entry := p.entry
	if entry != "." || filepath.Clean(p.dir) != filepath.Clean(p.pwd) {
		entry = p.entryPath()
	}
	args = append(args, entry)
	return append(args, req.GetArgs()...)
}

// nodejsEnv is the environment the runner reads besides the configuration.
func nodejsEnv(p program) []string {
	env := []string{"PULUMI_NODEJS_TYPESCRIPT=" + strconv.FormatBool(p.boolOption("typescript", true))}
	if ts, ok := p.stringOption("tsconfig"); ok {
		env = append(env, "PULUMI_NODEJS_TSCONFIG_PATH="+ts)
	}
	return env
}

func nodejsLaunch(p program, req *pulumirpc.RunRequest, engine string) (launch, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return launch{}, errors.New("node is not on PATH: install Node.js to run this program")
	}
	runEntry, err := findNodeRunEntry(p.dir)
	if err != nil {
		return launch{}, err
	}
	return launch{
		argv: append([]string{node}, nodejsArgs(p, req, engine, runEntry)...),
		env:  nodejsEnv(p),
		dir:  p.pwd,
	}, nil
}
