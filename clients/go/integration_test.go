//go:build integration

// The Go client against the real server binary (tests/clients/go_client_test.sh runs these
// with -tags integration): a live-like stream from a generator with an update mid-stream,
// mTLS plus a token, a bad chain, the command line fed live from a pipe, and the command
// line's WAV byte-identical to the C++ client's; a stream that resumes on another server
// when its server drains or crashes, and one without checkpoints that still ends UNAVAILABLE.
//
// Environment: AUDIOPROC_BUILD_DIR (service/audioproc-server, clients/audioproc-client),
// AUDIOPROC_GO_CLI (the audioproc-go binary; default <build>/clients/go/audioproc-go),
// AUDIOPROC_SOURCE_DIR (the repository, for clients/demo/speech_16k.wav).
package audioproc

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/resolver"
	"google.golang.org/grpc/resolver/manual"
	"google.golang.org/grpc/status"

	pb "github.com/audioproc/audioproc/clients/go/audioprocpb"
)

const demoChain = "highpass:cutoff_hz=80,compressor,limiter:ceiling_db=-1"

func buildDir(t *testing.T) string {
	dir := os.Getenv("AUDIOPROC_BUILD_DIR")
	if dir == "" {
		t.Fatal("AUDIOPROC_BUILD_DIR is not set")
	}
	return dir
}

