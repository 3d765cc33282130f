package main

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
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
