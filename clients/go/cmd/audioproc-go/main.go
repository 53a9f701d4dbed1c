// audioproc-go: streams audio through an audioproc server and writes the result; the Go
// twin of the C++ audioproc-client, with the same core flags and byte-identical WAV output.
//
//	audioproc-go --input=speech.wav --output=out.wav --chain='highpass:cutoff_hz=80,limiter:ceiling_db=-1'
//	arecord -f S16_LE -r 16000 -c 1 | audioproc-go --input - --format s16le:16000:1 --output - > out.raw
//	audioproc-go --list
//
// Exits 0 on success; otherwise prints the status code name and message and exits 1.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	audioproc "github.com/audioproc/audioproc/clients/go"
	pb "github.com/audioproc/audioproc/clients/go/audioprocpb"
)

var (
	addr                = flag.String("addr", "localhost:50051", "Server address, host:port.")
	input               = flag.String("input", "", "WAV file to stream; '-': raw PCM from standard input (needs --format), read live.")
	output              = flag.String("output", "", "Where to write the processed audio: a .wav file (in the format StreamReady reports), or '-' for raw PCM on standard output (the text summary then goes to standard error). Empty: do not write.")
	chain               = flag.String("chain", "", "The processing chain: one-line 'highpass:cutoff_hz=80,limiter:ceiling_db=-1', or proto3 JSON: a chain array '[{\"highpass\":{\"cutoffHz\":80}}]' or a whole StreamConfig. Empty: no processing.")
	format              = flag.String("format", "", "Format of raw input (--input -): ENCODING:RATE:CHANNELS, ENCODING one of s16le, s24le, s32le, f32le, mulaw, alaw (e.g. s16le:16000:1).")
	chunkMs             = flag.Uint("chunk_ms", 20, "Milliseconds of input audio per chunk.")
	chunkFr             = flag.Uint("chunk_frames", 0, "Input frames per chunk; non-zero overrides --chunk_ms.")
	realtime            = flag.Bool("realtime", false, "Send chunks at the pace of the audio, as a live source would.")
	streamID            = flag.String("stream_id", "", "Stream id, [A-Za-z0-9._:-]{1,128}. Empty: the server assigns one.")
	outRate             = flag.Uint("output_rate", 0, "Output sample rate in Hz. 0: the input's.")
	outChans            = flag.Uint("output_channels", 0, "Output channel count. 0: the input's.")
	outEnc              = flag.String("output_encoding", "", "Output sample encoding (s16, s24, s32, f32, mulaw, alaw or the proto names). Empty: the input's.")
	dither              = flag.Bool("dither", false, "Ask for TPDF dither when the output encoding is an integer one.")
	token               = flag.String("token", "", "Bearer token sent as 'authorization: Bearer <token>'. Empty: the AUDIOPROC_TOKEN environment variable, if set.")
	tlsCA               = flag.String("tls_ca", "", "PEM root certificates to verify the server with; turns TLS on.")
	tlsCert             = flag.String("tls_cert", "", "PEM client certificate for mutual TLS (with --tls_key); turns TLS on.")
	tlsKey              = flag.String("tls_key", "", "PEM private key of --tls_cert.")
	useTLS              = flag.Bool("tls", false, "Use TLS, verifying the server with the system's root certificates.")
	timeoutS            = flag.Float64("timeout_s", 0, "Give up on the call after this many seconds. 0: never.")
	list                = flag.Bool("list", false, "Print the server's processors and their parameters (ListProcessors) and exit.")
	jsonOut             = flag.Bool("json", false, "Print the StreamSummary (or, with --list, the ListProcessorsResponse) as proto3 JSON.")
	textOut   io.Writer = os.Stdout
	errPrefix           = "audioproc-go"
)

// failure is an error with the status code to print.
type failure struct {
	code    codes.Code
	message string
}

func (f *failure) Error() string { return f.message }

func fail(code codes.Code, format string, args ...interface{}) error {
	return &failure{code, fmt.Sprintf(format, args...)}
}

