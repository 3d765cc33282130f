package main

import (
	"bytes"
	_ "embed"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// The .NET generator downloads the NuGet package icon (logo.png) with net/http:
// the schema's logoUrl, or, when the schema has none, a default Pulumi logo on
// raw.githubusercontent.com. That host is unreachable offline, and the output
// would depend on the network. So requests for that default logo are answered
// with our own placeholder (logo.png next to this file: a 64x64 shield we made);
// a schema with its own logoUrl is still fetched from the network.
//
//go:embed logo.png
var placeholderLogo []byte

const defaultLogoHost = "raw.githubusercontent.com"
const defaultLogoSuffix = "/sdk/dotnet/pulumi_logo_64x64.png"

type logoTransport struct{ next http.RoundTripper }

func (t logoTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodGet && req.URL.Host == defaultLogoHost &&
		strings.HasPrefix(req.URL.Path, "/pulumi/pulumi/") && strings.HasSuffix(req.URL.Path, defaultLogoSuffix) {
		return &http.Response{
			Status:        "200 OK",
			StatusCode:    http.StatusOK,
			Proto:         "HTTP/1.1",
			ProtoMajor:    1,
			ProtoMinor:    1,
			Header:        http.Header{"Content-Type": {"image/png"}, "Content-Length": {strconv.Itoa(len(placeholderLogo))}},
			Body:          io.NopCloser(bytes.NewReader(placeholderLogo)),
			ContentLength: int64(len(placeholderLogo)),
			Request:       req,
		}, nil
	}
	return t.next.RoundTrip(req)
}

func init() {
	http.DefaultTransport = logoTransport{next: http.DefaultTransport}
}
