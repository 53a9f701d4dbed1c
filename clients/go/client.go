// Package audioproc is a streaming client for the audioproc service (audioproc.v1), over
// the generated stubs of package audioprocpb.
//
//	client, err := audioproc.Dial("localhost:50051", audioproc.WithToken(token))
//	defer client.Close()
//	session, err := client.Stream(ctx, &pb.StreamConfig{Input: format, Chain: chain})
//	go session.SendFrom(microphone, 640)     // or Send(chunk) as audio comes
//	for { chunk, err := session.Recv(); if err == io.EOF { break } ... }
//	summary := session.Summary()
//
// A stream whose config sets CheckpointIntervalMs resumes by itself when its server drains
// (see Session).
//
// Errors from the service are *Error: the gRPC status (codes.InvalidArgument for a bad
// chain, ...) and what had happened by then.
package audioproc

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"math"
	"os"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	pb "github.com/audioproc/audioproc/clients/go/audioprocpb"
)

type options struct {
	tls         bool
	caFile      string
	certFile    string
	keyFile     string
	token       string
	timeout     time.Duration
	noResume    bool
	dialOptions []grpc.DialOption
}

// Option configures Dial.
type Option func(*options)

// WithTLS turns TLS on and verifies the server with the PEM root certificates in caFile
// ("": the system's roots).
func WithTLS(caFile string) Option {
	return func(o *options) { o.tls, o.caFile = true, caFile }
}

// WithClientCert presents a client certificate (PEM files) for mutual TLS; implies TLS.
func WithClientCert(certFile, keyFile string) Option {
	return func(o *options) { o.tls, o.certFile, o.keyFile = true, certFile, keyFile }
}

// WithToken sends `authorization: Bearer <token>` with every call.
func WithToken(token string) Option { return func(o *options) { o.token = token } }

// WithTimeout bounds every call (a whole stream included); 0: no bound.
func WithTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// WithoutResume turns automatic resume off: a stream that ends UNAVAILABLE fails with it even
// when it holds a checkpoint.
func WithoutResume() Option { return func(o *options) { o.noResume = true } }

// WithDialOptions passes extra options to grpc.Dial.
func WithDialOptions(opts ...grpc.DialOption) Option {
	return func(o *options) { o.dialOptions = append(o.dialOptions, opts...) }
}

// Client is a connection to an audioproc server; safe for concurrent use.
type Client struct {
	conn        *grpc.ClientConn
	stub        pb.AudioProcessorClient
	options     options
	target      string
	dialOptions []grpc.DialOption // Dial's, for the new connection a resume opens
}

// Dial connects to addr (host:port, or any gRPC target: a resolver and a load-balancing
// policy given through WithDialOptions reach several replicas). The connection is made
// lazily: an unreachable server shows as codes.Unavailable on the first call.
func Dial(addr string, opts ...Option) (*Client, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	dialOptions := []grpc.DialOption{
		// A response is as large as the chunk that caused it; the server enforces its limits.
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(math.MaxInt32)),
	}
	if o.tls {
		config := &tls.Config{MinVersion: tls.VersionTLS12}
		if o.caFile != "" {
			pem, err := os.ReadFile(o.caFile)
			if err != nil {
				return nil, status.Errorf(codes.NotFound, "cannot read --tls_ca '%s': %v", o.caFile, err)
			}
			config.RootCAs = x509.NewCertPool()
			if !config.RootCAs.AppendCertsFromPEM(pem) {
				return nil, status.Errorf(codes.InvalidArgument, "'%s' holds no PEM certificate", o.caFile)
			}
		}
		if o.certFile != "" || o.keyFile != "" {
			if o.certFile == "" || o.keyFile == "" {
				return nil, status.Error(codes.InvalidArgument, "a client certificate needs both its certificate and its key")
			}
			cert, err := tls.LoadX509KeyPair(o.certFile, o.keyFile)
			if err != nil {
				return nil, status.Errorf(codes.InvalidArgument, "client certificate: %v", err)
			}
			config.Certificates = []tls.Certificate{cert}
		}
		dialOptions = append(dialOptions, grpc.WithTransportCredentials(credentials.NewTLS(config)))
	} else {
		dialOptions = append(dialOptions, grpc.WithInsecure())
	}
	dialOptions = append(dialOptions, o.dialOptions...)
	conn, err := grpc.Dial(addr, dialOptions...)
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "cannot dial '%s': %v", addr, err)
	}
	return &Client{conn: conn, stub: pb.NewAudioProcessorClient(conn), options: o, target: addr,
		dialOptions: dialOptions}, nil
}