func main() {
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "Streams audio through an audioproc server and writes the result.\n"+
			"  audioproc-go --input=in.wav --output=out.wav --chain='highpass:cutoff_hz=80,limiter:ceiling_db=-1' [--realtime]\n"+
			"  audioproc-go --input - --format s16le:16000:1 --output - < in.raw > out.raw\n"+
			"  audioproc-go --list\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "%s: unexpected argument '%s' (see --help)\n", errPrefix, flag.Arg(0))
		os.Exit(1)
	}
	if err := run(); err != nil {
		code, message := codes.Unknown, err.Error()
		var f *failure
		var e *audioproc.Error
		var c *audioproc.ChainError
		switch {
		case errors.As(err, &f):
			code, message = f.code, f.message
		case errors.As(err, &e):
			code, message = e.Code(), e.Status.Message()
		case errors.As(err, &c):
			code = codes.InvalidArgument
		default:
			if st, ok := status.FromError(err); ok {
				code, message = st.Code(), st.Message()
			}
		}
		fmt.Fprintf(os.Stderr, "%s: %s: %s\n", errPrefix, audioproc.CodeName(code), message)
		os.Exit(1)
	}
}

func run() error {
	if *chunkMs == 0 && *chunkFr == 0 {
		return fail(codes.InvalidArgument, "--chunk_ms or --chunk_frames must be positive")
	}
	tok := *token
	if tok == "" {
		tok = os.Getenv("AUDIOPROC_TOKEN")
	}
	var options []audioproc.Option
	if *useTLS || *tlsCA != "" {
		options = append(options, audioproc.WithTLS(*tlsCA))
	}
	if *tlsCert != "" || *tlsKey != "" {
		options = append(options, audioproc.WithClientCert(*tlsCert, *tlsKey))
	}
	if tok != "" {
		options = append(options, audioproc.WithToken(tok))
	}
	if *timeoutS > 0 {
		options = append(options, audioproc.WithTimeout(time.Duration(*timeoutS*float64(time.Second))))
	}
	client, err := audioproc.Dial(*addr, options...)
	if err != nil {
		return err
	}
	defer client.Close()
	if *list {
		return listProcessors(client)
	}
	return stream(client)
}

func listProcessors(client *audioproc.Client) error {
	response, err := client.ListProcessors(context.Background())
	if err != nil {
		return err
	}
	if *jsonOut {
		fmt.Println(protojson.MarshalOptions{Multiline: true, EmitUnpopulated: true}.Format(response))
		return nil
	}
	number := func(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }
	rows := [][]string{{"parameter", "type", "unit", "default", "range", "runtime", "summary"}}
	var starts []int
	for _, p := range response.GetProcessors() {
		starts = append(starts, len(rows))
		for _, q := range p.GetParameters() {
			unit, def, rng, runtime := q.GetUnit(), "-", number(q.GetMin())+".."+number(q.GetMax()), "no"
			if unit == "" {
				unit = "-"
			}
			if q.GetRequired() {
				def = "required"
			} else if q.DefaultValue != nil {
				def = number(q.GetDefaultValue())
			}
			if len(q.GetAllowedValues()) > 0 {
				rng = strings.Join(q.GetAllowedValues(), "|")
			}
			if q.GetRuntimeUpdatable() {
				runtime = "yes"
			}
			rows = append(rows, []string{q.GetName(), q.GetType(), unit, def, rng, runtime, q.GetSummary()})
		}
	}
	widths := make([]int, len(rows[0])-1)
	for _, row := range rows {
		for i := range widths {
			if len(row[i]) > widths[i] {
				widths[i] = len(row[i])
			}
		}
	}
	printRow := func(row []string) {
		line := "  "
		for i, w := range widths {
			line += row[i] + strings.Repeat(" ", w-len(row[i])+2)
		}
		fmt.Printf("%s%s\n", line, row[len(row)-1])
	}
	printRow(rows[0])
	for i, p := range response.GetProcessors() {
		fmt.Printf("%s: %s\n", p.GetName(), p.GetSummary())
		end := len(rows)
		if i+1 < len(starts) {
			end = starts[i+1]
		}
		for r := starts[i]; r < end; r++ {
			printRow(rows[r])
		}
	}
	return nil
}

