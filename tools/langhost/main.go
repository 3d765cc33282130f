// Command langhost is our own Pulumi language host plugin, written from the
// published pulumirpc protocol. One binary serves four languages; it is installed
// as pulumi-language-nodejs, -python, -go and -dotnet, and the language is taken
// from the name it was started under (argv[0]) unless --language is given.
//
// It speaks the ordinary plugin protocol: it listens on 127.0.0.1:0, prints the
// port on the first line of stdout and serves pulumirpc.LanguageRuntime over
// gRPC:
//
//	GetPluginInfo, Handshake                     all languages
//	GeneratePackage                              all languages (generate.go), for `pulumi package gen-sdk`
//	Run, GetRequiredPackages, GetRequiredPlugins nodejs, python, go (run.go, nodejs.go, python.go, golang.go)
//	InstallDependencies, About,
//	GetProgramDependencies                       nodejs, python, go (install.go)
//
// Every other RPC (GenerateProgram, GenerateProject, Pack, Link, RunPlugin, ...)
// answers UNIMPLEMENTED, and .NET programs cannot run (no .NET toolchain here).
// See ../pulumi/README.md.
package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
)

// version is reported by GetPluginInfo; scripts/install-pulumi.sh sets it with
// -ldflags "-X main.version=...".
var version = "0.0.0-dev"

const usage = `usage: pulumi-language-<nodejs|python|go|dotnet> [--language LANG] [flags] [ENGINE_ADDRESS]

A Pulumi language host: SDK generation (GeneratePackage, for ` + "`pulumi package gen-sdk`" + `)
for all four languages, and running nodejs, python and go programs (Run,
InstallDependencies, About). Unknown flags are ignored.
`

type options struct {
	language      string
	engineAddress string
}

// parseArgs reads the command line leniently: the engine passes
// [--logtostderr] [-v=N] [--tracing URL] ENGINE_ADDRESS, other callers may
// pass more flags. Unknown flags are ignored; the last positional argument is
// the engine address, which programs are given for logging.
func parseArgs(argv0 string, args []string) (options, error) {
	var o options
	o.language = languageFromName(argv0)
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			if i+1 < len(args) {
				o.engineAddress = args[len(args)-1]
			}
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			o.engineAddress = a
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		switch name {
		case "h", "help":
			fmt.Fprint(os.Stderr, usage)
			os.Exit(0)
		case "version":
			fmt.Println(version)
			os.Exit(0)
		case "language", "tracing", "root", "binary":
			// Flags that take a value; accept both --flag=value and --flag value.
			if !hasValue {
				if i+1 >= len(args) {
					return o, fmt.Errorf("flag --%s needs a value", name)
				}
				i++
				value = args[i]
			}
			if name == "language" {
				o.language = value
			}
		default:
			// --logtostderr, -v=N, --logflow, ... : ignored.
		}
	}
	if o.language == "" {
		return o, fmt.Errorf("cannot tell the language from the program name %q; pass --language", argv0)
	}
	if _, ok := generators[o.language]; !ok {
		return o, fmt.Errorf("unsupported language %q (supported: %s)", o.language, supportedLanguages())
	}
	return o, nil
}

// languageFromName maps "pulumi-language-nodejs" (with an optional ".exe" or
// directory) to "nodejs".
func languageFromName(argv0 string) string {
	base := strings.TrimSuffix(filepath.Base(argv0), ".exe")
	lang, ok := strings.CutPrefix(base, "pulumi-language-")
	if !ok {
		return ""
	}
	return lang
}

type server struct {
	pulumirpc.UnimplementedLanguageRuntimeServer
	language string

	mu            sync.Mutex
	engineAddress string // from the command line, replaced by Handshake's when it has one
}

// engine is the engine's address, which programs need for logging.
func (s *server) engine() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.engineAddress
}

func (s *server) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

func (s *server) Handshake(
	_ context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	if addr := req.GetEngineAddress(); addr != "" {
		s.mu.Lock()
		s.engineAddress = addr
		s.mu.Unlock()
	}
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (s *server) GeneratePackage(
	ctx context.Context, req *pulumirpc.GeneratePackageRequest,
) (*pulumirpc.GeneratePackageResponse, error) {
	return generatePackage(ctx, s.language, req)
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", filepath.Base(os.Args[0]), err)
		os.Exit(1)
	}
}

func run() error {
	opts, err := parseArgs(os.Args[0], os.Args[1:])
	if err != nil {
		return err
	}

	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	// The engine's client allows messages up to 400 MiB; accept schemas as large.
	srv := grpc.NewServer(grpc.MaxRecvMsgSize(400 << 20))
	pulumirpc.RegisterLanguageRuntimeServer(srv, &server{language: opts.language, engineAddress: opts.engineAddress})

	// The port line must be the first (and only) thing on stdout.
	fmt.Printf("%d\n", lis.Addr().(*net.TCPAddr).Port)

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		srv.Stop()
	}()
	return srv.Serve(lis)
}