func sourceDir(t *testing.T) string {
	if dir := os.Getenv("AUDIOPROC_SOURCE_DIR"); dir != "" {
		return dir
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	wd, _ = filepath.EvalSymlinks(wd)
	return filepath.Join(wd, "..", "..")
}

func goCLI(t *testing.T) string {
	if cli := os.Getenv("AUDIOPROC_GO_CLI"); cli != "" {
		return cli
	}
	return filepath.Join(buildDir(t), "clients", "go", "audioproc-go")
}

type server struct {
	cmd         *exec.Cmd
	addr        string
	metricsPort int
	log         string
	killed      bool // by the test, with SIGKILL: its exit status is not checked
}

// startServer runs audioproc-server on free loopback ports with extra flags; it is stopped
// with SIGTERM (and must exit 0) when the test ends.
func startServer(t *testing.T, flags ...string) *server {
	t.Helper()
	dir := t.TempDir()
	portFile := filepath.Join(dir, "ports.json")
	logPath := filepath.Join(dir, "server.log")
	log, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{"--host=127.0.0.1", "--port=0", "--metrics_port=0", "--port_file=" + portFile}, flags...)
	cmd := exec.Command(filepath.Join(buildDir(t), "service", "audioproc-server"), args...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait(); log.Close() }()
	s := &server{cmd: cmd, log: logPath}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			if err != nil && !s.killed {
				t.Errorf("server exit: %v", err)
			}
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			t.Error("server did not stop within 30 s of SIGTERM")
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var ports struct{ GRPC, Metrics int }
		if text, err := os.ReadFile(portFile); err == nil && json.Unmarshal(text, &ports) == nil && ports.GRPC != 0 {
			s.addr, s.metricsPort = fmt.Sprintf("127.0.0.1:%d", ports.GRPC), ports.Metrics
			return s
		}
		select {
		case err := <-exited:
			text, _ := os.ReadFile(logPath)
			t.Fatalf("server exited before binding (%v):\n%s", err, text)
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatal("no port file after 30 s")
	return nil
}

// sine is `frames` frames of a 1 kHz sine at `amplitude`, s16le mono 16 kHz, from frame `from`.
func sine(from, frames int, amplitude float64) []byte {
	out := make([]byte, 2*frames)
	for i := 0; i < frames; i++ {
		v := amplitude * math.Sin(2*math.Pi*1000*float64(from+i)/16000)
		binary.LittleEndian.PutUint16(out[2*i:], uint16(int16(math.Round(v*32767))))
	}
	return out
}

var s16Mono16k = &pb.AudioFormat{Encoding: pb.Encoding_PCM_S16LE, SampleRateHz: 16000, Channels: 1}

// A generator goroutine feeds chunks as a live source would; half-way the gain drops by
// 20 dB through Update, and the output level follows.
func TestIntegrationLiveStreamWithUpdate(t *testing.T) {
	srv := startServer(t)
	client, err := Dial(srv.addr, WithTimeout(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	chain, err := ParseChain("gain:gain_db=0")
	if err != nil {
		t.Fatal(err)
	}
	session, err := client.Stream(context.Background(), &pb.StreamConfig{Input: s16Mono16k, Chain: chain, MaxChunkBytes: 640})
	if err != nil {
		t.Fatal(err)
	}
	if got := session.Ready().GetMaxChunkBytes(); got != 640 {
		t.Errorf("StreamReady.max_chunk_bytes = %d, want 640", got)
	}
	const chunks, frames = 100, 320 // 20 ms each
	chunkCh := make(chan []byte)
	updateSent := make(chan struct{})
	go func() {
		defer close(chunkCh)
		for i := 0; i < chunks; i++ {
			if i == chunks/2 {
				if err := session.UpdateChain(0, "gain:gain_db=-20"); err != nil {
					t.Errorf("Update: %v", err)
				}
				close(updateSent)
			}
			chunkCh <- sine(i*frames, frames, 0.25)
			time.Sleep(2 * time.Millisecond) // Live-like: chunks trickle in.
		}
	}()
	go session.SendChannel(chunkCh)

	var levels []float32
	var updates []*pb.UpdateResult
	tail := false
	for {
		chunk, err := session.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("Recv: %v", err)
		}
		for _, e := range chunk.GetEvents() {
			if u := e.GetUpdate(); u != nil {
				updates = append(updates, u)
			}
		}
		if chunk.GetTail() {
			tail = true
			continue
		}
		levels = append(levels, chunk.GetMetrics().GetOutRmsDbfs())
	}
	<-updateSent
	if !tail || len(levels) != chunks {
		t.Fatalf("tail %v, %d chunk responses, want %d", tail, len(levels), chunks)
	}
	if len(updates) != 1 || !updates[0].GetApplied() {
		t.Fatalf("update results %v, want one applied", updates)
	}
	summary := session.Summary()
	if summary == nil || summary.GetFramesIn() != chunks*frames || summary.GetChunks() != chunks {
		t.Fatalf("summary %v", summary)
	}
	before, after := levels[10], levels[chunks-1]
	// A 0.25 full-scale sine: -15.05 dBFS RMS; -20 dB later.
	if math.Abs(float64(before)-(-15.05)) > 0.5 {
		t.Errorf("output level before the update %.2f dBFS, want about -15.05", before)
	}
	if d := before - after; math.Abs(float64(d)-20) > 0.5 {
		t.Errorf("output level fell by %.2f dB after the update, want 20 (levels %v)", d, levels)
	}
}

// mTLS and a token: a server that demands both accepts the client that has both, and says
// UNAUTHENTICATED to one without the token.
func TestIntegrationMutualTLSAndToken(t *testing.T) {
	dir := t.TempDir()
	run := func(args ...string) {
		cmd := exec.Command("openssl", args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("openssl %v: %v\n%s", args, err, out)
		}
	}
	ec := []string{"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"}
	run(append([]string{"req", "-x509", "-days", "1", "-subj", "/CN=audioproc test CA", "-keyout", "ca.key", "-out", "ca.pem"}, ec...)...)
	for _, who := range []string{"server", "client"} {
		run(append([]string{"req", "-subj", "/CN=" + who, "-keyout", who + ".key", "-out", who + ".csr"}, ec...)...)
		ext := "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"
		if who == "client" {
			ext = "extendedKeyUsage=clientAuth\n"
		}
		if err := os.WriteFile(filepath.Join(dir, who+".ext"), []byte(ext), 0o600); err != nil {
			t.Fatal(err)
		}
		run("x509", "-req", "-days", "1", "-in", who+".csr", "-CA", "ca.pem", "-CAkey", "ca.key",
			"-CAcreateserial", "-extfile", who+".ext", "-out", who+".pem")
	}
	tokens := filepath.Join(dir, "tokens")
	if err := os.WriteFile(tokens, []byte("# test\ns3cret-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := func(name string) string { return filepath.Join(dir, name) }
	srv := startServer(t, "--tls_cert="+p("server.pem"), "--tls_key="+p("server.key"),
		"--tls_client_ca="+p("ca.pem"), "--auth_tokens_file="+tokens)

	client, err := Dial(srv.addr, WithTLS(p("ca.pem")), WithClientCert(p("client.pem"), p("client.key")),
		WithToken("s3cret-token"), WithTimeout(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	processors, err := client.ListProcessors(context.Background())
	if err != nil || len(processors.GetProcessors()) == 0 {
		t.Fatalf("ListProcessors over mTLS with a token: %v", err)
	}
	result, err := client.Process(context.Background(), &pb.StreamConfig{Input: s16Mono16k,
		Chain: mustChain(t, "gain:gain_db=-6")}, sine(0, 16000, 0.5), 320, false)
	if err != nil {
		t.Fatalf("Process over mTLS with a token: %v", err)
	}
	if len(result.Output) != 2*16000 || result.Summary.GetFramesOut() != 16000 {
		t.Fatalf("%d output bytes, summary %v", len(result.Output), result.Summary)
	}

	noToken, err := Dial(srv.addr, WithTLS(p("ca.pem")), WithClientCert(p("client.pem"), p("client.key")),
		WithTimeout(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer noToken.Close()
	_, err = noToken.Stream(context.Background(), &pb.StreamConfig{Input: s16Mono16k})
	if status.Code(err) != codes.Unauthenticated {
		t.Fatalf("stream without a token: %v, want UNAUTHENTICATED", err)
	}
	// The command line: the same flags as the C++ client's.
	cmd := exec.Command(goCLI(t), "--addr="+srv.addr, "--tls_ca", p("ca.pem"), "--tls_cert", p("client.pem"),
		"--tls_key="+p("client.key"), "--list")
	cmd.Env = append(os.Environ(), "AUDIOPROC_TOKEN=s3cret-token")
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "highpass:") {
		t.Fatalf("audioproc-go --list over mTLS: %v\n%s", err, out)
	}
	cmd = exec.Command(goCLI(t), "--addr="+srv.addr, "--tls_ca="+p("ca.pem"), "--tls_cert="+p("client.pem"),
		"--tls_key="+p("client.key"), "--token=wrong", "--list")
	out, err := cmd.CombinedOutput()
	if exitCode(err) != 1 || !strings.Contains(string(out), "UNAUTHENTICATED") {
		t.Fatalf("audioproc-go with a wrong token: %v\n%s", err, out)
	}
}

func mustChain(t *testing.T, text string) []*pb.ProcessorSpec {
	chain, err := ParseChain(text)
	if err != nil {
		t.Fatal(err)
	}
	return chain
}

func exitCode(err error) int {
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode()
	}
	if err == nil {
		return 0
	}
	return -1
}

// A chain the server refuses: INVALID_ARGUMENT from Stream, with the partial result, and
// exit 1 with the code's name from the command line.
func TestIntegrationBadChainIsInvalidArgument(t *testing.T) {
	srv := startServer(t)
	client, err := Dial(srv.addr, WithTimeout(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	_, err = client.Stream(context.Background(), &pb.StreamConfig{Input: s16Mono16k,
		Chain: mustChain(t, "highpass:cutoff_hz=-5")})
	var e *Error
	if !errors.As(err, &e) || e.Code() != codes.InvalidArgument || e.Partial == nil || e.Partial.Ready != nil {
		t.Fatalf("Stream with a bad chain: %v, want *Error INVALID_ARGUMENT with an empty partial result", err)
	}
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("status.Code(%v) = %v", err, status.Code(err))
	}
	demo := filepath.Join(sourceDir(t), "clients", "demo", "speech_16k.wav")
	for _, chain := range []string{"highpass:cutoff_hz=-5", "hipass"} {
		out, err := exec.Command(goCLI(t), "--addr", srv.addr, "--input", demo, "--chain", chain).CombinedOutput()
		if exitCode(err) != 1 || !strings.Contains(string(out), "audioproc-go: INVALID_ARGUMENT: ") {
			t.Fatalf("audioproc-go --chain=%s: %v\n%s", chain, err, out)
		}
	}
}

// The command line fed live from a pipe: processed audio comes out on stdout before the
// input ends, and the whole equals what the same chain gives for the same samples in a WAV.
func TestIntegrationCommandLineStdinToStdout(t *testing.T) {
	srv := startServer(t)
	cmd := exec.Command(goCLI(t), "--addr="+srv.addr, "--input", "-", "--format", "s16le:16000:1",
		"--output", "-", "--chain", demoChain)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	input := sine(0, 32000, 0.5)
	// Half the input, then wait for output while the pipe is still open.
	if _, err := stdin.Write(input[:len(input)/2]); err != nil {
		t.Fatal(err)
	}
	first := make([]byte, 640)
	got := make(chan error, 1)
	go func() { _, err := io.ReadFull(stdout, first); got <- err }()
	select {
	case err := <-got:
		if err != nil {
			t.Fatalf("reading the first output: %v (%s)", err, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("no output while the input was still open (%s)", stderr.String())
	}
	stdin.Write(input[len(input)/2:])
	stdin.Close()
	rest, err := io.ReadAll(stdout)
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("audioproc-go: %v\n%s", err, stderr.String())
	}
	raw := append(first, rest...)
	if !strings.Contains(stderr.String(), "frames in/out: 32000 / 32000") {
		t.Errorf("the summary on stderr: %s", stderr.String())
	}
	// The same samples from a WAV file through the same chain.
	dir := t.TempDir()
	wav, _ := EncodeWAV(&PCM{Format: s16Mono16k, Data: input}, time.Now())
	in, out := filepath.Join(dir, "in.wav"), filepath.Join(dir, "out.wav")
	os.WriteFile(in, wav, 0o644)
	if o, err := exec.Command(goCLI(t), "--addr="+srv.addr, "--input="+in, "--output="+out, "--chain="+demoChain).CombinedOutput(); err != nil {
		t.Fatalf("audioproc-go: %v\n%s", err, o)
	}
	file, _ := os.ReadFile(out)
	if len(file) < 44 || !bytes.Equal(file[44:], raw) {
		t.Fatalf("stdout's %d bytes differ from the WAV's data (%d bytes)", len(raw), len(file)-44)
	}
}

// The demo file through the demo chain: audioproc-go's WAV equals the C++ client's byte for
// byte.
func TestIntegrationCommandLineMatchesCppClient(t *testing.T) {
	srv := startServer(t)
	dir := t.TempDir()
	demo := filepath.Join(sourceDir(t), "clients", "demo", "speech_16k.wav")
	cpp, gout := filepath.Join(dir, "cpp.wav"), filepath.Join(dir, "go.wav")
	if out, err := exec.Command(filepath.Join(buildDir(t), "clients", "audioproc-client"), "--addr="+srv.addr,
		"--input="+demo, "--output="+cpp, "--chain="+demoChain).CombinedOutput(); err != nil {
		t.Fatalf("audioproc-client: %v\n%s", err, out)
	}
	// `--flag value` as well as `--flag=value`.
	out, err := exec.Command(goCLI(t), "--addr", srv.addr, "--input", demo, "--output", gout, "--chain", demoChain).CombinedOutput()
	if err != nil {
		t.Fatalf("audioproc-go: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "wrote "+gout) {
		t.Errorf("output: %s", out)
	}
	if out, err := exec.Command("cmp", cpp, gout).CombinedOutput(); err != nil {
		t.Fatalf("audioproc-go's WAV differs from audioproc-client's: %s", out)
	}
}

// ProcessFile and ListProcessors; and a stream that fails after ready: the *Error carries the
// status and the partial result (ready, the chunks answered before the failure).
func TestIntegrationProcessFileAndPartialResult(t *testing.T) {
	srv := startServer(t)
	client, err := Dial(srv.addr, WithTimeout(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	processors, err := client.ListProcessors(context.Background())
	if err != nil || len(processors.GetProcessors()) < 10 {
		t.Fatalf("ListProcessors: %v", err)
	}
	demo, err := os.ReadFile(filepath.Join(sourceDir(t), "clients", "demo", "speech_16k.wav"))
	if err != nil {
		t.Fatal(err)
	}
	response, err := client.ProcessFile(context.Background(), demo, mustChain(t, demoChain), nil)
	if err != nil {
		t.Fatalf("ProcessFile: %v", err)
	}
	pcm, err := DecodeWAV(response.GetFile())
	if err != nil || pcm.Frames() != 86598 || response.GetSummary().GetFramesOut() != 86598 {
		t.Fatalf("ProcessFile gave %v (%v), summary %v", pcm.Format, err, response.GetSummary())
	}

	session, err := client.Stream(context.Background(), &pb.StreamConfig{Input: s16Mono16k, MaxChunkBytes: 640})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if err := session.Send(sine(320*i, 320, 0.1)); err != nil {
			t.Fatal(err)
		}
	}
	session.Send(sine(640, 3200, 0.1)) // 6400 bytes: more than the 640 granted.
	session.CloseSend()
	answered := 0
	for {
		_, err = session.Recv()
		if err != nil {
			break
		}
		answered++
	}
	var e *Error
	if !errors.As(err, &e) || e.Code() != codes.ResourceExhausted {
		t.Fatalf("oversized chunk: %v, want RESOURCE_EXHAUSTED", err)
	}
	if e.Partial == nil || e.Partial.Ready == nil || e.Partial.ChunksAnswered != 2 || answered != 2 ||
		e.Partial.Summary != nil {
		t.Fatalf("partial result %+v after %d chunks, want ready and 2 chunks answered", e.Partial, answered)
	}
}

// metric is the value of an unlabelled metric on the server's /metrics page.
func (s *server) metric(t *testing.T, name string) float64 {
	t.Helper()
	response, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", s.metricsPort))
	if err != nil {
		t.Fatal(err)
	}
	defer response.Body.Close()
	text, err := io.ReadAll(response.Body)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(text), "\n") {
		if fields := strings.Fields(line); len(fields) == 2 && fields[0] == name {
			value, err := strconv.ParseFloat(fields[1], 64)
			if err != nil {
				t.Fatal(err)
			}
			return value
		}
	}
	t.Fatalf("no %s in the metrics of %s", name, s.addr)
	return 0
}

// chirpInNoise is `seconds` of s16le mono 16 kHz: a chirp from 100 Hz to 4 kHz whose level
// swells and fades 3 times a second, over steady noise (deterministic), so that denoise and
// the compressor keep changing their state.
func chirpInNoise(seconds float64) []byte {
	frames := int(seconds * 16000)
	out := make([]byte, 2*frames)
	noise := uint32(12345)
	for i := 0; i < frames; i++ {
		t := float64(i) / 16000
		f := 100 + (4000-100)*t/seconds
		level := 0.05 + 0.4*math.Abs(math.Sin(math.Pi*3*t))
		noise = noise*1664525 + 1013904223
		hiss := (float64(noise>>8)/16777216 - 0.5) * 0.04
		v := level*math.Sin(2*math.Pi*(100*t+(f-100)*t/2)) + hiss
		binary.LittleEndian.PutUint16(out[2*i:], uint16(int16(math.Round(v*32767))))
	}
	return out
}

func resumeConfig(interval uint32) *pb.StreamConfig {
	chain, err := ParseChain("highpass:cutoff_hz=80,denoise,compressor,limiter")
	if err != nil {
		panic(err)
	}
	// 640-byte chunks declared: the server's inbox is sized for them, and a resume's token
	// must not count against it.
	return &pb.StreamConfig{Input: s16Mono16k, Chain: chain, StreamId: "go-resume",
		CheckpointIntervalMs: interval, MaxChunkBytes: 640}
}

// Two servers share a resume key; one client targets both (a manual resolver, round robin).
// Once a third of a paced stream is answered, the server it is on drains (SIGTERM: a last
// checkpoint, then UNAVAILABLE), or crashes (SIGKILL: the client resumes from an earlier
// checkpoint, resends what came after it and drops the answers it already had): the stream
// goes on on the other, ends OK having resumed, and its output is byte-identical to the same
// stream through an undisturbed server.
func TestIntegrationStreamResumesOnAnotherServer(t *testing.T) {
	t.Run("drain", func(t *testing.T) { testResumeOnAnotherServer(t, syscall.SIGTERM) })
	t.Run("crash", func(t *testing.T) { testResumeOnAnotherServer(t, syscall.SIGKILL) })
}

func testResumeOnAnotherServer(t *testing.T, signal syscall.Signal) {
	key := filepath.Join(t.TempDir(), "resume.key")
	if err := os.WriteFile(key, []byte(strings.Repeat("k", 64)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	servers := []*server{startServer(t, "--resume_key_file="+key, "--drain_seconds=20"),
		startServer(t, "--resume_key_file="+key, "--drain_seconds=20")}
	audio := chirpInNoise(4)
	const chunkBytes = 640
	chunks := len(audio) / chunkBytes

	// The reference: a fresh call on one server that nobody disturbs.
	direct, err := Dial(servers[1].addr, WithTimeout(60*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Close()
	reference, err := direct.Process(context.Background(), resumeConfig(200), audio, chunkBytes/2, false)
	if err != nil {
		t.Fatalf("the reference stream: %v", err)
	}
	if !reference.Ready.GetResumable() || reference.Resumes != 0 {
		t.Fatalf("the reference stream: resumable %v, %d resumes", reference.Ready.GetResumable(), reference.Resumes)
	}

	both := manual.NewBuilderWithScheme("audioproc-resume-test")
	both.InitialState(resolver.State{Addresses: []resolver.Address{{Addr: servers[0].addr}, {Addr: servers[1].addr}}})
	client, err := Dial(both.Scheme()+":///audioproc", WithTimeout(60*time.Second), WithDialOptions(
		grpc.WithResolvers(both), grpc.WithDefaultServiceConfig(`{"loadBalancingConfig":[{"round_robin":{}}]}`)))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	session, err := client.Stream(context.Background(), resumeConfig(200))
	if err != nil {
		t.Fatal(err)
	}
	if !session.Ready().GetResumable() {
		t.Fatal("StreamReady.resumable is false on a server with a resume key")
	}
	// Which server the stream is on (the reference stream may take a moment to leave).
	var on *server
	for deadline := time.Now().Add(10 * time.Second); on == nil; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("not exactly one server has the stream open")
		}
		a, b := servers[0].metric(t, "audioproc_streams_active"), servers[1].metric(t, "audioproc_streams_active")
		if a == 1 && b == 0 {
			on = servers[0]
		} else if a == 0 && b == 1 {
			on = servers[1]
		}
	}
	go session.SendFrom(bytesReader(audio), chunkBytes, 5*time.Millisecond)
	var output []byte
	answered := 0
	for {
		chunk, err := session.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("Recv after %d chunks, %d resumes: %v", answered, session.Resumes(), err)
		}
		output = append(output, chunk.GetData()...)
		if chunk.GetTail() {
			continue
		}
		answered++
		if answered == chunks/3 {
			on.killed = signal == syscall.SIGKILL
			if err := on.cmd.Process.Signal(signal); err != nil {
				t.Fatal(err)
			}
		}
	}
	if session.Resumes() < 1 {
		t.Fatalf("the stream went on without a resume after %v", signal)
	}
	if summary := session.Summary(); answered != chunks || summary.GetChunks() != uint64(chunks) ||
		summary.GetFramesIn() != uint64(len(audio)/2) {
		t.Fatalf("%d chunks answered of %d, summary %v", answered, chunks, summary)
	}
	if !bytes.Equal(output, reference.Output) {
		t.Fatalf("the resumed stream's %d output bytes differ from the undisturbed stream's %d",
			len(output), len(reference.Output))
	}
	t.Logf("resumed %d time(s); %d output bytes equal the undisturbed stream's", session.Resumes(), len(output))
}

// Without checkpoint_interval_ms nothing changes: a server that drains past its deadline ends
// the stream UNAVAILABLE, and the client says so without trying to resume.
func TestIntegrationStreamWithoutCheckpointsEndsUnavailable(t *testing.T) {
	key := filepath.Join(t.TempDir(), "resume.key")
	if err := os.WriteFile(key, []byte(strings.Repeat("k", 64)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, "--resume_key_file="+key, "--drain_seconds=1")
	client, err := Dial(srv.addr, WithTimeout(60*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	session, err := client.Stream(context.Background(), resumeConfig(0))
	if err != nil {
		t.Fatal(err)
	}
	if session.Ready().GetResumable() {
		t.Fatal("resumable without checkpoint_interval_ms")
	}
	go session.SendFrom(bytesReader(chirpInNoise(10)), 640, 10*time.Millisecond)
	answered := 0
	for {
		_, err = session.Recv()
		if err != nil {
			break
		}
		if answered++; answered == 20 {
			srv.cmd.Process.Signal(syscall.SIGTERM)
		}
	}
	var e *Error
	if !errors.As(err, &e) || e.Code() != codes.Unavailable || e.Partial.Resumes != 0 || session.Resumes() != 0 {
		t.Fatalf("the drained stream: %v (%d resumes), want UNAVAILABLE without a resume", err, session.Resumes())
	}
}