func stream(client *audioproc.Client) error {
	if *input == "" {
		return fail(codes.InvalidArgument, "--input is required (or --list)")
	}
	toStdout := *output == "-"
	if toStdout {
		textOut = os.Stderr
	} else if *output != "" && !strings.HasSuffix(strings.ToLower(*output), ".wav") {
		return fail(codes.InvalidArgument, "--output '%s': the Go client writes .wav files or '-' (raw PCM)", *output)
	}
	config, err := audioproc.ParseStreamConfig(*chain)
	if err != nil {
		return fail(codes.InvalidArgument, "--chain: %v", err)
	}

	// The input: a WAV file read whole, or raw PCM read from stdin as it comes.
	var source io.Reader
	var inFormat *pb.AudioFormat
	if *input == "-" {
		if *format == "" {
			return fail(codes.InvalidArgument, "--input - needs --format ENCODING:RATE:CHANNELS (e.g. s16le:16000:1)")
		}
		if inFormat, err = audioproc.ParseFormat(*format); err != nil {
			return fail(codes.InvalidArgument, "--format: %v", err)
		}
		source = bufio.NewReaderSize(os.Stdin, 1<<16)
	} else {
		if *format != "" {
			return fail(codes.InvalidArgument, "--format is for raw input (--input -); a WAV file says its own format")
		}
		file, err := os.ReadFile(*input)
		if err != nil {
			return fail(codes.NotFound, "cannot open '%s': %v", *input, errors.Unwrap(err))
		}
		pcm, err := audioproc.DecodeWAV(file)
		if err != nil {
			return fail(codes.InvalidArgument, "%s: %v", *input, err)
		}
		inFormat, source = pcm.Format, strings.NewReader(string(pcm.Data))
	}
	// The input decides the format; a JSON config that says otherwise is a mistake.
	wanted := config.GetInput()
	if (wanted.GetSampleRateHz() != 0 && wanted.GetSampleRateHz() != inFormat.GetSampleRateHz()) ||
		(wanted.GetChannels() != 0 && wanted.GetChannels() != inFormat.GetChannels()) ||
		(wanted.GetEncoding() != pb.Encoding_ENCODING_UNSPECIFIED && wanted.GetEncoding() != inFormat.GetEncoding()) {
		return fail(codes.InvalidArgument, "--chain's StreamConfig.input says %s but %s is %s",
			audioproc.FormatString(wanted), *input, audioproc.FormatString(inFormat))
	}
	config.Input = inFormat
	if err := applyOverrides(config); err != nil {
		return err
	}

	chunkFrames := int(*chunkFr)
	if chunkFrames == 0 {
		chunkFrames = int(uint64(inFormat.GetSampleRateHz()) * uint64(*chunkMs) / 1000)
		if chunkFrames < 1 {
			chunkFrames = 1
		}
	}
	chunkBytes := chunkFrames * audioproc.BytesPerFrame(inFormat)
	var pace time.Duration
	if *realtime {
		pace = time.Duration(float64(chunkFrames) / float64(inFormat.GetSampleRateHz()) * float64(time.Second))
	}

	session, err := client.Stream(context.Background(), config)
	if err != nil {
		return err
	}
	go session.SendFrom(source, chunkBytes, pace)

	var out []byte
	var stdout *bufio.Writer
	if toStdout {
		stdout = bufio.NewWriterSize(os.Stdout, 1<<16)
	}
	for {
		chunk, err := session.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			printResult(session.Ready(), nil)
			e := err.(*audioproc.Error)
			if e.Code() == codes.Internal && e.Partial != nil {
				return fail(codes.Internal, "%s", e.Status.Message())
			}
			return fail(e.Code(), "%s (%d of %d chunks answered)", e.Status.Message(),
				e.Partial.ChunksAnswered, e.Partial.ChunksSent)
		}
		if toStdout {
			if _, err := stdout.Write(chunk.GetData()); err != nil {
				session.Cancel()
				return fail(codes.Unavailable, "writing to standard output: %v", err)
			}
			if err := stdout.Flush(); err != nil { // Live: every chunk as it comes.
				session.Cancel()
				return fail(codes.Unavailable, "writing to standard output: %v", err)
			}
		} else if *output != "" {
			out = append(out, chunk.GetData()...)
		}
	}
	partial := session.Partial()
	if partial.ChunksAnswered != partial.ChunksSent {
		return fail(codes.Internal, "the server answered %d of %d chunks", partial.ChunksAnswered, partial.ChunksSent)
	}
	printResult(session.Ready(), session.Summary())
	if *output != "" && !toStdout {
		file, err := audioproc.EncodeWAV(&audioproc.PCM{Format: session.Ready().GetOutput(), Data: out}, time.Now())
		if err != nil {
			return fail(codes.InvalidArgument, "%v", err)
		}
		if err := os.WriteFile(*output, file, 0o644); err != nil {
			return fail(codes.InvalidArgument, "writing '%s' failed: %v", *output, err)
		}
		if !*jsonOut {
			fmt.Fprintf(textOut, "wrote %s\n", *output)
		}
	}
	return nil
}

