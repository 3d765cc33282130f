package main

// Running Go programs: `go build` the program's main package into a temporary
// directory, then run the binary. The Go SDK (pulumi.Run) reads everything from
// the environment: PULUMI_MONITOR, PULUMI_ENGINE, PULUMI_PROJECT, PULUMI_STACK,
// PULUMI_ORGANIZATION, PULUMI_ROOT_DIRECTORY, PULUMI_PARALLEL, PULUMI_DRY_RUN,
// PULUMI_CONFIG and PULUMI_CONFIG_SECRET_KEYS. It exits with 32 after reporting
// an error through the engine.
//
// Runtime options:
//
//	binary        a prebuilt program binary (relative to the program directory): no build
//	buildTarget   what to build instead of "." (a package path or directory)

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// goEnv is the environment the Go SDK's pulumi.Run reads (besides the configuration).
func goEnv(p program, req *pulumirpc.RunRequest, engine string) []string {
	return []string{
		"PULUMI_MONITOR=" + req.GetMonitorAddress(),
		"PULUMI_ENGINE=" + engine,
		"PULUMI_PROJECT=" + req.GetProject(),
		"PULUMI_STACK=" + req.GetStack(),
		"PULUMI_ORGANIZATION=" + req.GetOrganization(),
		"PULUMI_ROOT_DIRECTORY=" + p.root,
		"PULUMI_PARALLEL=" + strconv.Itoa(int(req.GetParallel())),
		"PULUMI_DRY_RUN=" + strconv.FormatBool(req.GetDryRun()),
	}
}

// goBuildArgs is the `go build` command line that writes the program to out.
func goBuildArgs(p program, out string) []string {
	target := "."
	if t, ok := p.stringOption("buildTarget"); ok {
		target = t
	}
	return []string{"build", "-o", out, target}
}

// tail keeps the last n bytes of b (build logs can be long).
func tail(b []byte, n int) string {
	s := strings.TrimSpace(string(b))
	if len(s) > n {
		s = "..." + s[len(s)-n:]
	}
	return s
}

func goLaunch(ctx context.Context, p program, req *pulumirpc.RunRequest, engine string) (launch, error) {
	env := goEnv(p, req, engine)
	if bin, ok := p.stringOption("binary"); ok {
		if !filepath.IsAbs(bin) {
			bin = filepath.Join(p.dir, bin)
		}
		return launch{argv: append([]string{bin}, req.GetArgs()...), env: env, dir: p.pwd}, nil
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		return launch{}, errors.New("go is not on PATH: install Go to build this program " +
			"(or set runtime.options.binary to a prebuilt one)")
	}
	tmp, err := os.MkdirTemp("", "secure-eks-go-program-")
	if err != nil {
		return launch{}, err
	}
	cleanup := func() { _ = os.RemoveAll(tmp) }
	out := filepath.Join(tmp, "program")
	build := exec.CommandContext(ctx, gobin, goBuildArgs(p, out)...)
	build.Dir = p.dir
	var log bytes.Buffer
	build.Stdout, build.Stderr = &log, &log
	if err := build.Run(); err != nil {
		cleanup()
		return launch{}, fmt.Errorf("`go build` of the program in %s failed (%v):\n%s", p.dir, err, tail(log.Bytes(), 4000))
	}
	return launch{argv: append([]string{out}, req.GetArgs()...), env: env, dir: p.pwd, cleanup: cleanup}, nil
}
