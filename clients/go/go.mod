module github.com/audioproc/audioproc/clients/go

go 1.19

// The versions Debian 12 packages (golang-google-grpc-dev, golang-google-protobuf-dev), which
// the project's own offline build uses in GOPATH mode (clients/go/go.sh). With module
// downloads, run `go mod tidy` once to fill in go.sum and the indirect requirements.
require (
	google.golang.org/grpc v1.33.3
	google.golang.org/protobuf v1.28.1
)