func applyOverrides(config *pb.StreamConfig) error {
	if *streamID != "" {
		config.StreamId = *streamID
	}
	if *outEnc != "" || *outRate != 0 || *outChans != 0 {
		if config.Output == nil {
			config.Output = &pb.AudioFormat{}
		}
		if *outEnc != "" {
			e, err := audioproc.ParseEncoding(*outEnc)
			if err != nil {
				return fail(codes.InvalidArgument, "--output_encoding: %v", err)
			}
			config.Output.Encoding = e
		}
		if *outRate != 0 {
			config.Output.SampleRateHz = uint32(*outRate)
		}
		if *outChans != 0 {
			config.Output.Channels = uint32(*outChans)
		}
	}
	if *dither {
		config.Dither = pb.Dither_DITHER_TPDF
	}
	return nil
}

func printResult(ready *pb.StreamReady, s *pb.StreamSummary) {
	if *jsonOut {
		if s != nil {
			fmt.Fprintln(textOut, protojson.MarshalOptions{Multiline: true, EmitUnpopulated: true}.Format(s))
		}
		return
	}
	if ready != nil {
		fmt.Fprintf(textOut, "stream %s: output %s, latency %d frames\n", ready.GetStreamId(),
			audioproc.FormatString(ready.GetOutput()), ready.GetLatencyFrames())
		c := audioproc.FormatChain(ready.GetChain())
		if len(ready.GetChain()) == 0 {
			c = "(empty)"
		}
		fmt.Fprintf(textOut, "chain: %s\n", c)
	}
	if s == nil {
		return
	}
	fmt.Fprintf(textOut, "frames in/out: %d / %d (%.3f s of audio), chunks: %d\n", s.GetFramesIn(),
		s.GetFramesOut(), s.GetAudioSeconds(), s.GetChunks())
	fmt.Fprintf(textOut, "wall time: %.3f s, real-time factor: %.4f\n", s.GetWallSeconds(), s.GetRealTimeFactor())
	for _, t := range s.GetProcessors() {
		fmt.Fprintf(textOut, "  %-12s %10.3f ms\n", t.GetName(), t.GetSeconds()*1e3)
	}
	fmt.Fprintf(textOut, "clipped samples: %d, non-finite input samples: %d\n", s.GetClippedSamples(), s.GetNonfiniteSamples())
	if s.IntegratedLufs != nil {
		fmt.Fprintf(textOut, "integrated loudness: %.1f LUFS\n", s.GetIntegratedLufs())
	}
	if s.GetDiscardedBytes() > 0 {
		fmt.Fprintf(textOut, "discarded: %d bytes of an incomplete last frame\n", s.GetDiscardedBytes())
	}
	if s.GetDroppedEvents() > 0 {
		fmt.Fprintf(textOut, "dropped events: %d\n", s.GetDroppedEvents())
	}
}