// Close closes the connection; sessions still open end with codes.Canceled.
func (c *Client) Close() error { return c.conn.Close() }

// Stub is the generated client, for what this package does not wrap.
func (c *Client) Stub() pb.AudioProcessorClient { return c.stub }

// callContext adds the token and the timeout to ctx.
func (c *Client) callContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if c.options.token != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+c.options.token)
	}
	if c.options.timeout > 0 {
		return context.WithTimeout(ctx, c.options.timeout)
	}
	return context.WithCancel(ctx)
}

// ListProcessors returns every processor with its parameters' types, units, defaults and
// ranges.
func (c *Client) ListProcessors(ctx context.Context) (*pb.ListProcessorsResponse, error) {
	ctx, cancel := c.callContext(ctx)
	defer cancel()
	response, err := c.stub.ListProcessors(ctx, &pb.ListProcessorsRequest{})
	if err != nil {
		return nil, newError("ListProcessors", err, nil)
	}
	return response, nil
}

// ProcessFile sends one encoded file (WAV, FLAC, Ogg, AIFF, ...) through chain and returns
// the processed file; output nil or zero fields keep the input's format.
func (c *Client) ProcessFile(ctx context.Context, file []byte, chain []*pb.ProcessorSpec,
	output *pb.FileFormat) (*pb.ProcessFileResponse, error) {
	ctx, cancel := c.callContext(ctx)
	defer cancel()
	response, err := c.stub.ProcessFile(ctx, &pb.ProcessFileRequest{File: file, Chain: chain, Output: output})
	if err != nil {
		return nil, newError("ProcessFile", err, nil)
	}
	return response, nil
}

// Error is a call that ended with a gRPC status other than OK, or a server that broke the
// protocol (codes.Internal). Partial holds what the stream had done by then (nil for unary
// calls).
type Error struct {
	Op      string
	Status  *status.Status
	Partial *Result
}

func newError(op string, err error, partial *Result) *Error {
	if e, ok := err.(*Error); ok {
		if e.Partial == nil {
			e.Partial = partial
		}
		return e
	}
	st, ok := status.FromError(err)
	if !ok {
		st = status.New(codes.Unknown, err.Error())
	}
	return &Error{Op: op, Status: st, Partial: partial}
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s: %s: %s", e.Op, e.Status.Code(), e.Status.Message())
}

// Code is the status code (codes.InvalidArgument, codes.Unavailable, ...).
func (e *Error) Code() codes.Code { return e.Status.Code() }

// GRPCStatus lets status.FromError and status.Code see through Error.
func (e *Error) GRPCStatus() *status.Status { return e.Status }

var codeNames = map[codes.Code]string{
	codes.OK: "OK", codes.Canceled: "CANCELLED", codes.Unknown: "UNKNOWN",
	codes.InvalidArgument: "INVALID_ARGUMENT", codes.DeadlineExceeded: "DEADLINE_EXCEEDED",
	codes.NotFound: "NOT_FOUND", codes.AlreadyExists: "ALREADY_EXISTS",
	codes.PermissionDenied: "PERMISSION_DENIED", codes.ResourceExhausted: "RESOURCE_EXHAUSTED",
	codes.FailedPrecondition: "FAILED_PRECONDITION", codes.Aborted: "ABORTED",
	codes.OutOfRange: "OUT_OF_RANGE", codes.Unimplemented: "UNIMPLEMENTED",
	codes.Internal: "INTERNAL", codes.Unavailable: "UNAVAILABLE", codes.DataLoss: "DATA_LOSS",
	codes.Unauthenticated: "UNAUTHENTICATED",
}

// CodeName is the status code's canonical name, as the C++ and Python clients print it
// ("INVALID_ARGUMENT").
func CodeName(c codes.Code) string {
	if name, ok := codeNames[c]; ok {
		return name
	}
	return fmt.Sprintf("CODE_%d", uint32(c))
}
